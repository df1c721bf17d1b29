import type { Source } from "../config/types.js";
import type { Problem } from "../core/errors.js";
import { fingerprint } from "../core/fingerprint.js";
import { groupKeyOf } from "../core/keys.js";
import { parseTimestamp } from "../core/time.js";
import type { SignalEvent } from "../core/types.js";
import { ajvProblems, compile } from "../validation/ajv.js";
import {
  alertLinks,
  MAX_BATCH,
  type ParseResult,
  resolveService,
  senderTime,
  severityFromLabel,
} from "./common.js";

/**
 * Alertmanager `webhook_configs` payload, version 4. Alertmanager has already grouped the alerts:
 * its groupKey is the incident's group key unless the source sets group_by. Unknown fields
 * (truncatedAlerts, notification_reason, routeLabels, ...) are accepted and kept raw.
 */
interface WebhookAlert {
  status: "firing" | "resolved";
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  generatorURL?: string;
  fingerprint?: string;
}
interface WebhookPayload {
  version?: string;
  status?: string;
  receiver?: string;
  groupKey: string;
  groupLabels?: Record<string, string>;
  commonLabels?: Record<string, string>;
  commonAnnotations?: Record<string, string>;
  externalURL?: string;
  alerts: WebhookAlert[];
}

const StringMap = { type: "object", additionalProperties: { type: "string" } };
const validate = compile<WebhookPayload>({
  type: "object",
  required: ["groupKey", "alerts"],
  properties: {
    version: { type: "string" },
    status: { type: "string" },
    receiver: { type: "string" },
    groupKey: { type: "string", minLength: 1 },
    groupLabels: StringMap,
    commonLabels: StringMap,
    commonAnnotations: StringMap,
    externalURL: { type: "string" },
    alerts: {
      type: "array",
      maxItems: MAX_BATCH,
      items: {
        type: "object",
        required: ["status", "labels"],
        properties: {
          status: { enum: ["firing", "resolved"] },
          labels: { ...StringMap, minProperties: 1 },
          annotations: StringMap,
          startsAt: { type: "string" },
          endsAt: { type: "string" },
          generatorURL: { type: "string" },
          fingerprint: { type: "string", minLength: 1, maxLength: 255 },
        },
      },
    },
  },
});

export function parseAlertmanagerWebhook(body: unknown, source: Source): ParseResult<SignalEvent> {
  if (!validate(body)) {
    const problems = ajvProblems(validate.errors).map((p) => {
      const m = /^alerts\[(\d+)\]/.exec(p.path);
      return m === null ? p : { ...p, index: Number(m[1]) };
    });
    return { ok: false, problems };
  }
  const problems: Problem[] = [];
  const events: SignalEvent[] = [];
  body.alerts.forEach((a, i) => {
    const startsAt = senderTime(a.startsAt, parseTimestamp);
    const endsAt = senderTime(a.endsAt, parseTimestamp);
    if (startsAt === "bad" || endsAt === "bad") {
      const field = startsAt === "bad" ? "startsAt" : "endsAt";
      problems.push({ index: i, path: `alerts[${i}].${field}`, reason: "must be an RFC 3339 time" });
      return;
    }
    const labels = a.labels;
    const annotations = a.annotations ?? {};
    const service = resolveService(source, undefined, labels);
    const resolved = a.status === "resolved";
    events.push({
      kind: "signal",
      action: resolved ? "resolve" : "trigger",
      format: "alertmanager_webhook",
      source: source.name,
      at: resolved ? (endsAt ?? startsAt) : startsAt,
      alertKey: a.fingerprint ?? fingerprint(labels),
      keyGenerated: false,
      groupKey: source.groupBy === null ? body.groupKey : groupKeyOf(labels, source.groupBy, service),
      summary: annotations.summary || annotations.description || labels.alertname || "alert",
      severity: severityFromLabel(source, labels.severity),
      service,
      labels,
      annotations,
      links: alertLinks(a.generatorURL, annotations),
      upstreamScore: null,
      outcome: null,
      startsAt,
      // Alertmanager tells us when alerts resolve; firing ones do not expire here.
      endsAt: null,
      raw: { ...a, groupKey: body.groupKey, receiver: body.receiver, externalURL: body.externalURL },
    });
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, events };
}
