import { assertNever, type Incident, transition } from "../core/incident.js";
import { CONTEXT_HORIZON } from "../core/scoring/context.js";
import { approvalExpired } from "./automation.js";
import { escalate, type MessageFacts, NO_FACTS, statusChanged } from "./escalation.js";
import { heartbeatDue } from "./heartbeats.js";
import { resolveAlert } from "./ingest.js";
import { muteCheck } from "./mute.js";
import type { Timer, Tx } from "./ports.js";
import { type ScoringEnv, ScoringStep } from "./scoring.js";
import { validationEnded } from "./validation.js";

/** What a timer asks for after it ran: done (delete it) or run again later. */
export type TimerNext = { kind: "done" } | { kind: "rearm"; dueAt: number };

/** Retention pruning works in small batches so that ingest never waits long for the database. */
export const PRUNE_BATCH = 500;
const PRUNE_AGAIN_MS = 1_000;
const PRUNE_IDLE_MS = 10 * 60_000;

export type TimerEnv = ScoringEnv;

/** Runs one claimed timer inside a transaction. Each kind is handled here, exhaustively. */
export function runTimer(tx: Tx, timer: Timer, env: TimerEnv): TimerNext {
  const scoring = new ScoringStep(tx, env, { decisions: [], triggers: [] });
  switch (timer.kind) {
    case "alert_expiry":
      return expireAlert(tx, timer.ref, env.now, scoring);
    case "incident_quiet":
      return quietIncident(tx, timer.ref, env, scoring);
    case "retention":
      return prune(tx, env);
    case "escalation_step":
    case "ack_timeout":
      return escalationTimer(tx, timer, env);
    case "validation_end":
      validationEnded(tx, env, timer.ref, scoring);
      return { kind: "done" };
    case "runbook_approval":
      if (env.delivery !== undefined) approvalExpired(tx, env.delivery, timer.ref);
      return { kind: "done" };
    case "mute_check":
      return muteCheck(tx, env, timer.ref, scoring);
    case "heartbeat":
      return heartbeatDue(tx, env, String(timer.payload?.name ?? ""));
    default:
      return assertNever(timer.kind);
  }
}

/** An Alertmanager v2 alert not refreshed before its endsAt resolves then. */
function expireAlert(tx: Tx, alertId: number, now: number, scoring: ScoringStep): TimerNext {
  const alert = tx.alert(alertId);
  if (alert === undefined || alert.status === "resolved" || alert.endsAt === null) return { kind: "done" };
  if (alert.endsAt > now) return { kind: "rearm", dueAt: alert.endsAt };
  resolveAlert(tx, alert, alert.endsAt, now, "alert_expired", "pagewise", scoring);
  return { kind: "done" };
}

/** auto_resolve_after: an incident with no trigger (or re-send) for that long resolves itself. */
function quietIncident(tx: Tx, incidentId: number, env: TimerEnv, scoring: ScoringStep): TimerNext {
  const incident = tx.incident(incidentId);
  if (incident === undefined || incident.status === "resolved") return { kind: "done" };
  const quiet = env.config.sources.get(incident.source)?.autoResolveAfter ?? null;
  if (quiet === null) return { kind: "done" };
  const last = Math.max(incident.lastEventAt, tx.lastSeen(incidentId) ?? 0);
  if (last + quiet > env.now) return { kind: "rearm", dueAt: last + quiet };
  autoResolve(tx, incident, env.now, scoring);
  return { kind: "done" };
}

function autoResolve(tx: Tx, incident: Incident, now: number, scoring: ScoringStep): void {
  const t = transition(incident, { kind: "resolve", by: "pagewise", reason: "auto_resolved" }, now);
  if (!t.ok) return;
  for (const alert of tx.firingAlerts(incident.id)) {
    tx.saveAlert({ ...alert, status: "resolved", resolvedAt: now });
    tx.cancelTimer("alert_expiry", alert.id);
    scoring.observe({ kind: "resolve", at: now, source: alert.source, alertKey: alert.alertKey });
    scoring.alertResolved(alert, incident);
  }
  const resolved = statusChanged(tx, scoring.delivery, { ...incident, ...t.next, openAlertCount: 0 });
  tx.saveIncident(resolved);
  scoring.observe({ kind: "incident_close", at: now, incidentId: incident.id });
  tx.addTimeline({
    incidentId: incident.id,
    at: now,
    kind: "resolved",
    actor: "pagewise",
    detail: { reason: "auto_resolved" },
  });
}

function prune(tx: Tx, env: TimerEnv): TimerNext {
  const before = env.now - env.config.retention;
  const incidents = tx.pruneIncidents(before, PRUNE_BATCH);
  const events = tx.pruneEvents(before, PRUNE_BATCH);
  // Signals only feed the context, whose longest window is a week.
  const signals = tx.pruneSignals(env.now - CONTEXT_HORIZON, PRUNE_BATCH);
  const more = incidents === PRUNE_BATCH || events === PRUNE_BATCH || signals === PRUNE_BATCH;
  return { kind: "rearm", dueAt: env.now + (more ? PRUNE_AGAIN_MS : PRUNE_IDLE_MS) };
}

/**
 * The next step of a running escalation, or an ack that timed out. The timer carries the fence it
 * was armed for: a step from before an ack, a resolve or a handoff is stale and does nothing.
 */
function escalationTimer(tx: Tx, timer: Timer, env: TimerEnv): TimerNext {
  const incident = tx.incident(timer.ref);
  if (incident === undefined || incident.status === "resolved" || env.delivery === undefined)
    return { kind: "done" };
  const fence = Number(timer.payload?.fence ?? -1);
  const facts = (timer.payload?.facts as MessageFacts | undefined) ?? NO_FACTS;
  if (timer.kind === "ack_timeout") {
    if (incident.status !== "acknowledged" || incident.escalation?.fence !== fence) return { kind: "done" };
    const t = transition(incident, { kind: "reopen" }, env.now);
    if (!t.ok) return { kind: "done" };
    tx.addTimeline({
      incidentId: incident.id,
      at: env.now,
      kind: "reopened",
      actor: "pagewise",
      detail: { reason: "acknowledged but not resolved within the chain's ack timeout" },
    });
    tx.saveIncident(
      escalate(tx, env.delivery, { ...incident, ...t.next }, { kind: "ack_timeout", fence }, facts),
    );
    return { kind: "done" };
  }
  if (incident.status === "suppressed") {
    // A muted incident pages no one: its escalation stops, and a later decision that lifts the
    // mute and pages starts it again from the top.
    if (incident.escalation?.fence === fence)
      tx.saveIncident(escalate(tx, env.delivery, incident, { kind: "stopped" }, NO_FACTS));
    return { kind: "done" };
  }
  tx.saveIncident(escalate(tx, env.delivery, incident, { kind: "step_due", fence }, facts));
  return { kind: "done" };
}
