/**
 * `host:port` as `serve` listens on it, whether from `--web.listen-address` or `web.listen_address`:
 * an IPv6 host in brackets, an empty host for every interface (returned as '', see Augur.listen),
 * a decimal port up to 65535 (Number() would read 0x4b8f and 1e4). Throws the reason.
 */
export function parseListenAddress(addr: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s[\]]*):([^:]*)$/.exec(addr);
  if (m === null) throw new Error('must be host:port (an IPv6 host in brackets)');
  if (!/^\d{1,5}$/.test(m[2]!) || Number(m[2]) > 65535) throw new Error('the port must be a decimal number up to 65535');
  return { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port: Number(m[2]) };
}
