import { labelOf } from "../types.js";
import { firstMismatch } from "./matchers.js";
import type {
  Band,
  Conditions,
  Decision,
  DecisionInput,
  MaintenanceWindow,
  Modifier,
  Policy,
  Route,
  RouteKind,
  Rule,
  Thresholds,
} from "./types.js";
import { ROUTE_RANK } from "./types.js";
import { windowAt } from "./windows.js";

/**
 * The decision: a pure function of the incident's facts, its score, the moment and the policy.
 * No clock, no I/O, no globals: live routing, `explain`, `simulate` and replay call this same
 * function, so any decision can be reproduced and explained.
 */
export interface DecideOptions {
  /** Explain: why each earlier rule did not match, and the counterfactual (default true).
   * Tuning, which re-decides a history many times and only counts routes, turns it off. */
  reasons?: boolean;
}

export function decide(input: DecisionInput, policy: Policy, opts: DecideOptions = {}): Decision {
  const window = windowAt(policy.windows, input.at, input.service, input.labels);
  const base = baseThresholds(policy, input);
  const modifiers: Decision["modifiers"] = [];

  // 1. Threshold shifts (graded, not on/off), in policy order.
  let thresholds = base;
  for (const m of policy.modifiers) {
    if (m.effect.kind !== "shift" || failing(m.when, input, null, window) !== null) continue;
    thresholds = shifted(thresholds, m.effect.high, m.effect.medium);
    modifiers.push({ id: m.id, effect: shiftText(m.effect.high, m.effect.medium), rationale: m.rationale });
  }
  const band = bandOf(input.score, thresholds);

  // 2. Rules in order; the first match routes, `continue` lets later ones add routes.
  const tried: Rule[] = [];
  const failures: Failure[] = [];
  // What each rule evaluated so far did (null: matched), for the counterfactual's re-run.
  const outcomes: (Failure | null)[] = [];
  let matched: { id: string; rationale: string; route: Route } | null = null;
  const also: Decision["also"] = [];
  let keepGoing = true;
  for (const rule of policy.rules) {
    if (!keepGoing) break;
    const why = failing(rule.match, input, band, window);
    outcomes.push(why);
    if (why !== null) {
      tried.push(rule);
      failures.push(why);
      continue;
    }
    if (matched === null) matched = { id: rule.id, rationale: rule.rationale, route: rule.route };
    else also.push({ rule: rule.id, rationale: rule.rationale, route: rule.route });
    keepGoing = rule.continue;
  }
  // Config validation guarantees a final rule without conditions; this is the belt.
  const chosen = matched ?? {
    id: "(none)",
    rationale: "no rule matched",
    route: { kind: "suppress" } as Route,
  };

  // 3. Route modifiers: replacements and caps, in policy order.
  const route = applyRouteModifiers(chosen.route, band, input, window, policy.modifiers, modifiers);
  const alsoCapped = capAlso(also, band, input, window, policy.modifiers);

  return {
    policyVersion: policy.version,
    score: input.score,
    band,
    thresholds,
    baseThresholds: base,
    modifiers,
    rule: { id: chosen.id, rationale: chosen.rationale },
    route,
    also: alsoCapped,
    // Words only for the rules actually tried; built once, here.
    rulesTried:
      opts.reasons === false
        ? []
        : tried.map((r, k) => ({
            id: r.id,
            whyNot: whyNotText(failures[k] as Failure, r.match, input, band, window),
          })),
    counterfactual:
      opts.reasons === false
        ? null
        : counterfactual(input, policy, thresholds, band, route, window, outcomes),
    maintenance: window?.id ?? null,
    mutedBy: mutedBy(input, window),
  };
}

function baseThresholds(policy: Policy, input: DecisionInput): Thresholds {
  if (input.regulated && policy.bands.regulated !== null) return policy.bands.regulated;
  return policy.bands.tiers.get(input.tier) ?? policy.bands.default;
}

export function bandOf(score: number, t: Thresholds): Band {
  return score >= t.high ? "high" : score >= t.medium ? "medium" : "low";
}

function shifted(t: Thresholds, dHigh: number, dMedium: number): Thresholds {
  const high = clamp01(t.high + dHigh);
  return { high, medium: Math.min(high, clamp01(t.medium + dMedium)) };
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

function shiftText(dHigh: number, dMedium: number): string {
  const f = (d: number) => `${d >= 0 ? "+" : ""}${d.toFixed(2)}`;
  return `thresholds high ${f(dHigh)}, medium ${f(dMedium)}`;
}

/** Routes are small trees: compared field by field (no serialization on the hot path). */
export function sameRoute(a: Route, b: Route): boolean {
  if (a === b) return true;
  switch (a.kind) {
    case "page":
      return b.kind === "page" && a.chain === b.chain && a.twoPerson === b.twoPerson;
    case "runbook":
      return b.kind === "runbook" && a.playbook === b.playbook && sameRoute(a.onFailure, b.onFailure);
    case "triage":
      return b.kind === "triage" && a.team === b.team && a.channel === b.channel;
    case "validate":
      return (
        b.kind === "validate" &&
        a.forMs === b.forMs &&
        a.confirmAbove === b.confirmAbove &&
        sameRoute(a.after, b.after)
      );
    case "notify":
      return b.kind === "notify" && a.channel === b.channel;
    case "suppress":
      return b.kind === "suppress";
    default: {
      const never: never = a;
      return never;
    }
  }
}

/** Caps bound every route of a decision, the ones `continue` rules add included. */
function capAlso(
  also: Decision["also"],
  band: Band,
  input: DecisionInput,
  window: MaintenanceWindow | null,
  mods: readonly Modifier[],
): Decision["also"] {
  if (also.length === 0) return also;
  return also.map((a) => {
    let r = a.route;
    for (const m of mods) {
      const e = m.effect;
      if (e.kind !== "cap" || !e.bands.includes(band) || failing(m.when, input, band, window) !== null)
        continue;
      if (ROUTE_RANK[r.kind] > ROUTE_RANK[e.route.kind]) r = e.route;
    }
    return r === a.route ? a : { ...a, route: r };
  });
}

function applyRouteModifiers(
  route: Route,
  band: Band,
  input: DecisionInput,
  window: MaintenanceWindow | null,
  mods: readonly Modifier[],
  applied: Decision["modifiers"],
): Route {
  let r = route;
  for (const m of mods) {
    const e = m.effect;
    if (e.kind === "shift" || failing(m.when, input, band, window) !== null) continue;
    if (e.kind === "route") {
      if (sameRoute(e.route, r)) continue;
      applied.push({ id: m.id, effect: `route ${r.kind} -> ${e.route.kind}`, rationale: m.rationale });
      r = e.route;
    } else if (e.bands.includes(band) && ROUTE_RANK[r.kind] > ROUTE_RANK[e.route.kind]) {
      applied.push({ id: m.id, effect: `capped ${r.kind} at ${e.route.kind}`, rationale: m.rationale });
      r = e.route;
    }
  }
  return r;
}

/** Which condition fails first, if any (a code: the text is only built when shown). */
export type Failure =
  | "band"
  | "severity"
  | "tier"
  | "team"
  | "service"
  | "source"
  | "regulated"
  | "labels"
  | "business_hours"
  | "in_maintenance"
  | "recent_deploy"
  | "team_load"
  | "team_pages_1h"
  | "count";

/**
 * The first condition that does not hold (null when they all do). `band` is null while the
 * thresholds are still being worked out (shift modifiers cannot depend on the band they shift).
 */
export function failing(
  c: Conditions,
  input: DecisionInput,
  band: Band | null,
  window: MaintenanceWindow | null,
): Failure | null {
  if (c.bands !== undefined && band !== null && !c.bands.includes(band)) return "band";
  if (c.severities !== undefined && !c.severities.includes(input.severity)) return "severity";
  if (c.tiers !== undefined && !c.tiers.includes(input.tier)) return "tier";
  if (c.teams !== undefined && (input.team === null || !c.teams.includes(input.team))) return "team";
  if (c.services !== undefined && (input.service === null || !c.services.includes(input.service)))
    return "service";
  if (c.sources !== undefined && !c.sources.includes(input.source)) return "source";
  if (c.regulated !== undefined && c.regulated !== input.regulated) return "regulated";
  if (c.labels !== undefined && firstMismatch(c.labels, input.labels) !== null) return "labels";
  const x = c.context;
  if (x !== undefined) {
    if (x.businessHours !== undefined && x.businessHours !== input.businessHours) return "business_hours";
    if (x.inMaintenance !== undefined && x.inMaintenance !== (window !== null)) return "in_maintenance";
    if (x.recentDeployMs !== undefined) {
      const m = input.minutesSinceChange;
      if (m === null || m * 60_000 > x.recentDeployMs) return "recent_deploy";
    }
    if (x.teamLoadAtLeast !== undefined && input.teamOpenIncidents < x.teamLoadAtLeast) return "team_load";
    if (x.teamPages1hAtLeast !== undefined && input.teamPages1h < x.teamPages1hAtLeast)
      return "team_pages_1h";
  }
  if (c.count !== undefined && input.incidentAlertsWithin(c.count.withinMs) < c.count.alerts) return "count";
  return null;
}

/** Why a condition fails, in words, for rules_tried and explanations. */
export function whyNotText(
  f: Failure,
  c: Conditions,
  input: DecisionInput,
  band: Band,
  window: MaintenanceWindow | null,
): string {
  switch (f) {
    case "band":
      return `band is ${band}, wants ${c.bands?.join("/")}`;
    case "severity":
      return `severity is ${input.severity}, wants ${c.severities?.join("/")}`;
    case "tier":
      return `tier is ${input.tier}, wants ${c.tiers?.join("/")}`;
    case "team":
      return `team is ${input.team ?? "none"}, wants ${c.teams?.join("/")}`;
    case "service":
      return `service is ${input.service ?? "unknown"}, wants ${c.services?.join("/")}`;
    case "source":
      return `source is ${input.source}, wants ${c.sources?.join("/")}`;
    case "regulated":
      return input.regulated ? "service is regulated" : "service is not regulated";
    case "labels": {
      const miss = firstMismatch(c.labels ?? [], input.labels);
      return miss === null
        ? "labels match"
        : `label ${miss.text} does not match (${miss.name}="${labelOf(input.labels, miss.name) ?? ""}")`;
    }
    case "business_hours":
      return input.businessHours ? "inside business hours" : "outside business hours";
    case "in_maintenance":
      return window !== null ? `in maintenance window ${window.id}` : "not in a maintenance window";
    case "recent_deploy": {
      const m = input.minutesSinceChange;
      return m === null ? "no recent change on the service" : `last change ${Math.round(m)} min ago`;
    }
    case "team_load":
      return `team has ${input.teamOpenIncidents} open incidents, wants at least ${c.context?.teamLoadAtLeast}`;
    case "team_pages_1h":
      return `team had ${input.teamPages1h} pages in the last hour, wants at least ${c.context?.teamPages1hAtLeast}`;
    case "count": {
      const n = c.count === undefined ? 0 : input.incidentAlertsWithin(c.count.withinMs);
      return `${n} alerts in the incident within ${Math.round((c.count?.withinMs ?? 0) / 60_000)} min, wants ${c.count?.alerts}`;
    }
    default: {
      const never: never = f;
      return String(never);
    }
  }
}

/**
 * The nearest threshold and what would happen across it: "would page at p >= 0.62; p = 0.55".
 * The rules are tried again with the neighbouring band; null when crossing changes nothing.
 */
function counterfactual(
  input: DecisionInput,
  policy: Policy,
  t: Thresholds,
  band: Band,
  route: Route,
  window: MaintenanceWindow | null,
  outcomes: readonly (Failure | null)[],
): Decision["counterfactual"] {
  // The band on the far side of each threshold (medium may equal high: then crossing it jumps).
  const candidates: { threshold: number; band: Band }[] = [];
  const split = t.medium < t.high;
  if (band === "low") candidates.push({ threshold: t.medium, band: split ? "medium" : "high" });
  if (band === "medium")
    candidates.push({ threshold: t.high, band: "high" }, { threshold: t.medium, band: "low" });
  if (band === "high") candidates.push({ threshold: t.high, band: split ? "medium" : "low" });
  candidates.sort((a, b) => Math.abs(a.threshold - input.score) - Math.abs(b.threshold - input.score));
  for (const c of candidates) {
    const other = routeFor(input, policy, c.band, window, outcomes);
    if (other === route.kind) continue;
    const above = c.threshold > input.score;
    const p = input.score.toFixed(2);
    const text = above
      ? `would ${verb(other)} at p >= ${c.threshold.toFixed(2)}; p = ${p}`
      : `would ${verb(other)} below p = ${c.threshold.toFixed(2)}; p = ${p}`;
    return { threshold: c.threshold, wouldRoute: other, text };
  }
  return null;
}

/**
 * The route the same moment would get in another band. Only the band changed: a rule that failed
 * on anything else still fails, so only rules that failed on the band (or matched) are looked at.
 */
function routeFor(
  input: DecisionInput,
  policy: Policy,
  band: Band,
  window: MaintenanceWindow | null,
  outcomes: readonly (Failure | null)[],
): RouteKind {
  let route: Route = { kind: "suppress" };
  const rules = policy.rules;
  for (let k = 0; k < rules.length; k++) {
    const rule = rules[k] as Rule;
    const before = k < outcomes.length ? outcomes[k] : "band";
    if (before !== null && before !== "band") continue;
    if (failing(rule.match, input, band, window) === null) {
      route = rule.route;
      break;
    }
  }
  return applyRouteModifiers(route, band, input, window, policy.modifiers, []).kind;
}

function verb(kind: RouteKind): string {
  switch (kind) {
    case "page":
      return "page";
    case "runbook":
      return "run a runbook";
    case "triage":
      return "open a triage";
    case "validate":
      return "hold for validation";
    case "notify":
      return "notify";
    case "suppress":
      return "suppress";
    default: {
      const never: never = kind;
      return String(never);
    }
  }
}

function mutedBy(input: DecisionInput, window: MaintenanceWindow | null): Decision["mutedBy"] {
  if (input.silence !== null) return { kind: "silence", id: input.silence.id, reason: input.silence.comment };
  if (window?.mute === true) return { kind: "window", id: window.id, reason: window.rationale };
  if (input.inhibitedBy !== null) {
    return { kind: "inhibition", id: input.inhibitedBy.rule, reason: input.inhibitedBy.rationale };
  }
  return null;
}
