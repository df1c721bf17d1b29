import { randomUUID } from "node:crypto";
import type { Source } from "../config/types.js";
import type { Problem } from "../core/errors.js";
import { groupKeyOf } from "../core/keys.js";
import { parseTimestamp } from "../core/time.js";
import type { ChangeEvent, Labels, Link, SignalEvent } from "../core/types.js";
import { ajvProblems, compile } from "../validation/ajv.js";
import { mapSeverity, type ParseResult, resolveService, senderTime, severityHint } from "./common.js";

/**
 * PagerDuty Events API v2: `POST /v2/enqueue` (alert events) and `POST /v2/change/enqueue`.
 * One event per request; `routing_key` names the source. Rules follow PagerDuty's documentation:
 * a trigger without dedup_key gets a generated one (returned to the sender); acknowledge and
 * resolve need one and act only on an open incident of the same source.
 */
export const PAGERDUTY_BODY_LIMIT = 512 * 1024;

interface PdLink {
  href: string;
  text?: string;
}
interface PdEvent {
  routing_key: string;
  event_action: "trigger" | "acknowledge" | "resolve";
  dedup_key?: string;
  payload?: {
    summary: string;
    source: string;
    severity: string;
    timestamp?: string;
    component?: string;
    group?: string;
    class?: string;
    custom_details?: unknown;
  };
  links?: PdLink[];
  client?: string;
  client_url?: string;
}
interface PdChange {
  routing_key: string;
  payload: { summary: string; source?: string; timestamp?: string; custom_details?: unknown };
  links?: PdLink[];
}

const Links = {
  type: "array",
  maxItems: 100,
  items: {
    type: "object",
    required: ["href"],
    properties: { href: { type: "string" }, text: { type: "string" } },
  },
};
const validateEvent = compile<PdEvent>({
  type: "object",
  required: ["routing_key", "event_action"],
  properties: {
    routing_key: { type: "string", minLength: 1 },
    event_action: { enum: ["trigger", "acknowledge", "resolve"] },
    dedup_key: { type: "string", minLength: 1, maxLength: 255 },
    payload: {
      type: "object",
      required: ["summary", "source", "severity"],
      properties: {
        summary: { type: "string", minLength: 1, maxLength: 1024 },
        source: { type: "string", minLength: 1 },
        severity: { type: "string", minLength: 1 },
        timestamp: { type: "string" },
        component: { type: "string" },
        group: { type: "string" },
        class: { type: "string" },
      },
    },
    links: Links,
    client: { type: "string" },
    client_url: { type: "string" },
  },
});
const validateChange = compile<PdChange>({
  type: "object",
  required: ["routing_key", "payload"],
  properties: {
    routing_key: { type: "string", minLength: 1 },
    payload: {
      type: "object",
      required: ["summary"],
      properties: {
        summary: { type: "string", minLength: 1, maxLength: 1024 },
        source: { type: "string" },
        timestamp: { type: "string" },
      },
    },
    links: Links,
  },
});

/** First step: shape only, so an invalid body is a 400 before the routing key is looked up. */
export function checkPagerDutyShape(body: unknown, change: boolean): { routingKey: string } | Problem[] {
  const validate = change ? validateChange : validateEvent;
  if (!validate(body)) return ajvProblems(validate.errors);
  return { routingKey: (body as { routing_key: string }).routing_key };
}

export function parsePagerDutyEvent(body: PdEvent | unknown, source: Source): ParseResult<SignalEvent> {
  const ev = body as PdEvent;
  const problems: Problem[] = [];
  if (ev.event_action === "trigger" && ev.payload === undefined) {
    problems.push({ path: "payload", reason: "is required for a trigger" });
  }
  if (ev.event_action !== "trigger" && ev.dedup_key === undefined) {
    problems.push({ path: "dedup_key", reason: `is required to ${ev.event_action}` });
  }
  const p = ev.payload;
  const severity = p === undefined ? source.defaultSeverity : mapSeverity(source, p.severity);
  if (severity === null) problems.push({ path: "payload.severity", reason: severityHint(source) });
  const at = senderTime(p?.timestamp, parseTimestamp);
  if (at === "bad") problems.push({ path: "payload.timestamp", reason: "must be an ISO 8601 time" });
  if (problems.length > 0 || severity === null || at === "bad") return { ok: false, problems };

  const details = flatten(p?.custom_details);
  const labels: Labels = {};
  if (p?.class) labels.alertname = p.class;
  if (p?.component) labels.component = p.component;
  if (p?.group) labels.group = p.group;
  if (p?.source) labels.host = p.source;
  const service = resolveService(source, undefined, { ...details, ...labels }, p?.component);
  const alertKey = ev.dedup_key ?? randomUUID();
  return {
    ok: true,
    events: [
      {
        kind: "signal",
        action: ev.event_action,
        format: "pagerduty",
        source: source.name,
        at,
        alertKey,
        keyGenerated: ev.dedup_key === undefined,
        // One alert, one incident (as in PagerDuty), unless the source groups explicitly.
        groupKey: source.groupBy === null ? alertKey : groupKeyOf(labels, source.groupBy, service),
        summary: p?.summary ?? "",
        severity,
        service,
        labels,
        annotations: details,
        links: links(ev.links, ev.client, ev.client_url),
        upstreamScore: null,
        outcome: null,
        startsAt: at,
        endsAt: null,
        raw: body,
      },
    ],
  };
}

export function parsePagerDutyChange(body: PdChange | unknown, source: Source): ParseResult<ChangeEvent> {
  const ev = body as PdChange;
  const at = senderTime(ev.payload.timestamp, parseTimestamp);
  if (at === "bad")
    return { ok: false, problems: [{ path: "payload.timestamp", reason: "must be an ISO 8601 time" }] };
  const details = flatten(ev.payload.custom_details);
  return {
    ok: true,
    events: [
      {
        kind: "change",
        format: "pagerduty",
        source: source.name,
        at,
        service: details.service || source.defaultService,
        summary: ev.payload.summary,
        labels: ev.payload.source ? { host: ev.payload.source } : {},
        links: links(ev.links),
        raw: body,
      },
    ],
  };
}

/** custom_details is free-form: scalars become strings, nested values JSON. */
function flatten(details: unknown): Labels {
  const out: Labels = {};
  if (details === null || typeof details !== "object" || Array.isArray(details)) {
    if (details !== undefined && details !== null) out.details = String(details);
    return out;
  }
  for (const [k, v] of Object.entries(details)) {
    if (v === null || v === undefined) continue;
    out[k] = typeof v === "object" ? JSON.stringify(v) : String(v);
  }
  return out;
}

function links(given: PdLink[] | undefined, client?: string, clientUrl?: string): Link[] {
  const out: Link[] = (given ?? []).map((l) => ({ href: l.href, text: l.text ?? l.href }));
  if (clientUrl) out.push({ href: clientUrl, text: client ?? "Client" });
  return out;
}
