import { afterEach, describe, expect, it } from "vitest";
import { makeChannel } from "../../src/notify/index.js";
import { expectNoSockets, FACTS, type HttpPeer, httpPeer, sampleMessage } from "./peers.js";

let peer: HttpPeer | null = null;
afterEach(async () => {
  await peer?.close();
  peer = null;
  await expectNoSockets();
});

interface Block {
  type: string;
  text?: { type: string; text: string };
  fields?: { type: string; text: string }[];
  elements?: { type: string; text?: unknown; url?: string; action_id?: string }[];
}

describe("slack channel", () => {
  it("posts a Block Kit message with the facts, a mention, link context and URL buttons", async () => {
    peer = await httpPeer({ status: 200, body: "ok" });
    const channel = makeChannel({ kind: "slack", name: "ops-slack", url: peer.url });
    const m = sampleMessage();
    expect(await channel.send(m, 2000)).toEqual({ kind: "delivered", detail: "HTTP 200: ok" });

    const body = peer.json() as { text: string; blocks: Block[] };
    expect(body.blocks.map((b) => b.type)).toEqual(["header", "section", "section", "context", "actions"]);
    const [header, main, why, context, actions] = body.blocks;
    expect(header?.text).toEqual({
      type: "plain_text",
      text: "[PAGE] Checkout 5xx rate above 5%",
      emoji: false,
    });
    // Summary with mrkdwn control characters escaped, and the recipient mentioned.
    expect(main?.text?.text).toBe(
      '<@U024BE7LH> Checkout returns 5xx for 7.2% of requests &lt;eu-1&gt; &amp; "cart" path',
    );
    expect(main?.fields?.map((f) => f.text)).toEqual([
      "*Service*\ncheckout (team payments)",
      "*Severity*\ncritical",
      "*Score*\n0.93 (high)",
      "*Status*\ntriggered",
      "*Rule*\ntier0-high-pages",
      "*For*\nalice",
    ]);
    expect(why?.text?.text).toBe(
      [
        "*Why this route:* Tier-0 services with high confidence page the on-call at once",
        ...m.reasons.slice(0, 5).map((r) => `• ${r}`),
      ].join("\n"),
    );
    expect(context?.elements?.[0]?.text).toBe(
      "Incident #42 · <https://grafana.example/d/checkout?from=now-1h&var=eu|Dashboard> · " +
        "<https://pagewise.example/incidents/42/decision|Decision> · <https://wiki.example/runbooks/checkout-5xx|Runbook>",
    );
    expect(actions?.elements).toEqual([
      {
        type: "button",
        action_id: "pagewise_ack",
        text: { type: "plain_text", text: "Acknowledge" },
        url: m.ackUrl,
        style: "primary",
      },
      {
        type: "button",
        action_id: "pagewise_resolve",
        text: { type: "plain_text", text: "Resolve" },
        url: m.resolveUrl,
      },
    ]);
    // The fallback text carries the same facts and links for clients that do not render blocks.
    expect(body.text.startsWith("<@U024BE7LH> [PAGE] Checkout 5xx rate above 5%")).toBe(true);
    for (const fact of [
      ...FACTS,
      m.ackUrl ?? "",
      m.resolveUrl ?? "",
      "https://wiki.example/runbooks/checkout-5xx",
    ]) {
      expect(body.text).toContain(fact.replace(/&/g, "&amp;"));
    }
  });

  it("mentions nobody without a member ID, refuses markup as one, and drops buttons without links", async () => {
    peer = await httpPeer({ status: 200 });
    const channel = makeChannel({ kind: "slack", name: "s", url: peer.url });
    const recipient = { user: "bob", email: null, slack: "U1> <!channel", phone: null, webhook: null };
    await channel.send(sampleMessage({ recipient, ackUrl: null, resolveUrl: null }), 2000);
    const body = peer.json() as { text: string; blocks: Block[] };
    expect(JSON.stringify(body)).not.toContain("<@");
    expect(JSON.stringify(body)).not.toContain("<!channel");
    expect(body.blocks.map((b) => b.type)).toEqual(["header", "section", "section", "context"]);
  });

  it("a 400 invalid_payload fails, a 503 retries", async () => {
    peer = await httpPeer((req) =>
      req.body.includes("[TEST]") ? { status: 503 } : { status: 400, body: "invalid_payload" },
    );
    const channel = makeChannel({ kind: "slack", name: "s", url: peer.url });
    expect(await channel.send(sampleMessage(), 2000)).toEqual({
      kind: "failed",
      reason: "HTTP 400: invalid_payload",
    });
    expect(await channel.send(sampleMessage({ kind: "test" }), 2000)).toEqual({
      kind: "retry",
      reason: "HTTP 503",
      afterMs: null,
    });
  });
});
