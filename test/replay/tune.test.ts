import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compilePolicy } from "../../src/config/policy.js";
import type { Problem } from "../../src/core/errors.js";
import type { DecisionInput, Policy, Thresholds } from "../../src/core/policy/types.js";
import type { Severity } from "../../src/core/types.js";
import {
  type Candidate,
  type Costs,
  countWindows,
  evaluate,
  type Labelled,
  type Point,
  snapshot,
  tune,
  withBands,
} from "../../src/replay/tune.js";

/**
 * Tuning re-decides recorded decision inputs under candidate thresholds. These tests build the
 * inputs by hand, so every page, miss and cost below can be worked out on paper.
 */

const T = Date.parse("2026-03-02T01:00:00Z");
const MIN = 60_000;

const REFS = {
  teams: new Set(["web", "data"]),
  services: new Set(["shop", "blog", "db"]),
  sources: new Set(["mon"]),
};

/** Tier of each service (shop is customer-facing, tier 0). */
const TIER: Record<string, number> = { shop: 0, db: 1, blog: 2 };
const TEAM: Record<string, string> = { shop: "web", blog: "web", db: "data" };

const RULES = [
  { id: "page-high", match: { band: "high" }, route: { kind: "page" }, rationale: "Likely real, page." },
  { id: "triage-medium", match: { band: "medium" }, route: { kind: "triage" }, rationale: "Maybe real." },
  {
    id: "hold-low-critical",
    match: { band: "low", severity: "critical" },
    route: { kind: "validate", for: "10m", confirm_above: 0.2 },
    rationale: "Critical but unsure: wait and see.",
  },
  { id: "default", route: { kind: "notify" }, rationale: "Probably noise." },
];

function policy(extra: Record<string, unknown> = {}): Policy {
  const problems: Problem[] = [];
  const p = compilePolicy(
    { bands: { default: { high: 0.7, medium: 0.3 } }, rules: RULES, ...extra },
    problems,
    REFS,
  );
  expect(problems).toEqual([]);
  return p;
}

function input(minutes: number, score: number, over: Partial<DecisionInput> = {}): DecisionInput {
  const service = over.service ?? "blog";
  return {
    at: T + minutes * MIN,
    score,
    severity: "warning",
    tier: TIER[service as string] ?? 3,
    team: TEAM[service as string] ?? null,
    service,
    serviceTimezone: "UTC",
    regulated: false,
    source: "mon",
    labels: { alertname: "A" },
    businessHours: false,
    minutesSinceChange: null,
    teamOpenIncidents: 0,
    teamPages1h: 0,
    incidentAlertsWithin: () => 1,
    silence: null,
    inhibitedBy: null,
    ...over,
  };
}

const pt = (
  incidentId: number,
  minutes: number,
  score: number,
  over: Partial<DecisionInput> = {},
): Point => ({
  incidentId,
  input: input(minutes, score, over),
});

const inc = (
  id: number,
  genuine: boolean,
  openedMin = 0,
  over: Partial<Omit<Labelled, "id">> = {},
): Labelled => ({
  id,
  openedAt: T + openedMin * MIN,
  genuine,
  labelled: true,
  protected: false,
  ...over,
});

const COSTS: Costs = { falsePage: 1, missed: 20, delayPerMin: 0.5 };

describe("evaluate", () => {
  it("pages a genuine incident scoring above high at its decision time", () => {
    const o = evaluate([pt(1, 3, 0.8)], [inc(1, true)], policy(), COSTS);
    expect(o).toEqual({
      pages: 1,
      precision: 1,
      recall: 1,
      protectedRecall: null,
      ttpP50: 180,
      cost: 3 * 0.5,
    });
  });

  it("misses a genuine incident scoring below high", () => {
    const o = evaluate([pt(1, 0, 0.5)], [inc(1, true)], policy(), COSTS);
    expect(o).toEqual({
      pages: 0,
      precision: null,
      recall: 0,
      protectedRecall: null,
      ttpP50: null,
      cost: 20,
    });
  });

  it("counts a false alarm above high as a false page (and no delay cost)", () => {
    const o = evaluate([pt(1, 5, 0.9)], [inc(1, false)], policy(), COSTS);
    expect(o).toEqual({ pages: 1, precision: 0, recall: null, protectedRecall: null, ttpP50: null, cost: 1 });
  });

  it("adds the costs up exactly: falsePage x FP + missed x FN + delayPerMin x minutes", () => {
    const points = [
      pt(1, 2, 0.9), // genuine, paged 2 min after it opened
      pt(2, 14, 0.95), // genuine, opened at 10: paged 4 min late
      pt(3, 20, 0.8), // false page
      pt(4, 30, 0.75), // false page
      pt(5, 40, 0.1), // genuine, notify: missed
      pt(6, 50, 0.5), // genuine, triage: missed
      pt(7, 60, 0.69), // genuine, just below high: missed
      pt(8, 70, 0.2), // false alarm, not paged: free
      pt(9, 80, 0.99), // unlabelled, paged: a page, but no cost and no precision
    ];
    const incidents = [
      inc(1, true, 0),
      inc(2, true, 10),
      inc(3, false, 20),
      inc(4, false, 30),
      inc(5, true, 40),
      inc(6, true, 50),
      inc(7, true, 60),
      inc(8, false, 70),
      inc(9, false, 80, { labelled: false }),
    ];
    const costs = { falsePage: 3, missed: 7, delayPerMin: 0.5 };
    const o = evaluate(points, incidents, policy(), costs);
    expect(o.pages).toBe(5);
    expect(o.precision).toBe(2 / 4);
    expect(o.recall).toBe(2 / 5);
    expect(o.ttpP50).toBe(120);
    expect(o.cost).toBe(2 * 3 + 3 * 7 + (2 + 4) * 0.5);
  });

  it("never downgrades: a later lower score does not unpage, and a later higher one still pages", () => {
    const p = policy();
    const points = [pt(1, 0, 0.9), pt(2, 1, 0.5), pt(1, 5, 0.05), pt(2, 6, 0.05), pt(2, 20, 0.95)];
    const o = evaluate(points, [inc(1, true), inc(2, true)], p, { falsePage: 0, missed: 0, delayPerMin: 1 });
    expect(o.pages).toBe(2);
    expect(o.recall).toBe(1);
    // Incident 1 was paged at 0 (not unpaged at 5); incident 2 at 20.
    expect(o.cost).toBe(0 + 20);
    // The later low score alone would not page.
    expect(evaluate([pt(1, 5, 0.05)], [inc(1, true)], p, COSTS).pages).toBe(0);
  });

  describe("validation holds", () => {
    const crit = { severity: "critical" as Severity };

    it("pages at the window end when a later score inside the window reaches confirm_above", () => {
      // 0.1 holds (low, critical); 0.25 is still low but above confirm_above 0.2.
      const o = evaluate([pt(1, 0, 0.1, crit), pt(1, 5, 0.25, crit)], [inc(1, true)], policy(), COSTS);
      expect(o.pages).toBe(1);
      expect(o.ttpP50).toBe(600); // the window, not the 5 minutes the evidence took
      expect(o.cost).toBe(10 * 0.5);
    });

    it("counts a score that arrives exactly at the window end", () => {
      const o = evaluate([pt(1, 0, 0.1, crit), pt(1, 10, 0.25, crit)], [inc(1, true)], policy(), COSTS);
      expect(o.ttpP50).toBe(600);
    });

    it("does not page when the higher score arrives after the window", () => {
      const o = evaluate([pt(1, 0, 0.1, crit), pt(1, 11, 0.25, crit)], [inc(1, true)], policy(), COSTS);
      expect(o.pages).toBe(0);
      expect(o.recall).toBe(0);
      expect(o.cost).toBe(20);
    });

    it("does not page a hold whose score never reached confirm_above", () => {
      const o = evaluate([pt(1, 0, 0.1, crit), pt(1, 5, 0.15, crit)], [inc(1, true)], policy(), COSTS);
      expect(o.pages).toBe(0);
    });

    it("pages at once when a re-decision inside the window routes to page", () => {
      const o = evaluate([pt(1, 0, 0.1, crit), pt(1, 4, 0.9, crit)], [inc(1, true)], policy(), COSTS);
      expect(o.pages).toBe(1);
      expect(o.ttpP50).toBe(240);
    });

    it("ends the hold when a re-decision inside the window moves it to triage (as the engine does)", () => {
      // 0.5 is in the medium band: the engine confirms the hold early into triage, never a page.
      const o = evaluate([pt(1, 0, 0.1, crit), pt(1, 5, 0.5, crit)], [inc(1, true)], policy(), COSTS);
      expect(o.pages).toBe(0);
      expect(o.cost).toBe(20);
    });

    it("uses a candidate's hold window in place of the policy's", () => {
      const c: Candidate = { label: "hold=5m", bands: new Map(), holdMs: 5 * MIN };
      const p = withBands(policy(), c);
      const inside = evaluate([pt(1, 0, 0.1, crit), pt(1, 4, 0.25, crit)], [inc(1, true)], p, COSTS);
      expect(inside.ttpP50).toBe(300);
      const after = evaluate([pt(1, 0, 0.1, crit), pt(1, 6, 0.25, crit)], [inc(1, true)], p, COSTS);
      expect(after.pages).toBe(0);
    });
  });

  describe("peak load (team_pages_1h)", () => {
    const busy = policy({
      modifiers: [
        {
          id: "busy-team",
          when: { team_pages_1h: { at_least: 2 } },
          shift: { high: 0.2, medium: 0 },
          rationale: "A team already paged twice this hour: page on more evidence.",
        },
      ],
    });

    it("shifts thresholds once the team was paged N times in the last hour", () => {
      const points = [
        pt(1, 0, 0.95),
        pt(2, 10, 0.95),
        pt(3, 20, 0.8), // web paged twice: high is 0.9 now
        pt(4, 20, 0.8, { service: "db" }), // another team: unaffected
        pt(5, 75, 0.8), // an hour after incident 2's page: back to 0.7
      ];
      const incidents = [1, 2, 3, 4, 5].map((id) => inc(id, true));
      const o = evaluate(points, incidents, busy, COSTS);
      expect(o.pages).toBe(4);
      expect(o.recall).toBe(4 / 5);
      // Without the modifier all five page.
      expect(evaluate(points, incidents, policy(), COSTS).pages).toBe(5);
    });

    it("counts a page exactly one hour earlier, as the engine's [at - 1h, at] does", () => {
      const points = [pt(1, 0, 0.95), pt(2, 1, 0.95), pt(3, 60, 0.8), pt(4, 62, 0.8)];
      const o = evaluate(
        points,
        [1, 2, 3, 4].map((id) => inc(id, true)),
        busy,
        COSTS,
      );
      // Incident 3 sees both pages (at 0 and at 1); incident 4 sees neither.
      expect(o.pages).toBe(3);
      expect(o.recall).toBe(3 / 4);
    });

    it("recomputes the count from the candidate's own pages, not the recorded input's", () => {
      // Recorded as if the team had been paged 5 times: the candidate paged nobody yet.
      const alone = evaluate([pt(1, 0, 0.8, { teamPages1h: 5 })], [inc(1, true)], busy, COSTS);
      expect(alone.pages).toBe(1);
      // Two tier-2 pages, recorded as 0 pages: the current thresholds page them, so shop's 0.8
      // meets a shifted high of 0.9 ...
      const points = [pt(1, 0, 0.85), pt(2, 10, 0.85), pt(3, 20, 0.8, { service: "shop" })];
      const incidents = [inc(1, false), inc(2, false), inc(3, true)];
      const now = evaluate(points, incidents, busy, COSTS);
      expect(now.pages).toBe(2);
      expect(now.recall).toBe(0);
      // ... while a candidate that stops paging tier 2 at 0.85 leaves the team quiet, and pages it.
      const c: Candidate = {
        label: "2=0.9",
        bands: new Map([["2", { high: 0.9, medium: 0.3 }]]),
        holdMs: null,
      };
      const then = evaluate(points, incidents, withBands(busy, c), COSTS);
      expect(then.pages).toBe(1);
      expect(then.recall).toBe(1);
    });

    it("does not count muted decisions, as pages or at all", () => {
      const silence = { silence: { id: "7", comment: "known noise" } };
      const inhibited = { inhibitedBy: { rule: "down", rationale: "upstream is down" } };
      const points = [pt(1, 0, 0.95, silence), pt(2, 5, 0.95, inhibited), pt(3, 10, 0.8)];
      const incidents = [inc(1, true), inc(2, false), inc(3, true, 10)];
      const o = evaluate(points, incidents, busy, COSTS);
      // 1 and 2 are muted (not paged, and not the team's pages): 3 meets the usual 0.7.
      expect(o.pages).toBe(1);
      expect(o.precision).toBe(1);
      expect(o.recall).toBe(1 / 2);
      expect(o.cost).toBe(20 + 0);
    });

    it("pages a muted incident once a later decision is not muted", () => {
      const silence = { silence: { id: "7", comment: "known noise" } };
      const o = evaluate([pt(1, 0, 0.95, silence), pt(1, 4, 0.95)], [inc(1, true)], policy(), COSTS);
      expect(o.ttpP50).toBe(240);
    });
  });
});

describe("snapshot and countWindows", () => {
  it("freezes the incident's alert counts at the decision", () => {
    const live = new Map<number, number>([
      [10 * MIN, 3],
      [60 * MIN, 5],
    ]);
    const original = input(0, 0.4, { incidentAlertsWithin: (ms) => live.get(ms) ?? 0 });
    const snap = snapshot(original, [10 * MIN, 60 * MIN]);
    live.set(10 * MIN, 99);
    live.set(60 * MIN, 99);
    expect(original.incidentAlertsWithin(10 * MIN)).toBe(99);
    expect(snap.incidentAlertsWithin(10 * MIN)).toBe(3);
    expect(snap.incidentAlertsWithin(60 * MIN)).toBe(5);
    // A window the policy does not use was not kept.
    expect(snap.incidentAlertsWithin(5 * MIN)).toBe(0);
    expect(snap.score).toBe(0.4);
    expect(snap.at).toBe(original.at);
  });

  it("lists the count windows of rules and modifiers once each", () => {
    const p = policy({
      modifiers: [
        {
          id: "storm",
          when: { count: { alerts: 5, within: "10m" } },
          shift: { high: -0.1, medium: 0 },
          rationale: "Many alerts at once: likely real.",
        },
      ],
      rules: [
        {
          id: "burst",
          match: { count: { alerts: 3, within: "10m" } },
          route: { kind: "page" },
          rationale: "A burst pages.",
        },
        {
          id: "slow",
          match: { count: { alerts: 10, within: "1h" } },
          route: { kind: "triage" },
          rationale: "A slow pile-up.",
        },
        ...RULES,
      ],
    });
    expect(countWindows(p).sort((a, b) => a - b)).toEqual([10 * MIN, 60 * MIN]);
    expect(countWindows(policy())).toEqual([]);
  });
});

/** Effective thresholds for a tier under a candidate. */
function effective(p: Policy, c: Candidate, tier: number): Thresholds {
  const q = withBands(p, c);
  return q.bands.tiers.get(tier) ?? q.bands.default;
}

describe("tune", () => {
  const GENUINE = [0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9];
  const NOISE = [0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5];

  /** One point per incident, each an hour apart (no peak-load effects), all tier 2 warnings. */
  function synthetic(genuine: number[], noise: number[], service = "blog") {
    const points: Point[] = [];
    const incidents: Labelled[] = [];
    [...genuine.map((s) => [s, 1]), ...noise.map((s) => [s, 0])].forEach(([score, g], i) => {
      points.push(pt(i + 1, i * 90, score as number, { service }));
      incidents.push(inc(i + 1, g === 1, i * 90, { protected: TIER[service] === 0 }));
    });
    return { points, incidents };
  }

  it("finds the known best threshold: between the noise and the genuine scores", () => {
    const { points, incidents } = synthetic(GENUINE, NOISE);
    const p = policy();
    const r = tune(points, incidents, p, { falsePage: 1, missed: 20, delayPerMin: 0 }, 0.95);
    // Today: 0.6 and 0.65 are missed.
    expect(r.current.outcome.cost).toBe(40);
    expect(r.best.feasible).toBe(true);
    expect(r.best.outcome).toMatchObject({ cost: 0, recall: 1, precision: 1, pages: GENUINE.length });
    const high = effective(p, r.best.candidate, 2).high;
    expect(high).toBeGreaterThan(0.5);
    expect(high).toBeLessThanOrEqual(0.6);
    expect(r.best.candidate.bands.get("default")?.high).toBe(0.6);
    expect(r.tried[0]?.candidate.label).toBe("current");
  });

  // Genuine scores one per grid gap; three false alarms just above 0.5.
  const OVERLAP_GENUINE = [0.55, 0.65, 0.75, 0.85, 0.95];
  const OVERLAP_NOISE = [0.1, 0.2, 0.3, 0.4, 0.45, 0.52, 0.53, 0.54];
  const CHEAP_MISS = { falsePage: 1, missed: 1.5, delayPerMin: 0 };

  it("respects the recall floor when a candidate can meet it", () => {
    const { points, incidents } = synthetic(OVERLAP_GENUINE, OVERLAP_NOISE);
    const p = policy();
    // Unconstrained, missing 0.55 (1.5) is cheaper than three false pages (3).
    const free = tune(points, incidents, p, CHEAP_MISS, 0);
    expect(free.best.outcome.recall).toBe(4 / 5);
    expect(free.best.outcome.cost).toBe(1.5);
    // With a floor of 0.9 only full recall will do.
    const floored = tune(points, incidents, p, CHEAP_MISS, 0.9);
    expect(floored.best.feasible).toBe(true);
    expect(floored.best.outcome.recall).toBe(1);
    expect(floored.best.outcome.cost).toBe(3);
    const high = effective(p, floored.best.candidate, 2).high;
    expect(high).toBeGreaterThan(0.45);
    expect(high).toBeLessThanOrEqual(0.5);
    for (const t of floored.tried)
      expect(t.feasible).toBe(t.outcome.recall !== null && t.outcome.recall >= 0.9);
  });

  it("returns the highest-recall candidate, marked infeasible, when no candidate meets the floor", () => {
    // A genuine incident at 0.01 is below every threshold tried.
    const { points, incidents } = synthetic([0.01, ...OVERLAP_GENUINE], OVERLAP_NOISE);
    const r = tune(points, incidents, policy(), CHEAP_MISS, 1);
    expect(r.best.feasible).toBe(false);
    expect(r.best.outcome.recall).toBe(5 / 6);
  });

  it("never trades tier-0 recall for cost, even when that would be cheaper", () => {
    // Tier 0 pages at 0.5 today: one genuine incident at 0.55 and thirty false alarms above it.
    const p = policy({
      bands: { default: { high: 0.7, medium: 0.3 }, tiers: { "0": { high: 0.5, medium: 0.2 } } },
    });
    const noise = Array.from({ length: 30 }, (_, i) => 0.6 + i * 0.001);
    const costs = { falsePage: 1, missed: 20, delayPerMin: 0 };
    const { points, incidents } = synthetic([0.55], noise, "shop");
    const r = tune(points, incidents, p, costs, 0);
    expect(r.current.outcome).toMatchObject({ cost: 30, protectedRecall: 1 });
    // Not paging tier 0 at all would cost 20 ...
    const cheaper = r.tried.filter((t) => t.outcome.cost < r.best.outcome.cost);
    expect(cheaper.length).toBeGreaterThan(0);
    for (const t of cheaper) {
      expect(t.outcome.protectedRecall).toBe(0);
      expect(t.feasible).toBe(false);
    }
    // ... but the best keeps the genuine tier-0 incident paged.
    expect(r.best.feasible).toBe(true);
    expect(r.best.outcome.protectedRecall).toBe(1);
    expect(effective(p, r.best.candidate, 0).high).toBeLessThanOrEqual(0.55);
    // The same stream, not protected, is tuned to the cheaper answer: the guard is what held.
    const unprotected = incidents.map((i) => ({ ...i, protected: false }));
    const free = tune(points, unprotected, p, costs, 0);
    expect(free.best.outcome.cost).toBe(20);
    expect(free.best.outcome.recall).toBe(0);
  });

  describe("properties", () => {
    const pointArb = fc.record({
      incident: fc.integer({ min: 1, max: 8 }),
      gapMin: fc.integer({ min: 0, max: 40 }),
      score: fc.double({ min: 0, max: 1, noNaN: true }),
      critical: fc.boolean(),
      muted: fc.boolean(),
      service: fc.constantFrom("shop", "blog", "db"),
    });
    const labelArb = fc.record({ genuine: fc.boolean(), labelled: fc.boolean(), protected: fc.boolean() });
    const caseArb = fc.record({
      points: fc.array(pointArb, { minLength: 0, maxLength: 40 }),
      labels: fc.array(labelArb, { minLength: 8, maxLength: 8 }),
      high: fc.constantFrom(0.05, 0.2, 0.5, 0.7, 0.9),
      holdMin: fc.constantFrom(null, 5, 30),
    });

    type Case = typeof caseArb extends fc.Arbitrary<infer C> ? C : never;

    function build(c: Case) {
      let minute = 0;
      const points: Point[] = c.points.map((x) => {
        minute += x.gapMin;
        return pt(x.incident, minute, x.score, {
          service: x.service,
          severity: x.critical ? "critical" : "warning",
          ...(x.muted ? { silence: { id: "1", comment: "muted" } } : {}),
        });
      });
      const incidents = c.labels.map((l, i) =>
        inc(i + 1, l.genuine, 0, { labelled: l.labelled, protected: l.protected }),
      );
      const candidate: Candidate = {
        label: "x",
        bands: new Map([["default", { high: c.high, medium: c.high / 2 }]]),
        holdMs: c.holdMin === null ? null : c.holdMin * MIN,
      };
      return { points, incidents, candidate };
    }

    const inUnit = (v: number | null) => v === null || (v >= 0 && v <= 1);

    it("pages = the incidents with an unmuted score at or above high (no holds in play)", () => {
      // Without the validate rule, an incident is paged exactly when some unmuted score reached high.
      const noHold = policy({ rules: RULES.filter((r) => r.route.kind !== "validate") });
      fc.assert(
        fc.property(caseArb, (c) => {
          const { points, incidents, candidate } = build(c);
          const o = evaluate(points, incidents, withBands(noHold, candidate), COSTS);
          const paged = new Set(
            points
              .filter((p) => p.input.silence === null && p.input.score >= c.high)
              .map((p) => p.incidentId),
          );
          expect(o.pages).toBe(paged.size);
          const labelled = incidents.filter((i) => i.labelled);
          const hits = labelled.filter((i) => i.genuine && paged.has(i.id)).length;
          const genuine = labelled.filter((i) => i.genuine).length;
          const pagedLabelled = labelled.filter((i) => paged.has(i.id)).length;
          expect(o.recall).toBe(genuine === 0 ? null : hits / genuine);
          expect(o.precision).toBe(pagedLabelled === 0 ? null : hits / pagedLabelled);
        }),
        { numRuns: 300 },
      );
    });

    it("with holds: pages never exceed the incidents, ratios stay in [0, 1] or null, cost is not negative", () => {
      fc.assert(
        fc.property(caseArb, (c) => {
          const { points, incidents, candidate } = build(c);
          const o = evaluate(points, incidents, withBands(policy(), candidate), COSTS);
          const decided = new Set(points.filter((p) => p.input.silence === null).map((p) => p.incidentId));
          expect(o.pages).toBeLessThanOrEqual(decided.size);
          expect(o.pages).toBeGreaterThanOrEqual(0);
          expect(inUnit(o.precision)).toBe(true);
          expect(inUnit(o.recall)).toBe(true);
          expect(inUnit(o.protectedRecall)).toBe(true);
          expect(o.cost).toBeGreaterThanOrEqual(0);
          expect(o.ttpP50 === null || o.ttpP50 >= 0).toBe(true);
          // Nothing labelled genuine: no recall; nothing labelled paged: no precision.
          if (!incidents.some((i) => i.labelled && i.genuine)) expect(o.recall).toBeNull();
          if (o.pages === 0) expect(o.precision).toBeNull();
        }),
        { numRuns: 300 },
      );
    });
  });
});
