import { afterEach, describe, expect, it } from "vitest";
import { classifySmtpError } from "../../src/notify/email.js";
import { makeChannel } from "../../src/notify/index.js";
import type { Channel, ChannelConfig } from "../../src/notify/types.js";
import {
  expectNoSockets,
  FACTS,
  parseMail,
  type SmtpPeer,
  type SmtpPeerOptions,
  sampleMessage,
  smtpPeer,
} from "./peers.js";

let peer: SmtpPeer | null = null;
let channel: Channel | null = null;
afterEach(async () => {
  // The channel first: its pooled connection QUITs, so the server closes at once.
  await channel?.close?.();
  await peer?.close();
  channel = null;
  peer = null;
  await expectNoSockets();
});

function config(port: number, to: string[] = ["oncall@example.com", "ops@example.com"]): ChannelConfig {
  return {
    kind: "email",
    name: "mail",
    host: "127.0.0.1",
    port,
    secure: false,
    user: null,
    pass: null,
    from: "Pagewise <pagewise@alerts.example>",
    to,
  };
}

async function start(opts: SmtpPeerOptions = {}, to?: string[]) {
  const p = await smtpPeer(opts);
  peer = p;
  channel = makeChannel(config(p.port, to));
  return { peer: p, channel };
}

describe("email channel, against a real SMTP server", () => {
  it("mails the recipient plain text and HTML with every fact, the links and the idempotency key", async () => {
    const { peer, channel } = await start();
    const m = sampleMessage();
    const result = await channel.send(m, 5000);
    expect(result).toMatchObject({ kind: "delivered" });
    expect(result.kind === "delivered" && result.detail).toMatch(/^250 /);

    expect(peer.mails).toHaveLength(1);
    const mail = peer.mails[0];
    expect(mail?.from).toBe("pagewise@alerts.example");
    expect(mail?.to).toEqual(["alice@example.com"]);
    const parsed = parseMail(mail?.raw ?? "");
    expect(parsed.headers.get("x-pagewise-idempotency-key")).toBe("ntf-42-7-c0ffee");
    expect(parsed.headers.get("message-id")).toBe("<pagewise.ntf-42-7-c0ffee@alerts.example>");
    expect(parsed.headers.get("x-pagewise-incident")).toBe("42");
    expect(parsed.headers.get("subject")).toBe("[PAGE] Checkout 5xx rate above 5% · score 0.93 (high)");

    const facts = [...FACTS, "Service: checkout (team payments)", "Severity: critical", "For: alice"];
    for (const fact of facts) expect(parsed.text).toContain(fact);
    expect(parsed.text).not.toContain("the sixth reason");
    for (const l of m.links) expect(parsed.text).toContain(`${l.text}: ${l.href}`);
    expect(parsed.text).toContain(`Acknowledge: ${m.ackUrl}`);
    expect(parsed.text).toContain(`Resolve: ${m.resolveUrl}`);

    // HTML: the same facts, values escaped, links as anchors with escaped hrefs.
    for (const fact of FACTS) expect(parsed.html).toContain(fact);
    expect(parsed.html).toContain("&lt;eu-1&gt; &amp; &quot;cart&quot; path");
    expect(parsed.html).toContain(
      '<a href="https://grafana.example/d/checkout?from=now-1h&amp;var=eu">Dashboard</a>',
    );
    expect(parsed.html).toContain(`<a href="${m.ackUrl?.replace(/&/g, "&amp;")}">Acknowledge</a>`);
    expect(parsed.html).toContain(`<a href="${m.resolveUrl?.replace(/&/g, "&amp;")}">Resolve</a>`);
  });

  it("falls back to the channel's list without a personal address, and fails with neither", async () => {
    const { peer, channel } = await start();
    const noEmail = { user: "bob", email: null, slack: null, phone: null, webhook: null };
    expect(await channel.send(sampleMessage({ recipient: noEmail }), 5000)).toMatchObject({
      kind: "delivered",
    });
    expect(peer.mails[0]?.to).toEqual(["oncall@example.com", "ops@example.com"]);

    const lonely = makeChannel(config(peer.port, []));
    expect(await lonely.send(sampleMessage({ recipient: null }), 5000)).toEqual({
      kind: "failed",
      reason: "no recipient: the user has no email and the channel no `to`",
    });
    await lonely.close?.();
    expect(peer.mails).toHaveLength(1);
  });

  it("renders a javascript: link as text, not an anchor", async () => {
    const { peer, channel } = await start();
    const links = [{ href: "javascript:alert(1)", text: "Trap" }];
    await channel.send(sampleMessage({ links }), 5000);
    const { html } = parseMail(peer.mails[0]?.raw ?? "");
    expect(html).toContain("Trap");
    expect(html).not.toContain("javascript:");
  });

  it("reuses one pooled connection for several mails", async () => {
    const { peer, channel } = await start();
    for (let i = 0; i < 3; i++) {
      expect(await channel.send(sampleMessage({ idempotencyKey: `k${i}` }), 5000)).toMatchObject({
        kind: "delivered",
      });
    }
    expect(peer.mails.map((m) => parseMail(m.raw).headers.get("x-pagewise-idempotency-key"))).toEqual([
      "k0",
      "k1",
      "k2",
    ]);
    expect(peer.connections).toBe(1);
  });

  it("a 451 reply retries, a 550 reply fails (at RCPT and at the end of DATA)", async () => {
    const replies: Record<string, { code: number; text: string }> = {
      "busy@example.com": { code: 451, text: "4.3.0 try again later" },
      "nobody@example.com": { code: 550, text: "5.1.1 no such user" },
    };
    let dataReply: { code: number; text: string } | null = null;
    const { peer, channel } = await start({ rcpt: (a) => replies[a] ?? null, data: () => dataReply });
    const to = (email: string) =>
      sampleMessage({ recipient: { user: "u", email, slack: null, phone: null, webhook: null } });

    const busy = await channel.send(to("busy@example.com"), 5000);
    expect(busy).toMatchObject({ kind: "retry", afterMs: null });
    expect(busy.kind === "retry" && busy.reason).toMatch(/^SMTP 451: .*try again later/);
    const nobody = await channel.send(to("nobody@example.com"), 5000);
    expect(nobody).toMatchObject({ kind: "failed" });
    expect(nobody.kind === "failed" && nobody.reason).toMatch(/^SMTP 550: .*no such user/);

    dataReply = { code: 451, text: "4.7.1 greylisted" };
    expect(await channel.send(to("alice@example.com"), 5000)).toMatchObject({ kind: "retry" });
    dataReply = { code: 554, text: "5.7.1 rejected as spam" };
    expect(await channel.send(to("alice@example.com"), 5000)).toMatchObject({ kind: "failed" });
    expect(peer.mails).toHaveLength(0);
  });

  it("counts a mail as delivered when some recipients took it, naming the ones that refused", async () => {
    const rcpt = (a: string) => (a === "ops@example.com" ? { code: 550, text: "5.1.1 no such user" } : null);
    const { peer, channel } = await start({ rcpt });
    const result = await channel.send(sampleMessage({ recipient: null }), 5000);
    expect(result).toMatchObject({ kind: "delivered" });
    expect(result.kind === "delivered" && result.detail).toMatch(/^250 .*; rejected ops@example\.com$/);
    expect(peer.mails[0]?.to).toEqual(["oncall@example.com"]);
  });

  it("a refused connection retries", async () => {
    const { peer: p } = await start();
    const port = p.port;
    await p.close();
    peer = null;
    channel = makeChannel(config(port));
    const result = await channel.send(sampleMessage(), 5000);
    expect(result).toMatchObject({ kind: "retry" });
    expect(result.kind === "retry" && result.reason).toMatch(/ECONNREFUSED|ECONNECTION|ESOCKET/);
  });

  it("a server slower than timeoutMs retries near the deadline", async () => {
    const { channel } = await start({ data: () => new Promise((r) => setTimeout(() => r(null), 800)) });
    const started = Date.now();
    expect(await channel.send(sampleMessage(), 150)).toEqual({
      kind: "retry",
      reason: "timed out",
      afterMs: null,
    });
    expect(Date.now() - started).toBeLessThan(700);
  });
});

describe("SMTP classification", () => {
  it.each([
    [{ responseCode: 421, code: "ECONNECTION", message: "service closing" }, "retry"],
    [{ responseCode: 452, code: "EENVELOPE", message: "mailbox full" }, "retry"],
    [{ responseCode: 535, code: "EAUTH", message: "bad credentials" }, "failed"],
    [{ responseCode: 552, code: "EMESSAGE", message: "too big" }, "failed"],
    [{ code: "ETIMEDOUT", message: "greeting never received" }, "retry"],
    [{ code: "EENVELOPE", message: "No recipients defined" }, "failed"],
    [new Error("something odd"), "retry"],
  ])("%j -> %s", (err, kind) => {
    expect(classifySmtpError(err).kind).toBe(kind);
  });
});
