import http from "node:http";
import { performance } from "node:perf_hooks";
import { percentile, post } from "../ingest/load.mjs";
import { nowMs } from "./proc.mjs";

export { percentile };

/**
 * Sends `batch` series per request from `concurrency` loops over one keep-alive agent, round-robin
 * from `cursor.at`, until `maxRequests` were issued or `maxMs` passed. Requests in flight at the
 * deadline finish and count. `sent(first, size, t)` sees each request's first series and its
 * POST time (epoch ms); `answered(first, size, ok)` its outcome.
 */
export async function runLoad({
  url,
  token,
  series,
  cursor,
  batch,
  concurrency,
  maxRequests,
  maxMs,
  sent,
  answered,
}) {
  const target = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies = [];
  const statuses = {};
  const r = { requests: 0, ok: 0, non2xx: 0, errors: 0, acceptedAlerts: 0, firstFailure: null };
  const started = performance.now();
  const deadline = started + maxMs;
  let issued = 0;

  const loop = async () => {
    while (issued < maxRequests && performance.now() < deadline) {
      issued++;
      const first = cursor.at;
      cursor.at = (cursor.at + batch) % series.count;
      const body = series.body(first, batch); // built before the clock starts
      const t0 = performance.now();
      sent?.(first, batch, nowMs());
      let res;
      try {
        res = await post(agent, target, token, body);
      } catch (err) {
        r.requests++;
        r.errors++;
        r.firstFailure ??= `request error: ${err.message}`;
        answered?.(first, batch, false);
        continue;
      }
      latencies.push(performance.now() - t0);
      r.requests++;
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      const ok = res.status >= 200 && res.status < 300;
      if (ok) {
        r.ok++;
        r.acceptedAlerts += batch;
      } else {
        r.non2xx++;
        r.firstFailure ??= `HTTP ${res.status}: ${res.text.slice(0, 300)}`;
      }
      answered?.(first, batch, ok);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, loop));
  } finally {
    agent.destroy();
  }
  const elapsedMs = performance.now() - started;
  const sorted = Float64Array.from(latencies).sort();
  return {
    ...r,
    statuses,
    elapsedMs,
    alertsPerSec: r.acceptedAlerts / (elapsedMs / 1000),
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted.length === 0 ? null : sorted[sorted.length - 1],
  };
}
