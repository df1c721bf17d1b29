import { type Incident, transition } from "../core/incident.js";
import { routeJson } from "../core/policy/explain.js";
import type { Route } from "../core/policy/types.js";
import { carryOut, type MessageFacts, NO_FACTS, statusChanged } from "./escalation.js";
import type { Tx } from "./ports.js";
import { appendRecord, incidentBrief } from "./routing.js";
import { routeAction, type ScoringEnv, type ScoringStep } from "./scoring.js";

/**
 * Validation holds. A held incident waits out its window; new alerts on it or corroborating
 * alerts on its service re-decide it at once (and a decision that no longer holds confirms it).
 * When the window ends it is decided once more: confirmed when its score reached the hold's
 * threshold and an alert still fires, otherwise closed as not confirmed.
 */
export type ValidationResult = "confirmed" | "not_confirmed";

export function validationEnded(tx: Tx, env: ScoringEnv, incidentId: number, scoring: ScoringStep): void {
  const incident = tx.incident(incidentId);
  if (incident === undefined) return;
  if (incident.status === "resolved") {
    // Resolved by itself during the hold: the transient case validation exists for.
    if (incident.route?.kind === "validate") {
      const why =
        incident.resolveReason === "manual"
          ? `resolved by ${incident.resolvedBy} during the hold`
          : "every alert resolved during the hold";
      validated(tx, env, incident, "not_confirmed", why, incident.resolvedAt ?? env.now);
    }
    return;
  }
  if (incident.status !== "validating") return;
  const alert = tx.firingAlerts(incident.id)[0];
  if (alert === undefined) {
    close(tx, env, incident, "no alert is still firing");
    return;
  }
  const next = scoring.decide("validation_end", incident, alert);
  if (next.status !== "validating") return; // the re-decision itself confirmed (or muted) it
  const route = next.route;
  if (route?.kind !== "validate") return;
  const threshold = route.confirmAbove ?? scoring.lastThresholds?.medium ?? 0.5;
  const score = next.score ?? 0;
  if (score >= threshold) {
    confirm(
      tx,
      env,
      next,
      route.after,
      `score ${score.toFixed(2)} reached ${threshold.toFixed(2)} by the end of the hold`,
    );
  } else {
    close(tx, env, next, `score ${score.toFixed(2)} stayed below ${threshold.toFixed(2)} for the whole hold`);
  }
}

function confirm(tx: Tx, env: ScoringEnv, incident: Incident, after: Route, why: string): void {
  const t = transition(incident, { kind: "confirm" }, env.now);
  if (!t.ok) return;
  let next: Incident = { ...incident, ...t.next, route: after };
  validated(tx, env, next, "confirmed", why, env.now);
  // The confirmation routes the incident on: a record of its own, so the chain says where it went.
  const decisionId = appendRecord(tx, {
    incidentId: incident.id,
    at: env.now,
    reason: "validation_end",
    policyVersion: incident.policyVersion ?? "",
    route: after.kind,
    body: {
      reason: "validation_end",
      incident: incidentBrief(incident),
      validation: { result: "confirmed", reason: why, score: incident.score },
      effective_route: routeJson(after),
      held_by: null,
      actions: [routeAction(after)],
    },
  });
  if (after.kind === "page") env.routing.page(incident.team, env.now);
  if (env.delivery !== undefined) {
    const facts: MessageFacts = {
      ...NO_FACTS,
      decisionId,
      score: incident.score,
      rationale: `Confirmed after validation: ${why}.`,
    };
    next = carryOut(
      tx,
      env.delivery,
      next,
      { kind: "validate", forMs: 0, after, confirmAbove: null },
      after,
      { also: [] },
      facts,
    );
  }
  tx.saveIncident(next);
}

function close(tx: Tx, env: ScoringEnv, incident: Incident, why: string): void {
  const t = transition(incident, { kind: "resolve", by: "pagewise", reason: "not_confirmed" }, env.now);
  if (!t.ok) return;
  for (const alert of tx.firingAlerts(incident.id)) {
    tx.saveAlert({ ...alert, status: "resolved", resolvedAt: env.now });
    tx.cancelTimer("alert_expiry", alert.id);
  }
  let next: Incident = { ...incident, ...t.next, openAlertCount: 0 };
  validated(tx, env, next, "not_confirmed", why, env.now);
  next = statusChanged(tx, env.delivery, next);
  tx.saveIncident(next);
  tx.addTimeline({
    incidentId: incident.id,
    at: env.now,
    kind: "resolved",
    actor: "pagewise",
    detail: { reason: "not_confirmed", why },
  });
}

/** Called when a re-decision moves a held incident on before its window ended. */
export function confirmedEarly(tx: Tx, env: ScoringEnv, incident: Incident, reason: string): void {
  tx.cancelTimer("validation_end", incident.id);
  validated(tx, env, incident, "confirmed", `new evidence (${reason}) changed the route`, env.now);
}

/** The time-to-validation: first alert to result, stored on the timeline and counted. */
function validated(
  tx: Tx,
  env: ScoringEnv,
  incident: Incident,
  result: ValidationResult,
  why: string,
  at: number,
): void {
  const ms = Math.max(0, at - incident.openedAt);
  tx.addTimeline({
    incidentId: incident.id,
    at,
    kind: "validated",
    actor: "pagewise",
    detail: { result, reason: why, time_to_validation_s: ms / 1000, score: incident.score },
  });
  env.onValidated?.(result, ms);
}
