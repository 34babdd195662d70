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

export function emptyResult(): SendResult {
  return { requests: 0, failures: 0, seconds: 0, latenciesMs: new Float64Array(0), statuses: new Map() };
}

/** Adds segment `r` into `into`, as if sent in one run lasting the segments' summed time. */
export function addSegment(into: SendResult, r: SendResult): void {
  into.requests += r.requests;
  into.failures += r.failures;
  into.seconds += r.seconds;
  const l = new Float64Array(into.latenciesMs.length + r.latenciesMs.length);
  l.set(into.latenciesMs);
  l.set(r.latenciesMs, into.latenciesMs.length);
  into.latenciesMs = l;
  for (const [code, n] of r.statuses) into.statuses.set(code, (into.statuses.get(code) ?? 0) + n);
}

/** Prints one receiver's line and returns its rate in samples/s. */
export function report(name: string, r: SendResult, samplesPerRequest: number): number {
  const rate = (r.requests * samplesPerRequest) / r.seconds;
  console.log(
    `${name.padEnd(14)} ${(rate / 1e6).toFixed(3)} M samples/s  ${(r.requests / r.seconds).toFixed(0)} req/s  ` +
      `p50 ${percentile(r.latenciesMs, 0.5).toFixed(1)} ms  p99 ${percentile(r.latenciesMs, 0.99).toFixed(1)} ms  ` +
      `failures ${r.failures}`,
  );
  return rate;
}
