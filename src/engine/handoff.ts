import { PagewiseError } from "../core/errors.js";
import { type Incident, transition } from "../core/incident.js";
import { routeJson, routeText } from "../core/policy/explain.js";
import type { Route } from "../core/policy/types.js";
import { carryOut, escalate, type MessageFacts, NO_FACTS } from "./escalation.js";
import type { Tx } from "./ports.js";
import { appendRecord, incidentBrief } from "./routing.js";
import { nextStatus, routeAction, type ScoringEnv } from "./scoring.js";

/** A responder's handoff: to another person or team, or onto another route. */
export type Override =
  | { kind: "reassign"; to: { user: string } | { team: string }; author: string; reason: string }
  | { kind: "reroute"; route: Route; author: string; reason: string };

/**
 * Applies a human override as a decision record of its own (author, reason, before and after),
 * then carries the new ownership out: the running escalation stops, and a page starts again from
 * the new owner's chain; a triage or notify tells the new owner's channel.
 */
export function applyOverride(tx: Tx, env: ScoringEnv, incident: Incident, o: Override): Incident {
  const now = env.now;
  if (incident.status === "resolved") {
    throw new PagewiseError(
      "PW_ILLEGAL_TRANSITION",
      `incident ${incident.id} is resolved; reopen it by a new alert`,
    );
  }
  let next: Incident = { ...incident };
  if (o.kind === "reassign") {
    if ("user" in o.to) next = { ...next, assignee: o.to.user };
    else {
      const r = next.route;
      // A triage that named the old team now names the new one.
      next = {
        ...next,
        team: o.to.team,
        assignee: null,
        route: r?.kind === "triage" ? { ...r, team: o.to.team } : r,
      };
    }
  } else {
    // A route that names its chain makes that chain the owner, not a person handed the incident.
    const named = o.route.kind === "page" && o.route.chain !== null;
    next = { ...next, route: o.route, assignee: named ? null : next.assignee };
  }
  const route: Route = next.route ?? { kind: "page", chain: null, twoPerson: false };
  next = { ...next, route };
  // The new owner acknowledges for themselves: a handed-over page is triggered again.
  if (next.status === "acknowledged" && route.kind === "page") {
    const t = transition(next, { kind: "reopen" }, now);
    if (t.ok) next = { ...next, ...t.next };
  }
  next = { ...next, ...nextStatus(next, route, false, now) };

  const override = {
    action: o.kind,
    author: o.author,
    reason: o.reason,
    from: {
      team: incident.team,
      assignee: incident.assignee,
      route: incident.route && routeJson(incident.route),
    },
    to: { team: next.team, assignee: next.assignee, route: routeJson(route) },
  };
  const decisionId = appendRecord(tx, {
    incidentId: incident.id,
    at: now,
    reason: "override",
    policyVersion: incident.policyVersion ?? env.routing.policyFor(null).version,
    route: route.kind,
    body: {
      reason: "override",
      incident: incidentBrief({ ...incident, team: next.team }),
      override,
      effective_route: routeJson(route),
      held_by: null,
      actions: [routeAction(route)],
    },
  });
  tx.addTimeline({
    incidentId: incident.id,
    at: now,
    kind: o.kind === "reassign" ? "reassigned" : "rerouted",
    actor: o.author,
    detail: { ...override, decision: decisionId },
  });
  if (route.kind === "page" && incident.route?.kind !== "page") env.routing.page(next.team, now);

  const delivery = env.delivery;
  if (delivery === undefined) return next;
  if (next.escalation !== null && next.escalation.state !== "stopped") {
    next = escalate(tx, delivery, next, { kind: "stopped" }, NO_FACTS);
  }
  const facts: MessageFacts = {
    ...NO_FACTS,
    decisionId,
    score: incident.score,
    rationale: `${o.kind === "reassign" ? "Handed over" : `Rerouted to ${routeText(route)}`} by ${o.author}: ${o.reason}`,
  };
  // prev = null: the new owner hears about it even when the route kind stayed the same.
  return carryOut(tx, delivery, next, null, route, { also: [] }, facts);
}
