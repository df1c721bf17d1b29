import type { Source } from "../config/types.js";
import type { Problem } from "../core/errors.js";
import { fingerprint } from "../core/fingerprint.js";
import { groupKeyOf } from "../core/keys.js";
import { parseTimestamp } from "../core/time.js";
import type { SignalEvent } from "../core/types.js";
import { ajvProblems, compile } from "../validation/ajv.js";
import {
  alertLinks,
  indexed,
  MAX_BATCH,
  type ParseResult,
  resolveService,
  senderTime,
  severityFromLabel,
} from "./common.js";

/**
 * Alertmanager API v2 `POST /api/v2/alerts`: what Prometheus sends. Each item is the full
 * current state of one alert; Prometheus re-sends firing alerts every resend delay with endsAt a
 * few evaluation intervals ahead, and resolved ones with endsAt in the past.
 */
interface PostableAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  generatorURL?: string;
}

const StringMap = { type: "object", additionalProperties: { type: "string" } };
const validate = compile<PostableAlert[]>({
  type: "array",
  maxItems: MAX_BATCH,
  items: {
    type: "object",
    required: ["labels"],
    properties: {
      labels: { ...StringMap, minProperties: 1 },
      annotations: StringMap,
      startsAt: { type: "string" },
      endsAt: { type: "string" },
      generatorURL: { type: "string" },
    },
  },
});

export const DEFAULT_GROUP_BY = ["alertname", "service"] as const;

export function parseAlertmanagerV2(body: unknown, source: Source, now: number): ParseResult<SignalEvent> {
  if (!validate(body)) return { ok: false, problems: indexed(ajvProblems(validate.errors)) };
  const problems: Problem[] = [];
  const events: SignalEvent[] = [];
  const groupBy = source.groupBy ?? DEFAULT_GROUP_BY;
  for (let i = 0; i < body.length; i++) {
    const a = body[i] as PostableAlert;
    const startsAt = senderTime(a.startsAt, parseTimestamp);
    const endsAt = senderTime(a.endsAt, parseTimestamp);
    if (startsAt === "bad")
      problems.push({ index: i, path: `[${i}].startsAt`, reason: "must be an RFC 3339 time" });
    if (endsAt === "bad")
      problems.push({ index: i, path: `[${i}].endsAt`, reason: "must be an RFC 3339 time" });
    if (startsAt === "bad" || endsAt === "bad") continue;
    if (startsAt !== null && endsAt !== null && endsAt < startsAt) {
      problems.push({ index: i, path: `[${i}].endsAt`, reason: "must not be before startsAt" });
      continue;
    }
    const labels = a.labels;
    const annotations = a.annotations ?? {};
    const service = resolveService(source, undefined, labels);
    events.push({
      kind: "signal",
      action: "trigger",
      format: "alertmanager_v2",
      source: source.name,
      at: startsAt,
      alertKey: fingerprint(labels),
      keyGenerated: false,
      groupKey: groupKeyOf(labels, groupBy, service),
      summary: annotations.summary || annotations.description || labels.alertname || "alert",
      severity: severityFromLabel(source, labels.severity),
      service,
      labels,
      annotations,
      links: alertLinks(a.generatorURL, annotations),
      upstreamScore: null,
      outcome: null,
      startsAt,
      // Without endsAt the alert expires after the source's resolve_timeout, as in Alertmanager.
      endsAt: endsAt ?? now + source.resolveTimeout,
      raw: a,
    });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, events };
}
