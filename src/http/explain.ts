import { explainDecision, routeFromJson, routeText } from "../core/policy/explain.js";
import type { Decision } from "../core/policy/types.js";
import type { StoredDecision } from "../engine/ports.js";

/** The explanation text of a stored decision record (its body keeps the decision's fields). */
export function explainStored(d: StoredDecision): string {
  const o = d.body.override as
    | {
        action: string;
        author: string;
        reason: string;
        to: { team: string | null; assignee: string | null; route: Record<string, unknown> };
      }
    | undefined;
  if (o !== undefined) {
    const owner = o.to.assignee ?? (o.to.team === null ? "no team" : `team ${o.to.team}`);
    const what =
      o.action === "reassign"
        ? `Handed over to ${owner}`
        : `Rerouted to ${routeText(routeFromJson(o.to.route))}`;
    return `${what} by ${o.author} (a human override, not the policy): ${o.reason}`;
  }
  const rb = d.body.runbook as Record<string, unknown> | undefined;
  if (rb !== undefined) return runbookText(rb);
  const v = d.body.validation as { reason?: string } | undefined;
  if (v !== undefined)
    return `Confirmed after its validation hold (${v.reason ?? "confirmed"}): ${routeText(routeFromJson(d.body.effective_route as Record<string, unknown>))}.`;
  const b = d.body as {
    decision: {
      policy_version: string;
      band: Decision["band"];
      thresholds: Decision["thresholds"];
      base_thresholds: Decision["baseThresholds"];
      modifiers: Decision["modifiers"];
      rule: Decision["rule"];
      also: { rule: string; rationale: string; route: Record<string, unknown> }[];
      counterfactual: { threshold: number; would_route: Decision["route"]["kind"]; text: string } | null;
      maintenance: string | null;
      muted_by: Decision["mutedBy"];
    };
    effective_route: Record<string, unknown>;
    held_by: string | null;
    score: { value: number; contributions: { text: string }[] };
  };
  const x = b.decision;
  const decision: Decision = {
    policyVersion: x.policy_version,
    score: b.score.value,
    band: x.band,
    thresholds: x.thresholds,
    baseThresholds: x.base_thresholds,
    modifiers: x.modifiers,
    rule: x.rule,
    route: routeFromJson(b.effective_route),
    also: x.also.map((a) => ({ rule: a.rule, rationale: a.rationale, route: routeFromJson(a.route) })),
    rulesTried: [],
    counterfactual:
      x.counterfactual === null
        ? null
        : {
            threshold: x.counterfactual.threshold,
            wouldRoute: x.counterfactual.would_route,
            text: x.counterfactual.text,
          },
    maintenance: x.maintenance,
    mutedBy: x.muted_by,
  };
  const text = explainDecision(decision, b.score.contributions);
  return b.held_by === null ? text : `${text}\nKept: ${b.held_by}.`;
}

/** A runbook event in words: what happened to which run, by whom, with what result. */
function runbookText(rb: Record<string, unknown>): string {
  const who = typeof rb.by === "string" ? ` by ${rb.by}` : "";
  const step = typeof rb.step === "string" ? ` (step ${rb.step})` : "";
  const result = typeof rb.result === "string" ? `: ${rb.result}` : "";
  const reason = typeof rb.reason === "string" ? `. ${rb.reason}` : "";
  const event = String(rb.event ?? "event").replace(/_/g, " ");
  return `Runbook ${String(rb.playbook)} run ${String(rb.run)}: ${event}${who}${step}${result}${reason}; now ${String(rb.status).replace(/_/g, " ")}.`;
}
