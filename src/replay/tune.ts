import { decide } from "../core/policy/decide.js";
import type { Conditions, DecisionInput, Policy, Route, Thresholds } from "../core/policy/types.js";
import { ROUTE_RANK } from "../core/policy/types.js";

/**
 * Threshold tuning. Scores do not depend on earlier decisions, so a history is scored once and
 * every decision's input recorded; each candidate (band thresholds per tier, a validation window)
 * then re-decides those inputs in time order with the pure decide(), recomputing what depends on
 * earlier decisions (the team's pages in the last hour, the no-downgrade rule, holds).
 */
export interface Point {
  incidentId: number;
  input: DecisionInput;
}

export interface Labelled {
  id: number;
  openedAt: number;
  genuine: boolean;
  labelled: boolean;
  /** Tier 0 and regulated incidents keep a hard recall floor. */
  protected: boolean;
}

export interface Costs {
  falsePage: number;
  missed: number;
  delayPerMin: number;
}

export interface Candidate {
  label: string;
  /** Base thresholds by key: "default", a tier number, or "regulated". */
  bands: Map<string, Thresholds>;
  /** Replaces every validate route's window; null keeps the policy's. */
  holdMs: number | null;
}

export interface Outcome {
  pages: number;
  precision: number | null;
  recall: number | null;
  protectedRecall: number | null;
  ttpP50: number | null;
  cost: number;
}

const HOUR = 3_600_000;

/** The count windows the policy's conditions use: a decision's input keeps only these. */
export function countWindows(policy: Policy): number[] {
  const out = new Set<number>();
  const add = (c: Conditions | undefined) => {
    if (c?.count !== undefined) out.add(c.count.withinMs);
  };
  for (const r of policy.rules) add(r.match);
  for (const m of policy.modifiers) add(m.when as Conditions);
  return [...out];
}

/** A decision input made independent of the live context it was taken from. */
export function snapshot(input: DecisionInput, windows: readonly number[]): DecisionInput {
  const counts = new Map(windows.map((ms) => [ms, input.incidentAlertsWithin(ms)]));
  return { ...input, incidentAlertsWithin: (ms) => counts.get(ms) ?? 0 };
}

export function withBands(policy: Policy, c: Candidate): Policy {
  const tiers = new Map(policy.bands.tiers);
  for (const [k, t] of c.bands) if (/^\d+$/.test(k)) tiers.set(Number(k), t);
  const rules =
    c.holdMs === null
      ? policy.rules
      : policy.rules.map((r) => ({ ...r, route: withHold(r.route, c.holdMs as number) }));
  return {
    ...policy,
    rules,
    bands: {
      default: c.bands.get("default") ?? policy.bands.default,
      tiers,
      regulated: c.bands.get("regulated") ?? policy.bands.regulated,
    },
  };
}

function withHold(r: Route, ms: number): Route {
  return r.kind === "validate" ? { ...r, forMs: ms } : r;
}

interface State {
  rank: number;
  route: Route | null;
  pagedAt: number | null;
  hold: { end: number; after: Route; confirm: number; max: number } | null;
}

/** Re-decides every point under the candidate and prices what would have happened. */
export function evaluate(
  points: readonly Point[],
  incidents: readonly Labelled[],
  policy: Policy,
  costs: Costs,
): Outcome {
  const states = new Map<number, State>();
  // Per team: page times, and the index of the first one inside the last hour (a sliding window).
  const teamPages = new Map<string, { times: number[]; from: number }>();
  for (const p of points) {
    let s = states.get(p.incidentId);
    if (s === undefined) {
      s = { rank: -1, route: null, pagedAt: null, hold: null };
      states.set(p.incidentId, s);
    }
    if (s.hold !== null && p.input.at <= s.hold.end) s.hold.max = Math.max(s.hold.max, p.input.score);
    const team = p.input.team ?? "";
    let recent = teamPages.get(team);
    if (recent === undefined) {
      recent = { times: [], from: 0 };
      teamPages.set(team, recent);
    }
    // The engine counts pages in [at - 1h, at], both ends included.
    while (recent.from < recent.times.length && (recent.times[recent.from] as number) < p.input.at - HOUR)
      recent.from++;
    const input = { ...p.input, teamPages1h: recent.times.length - recent.from };
    const d = decide(input, policy, { reasons: false });
    if (d.mutedBy !== null) continue;
    let route = d.route;
    if (ROUTE_RANK[route.kind] < s.rank && s.route !== null) route = s.route;
    else {
      s.rank = ROUTE_RANK[route.kind];
      s.route = route;
    }
    // A re-decision inside the window that moves the incident off validate ends the hold early,
    // as the engine does (confirmedEarly): it goes where that route says, not to `after`.
    if (s.hold !== null && route.kind !== "validate" && p.input.at <= s.hold.end) s.hold = null;
    if (route.kind === "page" && s.pagedAt === null) {
      s.pagedAt = p.input.at;
      recent.times.push(p.input.at);
    } else if (route.kind === "validate" && s.hold === null) {
      s.hold = {
        end: p.input.at + route.forMs,
        after: route.after,
        confirm: route.confirmAbove ?? d.thresholds.medium,
        max: p.input.score,
      };
    }
  }
  let pages = 0;
  let hits = 0;
  let falsePages = 0;
  let genuine = 0;
  let prot = 0;
  let protHits = 0;
  let delayMin = 0;
  const delays: number[] = [];
  for (const inc of incidents) {
    const s = states.get(inc.id);
    let pagedAt = s?.pagedAt ?? null;
    // A hold that ran out: confirmed when its score reached the threshold within the window.
    if (pagedAt === null && s?.hold != null && s.hold.after.kind === "page" && s.hold.max >= s.hold.confirm)
      pagedAt = s.hold.end;
    const paged = pagedAt !== null;
    if (paged) pages++;
    if (!inc.labelled) continue;
    if (inc.genuine) genuine++;
    if (inc.genuine && inc.protected) prot++;
    if (paged && inc.genuine) {
      hits++;
      if (inc.protected) protHits++;
      const m = Math.max(0, ((pagedAt as number) - inc.openedAt) / 60_000);
      delayMin += m;
      delays.push(m * 60);
    }
    if (paged && !inc.genuine) falsePages++;
  }
  delays.sort((a, b) => a - b);
  return {
    pages,
    precision: hits + falsePages === 0 ? null : hits / (hits + falsePages),
    recall: genuine === 0 ? null : hits / genuine,
    protectedRecall: prot === 0 ? null : protHits / prot,
    ttpP50: delays.length === 0 ? null : (delays[Math.ceil(delays.length / 2) - 1] as number),
    cost: falsePages * costs.falsePage + (genuine - hits) * costs.missed + delayMin * costs.delayPerMin,
  };
}

export interface TuneResult {
  current: { candidate: Candidate; outcome: Outcome };
  best: { candidate: Candidate; outcome: Outcome; feasible: boolean };
  tried: { candidate: Candidate; outcome: Outcome; feasible: boolean }[];
}

const GRID = [0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
const HOLDS = [5, 10, 15, 30].map((m) => m * 60_000);

/**
 * Coordinate descent over each threshold key (the policy's default, each tier in use, regulated)
 * and then the validation window: each step keeps the cheapest feasible candidate. Feasible: the
 * recall floor holds, and tier 0 / regulated recall is not below today's.
 */
export function tune(
  points: readonly Point[],
  incidents: readonly Labelled[],
  policy: Policy,
  costs: Costs,
  minRecall: number,
): TuneResult {
  const keys = ["default", ...[...new Set(points.map((p) => p.input.tier))].sort().map(String)];
  if (points.some((p) => p.input.regulated) && policy.bands.regulated !== null) keys.push("regulated");
  const start: Candidate = { label: "current", bands: new Map(), holdMs: null };
  const run = (c: Candidate) => evaluate(points, incidents, withBands(policy, c), costs);
  const current = { candidate: start, outcome: run(start) };
  const floor = current.outcome.protectedRecall;
  const feasible = (o: Outcome) =>
    (o.recall === null || o.recall >= minRecall) &&
    (floor === null || o.protectedRecall === null || o.protectedRecall >= floor);
  const tried: TuneResult["tried"] = [{ ...current, feasible: feasible(current.outcome) }];
  let best = tried[0] as TuneResult["tried"][number];
  const better = (a: TuneResult["tried"][number], b: TuneResult["tried"][number]) =>
    a.feasible !== b.feasible
      ? a.feasible
      : a.feasible
        ? a.outcome.cost < b.outcome.cost
        : (a.outcome.recall ?? 0) > (b.outcome.recall ?? 0);
  for (let round = 0; round < 2; round++) {
    for (const key of keys) {
      const base = thresholdsOf(policy, key);
      for (const high of GRID) {
        const medium = Math.min(high, (base.medium / Math.max(base.high, 1e-9)) * high);
        const bands = new Map(best.candidate.bands);
        bands.set(key, { high, medium: round2(medium) });
        const candidate: Candidate = {
          label: label(bands, best.candidate.holdMs),
          bands,
          holdMs: best.candidate.holdMs,
        };
        const outcome = run(candidate);
        const t = { candidate, outcome, feasible: feasible(outcome) };
        tried.push(t);
        if (better(t, best)) best = t;
      }
    }
    for (const holdMs of HOLDS) {
      const candidate: Candidate = {
        label: label(best.candidate.bands, holdMs),
        bands: best.candidate.bands,
        holdMs,
      };
      const outcome = run(candidate);
      const t = { candidate, outcome, feasible: feasible(outcome) };
      tried.push(t);
      if (better(t, best)) best = t;
    }
  }
  return { current, best, tried };
}

export function thresholdsOf(policy: Policy, key: string): Thresholds {
  if (key === "default") return policy.bands.default;
  if (key === "regulated") return policy.bands.regulated ?? policy.bands.default;
  return policy.bands.tiers.get(Number(key)) ?? policy.bands.default;
}

function label(bands: Map<string, Thresholds>, holdMs: number | null): string {
  const parts = [...bands].map(([k, t]) => `${k}=${t.high}/${t.medium}`);
  if (holdMs !== null) parts.push(`hold=${holdMs / 60_000}m`);
  return parts.length === 0 ? "current" : parts.join(" ");
}

const round2 = (x: number) => Math.round(x * 100) / 100;
