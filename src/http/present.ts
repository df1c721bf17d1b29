import type { Alert } from "../core/alert.js";
import type { Incident } from "../core/incident.js";
import { toIso, toIsoOrNull } from "../core/time.js";
import type { TimelineRow } from "../engine/ports.js";

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
  };
}

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
