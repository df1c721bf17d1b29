import { afterEach, describe, expect, it } from "vitest";
import { makeChannel } from "../../src/notify/index.js";
import { expectNoSockets, FACTS, type HttpPeer, httpPeer, sampleMessage } from "./peers.js";

let peer: HttpPeer | null = null;
afterEach(async () => {
  await peer?.close();
  peer = null;
  await expectNoSockets();
});

interface Card {
  type: string;
  version: string;
  body: { type: string; text?: string; facts?: { title: string; value: string }[] }[];
  actions: { type: string; title: string; url: string }[];
}

describe("teams channel", () => {
  it("posts an Adaptive Card attachment with the facts and Action.OpenUrl for ack/resolve", async () => {
    peer = await httpPeer({ status: 202 });
    const channel = makeChannel({ kind: "teams", name: "ops-teams", url: peer.url });
    const m = sampleMessage();
    expect(await channel.send(m, 2000)).toEqual({ kind: "delivered", detail: "HTTP 202" });

    const payload = peer.json() as { type: string; attachments: { contentType: string; content: Card }[] };
    expect(payload.type).toBe("message");
    expect(payload.attachments).toHaveLength(1);
    expect(payload.attachments[0]?.contentType).toBe("application/vnd.microsoft.card.adaptive");
    const card = payload.attachments[0]?.content as Card;
    expect(card).toMatchObject({ type: "AdaptiveCard", version: "1.4" });
    expect(card.body[0]).toMatchObject({
      type: "TextBlock",
      text: "[PAGE] Checkout 5xx rate above 5%",
      color: "Attention",
    });
    expect(card.body[1]?.text).toBe(m.summary);
    expect(card.body.find((b) => b.type === "FactSet")?.facts).toEqual([
      { title: "Service", value: "checkout (team payments)" },
      { title: "Severity", value: "critical" },
      { title: "Score", value: "0.93 (high)" },
      { title: "Status", value: "triggered" },
      { title: "Rule", value: "tier0-high-pages" },
      { title: "For", value: "alice" },
    ]);
    const texts = card.body.map((b) => b.text ?? "").join("\n");
    for (const fact of FACTS) expect(JSON.stringify(card)).toContain(fact);
    expect(texts).toContain("• +0.84 corroborated by 2 other sources");
    expect(texts).not.toContain("the sixth reason");
    expect(texts).toContain("[Dashboard](https://grafana.example/d/checkout?from=now-1h&var=eu)");
    expect(texts).toContain("[Decision](https://pagewise.example/incidents/42/decision)");
    expect(texts).toContain("[Runbook](https://wiki.example/runbooks/checkout-5xx)");
    expect(card.actions).toEqual([
      { type: "Action.OpenUrl", title: "Acknowledge", url: m.ackUrl, id: "ack" },
      { type: "Action.OpenUrl", title: "Resolve", url: m.resolveUrl, id: "resolve" },
    ]);
  });

  it("a slow Teams endpoint retries, a 401 fails", async () => {
    peer = await httpPeer((req) =>
      req.body.includes("[TEST]") ? { status: 401 } : { status: 200, delayMs: 3000 },
    );
    const channel = makeChannel({ kind: "teams", name: "t", url: peer.url });
    expect(await channel.send(sampleMessage(), 150)).toEqual({
      kind: "retry",
      reason: "timed out",
      afterMs: null,
    });
    expect(await channel.send(sampleMessage({ kind: "test" }), 2000)).toEqual({
      kind: "failed",
      reason: "HTTP 401",
    });
  });
});
