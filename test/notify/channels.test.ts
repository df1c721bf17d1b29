import { afterEach, describe, expect, it } from "vitest";
import { makeChannel } from "../../src/notify/index.js";
import type { Channel, ChannelConfig } from "../../src/notify/types.js";
import {
  expectNoSockets,
  FACTS,
  type HttpPeer,
  httpPeer,
  parseMail,
  type SmtpPeer,
  sampleMessage,
  smtpPeer,
} from "./peers.js";

let http: HttpPeer | null = null;
let smtp: SmtpPeer | null = null;
const channels: Channel[] = [];
afterEach(async () => {
  for (const c of channels.splice(0)) await c.close?.();
  await http?.close();
  await smtp?.close();
  http = null;
  smtp = null;
  await expectNoSockets();
});

describe("every channel", () => {
  it("delivers one page with the same facts and the signed ack/resolve links", async () => {
    http = await httpPeer((req) => ({ status: req.url.includes("pd") ? 202 : 200 }));
    smtp = await smtpPeer();
    const base = http.url;
    const configs: ChannelConfig[] = [
      { kind: "webhook", name: "webhook", url: `${base}/webhook`, headers: {} },
      { kind: "slack", name: "slack", url: `${base}/slack` },
      { kind: "teams", name: "teams", url: `${base}/teams` },
      { kind: "pagerduty", name: "pd", url: `${base}/pd`, routingKey: "rk" },
      {
        kind: "ticket",
        name: "ticket",
        url: `${base}/ticket`,
        method: "POST",
        headers: {},
        body: '{"summary": "{{title}}", "description": "{{text}}"}',
      },
      {
        kind: "email",
        name: "email",
        host: "127.0.0.1",
        port: smtp.port,
        secure: false,
        user: null,
        pass: null,
        from: "pw@example.com",
        to: [],
      },
    ];
    const m = sampleMessage();
    for (const config of configs) {
      const channel = makeChannel(config);
      channels.push(channel);
      expect(channel.kind).toBe(config.kind);
      expect(await channel.send(m, 5000), config.kind).toMatchObject({ kind: "delivered" });
    }
    const bodies = [
      ...http.requests.map((r) => JSON.parse(r.body) as unknown),
      parseMail(smtp.mails[0]?.raw ?? "").text,
    ];
    expect(bodies).toHaveLength(6);
    for (const body of bodies) {
      const text = typeof body === "string" ? body : JSON.stringify(body);
      for (const fact of [
        ...FACTS,
        "https://wiki.example/runbooks/checkout-5xx",
        m.ackUrl ?? "",
        m.resolveUrl ?? "",
      ]) {
        // Slack escapes & in its text; the ack/resolve buttons carry the raw URLs.
        expect(
          text.includes(fact) || text.includes(fact.replace(/&/g, "&amp;")),
          `${fact} in ${text.slice(0, 80)}`,
        ).toBe(true);
      }
    }
  });
});
