import type { Source } from "../config/types.js";
import type { Problem } from "../core/errors.js";
import { genericAlertKey, groupKeyOf } from "../core/keys.js";
import { parseTimestamp } from "../core/time.js";
import type { InboundEvent, Labels, Outcome, Severity } from "../core/types.js";
import { ajvProblems, compile } from "../validation/ajv.js";
import {
  indexed,
  MAX_BATCH,
  mapSeverity,
  type ParseResult,
  resolveService,
  severityFromLabel,
  severityHint,
} from "./common.js";

/**
 * The generic event (EVENTS.md): live on `POST /ingest/events`, and the line format of history
 * files. Unknown fields are kept in the raw event and otherwise ignored.
 */
export interface GenericEvent {
  at?: string;
  source?: string;
  action?: "trigger" | "acknowledge" | "resolve" | "change";
  dedup_key?: string;
  summary?: string;
  severity?: string;
  service?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  links?: { href: string; text?: string }[];
  upstream_score?: number;
  outcome?: Outcome;
}

const StringMap = { type: "object", additionalProperties: { type: "string" } };
const itemSchema = {
  type: "object",
  properties: {
    at: { type: "string" },
    source: { type: "string", minLength: 1 },
    action: { enum: ["trigger", "acknowledge", "resolve", "change"] },
    dedup_key: { type: "string", minLength: 1, maxLength: 255 },
    summary: { type: "string", maxLength: 1024 },
    severity: { type: "string", minLength: 1 },
    service: { type: "string", minLength: 1, maxLength: 256 },
    labels: StringMap,
    annotations: StringMap,
    links: {
      type: "array",
      maxItems: 100,
      items: {
        type: "object",
        required: ["href"],
        properties: { href: { type: "string" }, text: { type: "string" } },
      },
    },
    upstream_score: { type: "number", minimum: 0, maximum: 1 },
    outcome: { enum: ["genuine", "false_alarm"] },
  },
};
const validateBatch = compile<GenericEvent[]>({ type: "array", maxItems: MAX_BATCH, items: itemSchema });
const validateOne = compile<GenericEvent>(itemSchema);

export type GenericMode =
  /** Live: the ingest key names the source; `at` defaults to receive time; `outcome` is ignored. */
  | { kind: "live"; source: Source }
  /** History: `at` and `source` are required; sources may be undeclared (replay gives defaults). */
  | { kind: "history"; sourceFor: (name: string) => Source };

/** A batch (the body of one request). All-or-nothing: any bad item rejects the batch. */
export function parseGenericBatch(items: unknown[], mode: GenericMode): ParseResult<InboundEvent> {
  if (!validateBatch(items)) return { ok: false, problems: indexed(ajvProblems(validateBatch.errors)) };
  const problems: Problem[] = [];
  const events: InboundEvent[] = [];
  for (let i = 0; i < items.length; i++) {
    const r = normalize(items[i] as GenericEvent, mode, `[${i}]`, i);
    if (r.ok) events.push(r.event);
    else problems.push(...r.problems);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, events };
}

/** One line of a history file (or one object); paths are relative to it. */
export function parseGenericEvent(
  item: unknown,
  mode: GenericMode,
): { ok: true; event: InboundEvent } | { ok: false; problems: Problem[] } {
  if (!validateOne(item)) return { ok: false, problems: ajvProblems(validateOne.errors) };
  return normalize(item, mode, "", undefined);
}

function normalize(
  e: GenericEvent,
  mode: GenericMode,
  prefix: string,
  index: number | undefined,
): { ok: true; event: InboundEvent } | { ok: false; problems: Problem[] } {
  const problems: Problem[] = [];
  const bad = (field: string, reason: string) =>
    problems.push({
      path: prefix === "" ? field : `${prefix}.${field}`,
      reason,
      ...(index === undefined ? {} : { index }),
    });

  let source: Source | undefined;
  if (mode.kind === "live") {
    source = mode.source;
    if (e.source !== undefined && e.source !== source.name) {
      bad("source", `must be "${source.name}" (the source of the key used), or left out`);
    }
  } else if (e.source === undefined) {
    bad("source", "is required in a history file");
  } else {
    source = mode.sourceFor(e.source);
  }

  let at: number | null = null;
  if (e.at !== undefined) {
    at = parseTimestamp(e.at);
    if (at === null) bad("at", "must be an RFC 3339 time, e.g. 2026-11-29T07:00:00Z");
  } else if (mode.kind === "history") {
    bad("at", "is required in a history file");
  }

  const action = e.action ?? "trigger";
  if ((action === "trigger" || action === "change") && (e.summary === undefined || e.summary === "")) {
    bad("summary", `is required for a ${action}`);
  }
  let severity: Severity | null = null;
  if (source !== undefined) {
    if (e.severity !== undefined) {
      severity = mapSeverity(source, e.severity);
      if (severity === null) bad("severity", severityHint(source));
    } else {
      severity = severityFromLabel(source, e.labels?.severity);
    }
  }
  if (problems.length > 0 || source === undefined || severity === null) return { ok: false, problems };

  const labels: Labels = e.labels ?? {};
  const service = resolveService(source, e.service, labels);
  const links = (e.links ?? []).map((l) => ({ href: l.href, text: l.text ?? l.href }));
  if (action === "change") {
    return {
      ok: true,
      event: {
        kind: "change",
        format: "generic",
        source: source.name,
        at,
        service,
        summary: e.summary ?? "",
        labels,
        links,
        raw: e,
      },
    };
  }
  const alertKey = e.dedup_key ?? genericAlertKey(labels, service);
  return {
    ok: true,
    event: {
      kind: "signal",
      action,
      format: "generic",
      source: source.name,
      at,
      alertKey,
      keyGenerated: false,
      groupKey: source.groupBy === null ? alertKey : groupKeyOf(labels, source.groupBy, service),
      summary: e.summary ?? "",
      severity,
      service,
      labels,
      annotations: e.annotations ?? {},
      links,
      upstreamScore: e.upstream_score ?? null,
      outcome: mode.kind === "history" ? (e.outcome ?? null) : null,
      startsAt: at,
      endsAt: null,
      raw: e,
    },
  };
}
