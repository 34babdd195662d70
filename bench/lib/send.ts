import http from 'node:http';

export interface SendResult {
  requests: number;
  failures: number;
  seconds: number;
  latenciesMs: Float64Array;
  statuses: Map<number, number>;
}

/** Sends `bodies` in order over `connections` keep-alive connections; one request in flight each. */
export async function sendAll(url: string, bodies: Buffer[], connections: number): Promise<SendResult> {
  const u = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const latencies = new Float64Array(bodies.length);
  const statuses = new Map<number, number>();
  let next = 0;
  let failures = 0;
  const started = performance.now();
  async function worker(): Promise<void> {
    for (;;) {
      const i = next++;
      if (i >= bodies.length) return;
      const t = performance.now();
      const status = await post(u, bodies[i]!, agent);
      latencies[i] = performance.now() - t;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status !== 204) failures++;
    }
  }
  await Promise.all(Array.from({ length: connections }, worker));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return { requests: bodies.length, failures, seconds, latenciesMs: latencies, statuses };
}

function post(u: URL, body: Buffer, agent: http.Agent): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: '/api/v1/write',
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/x-protobuf',
          'content-encoding': 'snappy',
          'x-prometheus-remote-write-version': '0.1.0',
          'content-length': body.length,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

export function percentile(a: Float64Array, p: number): number {
  const s = Float64Array.from(a).sort();
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}
