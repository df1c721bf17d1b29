import { afterEach, describe, expect, it } from "vitest";
import { makeChannel } from "../../src/notify/index.js";
import { checkTicketTemplates } from "../../src/notify/ticket.js";
import type { ChannelConfig } from "../../src/notify/types.js";
import { expectNoSockets, type HttpPeer, httpPeer, sampleMessage } from "./peers.js";

let peer: HttpPeer | null = null;
afterEach(async () => {
  await peer?.close();
  peer = null;
  await expectNoSockets();
});

const JIRA = `{
  "fields": {
    "project": { "key": "OPS" },
    "issuetype": { "name": "Incident" },
    "summary": "[{{severity}}] {{title}} ({{score_text}})",
    "description": "{{summary}}\\n\\nScore {{score}} ({{band}}), rule {{rule}}: {{rationale}}\\n{{reasons}}\\n{{links}}\\nAck: {{ack_url}}\\nResolve: {{resolve_url}}",
    "labels": ["pagewise", "{{service}}", "incident-{{ incident_id }}"],
    "customfield_score": {{score}},
    "customfield_reasons": {{reasons}},
    "customfield_band": {{band}}
  }
}`;

function ticket(url: string, body = JIRA, method: "POST" | "PUT" | "PATCH" = "POST"): ChannelConfig {
  return {
    kind: "ticket",
    name: "jira",
    url,
    method,
    headers: { Authorization: "Basic dXNlcjpwYXNz" },
    body,
  };
}

describe("ticket channel", () => {
  it("fills the template: text inside strings, JSON values outside them", async () => {
    peer = await httpPeer({ status: 201, body: '{"id":"10042","key":"OPS-7"}' });
    const m = sampleMessage();
    const result = await makeChannel(ticket(peer.url)).send(m, 2000);
    expect(result).toEqual({ kind: "delivered", detail: 'HTTP 201: {"id":"10042","key":"OPS-7"}' });

    const req = peer.requests[0];
    expect(req?.method).toBe("POST");
    expect(req?.headers["idempotency-key"]).toBe("ntf-42-7-c0ffee");
    expect(req?.headers.authorization).toBe("Basic dXNlcjpwYXNz");
    const { fields } = peer.json() as { fields: Record<string, unknown> };
    expect(fields.summary).toBe("[critical] Checkout 5xx rate above 5% (0.93 (high))");
    expect(fields.description).toBe(
      [
        `${m.summary}`,
        "",
        "Score 0.9342 (high), rule tier0-high-pages: Tier-0 services with high confidence page the on-call at once",
        ...m.reasons,
        ...m.links.map((l) => `${l.text}: ${l.href}`),
        `Ack: ${m.ackUrl}`,
        `Resolve: ${m.resolveUrl}`,
      ].join("\n"),
    );
    expect(fields.labels).toEqual(["pagewise", "checkout", "incident-42"]);
    expect(fields.customfield_score).toBe(0.9342);
    expect(fields.customfield_reasons).toEqual(m.reasons);
    expect(fields.customfield_band).toBe("high");
  });

  it("sends a status update through the update templates, and creates with the main ones", async () => {
    peer = await httpPeer({ status: 201 });
    const config = {
      ...ticket(`${peer.url}/issue`),
      update: {
        url: `${peer.url}/issue/PW-{{incident_id}}/comment`,
        method: "PUT" as const,
        body: '{"body": "{{note}}", "status": {{status}}}',
      },
    };
    const ch = makeChannel(config);
    await ch.send(
      sampleMessage({ kind: "update", status: "acknowledged", note: "acknowledged by alice" }),
      2000,
    );
    await ch.send(sampleMessage(), 2000);
    const [update, create] = peer.requests;
    expect(update?.method).toBe("PUT");
    expect(update?.url).toBe("/hook/issue/PW-42/comment");
    expect(JSON.parse(update?.body ?? "")).toEqual({ body: "acknowledged by alice", status: "acknowledged" });
    expect(create?.method).toBe("POST");
    expect(create?.url).toBe("/hook/issue");
    expect((JSON.parse(create?.body ?? "") as { fields: object }).fields).toBeDefined();
  });

  it("escapes quotes, backslashes, newlines and control characters, and never re-reads a value", async () => {
    peer = await httpPeer({ status: 201 });
    const title = 'He said "stop"\\ now\nsecond line\ttab\u0001 {{rationale}}';
    const m = sampleMessage({ title, band: null, score: null });
    await makeChannel(ticket(peer.url)).send(m, 2000);
    const raw = peer.requests[0]?.body ?? "";
    expect(raw).toContain('He said \\"stop\\"\\\\ now\\nsecond line\\ttab\\u0001 {{rationale}}');
    const { fields } = peer.json() as { fields: Record<string, unknown> };
    expect(fields.summary).toBe(`[critical] ${title} (n/a)`);
    expect(fields.customfield_score).toBeNull();
    expect(fields.customfield_band).toBeNull();
  });

  it("uses the configured method and fills the URL, percent-encoded", async () => {
    peer = await httpPeer({ status: 200 });
    const channel = makeChannel(
      ticket(`${peer.url}/{{service}}/PW-{{incident_id}}?t={{title}}`, '{"s":"{{status}}"}', "PUT"),
    );
    expect(await channel.send(sampleMessage(), 2000)).toMatchObject({ kind: "delivered" });
    expect(peer.requests[0]?.method).toBe("PUT");
    expect(peer.requests[0]?.url).toBe("/hook/checkout/PW-42?t=Checkout%205xx%20rate%20above%205%25");
    expect(peer.json()).toEqual({ s: "triggered" });
  });

  it.each([
    ['{"summary": "{{title}}",}', /does not give valid JSON/],
    ['{"summary": {{title}}', /does not give valid JSON/],
    ['{"a": "x" {{title}}}', /does not give valid JSON/],
    ["summary={{title}}", /does not give valid JSON/],
    ['{"summary": "{{titel}}"}', /unknown placeholder \{\{titel\}\}/],
    ['{"summary": "{{Title!}}"}', /bad placeholder at offset 13/],
  ])("rejects %j without sending anything", async (body, reason) => {
    peer = await httpPeer({ status: 201 });
    const result = await makeChannel(ticket(peer.url, body)).send(sampleMessage(), 2000);
    expect(result.kind).toBe("failed");
    expect(result.kind === "failed" && result.reason).toMatch(reason);
    expect(peer.requests).toHaveLength(0);
    expect(checkTicketTemplates("https://jira.example/rest/api/2/issue", body)).toMatch(reason);
  });

  it("lets the config loader check templates up front", () => {
    expect(checkTicketTemplates("https://jira.example/rest/api/2/issue", JIRA)).toBeNull();
    expect(checkTicketTemplates("https://jira.example/{{nope}}", JIRA)).toMatch(
      /unknown placeholder \{\{nope\}\} in url/,
    );
  });

  it("a 5xx from the ticket system retries, a 403 fails", async () => {
    peer = await httpPeer((req) =>
      req.method === "POST" ? { status: 502 } : { status: 403, body: "forbidden" },
    );
    expect(await makeChannel(ticket(peer.url)).send(sampleMessage(), 2000)).toEqual({
      kind: "retry",
      reason: "HTTP 502",
      afterMs: null,
    });
    expect(await makeChannel(ticket(peer.url, JIRA, "PATCH")).send(sampleMessage(), 2000)).toEqual({
      kind: "failed",
      reason: "HTTP 403: forbidden",
    });
  });
});
