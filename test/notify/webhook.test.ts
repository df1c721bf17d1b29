import { afterEach, describe, expect, it } from "vitest";
import { makeChannel } from "../../src/notify/index.js";
import { renderText } from "../../src/notify/render.js";
import { expectNoSockets, type HttpPeer, httpPeer, sampleMessage } from "./peers.js";

let peer: HttpPeer | null = null;
afterEach(async () => {
  await peer?.close();
  peer = null;
  await expectNoSockets();
});

describe("webhook channel", () => {
  it("POSTs the documented snake_case body with the Idempotency-Key header", async () => {
    peer = await httpPeer({ status: 202 });
    const channel = makeChannel({
      kind: "webhook",
      name: "ops-hook",
      url: peer.url,
      // A configured Idempotency-Key must not replace the notification's own.
      headers: { Authorization: "Bearer s3cret", "idempotency-key": "wrong" },
    });
    expect(channel).toMatchObject({ kind: "webhook", name: "ops-hook" });
    const m = sampleMessage();
    expect(await channel.send(m, 2000)).toEqual({ kind: "delivered", detail: "HTTP 202" });

    const req = peer.requests[0];
    expect(req?.method).toBe("POST");
    expect(req?.headers["idempotency-key"]).toBe("ntf-42-7-c0ffee");
    expect(req?.headers.authorization).toBe("Bearer s3cret");
    expect(req?.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(peer.json()).toEqual({
      version: 1,
      kind: "page",
      idempotency_key: "ntf-42-7-c0ffee",
      incident_id: 42,
      title: "Checkout 5xx rate above 5%",
      summary: 'Checkout returns 5xx for 7.2% of requests <eu-1> & "cart" path',
      status: "triggered",
      service: "checkout",
      team: "payments",
      severity: "critical",
      score: 0.9342,
      band: "high",
      rule: "tier0-high-pages",
      rationale: "Tier-0 services with high confidence page the on-call at once",
      reasons: m.reasons,
      links: m.links,
      ack_url: m.ackUrl,
      resolve_url: m.resolveUrl,
      recipient: { user: "alice", email: "alice@example.com", slack: "U024BE7LH", phone: "+15550100" },
      note: null,
      text: renderText(m),
    });
  });

  it("sends nulls, not missing keys, when there is no score, rule or links", async () => {
    peer = await httpPeer({ status: 200 });
    const channel = makeChannel({ kind: "webhook", name: "w", url: peer.url, headers: {} });
    const m = sampleMessage({
      score: null,
      band: null,
      rule: null,
      rationale: null,
      ackUrl: null,
      resolveUrl: null,
      recipient: null,
    });
    await channel.send(m, 2000);
    expect(peer.json()).toMatchObject({
      score: null,
      band: null,
      rule: null,
      rationale: null,
      ack_url: null,
      resolve_url: null,
      recipient: null,
    });
  });

  it("classifies through http.ts: 429 with Retry-After retries, 404 fails", async () => {
    peer = await httpPeer((req) =>
      req.url === "/hook"
        ? { status: 429, headers: { "retry-after": "7" } }
        : { status: 404, body: "no such hook" },
    );
    const hook = makeChannel({ kind: "webhook", name: "w", url: peer.url, headers: {} });
    expect(await hook.send(sampleMessage(), 2000)).toEqual({
      kind: "retry",
      reason: "HTTP 429",
      afterMs: 7000,
    });
    const gone = makeChannel({ kind: "webhook", name: "w", url: `${peer.url}/gone`, headers: {} });
    expect(await gone.send(sampleMessage(), 2000)).toEqual({
      kind: "failed",
      reason: "HTTP 404: no such hook",
    });
  });
});
