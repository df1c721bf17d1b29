import type { Alert } from "../core/alert.js";
import type { Incident } from "../core/incident.js";
import { routeJson } from "../core/policy/explain.js";
import { toIso, toIsoOrNull } from "../core/time.js";
import type { Delivery, Feedback, StoredDecision, TimelineRow } from "../engine/ports.js";

/** Domain objects as JSON on the wire: snake_case keys, RFC 3339 times. */

export function incidentJson(i: Incident) {
  return {
    id: i.id,
    status: i.status,
    source: i.source,
    group_key: i.groupKey,
    service: i.service,
    service_known: i.serviceKnown,
    team: i.team,
    tier: i.tier,
    severity: i.severity,
    summary: i.summary,
    opened_at: toIso(i.openedAt),
    last_event_at: toIso(i.lastEventAt),
    acknowledged_at: toIsoOrNull(i.acknowledgedAt),
    acknowledged_by: i.acknowledgedBy,
    resolved_at: toIsoOrNull(i.resolvedAt),
    resolved_by: i.resolvedBy,
    resolve_reason: i.resolveReason,
    alert_count: i.alertCount,
    open_alert_count: i.openAlertCount,
    score:
      i.score === null
        ? null
        : { value: round(i.score), model_version: i.scoreModel, scored_at: toIsoOrNull(i.scoredAt) },
    route: i.route === null ? null : routeJson(i.route),
    policy_version: i.policyVersion,
    assignee: i.assignee,
    escalation:
      i.escalation === null
        ? null
        : {
            chain: i.escalation.chain.name,
            state: i.escalation.state,
            step: i.escalation.step + 1,
            steps: i.escalation.chain.steps.length,
            round: i.escalation.round + 1,
            rounds: i.escalation.chain.repeat + 1,
            two_person: i.escalation.twoPerson,
            started_at: toIso(i.escalation.startedAt),
          },
  };
}

/** An outbox row as the API shows it; an ad-hoc URL (a person's webhook) is not shown: it may hold a secret. */
export function deliveryJson(d: Delivery) {
  return {
    id: d.id,
    incident_id: d.incidentId,
    channel: d.channel,
    recipient: d.recipient,
    kind: d.message.kind,
    title: d.message.title,
    status: d.status,
    attempts: d.attempts,
    idempotency_key: d.idempotencyKey,
    created_at: toIso(d.createdAt),
    next_attempt_at: d.status === "pending" ? toIso(d.nextAttemptAt) : null,
    sent_at: toIsoOrNull(d.sentAt),
    last_error: d.lastError,
  };
}

/** A decision's score, as the incident's score history shows it (read from the decision record). */
export function scoreJson(d: StoredDecision) {
  if (d.body.score === undefined) return null;
  const score = d.body.score as { value: number; model_version: string; contributions: unknown[] };
  return {
    decision_id: d.id,
    at: toIso(d.at),
    reason: d.reason,
    value: round(score.value),
    model_version: score.model_version,
    contributions: score.contributions,
    features: d.body.features,
  };
}

/** A decision record as the API shows it, with a human-readable explanation. */
export function decisionRecordJson(d: StoredDecision, explanation: string) {
  return {
    id: d.id,
    incident_id: d.incidentId,
    at: toIso(d.at),
    reason: d.reason,
    policy_version: d.policyVersion,
    route: d.route,
    ...d.body,
    explanation,
    prev_hash: d.prevHash,
    hash: d.hash,
  };
}

export function feedbackJson(f: Feedback) {
  return { at: toIso(f.at), author: f.author, verdict: f.verdict, route_fit: f.routeFit, note: f.note };
}

const round = (v: number) => Math.round(v * 10_000) / 10_000;

export function alertJson(a: Alert) {
  return {
    id: a.id,
    alert_key: a.alertKey,
    status: a.status,
    summary: a.summary,
    severity: a.severity,
    service: a.service,
    labels: a.labels,
    annotations: a.annotations,
    links: a.links,
    upstream_score: a.upstreamScore,
    starts_at: toIso(a.startsAt),
    ends_at: toIsoOrNull(a.endsAt),
    first_seen: toIso(a.firstSeen),
    last_seen: toIso(a.lastSeen),
    resolved_at: toIsoOrNull(a.resolvedAt),
    event_count: a.eventCount,
    raw: a.raw,
  };
}

export function timelineJson(t: TimelineRow) {
  return { id: t.id, at: toIso(t.at), kind: t.kind, actor: t.actor, detail: t.detail };
}
