import http from "node:http";
import { performance } from "node:perf_hooks";

const REQUEST_TIMEOUT_MS = 30_000;

/**
 * What the phases of one run share: the round-robin position over the series, and which series
 * and how many alert sends the server acknowledged (2xx), for the durability check.
 */
export class LoadState {
  constructor(series) {
    this.series = series;
    this.cursor = 0;
    this.acked = new Uint8Array(series.count);
    this.ackedSends = 0;
    /** Sends whose request failed (non-2xx, socket error): they may or may not be stored. */
    this.unsureSends = 0;
  }

  ackedSeries() {
    let n = 0;
    for (const a of this.acked) n += a;
    return n;
  }
}

/**
 * Sends batches from `concurrency` loops over one keep-alive agent until `maxRequests` were
 * issued or `maxMs` passed, whichever comes first. Requests in flight at the deadline finish
 * and count; the elapsed time runs until the last one is answered.
 */
export async function runLoad({ target, token, state, batch, concurrency, maxRequests, maxMs }) {
  const url = new URL("/api/v2/alerts", target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies = [];
  const statuses = new Map();
  const result = {
    requests: 0,
    ok: 0,
    non2xx: 0,
    errors: 0,
    acceptedAlerts: 0,
    firstFailure: null,
  };
  const started = performance.now();
  const deadline = started + maxMs;
  let issued = 0;

  const loop = async () => {
    while (issued < maxRequests && performance.now() < deadline) {
      issued++;
      const first = state.cursor;
      state.cursor = (state.cursor + batch) % state.series.count;
      // Built before the clock starts: latency is the server's answer time, not our JSON.
      const body = state.series.body(first, batch);
      const t0 = performance.now();
      let res;
      try {
        res = await post(agent, url, token, body);
      } catch (err) {
        result.requests++;
        result.errors++;
        state.unsureSends += batch;
        result.firstFailure ??= `request error: ${err.message}`;
        continue;
      }
      latencies.push(performance.now() - t0);
      result.requests++;
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status >= 200 && res.status < 300) {
        result.ok++;
        result.acceptedAlerts += batch;
        state.ackedSends += batch;
        for (let k = 0; k < batch; k++) state.acked[(first + k) % state.series.count] = 1;
      } else {
        result.non2xx++;
        state.unsureSends += batch;
        result.firstFailure ??= `HTTP ${res.status}: ${res.text.slice(0, 300)}`;
      }
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
    ...result,
    elapsedMs,
    alertsPerSec: result.acceptedAlerts / (elapsedMs / 1000),
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted.length === 0 ? null : sorted[sorted.length - 1],
    statuses: Object.fromEntries(statuses),
  };
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted, q) {
  if (sorted.length === 0) return null;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** One JSON POST over `agent`; `token` null sends no Authorization header. Also bench/compare's. */
export function post(agent, url, token, body) {
  return new Promise((resolve, reject) => {
    const payload = Buffer.from(body, "utf8");
    const req = http.request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: "POST",
        headers: {
          ...(token === null ? {} : { authorization: `Bearer ${token}` }),
          "content-type": "application/json",
          "content-length": payload.length,
        },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on("error", reject);
    req.end(payload);
  });
}
