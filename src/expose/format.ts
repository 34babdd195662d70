export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/** Sample value as the exposition formats spell it. */
export function formatValue(v: number): string {
  if (v === v) {
    if (v === Infinity) return '+Inf';
    if (v === -Infinity) return '-Inf';
    return '' + v;
  }
  return 'NaN';
}

/** HELP text escaped: backslash and newline in both formats, and the double quote in OpenMetrics. */
export function escapeHelp(s: string, openMetrics = false): string {
  const t = s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return openMetrics ? t.replace(/"/g, '\\"') : t;
}

/** True when the client's Accept header prefers OpenMetrics over the classic text format. */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  if (!accept) return false;
  let om = -1;
  let text = -1;
  for (const part of accept.split(',')) {
    const [media, ...params] = part.trim().split(';');
    const q = weight(params);
    const m = media!.trim().toLowerCase();
    // A wildcard weighs a hair less than the type it covers, and */* goes to the text format.
    if (m === 'application/openmetrics-text') {
      if (openMetricsVersionServed(params)) om = Math.max(om, q);
    } else if (m === 'application/*') om = Math.max(om, q - 0.001);
    else if (m === 'text/plain') text = Math.max(text, q);
    else if (m === '*/*' || m === 'text/*') text = Math.max(text, q - 0.001);
  }
  return om > 0 && om >= text;
}

/** OpenMetrics 1.0.0 is served to a request for 1.0.0, for 0.0.1 (the same text as Prometheus reads
 * it) or for no version; another version (2.0.0) is not, and the text format answers instead. */
function openMetricsVersionServed(params: string[]): boolean {
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq > 0 && p.slice(0, eq).trim().toLowerCase() === 'version') {
      const v = p.slice(eq + 1).trim();
      return v === '1.0.0' || v === '0.0.1';
    }
  }
  return true;
}

/** True when the client's Accept-Encoding header takes gzip (a weight of 0 refuses it). */
export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (!acceptEncoding) return false;
  let gzip = -1;
  let any = -1;
  for (const part of acceptEncoding.split(',')) {
    const [coding, ...params] = part.trim().split(';');
    const c = coding!.trim().toLowerCase();
    if (c === 'gzip' || c === 'x-gzip') gzip = Math.max(gzip, weight(params));
    else if (c === '*') any = weight(params);
  }
  return (gzip >= 0 ? gzip : any) > 0;
}

/** The `q` parameter (names are case-insensitive) of a header element; 1 when absent, 0 when unreadable. */
function weight(params: string[]): number {
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq > 0 && p.slice(0, eq).trim().toLowerCase() === 'q') {
      const q = Number(p.slice(eq + 1).trim());
      return q >= 0 && q <= 1 ? q : 0;
    }
  }
  return 1;
}
