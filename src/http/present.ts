import type { Alert } from "../core/alert.js";
import type { Incident } from "../core/incident.js";
import { toIso, toIsoOrNull } from "../core/time.js";
import type { Feedback, ScoreRecord, TimelineRow } from "../engine/ports.js";

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
  };
}

export function scoreJson(s: ScoreRecord & { id: number }) {
  return {
    id: s.id,
    at: toIso(s.at),
    reason: s.reason,
    value: round(s.value),
    model_version: s.modelVersion,
    contributions: s.contributions.map((c) => ({
      feature: c.feature,
      value: round(c.value),
      log_odds: round(c.logOdds),
      text: c.text,
    })),
    features: s.features,
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
