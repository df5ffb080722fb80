/**
 * Load generation with autocannon: HTTPS, keep-alive connections at a fixed concurrency, no
 * pipelining. Latency is taken from autocannon's per-response times (fractional milliseconds, from
 * process.hrtime) rather than its histogram, which has whole-millisecond resolution: at a few
 * milliseconds per request that would round p50 and p99 to the same integer for every server.
 */
import autocannon from "autocannon";

export interface LoadOptions {
  title: string;
  url: string;
  connections: number;
  /** Seconds; ignored when `amount` is set. */
  duration?: number;
  /** A fixed number of requests (the cold path: one copy each). */
  amount?: number;
  /** The same body for every request. */
  body?: string;
  /** A body per request, called in order (the cold path: one namespace each). */
  bodyFor?: (index: number) => string;
  timeoutSeconds?: number;
}

export interface LoadResult {
  title: string;
  connections: number;
  requests: number;
  durationSeconds: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  mismatches: number;
  bodyBytes: number;
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] ?? Number.NaN;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  let index = 0;
  const requests: autocannon.Request[] | undefined = o.bodyFor
    ? [{ method: "POST", setupRequest: (req) => ({ ...req, body: (o.bodyFor as (i: number) => string)(index++) }) }]
    : undefined;
  let finish: (err: unknown, result: autocannon.Result) => void = () => undefined;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    finish = (err, result) => { if (err) reject(err instanceof Error ? err : new Error(JSON.stringify(err))); else resolve(result); };
  });
  const instance = autocannon({
    title: o.title,
    url: o.url,
    method: "POST",
    headers: { "content-type": "application/json" },
    connections: o.connections,
    pipelining: 1,
    ...(o.amount !== undefined ? { amount: o.amount } : { duration: o.duration ?? 10 }),
    ...(o.body !== undefined ? { body: o.body } : {}),
    ...(requests ? { requests } : {}),
    timeout: o.timeoutSeconds ?? 10,
  }, (err: unknown, result) => { finish(err, result); });
  instance.on("response", (_client, statusCode, _bytes, responseTime) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
  });
  const result = await done;
  const sorted = Float64Array.from(latencies).sort();
  const total = result.requests.total;
  const mean = latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length);
  return {
    title: o.title,
    connections: o.connections,
    requests: total,
    durationSeconds: result.duration,
    requestsPerSecond: total / result.duration,
    latencyMs: { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? Number.NaN, mean },
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    mismatches: result.mismatches,
    bodyBytes: Buffer.byteLength(o.body ?? o.bodyFor?.(0) ?? ""),
  };
}
