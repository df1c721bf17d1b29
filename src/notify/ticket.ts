import { guard, jsonHeaders, send } from "./http.js";
import { renderText, scoreText } from "./render.js";
import type { Channel, ChannelConfig, DeliveryResult, Message } from "./types.js";

type TicketConfig = Extract<ChannelConfig, { kind: "ticket" }>;

/**
 * A generic REST create for Jira-like systems. The body is a JSON template: a `{{field}}` inside a
 * JSON string becomes the escaped text of the field ("Score {{score}}" -> "Score 0.93"); a bare
 * `{{field}}` becomes its JSON value (`"score": {{score}}` -> `"score": 0.93`, `null` when unset,
 * an array for reasons and links). `{{field}}` in the URL is percent-encoded.
 */

type Value = string | number | null | string[] | { href: string; text: string }[];

export function ticketFields(m: Message): Record<string, Value> {
  return {
    title: m.title,
    summary: m.summary,
    kind: m.kind,
    status: m.status,
    service: m.service,
    team: m.team,
    severity: m.severity,
    score: m.score,
    score_text: scoreText(m),
    band: m.band,
    rule: m.rule,
    rationale: m.rationale,
    reasons: m.reasons,
    links: m.links.map((l) => ({ href: l.href, text: l.text })),
    incident_id: m.incidentId,
    idempotency_key: m.idempotencyKey,
    ack_url: m.ackUrl,
    resolve_url: m.resolveUrl,
    recipient: m.recipient?.user ?? null,
    note: m.note,
    text: renderText(m),
  };
}

/** A field's text inside a string: reasons one per line, links as "text: href" lines. */
function asText(v: Value): string {
  if (v === null) return "";
  if (Array.isArray(v)) return v.map((x) => (typeof x === "string" ? x : `${x.text}: ${x.href}`)).join("\n");
  return String(v);
}

const PLACEHOLDER = /^\{\{\s*([a-z_]+)\s*\}\}/;

export type Rendered = { ok: true; text: string } | { ok: false; reason: string };

/** Fills a JSON body template; the result is checked to be JSON. */
export function renderBody(template: string, fields: Record<string, Value>): Rendered {
  let out = "";
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c === "{" && template[i + 1] === "{") {
      const match = PLACEHOLDER.exec(template.slice(i));
      const name = match?.[1];
      if (match === null || name === undefined)
        return { ok: false, reason: `bad placeholder at offset ${i}` };
      if (!Object.hasOwn(fields, name)) return { ok: false, reason: `unknown placeholder {{${name}}}` };
      const value = fields[name] ?? null;
      out += inString ? JSON.stringify(asText(value)).slice(1, -1) : JSON.stringify(value);
      i += match[0].length - 1;
      continue;
    }
    if (inString && c === "\\") {
      out += c + (template[i + 1] ?? "");
      i++;
      continue;
    }
    if (c === '"') inString = !inString;
    out += c;
  }
  try {
    JSON.parse(out);
  } catch (err) {
    return { ok: false, reason: `body template does not give valid JSON: ${(err as Error).message}` };
  }
  return { ok: true, text: out };
}

export function renderUrl(template: string, fields: Record<string, Value>): Rendered {
  let unknown: string | null = null;
  const text = template.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (_, name: string) => {
    if (!Object.hasOwn(fields, name)) unknown ??= name;
    return encodeURIComponent(asText(fields[name] ?? null));
  });
  return unknown === null
    ? { ok: true, text }
    : { ok: false, reason: `unknown placeholder {{${unknown}}} in url` };
}

export class TicketChannel implements Channel {
  readonly kind = "ticket";
  readonly name: string;

  constructor(private readonly config: TicketConfig) {
    this.name = config.name;
  }

  send(message: Message, timeoutMs: number): Promise<DeliveryResult> {
    return guard(async () => {
      const fields = ticketFields(message);
      // A status update uses the update templates when there are some; otherwise it creates like the rest.
      const t = message.kind === "update" && this.config.update ? this.config.update : this.config;
      const url = renderUrl(t.url, fields);
      if (!url.ok) return { kind: "failed", reason: url.reason };
      const body = renderBody(t.body, fields);
      if (!body.ok) return { kind: "failed", reason: body.reason };
      let headers: Record<string, string>;
      try {
        headers = jsonHeaders(this.config.headers, { "Idempotency-Key": message.idempotencyKey });
      } catch (err) {
        return { kind: "failed", reason: `bad header: ${(err as Error).message}` };
      }
      return send({ url: url.text, method: t.method, headers, body: body.text, timeoutMs });
    });
  }
}

const SAMPLE: Message = {
  kind: "test",
  incidentId: 1,
  idempotencyKey: "check",
  title: 'A "title"',
  summary: "line one\nline two",
  status: "triggered",
  service: "svc",
  team: "team",
  severity: "critical",
  score: 0.5,
  band: "medium",
  rule: "rule",
  rationale: "because",
  reasons: ["+0.10 reason"],
  links: [{ href: "https://example.com/", text: "link" }],
  ackUrl: "https://example.com/ack",
  resolveUrl: "https://example.com/resolve",
  recipient: null,
  note: null,
};

/** For the config loader: why a ticket channel's templates cannot work, or null when they can. */
export function checkTicketTemplates(url: string, body: string): string | null {
  const fields = ticketFields(SAMPLE);
  const u = renderUrl(url, fields);
  if (!u.ok) return u.reason;
  const b = renderBody(body, fields);
  return b.ok ? null : b.reason;
}
