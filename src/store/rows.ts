import type { Selectable } from "kysely";
import type { Alert, AlertStatus } from "../core/alert.js";
import type { Incident, IncidentStatus, ResolveReason } from "../core/incident.js";
import type { Escalation } from "../core/oncall/chain.js";
import type { Route, RouteKind } from "../core/policy/types.js";
import type { RuleOutcome } from "../core/scoring/learning.js";
import type { Severity } from "../core/types.js";
import type {
  Delivery,
  DeliveryStatus,
  Feedback,
  RouteFit,
  Silence,
  StoredDecision,
  Timer,
  TimerKind,
  Verdict,
} from "../engine/ports.js";
import type { AlertsTable, IncidentsTable, OutboxTable, TimersTable } from "./tables.js";

/** Row <-> domain mapping, shared by every dialect. Values were validated before they were written. */

export function incidentFromRow(r: Selectable<IncidentsTable>): Incident {
  return {
    id: Number(r.id),
    source: r.source,
    groupKey: r.group_key,
    status: r.status as IncidentStatus,
    service: r.service,
    serviceKnown: r.service_known === 1,
    team: r.team,
    tier: r.tier,
    severity: r.severity as Severity,
    summary: r.summary,
    openedAt: Number(r.opened_at),
    lastEventAt: Number(r.last_event_at),
    acknowledgedAt: numOrNull(r.acknowledged_at),
    acknowledgedBy: r.acknowledged_by,
    resolvedAt: numOrNull(r.resolved_at),
    resolvedBy: r.resolved_by,
    resolveReason: r.resolve_reason as ResolveReason | null,
    alertCount: r.alert_count,
    openAlertCount: r.open_alert_count,
    score: r.score,
    scoreModel: r.score_model,
    scoredAt: numOrNull(r.scored_at),
    policyVersion: r.policy_version,
    route: r.route === null ? null : (JSON.parse(r.route) as Route),
    escalation: r.escalation === null ? null : (JSON.parse(r.escalation) as Escalation),
    assignee: r.assignee,
  };
}

export function incidentToRow(i: Incident | Omit<Incident, "id">): Omit<Selectable<IncidentsTable>, "id"> {
  return {
    source: i.source,
    group_key: i.groupKey,
    status: i.status,
    service: i.service,
    service_known: i.serviceKnown ? 1 : 0,
    team: i.team,
    tier: i.tier,
    severity: i.severity,
    summary: i.summary,
    opened_at: i.openedAt,
    last_event_at: i.lastEventAt,
    acknowledged_at: i.acknowledgedAt,
    acknowledged_by: i.acknowledgedBy,
    resolved_at: i.resolvedAt,
    resolved_by: i.resolvedBy,
    resolve_reason: i.resolveReason,
    alert_count: i.alertCount,
    open_alert_count: i.openAlertCount,
    score: i.score,
    score_model: i.scoreModel,
    scored_at: i.scoredAt,
    policy_version: i.policyVersion,
    route: i.route === null ? null : JSON.stringify(i.route),
    escalation: i.escalation === null ? null : JSON.stringify(i.escalation),
    assignee: i.assignee,
  };
}

export function alertFromRow(r: Selectable<AlertsTable>): Alert {
  return {
    id: Number(r.id),
    incidentId: Number(r.incident_id),
    source: r.source,
    alertKey: r.alert_key,
    status: r.status as AlertStatus,
    summary: r.summary,
    severity: r.severity as Severity,
    service: r.service,
    labels: JSON.parse(r.labels),
    annotations: JSON.parse(r.annotations),
    links: JSON.parse(r.links),
    upstreamScore: r.upstream_score,
    startsAt: Number(r.starts_at),
    endsAt: numOrNull(r.ends_at),
    firstSeen: Number(r.first_seen),
    lastSeen: Number(r.last_seen),
    resolvedAt: numOrNull(r.resolved_at),
    eventCount: r.event_count,
    raw: JSON.parse(r.raw),
  };
}

export function alertToRow(a: Alert | Omit<Alert, "id">): Omit<Selectable<AlertsTable>, "id"> {
  return {
    incident_id: a.incidentId,
    source: a.source,
    alert_key: a.alertKey,
    status: a.status,
    summary: a.summary,
    severity: a.severity,
    service: a.service,
    labels: JSON.stringify(a.labels),
    annotations: JSON.stringify(a.annotations),
    links: JSON.stringify(a.links),
    upstream_score: a.upstreamScore,
    starts_at: a.startsAt,
    ends_at: a.endsAt,
    first_seen: a.firstSeen,
    last_seen: a.lastSeen,
    resolved_at: a.resolvedAt,
    event_count: a.eventCount,
    raw: JSON.stringify(a.raw),
  };
}

export function timerFromRow(r: Selectable<TimersTable>): Timer {
  return {
    id: Number(r.id),
    kind: r.kind as TimerKind,
    ref: Number(r.ref),
    dueAt: Number(r.due_at),
    attempts: r.attempts,
    leaseOwner: r.lease_owner,
    leaseUntil: numOrNull(r.lease_until),
    payload: r.payload === null ? null : (JSON.parse(r.payload) as Record<string, unknown>),
  };
}

function numOrNull(v: number | bigint | null): number | null {
  return v === null ? null : Number(v);
}

export function feedbackFromRow(r: {
  incident_id: number;
  at: number;
  author: string;
  verdict: string;
  route_fit: string | null;
  note: string | null;
}): Feedback {
  return {
    incidentId: Number(r.incident_id),
    at: Number(r.at),
    author: r.author,
    verdict: r.verdict as Verdict,
    routeFit: r.route_fit as RouteFit | null,
    note: r.note,
  };
}

export function outcomeFromRow(r: {
  source: string;
  alertname: string;
  genuine: number;
  false_alarms: number;
  recent_genuine: number;
  recent_false_alarms: number;
  recent_at: number | bigint;
}): RuleOutcome {
  return {
    source: r.source,
    alertname: r.alertname,
    genuine: r.genuine,
    falseAlarms: r.false_alarms,
    recentGenuine: r.recent_genuine,
    recentFalseAlarms: r.recent_false_alarms,
    recentAt: Number(r.recent_at),
  };
}

export function decisionFromRow(r: {
  id: number;
  incident_id: number;
  at: number;
  reason: string;
  policy_version: string;
  route: string;
  body: string;
  prev_hash: string;
  hash: string;
}): StoredDecision {
  return {
    id: Number(r.id),
    incidentId: Number(r.incident_id),
    at: Number(r.at),
    reason: r.reason,
    policyVersion: r.policy_version,
    route: r.route as RouteKind,
    body: JSON.parse(r.body) as Record<string, unknown>,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

export function silenceFromRow(r: {
  id: number;
  matchers: string;
  starts_at: number;
  ends_at: number;
  author: string;
  comment: string;
  created_at: number;
  expired_at: number | null;
}): Silence {
  return {
    id: Number(r.id),
    matchers: JSON.parse(r.matchers) as string[],
    startsAt: Number(r.starts_at),
    endsAt: Number(r.ends_at),
    author: r.author,
    comment: r.comment,
    createdAt: Number(r.created_at),
    expiredAt: numOrNull(r.expired_at),
  };
}

export function deliveryFromRow(r: Selectable<OutboxTable>): Delivery {
  return {
    id: Number(r.id),
    incidentId: Number(r.incident_id),
    channel: r.channel,
    recipient: r.recipient,
    adhocUrl: r.adhoc_url,
    message: JSON.parse(r.message) as Delivery["message"],
    idempotencyKey: r.idempotency_key,
    status: r.status as DeliveryStatus,
    attempts: r.attempts,
    nextAttemptAt: Number(r.next_attempt_at),
    leaseUntil: numOrNull(r.lease_until),
    lastError: r.last_error,
    createdAt: Number(r.created_at),
    sentAt: numOrNull(r.sent_at),
  };
}
