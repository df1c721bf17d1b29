import http from "node:http";
import https from "node:https";
import type { DeliveryResult } from "./types.js";

/**
 * The one place that turns an HTTP outcome into a DeliveryResult, for every HTTP channel:
 * 2xx delivered; 429 and 5xx retry (honouring Retry-After); any other status fails for good;
 * network errors and timeouts retry. Nothing here throws.
 */

const EXCERPT_CHARS = 200;
const READ_LIMIT_BYTES = 16 * 1024;

/** Retry-After as milliseconds from `now`: delay-seconds or an HTTP date; null when absent or bad. */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Date.parse accepts too much (e.g. "5"), so only dates that name a GMT time count.
  if (!/GMT$/i.test(text)) return null;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

export function excerpt(body: string): string {
  const flat = body.replace(/\s+/g, " ").trim();
  return flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}…` : flat;
}

/** Classify a received response. `body` is (a prefix of) the response body. */
export function classifyResponse(
  status: number,
  retryAfter: string | null,
  body: string,
  now: number = Date.now(),
): DeliveryResult {
  const text = excerpt(body);
  const withBody = text === "" ? `HTTP ${status}` : `HTTP ${status}: ${text}`;
  if (status >= 200 && status < 300) return { kind: "delivered", detail: withBody };
  if (status === 429 || (status >= 500 && status < 600)) {
    return { kind: "retry", reason: withBody, afterMs: parseRetryAfter(retryAfter, now) };
  }
  // 3xx land here too: redirects are not followed (a 301/302 would turn the POST into a GET
  // and report a delivery that never happened), so the URL needs fixing.
  return { kind: "failed", reason: withBody };
}

/** Classify what a request threw: timeouts and network errors are worth another try. */
export function classifyError(err: unknown): DeliveryResult {
  const e = err as {
    name?: unknown;
    code?: unknown;
    message?: unknown;
    cause?: { code?: unknown; message?: unknown };
  };
  if (e?.name === "TimeoutError" || e?.name === "AbortError") {
    return { kind: "retry", reason: "timed out", afterMs: null };
  }
  const code =
    typeof e?.code === "string" ? e.code : typeof e?.cause?.code === "string" ? e.cause.code : null;
  const message = String(e?.cause?.message ?? e?.message ?? err);
  return {
    kind: "retry",
    reason: code ? `network error ${code}: ${message}` : `network error: ${message}`,
    afterMs: null,
  };
}

export interface HttpRequest {
  url: string;
  method: "POST" | "PUT" | "PATCH";
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

/**
 * Kept-alive connections, shared by every channel: a storm of pages to one webhook reuses a few
 * sockets instead of a connection each. node:http costs a fraction of fetch per request.
 */
// As many sockets per host as a drain has sends in flight (delivery.ts), so none waits for one.
const AGENT_OPTIONS = { keepAlive: true, maxSockets: 128, maxFreeSockets: 16, timeout: 30_000 };
const agents = { "http:": new http.Agent(AGENT_OPTIONS), "https:": new https.Agent(AGENT_OPTIONS) };

/**
 * Send one request and classify the outcome. The timeout covers connect, headers and body; only
 * the status decides, a body that stalls or breaks after it does not change the outcome.
 */
export function send(req: HttpRequest): Promise<DeliveryResult> {
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    url = new URL("invalid:");
  }
  const protocol = url.protocol;
  if (protocol !== "http:" && protocol !== "https:")
    return Promise.resolve({ kind: "failed", reason: `not an http(s) URL: ${excerpt(req.url)}` });
  const body = Buffer.from(req.body, "utf8");
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: DeliveryResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    let request: http.ClientRequest;
    try {
      request = (protocol === "https:" ? https : http).request(url, {
        method: req.method,
        headers: { ...req.headers, "content-length": String(body.length) },
        agent: agents[protocol],
      });
    } catch (err) {
      // Headers HTTP cannot carry throw here, before anything is sent.
      resolve({ kind: "failed", reason: `cannot build the request: ${(err as Error).message}` });
      return;
    }
    // Set once the status line arrived: from then on the status decides, even if the body stalls.
    let answered: (() => void) | null = null;
    const timer = setTimeout(() => {
      if (answered !== null) answered();
      else finish({ kind: "retry", reason: "timed out", afterMs: null });
      request.destroy();
    }, req.timeoutMs);
    request.on("error", (err) => (answered !== null ? answered() : finish(classifyError(err))));
    request.on("response", (res) => {
      const status = res.statusCode ?? 0;
      const retryAfter = headerOf(res.headers["retry-after"]);
      let text = "";
      let bytes = 0;
      const done = () => finish(classifyResponse(status, retryAfter, text));
      answered = done;
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        if (bytes >= READ_LIMIT_BYTES) return; // read and dropped, so the socket can be reused
        bytes += Buffer.byteLength(chunk);
        text += chunk;
      });
      res.on("end", done);
      res.on("error", done);
      res.on("aborted", done);
    });
    request.end(body);
  });
}

function headerOf(v: string | string[] | undefined): string | null {
  return v === undefined ? null : Array.isArray(v) ? (v[0] ?? null) : v;
}

/** POST `body` as JSON with the configured headers plus `overrides` (see jsonHeaders). */
export function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string>,
  timeoutMs: number,
  overrides: Record<string, string> = {},
): Promise<DeliveryResult> {
  let text: string;
  let all: Record<string, string>;
  try {
    text = JSON.stringify(body);
    all = jsonHeaders(headers, overrides);
  } catch (err) {
    return Promise.resolve({ kind: "failed", reason: `cannot build the request: ${String(err)}` });
  }
  return send({ url, method: "POST", headers: all, body: text, timeoutMs });
}

/**
 * Configured headers, then `overrides` (case-insensitively replacing any configured one), then a
 * JSON content-type. Throws on a header that HTTP cannot carry; `send` reports that as failed.
 */
export function jsonHeaders(
  configured: Record<string, string>,
  overrides: Record<string, string> = {},
): Record<string, string> {
  const h = new Headers(configured);
  for (const [name, value] of Object.entries(overrides)) h.set(name, value);
  h.set("content-type", "application/json; charset=utf-8");
  return Object.fromEntries(h.entries());
}

/** Runs a channel's send and turns an unexpected throw (a bug) into a visible failure. */
export async function guard(run: () => Promise<DeliveryResult>): Promise<DeliveryResult> {
  try {
    return await run();
  } catch (err) {
    return { kind: "failed", reason: `internal error: ${err instanceof Error ? err.message : String(err)}` };
  }
}
