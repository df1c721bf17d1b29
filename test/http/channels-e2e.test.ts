import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { get, post, type TestService, testService } from "../helpers.js";
import {
  expectNoSockets,
  type HttpPeer,
  httpPeer,
  parseMail,
  type SmtpPeer,
  smtpPeer,
} from "../notify/peers.js";

/**
 * Done means: "An incident routed to page reaches every channel, each against a real local server:
 * webhook, Slack, Teams, PagerDuty forward and ticket over HTTP, and email over SMTP." One alert
 * arrives over HTTP, the policy pages, the chain's first step names a channel of every kind and a
 * person (email through the mail channel, and their own webhook); the deliverer sends it all.
 */

const START = Date.parse("2026-11-30T14:00:00Z");
const PROM_KEY = "prom-key-0123456789";
const PUBLIC = "http://pagewise.test";
const RATIONALE = "Every channel hears a likely-real checkout problem at once.";
const TICKET_BODY =
  '{"fields": {"summary": "{{title}}", "description": "{{text}}", "score": {{score}}, "band": "{{band}}", "rationale": "{{rationale}}", "reasons": {{reasons}}, "links": {{links}}, "dedup": "{{idempotency_key}}"}}';

function configText(p: Record<"hook" | "slack" | "teams" | "pd" | "ticket" | "alice", string>, smtp: number) {
  return `
server:
  public_url: ${PUBLIC}/
  link_secret: channels-e2e-secret-0123456789
  mail_channel: mail
users:
  - { name: alice, email: alice@example.com, phone: "+15550100", webhook: "${p.alice}" }
chains:
  - name: everything
    steps:
      - targets:
          - { user: alice }
          - { channel: hook }
          - { channel: slack }
          - { channel: teams }
          - { channel: pd }
          - { channel: ticket }
          - { channel: mail }
        delay: 5m
channels:
  - { name: hook, kind: webhook, url: "${p.hook}" }
  - { name: slack, kind: slack, url: "${p.slack}" }
  - { name: teams, kind: teams, url: "${p.teams}" }
  - { name: pd, kind: pagerduty, url: "${p.pd}", routing_key: R0UTINGKEY0123456789 }
  - name: ticket
    kind: ticket
    url: "${p.ticket.replace(/\/hook$/, "/rest/api/2/issue")}"
    headers: { Authorization: "Bearer ticket-token" }
    body: '${TICKET_BODY}'
  - { name: mail, kind: email, host: 127.0.0.1, port: ${smtp}, from: "Pagewise <pagewise@pagewise.test>", to: [oncall@example.com] }
teams:
  - { name: payments, chain: everything }
services:
  - { name: checkout, team: payments, tier: 0 }
sources:
  - name: prometheus
    kind: prometheus
    key: ${PROM_KEY}
    reliability: high
    group_by: [alertname, service]
    severity_map: { page: critical }
policy:
  rules:
    - id: page-everything
      route: { kind: page }
      rationale: ${RATIONALE}
api_tokens:
  - { name: admin, token: demo-admin-token, role: admin }
`;
}

type PeerName = "hook" | "slack" | "teams" | "pd" | "ticket" | "alice";
let peers: Record<PeerName, HttpPeer>;
let smtp: SmtpPeer;
let svc: TestService;

beforeEach(async () => {
  const names: PeerName[] = ["hook", "slack", "teams", "pd", "ticket", "alice"];
  const made = await Promise.all(names.map(() => httpPeer({ status: 200, body: "ok" })));
  peers = Object.fromEntries(names.map((n, i) => [n, made[i]])) as Record<PeerName, HttpPeer>;
  smtp = await smtpPeer();
  const urls = Object.fromEntries(names.map((n) => [n, peers[n].url])) as Record<PeerName, string>;
  svc = await testService(configText(urls, smtp.port), START);
});
afterEach(async () => {
  await svc.dispose();
  await Promise.all(Object.values(peers).map((p) => p.close()));
  await smtp.close();
  await expectNoSockets();
});

interface Facts {
  id: number;
  summary: string;
  score: number;
  band: string;
  reasons: string[];
  decisionUrl: string;
}

/** A critical checkout alert over Prometheus' Alertmanager v2 API; what the API says it decided. */
async function pageIncident(): Promise<Facts> {
  const summary = 'Checkout 5xx above 5% <eu-1> & "cart"';
  const res = await post(
    svc.app,
    "/api/v2/alerts",
    [
      {
        labels: { alertname: "CheckoutErrors", service: "checkout", severity: "page" },
        annotations: { summary },
        generatorURL: "http://prometheus.test/graph?g0.expr=checkout",
      },
    ],
    { key: PROM_KEY },
  );
  expect(res.statusCode).toBe(200);
  const inc = (await get(svc.app, "/api/v1/incidents/1")).json().incident;
  expect(inc).toMatchObject({ status: "triggered", service: "checkout", severity: "critical" });
  expect(inc.route.kind).toBe("page");
  expect(inc.escalation).toMatchObject({ chain: "everything", state: "running", step: 1 });
  const d = inc.decisions[0];
  expect(d.decision.rule.id).toBe("page-everything");
  const reasons = (d.score.contributions as { text: string }[]).slice(0, 3).map((c) => c.text);
  expect(reasons.length).toBeGreaterThan(0);
  return {
    id: inc.id,
    summary,
    score: d.score.value,
    band: d.decision.band,
    reasons,
    decisionUrl: `${PUBLIC}/api/v1/decisions/${d.id}`,
  };
}

/** The outbox's idempotency key of the one row that went to `channel` (and a recipient, for people). */
function keyOf(channel: string, recipient: string | null = null): string {
  const rows = svc.store
    .deliveries({ limit: 100 })
    .filter((d) => d.channel === channel && d.recipient === recipient);
  expect(rows).toHaveLength(1);
  return rows[0]?.idempotencyKey as string;
}

const only = (p: HttpPeer) => {
  expect(p.requests).toHaveLength(1);
  return p.requests[0] as NonNullable<HttpPeer["requests"][0]>;
};

/** Every fact a message must carry, as text (any channel's rendering contains each one). */
function expectFactsIn(text: string, f: Facts): void {
  expect(text).toContain("checkout");
  expect(text).toContain("critical");
  expect(text).toContain(`${f.score.toFixed(2)} (${f.band})`);
  expect(text).toContain(RATIONALE);
  for (const r of f.reasons) expect(text).toContain(r);
  expect(text).toContain(f.decisionUrl);
}

describe("a page reaches every kind of channel over its real protocol", () => {
  it("webhook, Slack, Teams, PagerDuty, ticket and email each get one message with every fact", async () => {
    const f = await pageIncident();
    // Nothing leaves before the deliverer runs: the outbox holds it (8 rows, one per destination).
    expect(Object.values(peers).every((p) => p.requests.length === 0)).toBe(true);
    expect(svc.store.deliveries({ status: "pending", limit: 100 })).toHaveLength(8);

    expect(await svc.deliverer.drain()).toBe(8);
    const sent = (await get(svc.app, "/api/v1/deliveries?status=sent")).json().deliveries;
    expect(sent).toHaveLength(8);
    expect((await get(svc.app, "/api/v1/deliveries?status=pending")).json().deliveries).toEqual([]);

    // Webhook (a team channel): the documented JSON body, the key as a header and in the body.
    const hook = only(peers.hook);
    expect(hook.method).toBe("POST");
    expect(hook.headers["content-type"]).toMatch(/^application\/json/);
    const hb = JSON.parse(hook.body);
    expect(hb).toMatchObject({
      version: 1,
      kind: "page",
      incident_id: f.id,
      summary: f.summary,
      service: "checkout",
      team: "payments",
      severity: "critical",
      band: f.band,
      rule: "page-everything",
      rationale: RATIONALE,
      reasons: f.reasons,
      recipient: null,
      ack_url: null,
      resolve_url: null,
    });
    expect(hb.score).toBeCloseTo(f.score, 4);
    expect(hb.links).toContainEqual({ href: f.decisionUrl, text: "Decision" });
    // The alert's own link (Prometheus' generatorURL) rides along.
    expect(hb.links.map((l: { href: string }) => l.href)).toContain(
      "http://prometheus.test/graph?g0.expr=checkout",
    );
    expect(hook.headers["idempotency-key"]).toBe(keyOf("hook"));
    expect(hb.idempotency_key).toBe(keyOf("hook"));
    expectFactsIn(hb.text, f);

    // The person's own webhook: the same facts plus their signed ack/resolve links.
    const mine = only(peers.alice);
    const mb = JSON.parse(mine.body);
    expect(mb).toMatchObject({
      incident_id: f.id,
      recipient: { user: "alice", email: "alice@example.com", phone: "+15550100" },
      rationale: RATIONALE,
      reasons: f.reasons,
    });
    expect(mb.ack_url).toMatch(/^http:\/\/pagewise\.test\/l\/[\w-]+\.[\w-]+$/);
    expect(mb.resolve_url).toMatch(/^http:\/\/pagewise\.test\/l\/[\w-]+\.[\w-]+$/);
    expect(mb.resolve_url).not.toBe(mb.ack_url);
    expect(mine.headers["idempotency-key"]).toBe(keyOf("user-webhook", "alice"));
    expectFactsIn(mb.text, f);

    // Slack: Block Kit with the facts in blocks and the fallback text.
    const slack = JSON.parse(only(peers.slack).body);
    expect(slack.blocks[0]).toMatchObject({ type: "header" });
    const blocks = JSON.stringify(slack.blocks);
    expect(blocks).toContain('Checkout 5xx above 5% &lt;eu-1&gt; &amp; \\"cart\\"');
    expect(blocks).toContain(RATIONALE);
    expectFactsIn(slack.text, f);
    // A channel message has no recipient, so no buttons (ack links are personal).
    expect(slack.blocks.some((b: { type: string }) => b.type === "actions")).toBe(false);

    // Teams: an Adaptive Card in a message attachment.
    const teams = JSON.parse(only(peers.teams).body);
    expect(teams.type).toBe("message");
    const card = teams.attachments[0].content;
    expect(card).toMatchObject({ type: "AdaptiveCard", version: "1.4" });
    expect(card.body).toContainEqual(expect.objectContaining({ type: "TextBlock", text: f.summary }));
    expect(card.body).toContainEqual(
      expect.objectContaining({
        type: "FactSet",
        facts: expect.arrayContaining([{ title: "Score", value: `${f.score.toFixed(2)} (${f.band})` }]),
      }),
    );
    expectFactsIn(card.fallbackText, f);

    // PagerDuty Events v2: the routing key, a per-incident dedup_key, the facts in custom_details.
    const pdReq = only(peers.pd);
    const pd = JSON.parse(pdReq.body);
    expect(pd).toMatchObject({
      routing_key: "R0UTINGKEY0123456789",
      event_action: "trigger",
      dedup_key: `pagewise-${f.id}`,
      payload: {
        source: "checkout",
        severity: "critical",
        component: "checkout",
        group: "payments",
        class: "page-everything",
        custom_details: {
          summary: f.summary,
          band: f.band,
          rationale: RATIONALE,
          reasons: f.reasons,
          incident_id: f.id,
          idempotency_key: keyOf("pd"),
        },
      },
    });
    expect(pd.payload.summary).toContain(`score ${f.score.toFixed(2)} (${f.band})`);
    expect(pd.payload.custom_details.score).toBeCloseTo(f.score, 4);
    expect(pd.links).toContainEqual({ href: f.decisionUrl, text: "Decision" });
    expect(pdReq.headers["idempotency-key"]).toBe(keyOf("pd"));

    // Ticket: the configured URL, method, headers and body template, filled in.
    const tReq = only(peers.ticket);
    expect(tReq.method).toBe("POST");
    expect(tReq.url).toBe("/rest/api/2/issue");
    expect(tReq.headers.authorization).toBe("Bearer ticket-token");
    expect(tReq.headers["idempotency-key"]).toBe(keyOf("ticket"));
    const ticket = JSON.parse(tReq.body).fields;
    expect(ticket).toMatchObject({
      summary: `[CRITICAL] ${f.summary}`,
      band: f.band,
      rationale: RATIONALE,
      reasons: f.reasons,
      dedup: keyOf("ticket"),
    });
    expect(ticket.score).toBeCloseTo(f.score, 4);
    expect(ticket.links).toContainEqual({ href: f.decisionUrl, text: "Decision" });
    expectFactsIn(ticket.description, f);

    // Email over SMTP: one mail to the channel's list, one to the person (with their links).
    expect(smtp.mails).toHaveLength(2);
    const byTo = new Map(smtp.mails.map((m) => [m.to.join(","), m]));
    expect([...byTo.keys()].sort()).toEqual(["alice@example.com", "oncall@example.com"]);
    const team = parseMail(byTo.get("oncall@example.com")?.raw ?? "");
    expect(team.headers.get("subject")).toContain(f.summary);
    expect(team.headers.get("subject")).toContain(`score ${f.score.toFixed(2)} (${f.band})`);
    expect(team.headers.get("x-pagewise-idempotency-key")).toBe(keyOf("mail"));
    expectFactsIn(team.text, f);
    expect(team.text).not.toContain("/l/");
    const personal = parseMail(byTo.get("alice@example.com")?.raw ?? "");
    expect(personal.headers.get("x-pagewise-idempotency-key")).toBe(keyOf("mail", "alice"));
    expectFactsIn(personal.text, f);
    // The same claims at the same moment sign to the same token: the mail carries the webhook's links.
    expect(personal.text).toContain(`Acknowledge: ${mb.ack_url}`);
    expect(personal.text).toContain(`Resolve: ${mb.resolve_url}`);
    expect(personal.html).toContain('<a href="http://pagewise.test/l/');

    // Sent means sent: a second pass sends nothing again.
    expect(await svc.deliverer.drain()).toBe(0);
    expect(Object.values(peers).map((p) => p.requests.length)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(smtp.mails).toHaveLength(2);
  });
});
