import { afterEach, describe, expect, it } from "vitest";
import { classifyResponse, parseRetryAfter, postJson } from "../../src/notify/http.js";
import { expectNoSockets, type HttpPeer, httpPeer, refusedUrl } from "./peers.js";

let peer: HttpPeer | null = null;
afterEach(async () => {
  await peer?.close();
  peer = null;
  await expectNoSockets();
});

async function answer(status: number, headers: Record<string, string> = {}, body = "") {
  peer = await httpPeer({ status, headers, body });
  return postJson(peer.url, { hello: "world" }, { authorization: "Bearer t0ken" }, 2000);
}

describe("http classification, against a real server", () => {
  it.each([200, 202, 204])("%i is delivered", async (status) => {
    const result = await answer(status);
    expect(result).toMatchObject({ kind: "delivered" });
    const req = peer?.requests[0];
    expect(req?.method).toBe("POST");
    expect(req?.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(req?.headers.authorization).toBe("Bearer t0ken");
    expect(JSON.parse(req?.body ?? "")).toEqual({ hello: "world" });
  });

  it("429 with Retry-After: 7 retries after 7000 ms", async () => {
    expect(await answer(429, { "retry-after": "7" }, "slow down")).toEqual({
      kind: "retry",
      reason: "HTTP 429: slow down",
      afterMs: 7000,
    });
  });

  it("503 retries; Retry-After as an HTTP date counts from now", async () => {
    expect(await answer(503)).toEqual({ kind: "retry", reason: "HTTP 503", afterMs: null });
    await peer?.close();
    const at = new Date(Math.ceil(Date.now() / 1000) * 1000 + 30_000).toUTCString();
    const result = await answer(500, { "retry-after": at });
    expect(result.kind).toBe("retry");
    const afterMs = result.kind === "retry" ? result.afterMs : null;
    expect(afterMs).toBeGreaterThan(28_000);
    expect(afterMs).toBeLessThanOrEqual(31_000);
  });

  it.each([400, 401, 404])("%i fails with the status and a body excerpt", async (status) => {
    const result = await answer(status, {}, `{"error": "nope ${status}"}\n${"x".repeat(500)}`);
    expect(result.kind).toBe("failed");
    const reason = result.kind === "failed" ? result.reason : "";
    expect(reason).toMatch(new RegExp(`^HTTP ${status}: \\{"error": "nope ${status}"\\} x+…$`));
    expect(reason.length).toBeLessThan(230);
    expect(peer?.requests).toHaveLength(1);
  });

  it("does not follow a redirect: the POST would become a GET and look delivered", async () => {
    const result = await answer(302, { location: "/elsewhere" });
    expect(result).toEqual({ kind: "failed", reason: "HTTP 302" });
    expect(peer?.requests).toHaveLength(1);
  });

  it("connection refused retries", async () => {
    const result = await postJson(await refusedUrl(), {}, {}, 2000);
    expect(result).toMatchObject({ kind: "retry", afterMs: null });
    expect(result.kind === "retry" && result.reason).toMatch(/ECONNREFUSED/);
  });

  it("a server slower than timeoutMs retries, and the send ends near the deadline", async () => {
    peer = await httpPeer({ status: 200, delayMs: 5000 });
    const started = Date.now();
    const result = await postJson(peer.url, {}, {}, 200);
    expect(result).toEqual({ kind: "retry", reason: "timed out", afterMs: null });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(peer.requests).toHaveLength(1);
  });

  it("a 2xx whose body never ends is delivered at the deadline: the status decides", async () => {
    const { createServer } = await import("node:http");
    const server = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("accepted, still writing");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    const result = await postJson(`http://127.0.0.1:${port}/hook`, {}, {}, 300);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    expect(result).toEqual({ kind: "delivered", detail: "HTTP 200: accepted, still writing" });
  });

  it("a URL that is not http(s) or a header HTTP cannot carry fails without a request", async () => {
    expect(await postJson("ftp://example.com/x", {}, {}, 100)).toMatchObject({ kind: "failed" });
    expect(await postJson("not a url", {}, {}, 100)).toMatchObject({ kind: "failed" });
    peer = await httpPeer();
    expect(await postJson(peer.url, {}, { "x-bad": "a\nb" }, 1000)).toMatchObject({ kind: "failed" });
    expect(peer.requests).toHaveLength(0);
  });
});

describe("Retry-After", () => {
  const now = Date.parse("2026-11-29T03:00:00Z");
  it.each([
    ["7", 7000],
    [" 120 ", 120_000],
    ["0", 0],
    ["Sun, 29 Nov 2026 03:00:30 GMT", 30_000],
    ["Sunday, 29-Nov-26 03:01:00 GMT", 60_000],
    ["Sun, 29 Nov 2026 02:00:00 GMT", 0],
    ["soon", null],
    ["-5", null],
    ["1.5", null],
    [null, null],
  ])("%j -> %j", (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms);
  });

  it("only 429 and 5xx carry it into the result", () => {
    expect(classifyResponse(400, "7", "", now)).toEqual({ kind: "failed", reason: "HTTP 400" });
    expect(classifyResponse(599, "7", "", now)).toEqual({ kind: "retry", reason: "HTTP 599", afterMs: 7000 });
  });
});
