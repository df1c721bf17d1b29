import { UNKNOWN_SERVICE_TIER } from "../config/types.js";
import { type Alert, stepAlert } from "../core/alert.js";
import type { Heartbeat } from "../core/automation/types.js";
import { type Incident, transition } from "../core/incident.js";
import { type ChangeEvent, type InboundEvent, type SignalEvent, worstSeverity } from "../core/types.js";
import { statusChanged } from "./escalation.js";
import { checkIn } from "./heartbeats.js";
import type { AlertHead, Tx } from "./ports.js";
import { alertnameOf, hostOf, type ScoringEnv, type ScoringOut, ScoringStep } from "./scoring.js";

/** What happened to one event of a batch; returned to the sender and counted in /metrics. */
export type EventOutcome =
  | "opened" // a new incident
  | "joined" // a new alert key joined an open incident
  | "refired" // a resolved alert fired again inside its still-open incident
  | "resent" // a re-send: last-seen and count refreshed, nothing else written
  | "resolved"
  | "acknowledged"
  | "ignored" // e.g. a resolve for an alert that is not firing
  | "change" // a change event, stored for context
  | "heartbeat"; // a Watchdog-style alert: a heartbeat's check-in, not an incident

export interface EventResult {
  outcome: EventOutcome;
  alertKey: string | null;
  incidentId: number | null;
  note?: string;
}

/** `now` is the receive time: the clock's now when live, the event's time in replay. */
export type IngestEnv = ScoringEnv;

export interface BatchOutcome extends ScoringOut {
  results: EventResult[];
}

/** Applies one batch inside one transaction. Every write goes through `tx`. */
export function applyEvents(tx: Tx, events: readonly InboundEvent[], env: IngestEnv): BatchOutcome {
  const results: EventResult[] = [];
  const out: ScoringOut = { decisions: [], triggers: [] };
  const step = new ScoringStep(tx, env, out);
  for (const ev of events) {
    const hb = ev.kind === "signal" ? heartbeatOf(ev, env) : undefined;
    if (hb !== undefined) {
      checkIn(tx, env, hb, ev.source);
      results.push({ outcome: "heartbeat", alertKey: (ev as SignalEvent).alertKey, incidentId: null });
    } else
      results.push(ev.kind === "change" ? applyChange(tx, ev, env, step) : applySignal(tx, ev, env, step));
  }
  return { results, ...out };
}

/** A firing alert that is a heartbeat's check-in (its source and alertname match). */
function heartbeatOf(ev: SignalEvent, env: IngestEnv): Heartbeat | undefined {
  if (ev.action !== "trigger" || env.config.heartbeats.size === 0) return undefined;
  const name = ev.labels.alertname;
  for (const hb of env.config.heartbeats.values())
    if (hb.source === ev.source && hb.alertname === name) return hb;
  return undefined;
}

function applyChange(tx: Tx, ev: ChangeEvent, env: IngestEnv, scoring: ScoringStep): EventResult {
  tx.insertEvent({
    receivedAt: env.now,
    at: ev.at ?? env.now,
    source: ev.source,
    action: "change",
    alertKey: null,
    incidentId: null,
    service: ev.service,
    summary: ev.summary,
    raw: ev.raw,
  });
  scoring.observe({ kind: "change", at: env.now, service: ev.service });
  if (ev.service !== null) scoring.corroborate("change", ev.service, null);
  return { outcome: "change", alertKey: null, incidentId: null };
}

function applySignal(tx: Tx, ev: SignalEvent, env: IngestEnv, scoring: ScoringStep): EventResult {
  const now = env.now;
  const head = tx.alertHead(ev.source, ev.alertKey) ?? null;
  const step = stepAlert(head, ev, now);
  // Everything but a plain re-send reads the whole alert.
  const full = (): Alert => tx.alert((head as AlertHead).id) as Alert;
  const result = (outcome: EventOutcome, incidentId: number | null, note?: string): EventResult =>
    note === undefined
      ? { outcome, alertKey: ev.alertKey, incidentId }
      : { outcome, alertKey: ev.alertKey, incidentId, note };
  const record = (incidentId: number) =>
    tx.insertEvent({
      receivedAt: now,
      at: ev.at ?? now,
      source: ev.source,
      action: ev.action,
      alertKey: ev.alertKey,
      incidentId,
      service: ev.service,
      summary: ev.summary,
      raw: ev.raw,
    });

  switch (step.kind) {
    case "noop":
      if (ev.action === "trigger") scoring.scoreTrigger(ev, null, asScored(ev, 1));
      return result("ignored", head?.incidentId ?? null, step.why);

    case "open": {
      const existing = tx.openIncident(ev.source, ev.groupKey);
      let incident = existing === undefined ? openIncident(tx, ev, env) : joinIncident(tx, existing, ev, now);
      const alert: Omit<Alert, "id"> = {
        incidentId: incident.id,
        source: ev.source,
        alertKey: ev.alertKey,
        status: "firing",
        summary: ev.summary,
        severity: ev.severity,
        service: ev.service,
        labels: ev.labels,
        annotations: ev.annotations,
        links: ev.links,
        upstreamScore: ev.upstreamScore,
        startsAt: ev.startsAt ?? now,
        endsAt: ev.endsAt,
        firstSeen: now,
        lastSeen: now,
        resolvedAt: null,
        eventCount: 1,
        raw: ev.raw,
      };
      const alertId = tx.insertAlert(alert);
      if (ev.endsAt !== null) tx.armTimer("alert_expiry", alertId, ev.endsAt, "set");
      record(incident.id);
      // Scored against the context just before this alert, then observed.
      scoring.scoreTrigger(ev, incident, alert);
      scoring.alertFiring(alert, incident);
      incident = scoring.decide(existing === undefined ? "opened" : "new_alert", incident, alert, true);
      if (existing === undefined) {
        scoring.observe({
          kind: "incident_open",
          at: now,
          incidentId: incident.id,
          service: incident.service,
          team: incident.team,
        });
      }
      fire(scoring, ev, incident, now);
      return result(existing === undefined ? "opened" : "joined", incident.id);
    }

    case "refire": {
      const alert = full();
      const incident = tx.incident(alert.incidentId) as Incident;
      tx.saveAlert({
        ...alert,
        status: "firing",
        resolvedAt: null,
        severity: ev.severity,
        summary: ev.summary,
        annotations: ev.annotations,
        startsAt: ev.startsAt ?? now,
        endsAt: ev.endsAt,
        lastSeen: now,
        eventCount: alert.eventCount + 1,
        raw: ev.raw,
      });
      if (ev.endsAt !== null) tx.armTimer("alert_expiry", alert.id, ev.endsAt, "set");
      tx.saveIncident({
        ...incident,
        openAlertCount: incident.openAlertCount + 1,
        severity: worstSeverity(incident.severity, ev.severity),
        lastEventAt: now,
      });
      tx.addTimeline({
        incidentId: incident.id,
        at: now,
        kind: "alert_refired",
        actor: ev.source,
        detail: { alert_key: ev.alertKey },
      });
      record(incident.id);
      scoring.scoreTrigger(ev, incident, { ...alert, eventCount: alert.eventCount + 1 });
      scoring.alertFiring(alert, incident);
      fire(scoring, ev, incident, now);
      return result("refired", incident.id);
    }

    case "resend": {
      const alert = head as AlertHead;
      if (step.severityRaised) {
        const stored = full();
        const incident = tx.incident(alert.incidentId) as Incident;
        tx.saveAlert({
          ...stored,
          severity: ev.severity,
          summary: ev.summary,
          annotations: ev.annotations,
          endsAt: ev.endsAt,
          lastSeen: now,
          eventCount: alert.eventCount + 1,
          raw: ev.raw,
        });
        tx.saveIncident({
          ...incident,
          severity: worstSeverity(incident.severity, ev.severity),
          lastEventAt: now,
        });
        tx.addTimeline({
          incidentId: incident.id,
          at: now,
          kind: "alert_severity_raised",
          actor: ev.source,
          detail: { alert_key: ev.alertKey, from: alert.severity, to: ev.severity },
        });
        record(incident.id);
      } else {
        const annotations = JSON.stringify(ev.annotations);
        // Prometheus re-sends the same annotations every minute: rewrite them only on change.
        const touch = { id: alert.id, lastSeen: now, eventCount: alert.eventCount + 1, endsAt: ev.endsAt };
        tx.touchAlert(
          annotations === alert.annotationsJson
            ? touch
            : { ...touch, annotations: ev.annotations, raw: ev.raw },
        );
      }
      if (env.scoreTriggers === true) {
        const incident = tx.incident(alert.incidentId) ?? null;
        scoring.scoreTrigger(ev, incident, { ...full(), severity: ev.severity });
      }
      scoring.observe({
        kind: "resend",
        at: now,
        source: ev.source,
        alertname: alertnameOf(ev.labels),
        service: alert.service,
        host: hostOf(ev.labels),
      });
      // Re-sends usually push endsAt later; the timer re-arms itself lazily when it fires.
      if (ev.endsAt !== null && (alert.endsAt === null || ev.endsAt < alert.endsAt)) {
        tx.armTimer("alert_expiry", alert.id, ev.endsAt, "earliest");
      }
      return result("resent", alert.incidentId);
    }

    case "resolve": {
      const alert = full();
      resolveAlert(
        tx,
        { ...alert, lastSeen: now, eventCount: alert.eventCount + 1 },
        step.at,
        now,
        "alert_resolved",
        ev.source,
        scoring,
      );
      record(alert.incidentId);
      return result("resolved", alert.incidentId);
    }

    case "acknowledge": {
      const alert = head as AlertHead;
      const incident = tx.incident(alert.incidentId) as Incident;
      const t = transition(incident, { kind: "acknowledge", by: ev.source }, now);
      // A sender repeating an acknowledge is not an error; it changes nothing.
      if (!t.ok) return result("ignored", incident.id, t.error.message);
      tx.saveIncident(statusChanged(tx, env.delivery, { ...incident, ...t.next, lastEventAt: now }));
      tx.addTimeline({
        incidentId: incident.id,
        at: now,
        kind: "acknowledged",
        actor: ev.source,
        detail: { alert_key: ev.alertKey },
      });
      record(incident.id);
      return result("acknowledged", incident.id);
    }

    default: {
      const never: never = step;
      throw new Error(`unexpected step ${JSON.stringify(never)}`);
    }
  }
}

/** A new incident for a trigger, before it is stored (service catalog defaults applied). */
export function freshIncident(
  ev: SignalEvent,
  config: IngestEnv["config"],
  now: number,
): Omit<Incident, "id"> {
  const service = ev.service === null ? undefined : config.services.get(ev.service);
  return {
    source: ev.source,
    groupKey: ev.groupKey,
    status: "triggered",
    service: ev.service,
    serviceKnown: service !== undefined,
    team: service?.team ?? null,
    tier: service?.tier ?? UNKNOWN_SERVICE_TIER,
    severity: ev.severity,
    summary: ev.summary,
    openedAt: now,
    lastEventAt: now,
    acknowledgedAt: null,
    acknowledgedBy: null,
    resolvedAt: null,
    resolvedBy: null,
    resolveReason: null,
    alertCount: 1,
    openAlertCount: 1,
    score: null,
    scoreModel: null,
    scoredAt: null,
    policyVersion: null,
    route: null,
    escalation: null,
    assignee: null,
  };
}

function openIncident(tx: Tx, ev: SignalEvent, env: IngestEnv): Incident {
  const now = env.now;
  const fresh = freshIncident(ev, env.config, now);
  const service = fresh.serviceKnown ? env.config.services.get(ev.service as string) : undefined;
  const id = tx.insertIncident(fresh);
  const detail: Record<string, unknown> = { alert_key: ev.alertKey, group_key: ev.groupKey };
  if (service === undefined) {
    detail.note =
      ev.service === null
        ? "no service found on the alert: defaults apply (tier 3, no team)"
        : `service "${ev.service}" is not in the catalog: defaults apply (tier 3, no team)`;
  }
  tx.addTimeline({ incidentId: id, at: now, kind: "opened", actor: ev.source, detail });
  const quiet = env.config.sources.get(ev.source)?.autoResolveAfter ?? null;
  if (quiet !== null) tx.armTimer("incident_quiet", id, now + quiet, "set");
  return { ...fresh, id };
}

function joinIncident(tx: Tx, incident: Incident, ev: SignalEvent, now: number): Incident {
  const next: Incident = {
    ...incident,
    alertCount: incident.alertCount + 1,
    openAlertCount: incident.openAlertCount + 1,
    severity: worstSeverity(incident.severity, ev.severity),
    lastEventAt: now,
  };
  tx.saveIncident(next);
  tx.addTimeline({
    incidentId: incident.id,
    at: now,
    kind: "alert_added",
    actor: ev.source,
    detail: { alert_key: ev.alertKey, summary: ev.summary },
  });
  return next;
}

/**
 * Resolves one alert; when it was the incident's last firing alert, the incident resolves too.
 * Shared by sender resolves and endsAt expiry.
 */
export function resolveAlert(
  tx: Tx,
  alert: Alert,
  resolvedAt: number,
  now: number,
  kind: "alert_resolved" | "alert_expired",
  actor: string,
  scoring: ScoringStep,
): void {
  tx.saveAlert({ ...alert, status: "resolved", resolvedAt });
  scoring.observe({ kind: "resolve", at: now, source: alert.source, alertKey: alert.alertKey });
  tx.cancelTimer("alert_expiry", alert.id);
  const incident = tx.incident(alert.incidentId);
  if (incident === undefined) return;
  scoring.alertResolved(alert, incident);
  const open = Math.max(0, incident.openAlertCount - 1);
  tx.addTimeline({ incidentId: incident.id, at: now, kind, actor, detail: { alert_key: alert.alertKey } });
  let next: Incident = { ...incident, openAlertCount: open, lastEventAt: now };
  if (open === 0) {
    const t = transition(next, { kind: "resolve", by: actor, reason: "alerts_resolved" }, now);
    if (t.ok) {
      next = { ...next, ...t.next };
      tx.cancelTimer("incident_quiet", incident.id);
      scoring.observe({ kind: "incident_close", at: now, incidentId: incident.id });
      next = statusChanged(tx, scoring.delivery, next);
      tx.addTimeline({
        incidentId: incident.id,
        at: now,
        kind: "resolved",
        actor,
        detail: { reason: "alerts_resolved" },
      });
    }
  }
  tx.saveIncident(next);
}

/**
 * A fire is observed after its own score; a new alertname or source on the service is new
 * evidence that re-scores the service's other open incidents.
 */
function fire(scoring: ScoringStep, ev: SignalEvent, incident: Incident, now: number): void {
  const alertname = alertnameOf(ev.labels);
  const service = incident.service;
  const fresh = service !== null && scoring.isNewEvidence(now, ev.source, alertname, service);
  scoring.observe({
    kind: "fire",
    at: now,
    source: ev.source,
    alertKey: ev.alertKey,
    alertname,
    service,
    host: hostOf(ev.labels),
    team: incident.team,
    incidentId: incident.id,
  });
  if (fresh && service !== null) scoring.corroborate("corroborated", service, incident.id);
}

/** A trigger seen as an alert, for scoring it before it is stored. */
function asScored(ev: SignalEvent, eventCount: number) {
  return {
    source: ev.source,
    alertKey: ev.alertKey,
    labels: ev.labels,
    annotations: ev.annotations,
    service: ev.service,
    severity: ev.severity,
    eventCount,
    upstreamScore: ev.upstreamScore,
  };
}
