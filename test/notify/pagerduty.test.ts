import { afterEach, describe, expect, it } from "vitest";
import { makeChannel } from "../../src/notify/index.js";
import { pagerDutySeverity } from "../../src/notify/pagerduty.js";
import { expectNoSockets, type HttpPeer, httpPeer, sampleMessage } from "./peers.js";

let peer: HttpPeer | null = null;
afterEach(async () => {
  await peer?.close();
  peer = null;
  await expectNoSockets();
});

const ROUTING_KEY = "R0UT1NGKEY0000000000000000000000";

describe("pagerduty channel", () => {
  it("triggers an Events v2 alert with a per-incident dedup_key and the facts in custom_details", async () => {
    peer = await httpPeer({
      status: 202,
      body: '{"status":"success","message":"Event processed","dedup_key":"pagewise-42"}',
    });
    const channel = makeChannel({ kind: "pagerduty", name: "pd", url: peer.url, routingKey: ROUTING_KEY });
    const m = sampleMessage();
    const result = await channel.send(m, 2000);
    expect(result).toMatchObject({ kind: "delivered" });

    expect(peer.requests[0]?.headers["idempotency-key"]).toBe("ntf-42-7-c0ffee");
    expect(peer.json()).toEqual({
      routing_key: ROUTING_KEY,
      event_action: "trigger",
      dedup_key: "pagewise-42",
      payload: {
        summary: "Checkout 5xx rate above 5% [score 0.93 (high)]",
        source: "checkout",
        severity: "critical",
        component: "checkout",
        group: "payments",
        class: "tier0-high-pages",
        custom_details: {
          summary: m.summary,
          score: 0.9342,
          band: "high",
          rule: "tier0-high-pages",
          rationale: "Tier-0 services with high confidence page the on-call at once",
          reasons: m.reasons,
          status: "triggered",
          note: null,
          incident_id: 42,
          ack_url: m.ackUrl,
          resolve_url: m.resolveUrl,
          idempotency_key: "ntf-42-7-c0ffee",
        },
      },
      client: "Pagewise",
      links: m.links,
    });
  });

  it("maps acknowledged and resolved updates to those actions on the same dedup_key", async () => {
    peer = await httpPeer({ status: 202 });
    const channel = makeChannel({ kind: "pagerduty", name: "pd", url: peer.url, routingKey: ROUTING_KEY });
    await channel.send(
      sampleMessage({ kind: "update", status: "acknowledged", note: "acknowledged by alice" }),
      2000,
    );
    await channel.send(
      sampleMessage({ kind: "update", status: "resolved", note: "resolved by alice" }),
      2000,
    );
    await channel.send(sampleMessage({ kind: "update", status: "triggered", note: "re-escalated" }), 2000);
    expect(peer.json(0)).toEqual({
      routing_key: ROUTING_KEY,
      event_action: "acknowledge",
      dedup_key: "pagewise-42",
    });
    expect(peer.json(1)).toEqual({
      routing_key: ROUTING_KEY,
      event_action: "resolve",
      dedup_key: "pagewise-42",
    });
    expect(peer.json(2)).toMatchObject({ event_action: "trigger", dedup_key: "pagewise-42" });
  });

  it("maps severities onto PagerDuty's four", () => {
    expect(["critical", "error", "warning", "info", "page-me"].map(pagerDutySeverity)).toEqual([
      "critical",
      "error",
      "warning",
      "info",
      "error",
    ]);
  });

  it("an invalid event (400) fails, throttling (429) retries after Retry-After", async () => {
    peer = await httpPeer((req) =>
      req.body.includes('"acknowledge"')
        ? { status: 429, headers: { "retry-after": "7" } }
        : { status: 400, body: '{"status":"invalid event","errors":["routing_key is invalid"]}' },
    );
    const channel = makeChannel({ kind: "pagerduty", name: "pd", url: peer.url, routingKey: "bad" });
    expect(await channel.send(sampleMessage(), 2000)).toEqual({
      kind: "failed",
      reason: 'HTTP 400: {"status":"invalid event","errors":["routing_key is invalid"]}',
    });
    expect(await channel.send(sampleMessage({ kind: "update", status: "acknowledged" }), 2000)).toEqual({
      kind: "retry",
      reason: "HTTP 429",
      afterMs: 7000,
    });
  });
});
