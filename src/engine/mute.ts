import type { Incident } from "../core/incident.js";
import { windowAt } from "../core/policy/windows.js";
import type { Labels } from "../core/types.js";
import type { Tx } from "./ports.js";
import { routingLabels, type ScoringEnv, type ScoringStep } from "./scoring.js";
import type { TimerNext } from "./timers.js";

/**
 * A muted incident that still fires must be decided again when its mute ends (a silence expires,
 * a maintenance window closes, the inhibiting alert resolves), as Alertmanager notifies when a
 * silence expires. Silences end at a known time; windows and inhibitions are looked at again
 * every few minutes, without writing a decision while nothing changed.
 */
const RECHECK_MS = 5 * 60_000;

/** When to look again at a muted incident, or null when nothing mutes it now. */
export function mutedUntil(env: ScoringEnv, incident: Incident, labels: Labels): number | null {
  const silence = env.routing.silenceFor(labels, env.now);
  if (silence !== null) return Math.min(silence.endsAt, env.now + RECHECK_MS);
  const policy = env.routing.policyFor(incident.policyVersion);
  const window = windowAt(policy.windows, env.now, incident.service, labels);
  if (window?.mute === true || env.routing.inhibitedBy(labels) !== null) return env.now + RECHECK_MS;
  return null;
}

export function armMuteCheck(tx: Tx, env: ScoringEnv, incident: Incident, labels: Labels): void {
  if (incident.id < 0) return;
  tx.armTimer("mute_check", incident.id, mutedUntil(env, incident, labels) ?? env.now + RECHECK_MS, "set");
}

export function muteCheck(tx: Tx, env: ScoringEnv, incidentId: number, scoring: ScoringStep): TimerNext {
  const incident = tx.incident(incidentId);
  if (incident === undefined || incident.status !== "suppressed") return { kind: "done" };
  const alert = tx.firingAlerts(incidentId)[0];
  if (alert === undefined) return { kind: "done" };
  const until = mutedUntil(env, incident, routingLabels(alert, incident));
  if (until !== null) return { kind: "rearm", dueAt: until };
  // The mute is over: decide again, as if the alert had just been seen (a muted route may page now).
  scoring.decide("unmuted", incident, alert);
  return { kind: "done" };
}
