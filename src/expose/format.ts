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

export function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** True when the client's Accept header prefers OpenMetrics over the classic text format. */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  if (!accept) return false;
  let om = -1;
  let text = -1;
  for (const part of accept.split(',')) {
    const [media, ...params] = part.trim().split(';');
    let q = 1;
    for (const p of params) {
      const [k, v] = p.trim().split('=');
      if (k === 'q' && v !== undefined) q = Number(v);
    }
    const m = media!.trim().toLowerCase();
    if (m === 'application/openmetrics-text') om = Math.max(om, q);
    else if (m === 'text/plain' || m === '*/*') text = Math.max(text, m === '*/*' ? q - 0.001 : q);
  }
  return om > 0 && om >= text;
}
