import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_STRENGTHS,
  Learning,
  type PriorStrengths,
  RECENT_HALF_LIFE,
} from "../../../src/core/scoring/learning.js";

const S: PriorStrengths = { source: 4, rule: 4 };

function recordMany(l: Learning, source: string, alertname: string, genuine: number, falseAlarms: number) {
  for (let i = 0; i < genuine; i++) l.record(source, alertname, true);
  for (let i = 0; i < falseAlarms; i++) l.record(source, alertname, false);
}

describe("Learning.rate known answers", () => {
  it("with no outcomes at all, a rule's rate is the inventory reliability", () => {
    const l = new Learning();
    expect(l.rate("metrics", "Latency", 0.6, S)).toBeCloseTo(0.6, 15);
    expect(l.rate("metrics", "Latency", 0.1, DEFAULT_STRENGTHS)).toBeCloseTo(0.1, 15);
  });

  it("one rule with 10 false alarms: its own rate and a new rule's rate", () => {
    const l = new Learning();
    recordMany(l, "metrics", "Noisy", 0, 10);
    // The rule under the inventory prior Beta(2, 2): 2 / 14 = 1/7.
    // The source's typical rule: mean of the inventory (0.5) and that rule (1/7) = 9/28.
    const parent = 9 / 28;
    expect(l.rate("metrics", "Fresh", 0.5, S)).toBeCloseTo(parent, 12);
    // The rule itself: Beta(4 * 9/28, 4 * 19/28) plus 0 genuine, 10 false.
    expect(l.rate("metrics", "Noisy", 0.5, S)).toBeCloseTo((4 * parent) / (4 + 10), 12);
    // Another source is untouched.
    expect(l.rate("logs", "Fresh", 0.5, S)).toBeCloseTo(0.5, 15);
  });

  it("genuine and false outcomes on two rules (hand-computed posterior)", () => {
    const l = new Learning();
    recordMany(l, "s", "A", 3, 1);
    recordMany(l, "s", "B", 0, 2);
    const rel = 0.3;
    // Inventory prior Beta(1.2, 2.8); A: (1.2+3)/(4+4) = 0.525; B: 1.2/(4+2) = 0.2.
    const parent = (rel + 0.525 + 0.2) / 3;
    const want = (4 * parent + 3) / (4 + 4);
    expect(l.rate("s", "A", rel, S)).toBeCloseTo(want, 12);
    // Stronger rule priors hold a rule nearer its source.
    const strong = l.rate("s", "A", rel, { source: 4, rule: 40 });
    expect(strong).toBeCloseTo((40 * parent + 3) / (40 + 4), 12);
    expect(Math.abs(strong - parent)).toBeLessThan(Math.abs(want - parent));
  });

  it("a never-seen rule gets the source's typical rule: one chatty false rule does not drag it to ~0", () => {
    const l = new Learning();
    recordMany(l, "logs", "Chatty", 0, 5000);
    const fresh = l.rate("logs", "BrandNew", 0.6, S);
    // Inventory 0.6 and Chatty ~0 averaged: about 0.3, not ~0 (a pooled source rate would be ~0.0005).
    expect(fresh).toBeGreaterThan(0.29);
    expect(fresh).toBeLessThan(0.31);
    // Several good rules pull the typical rule back up, the chatty one still counting only once.
    recordMany(l, "logs", "Good1", 5, 0);
    recordMany(l, "logs", "Good2", 5, 0);
    expect(l.rate("logs", "BrandNew", 0.6, S)).toBeGreaterThan(0.55);
  });

  it("the rate follows a changed reliability or strength (no stale cache)", () => {
    const l = new Learning();
    recordMany(l, "s", "A", 2, 2);
    const a = l.rate("s", "B", 0.2, S);
    const b = l.rate("s", "B", 0.8, S);
    const c = l.rate("s", "B", 0.8, { source: 40, rule: 4 });
    expect(b).toBeGreaterThan(a);
    expect(c).not.toBeCloseTo(b, 6);
    // New outcomes are seen at once.
    l.record("s", "A", true);
    expect(l.rate("s", "B", 0.8, { source: 40, rule: 4 })).toBeGreaterThan(c);
  });
});

describe("Learning.record with weights", () => {
  it("a negative weight takes an outcome back", () => {
    const l = new Learning();
    const before = l.rate("s", "A", 0.4, S);
    l.record("s", "A", true, 1, 0);
    expect(l.rate("s", "A", 0.4, S)).toBeGreaterThan(before);
    l.record("s", "A", true, -1, 0);
    expect(l.ruleCounts("s", "A")).toEqual({ genuine: 0, falseAlarms: 0 });
    expect(l.rate("s", "A", 0.4, S)).toBeCloseTo(before, 12);
  });

  it("never goes below zero", () => {
    const l = new Learning();
    l.record("s", "A", false, 2);
    l.record("s", "A", false, -5);
    l.record("s", "A", true, -3);
    expect(l.ruleCounts("s", "A")).toEqual({ genuine: 0, falseAlarms: 0 });
    const r = l.rate("s", "A", 0.4, S);
    expect(r).toBeGreaterThan(0);
    expect(r).toBeLessThan(1);
    expect(l.toJSON().sources).toEqual([["s", { genuine: 0, falseAlarms: 0 }]]);
    expect(l.recentRate("s", "A", 0.4, 0)).toBeCloseTo(0.4, 12);
  });

  it("property: counts stay >= 0 and rates stay in (0, 1) under any weights", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            name: fc.constantFrom("A", "B"),
            genuine: fc.boolean(),
            weight: fc.double({ min: -3, max: 3, noNaN: true }),
          }),
          { maxLength: 40 },
        ),
        (ops) => {
          const l = new Learning();
          for (const o of ops) l.record("s", o.name, o.genuine, o.weight);
          for (const name of ["A", "B", "C"]) {
            const c = l.ruleCounts("s", name);
            expect(c.genuine).toBeGreaterThanOrEqual(0);
            expect(c.falseAlarms).toBeGreaterThanOrEqual(0);
            const r = l.rate("s", name, 0.3, S);
            expect(r).toBeGreaterThan(0);
            expect(r).toBeLessThan(1);
          }
        },
      ),
    );
  });
});

describe("Learning.recentRate", () => {
  const H = RECENT_HALF_LIFE;

  it("with no outcomes it is the all-time rate", () => {
    expect(new Learning().recentRate("s", "A", 0.37, 123)).toBe(0.37);
  });

  it("recent outcomes fade with the half-life toward the all-time rate (known values)", () => {
    const l = new Learning();
    for (let i = 0; i < 4; i++) l.record("s", "A", true, 1, 0);
    // (g + 2·a) / (g + f + 2) with g = 4·0.5^(t/H), f = 0, a = 0.2.
    expect(l.recentRate("s", "A", 0.2, 0)).toBeCloseTo(4.4 / 6, 12);
    expect(l.recentRate("s", "A", 0.2, H)).toBeCloseTo(2.4 / 4, 12);
    expect(l.recentRate("s", "A", 0.2, 2 * H)).toBeCloseTo(1.4 / 3, 12);
    expect(l.recentRate("s", "A", 0.2, 60 * H)).toBeCloseTo(0.2, 6);
    // A query before the last outcome does not grow the counts.
    expect(l.recentRate("s", "A", 0.2, -H)).toBeCloseTo(4.4 / 6, 12);
  });

  it("older outcomes weigh less than newer ones when recorded", () => {
    const l = new Learning();
    l.record("s", "A", false, 1, 0);
    l.record("s", "A", true, 1, H);
    // At H: false decayed to 0.5, genuine 1: (1 + 2·0.5) / (1.5 + 2).
    expect(l.recentRate("s", "A", 0.5, H)).toBeCloseTo(2 / 3.5, 12);
    // An outcome recorded late but dated earlier does not move the clock back.
    l.record("s", "A", true, 1, 0);
    expect(l.recentRate("s", "A", 0.5, H)).toBeCloseTo(3 / 4.5, 12);
  });

  it("property: the recent rate lies between the all-time rate and the recent outcomes' rate, nearing the all-time rate", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 0, max: 20 }),
        fc.double({ min: 0.01, max: 0.99, noNaN: true }),
        fc.integer({ min: 0, max: 30 }),
        (g, f, allTime, halfLives) => {
          const l = new Learning();
          for (let i = 0; i < g; i++) l.record("s", "A", true, 1, 0);
          for (let i = 0; i < f; i++) l.record("s", "A", false, 1, 0);
          const now = l.recentRate("s", "A", allTime, halfLives * H);
          const later = l.recentRate("s", "A", allTime, (halfLives + 1) * H);
          const observed = g + f === 0 ? allTime : g / (g + f);
          const eps = 1e-12;
          expect(now).toBeGreaterThanOrEqual(Math.min(allTime, observed) - eps);
          expect(now).toBeLessThanOrEqual(Math.max(allTime, observed) + eps);
          expect(Math.abs(later - allTime)).toBeLessThanOrEqual(Math.abs(now - allTime) + eps);
        },
      ),
    );
  });
});

describe("Learning JSON", () => {
  it("toJSON / fromJSON round trip gives the same rates", () => {
    const l = new Learning();
    recordMany(l, "metrics", "Latency", 7, 3);
    recordMany(l, "metrics", "Disk", 0, 12);
    recordMany(l, "logs", "Errors", 2, 2);
    l.record("logs", "Errors", true, 0.5);
    l.record("pager:duty", "odd name with spaces", false, 2);
    const json = JSON.parse(JSON.stringify(l.toJSON()));
    const back = Learning.fromJSON(json);
    expect(back.toJSON()).toEqual(l.toJSON());
    for (const [source, name] of [
      ["metrics", "Latency"],
      ["metrics", "Disk"],
      ["metrics", "Never"],
      ["logs", "Errors"],
      ["pager:duty", "odd name with spaces"],
      ["unknown", "x"],
    ] as const) {
      for (const rel of [0.1, 0.6]) {
        expect(back.rate(source, name, rel, S), `${source} ${name}`).toBeCloseTo(
          l.rate(source, name, rel, S),
          12,
        );
      }
    }
  });

  it("toJSON holds per-source and per-rule counts", () => {
    const l = new Learning();
    recordMany(l, "s", "A", 2, 1);
    recordMany(l, "s", "B", 0, 3);
    const j = l.toJSON();
    expect(j.sources).toEqual([["s", { genuine: 2, falseAlarms: 4 }]]);
    expect(j.rules).toEqual([
      ["s", "A", { genuine: 2, falseAlarms: 1 }],
      ["s", "B", { genuine: 0, falseAlarms: 3 }],
    ]);
  });

  // A restart rebuilds Learning from stored counts (service.ts activeScoring, model-file.ts) the
  // same way; if the recent rate is lost there, the `recent` feature changes across a restart.
  it("outcomes / restore (what the store keeps across a restart) round trip keeps the recent rate", () => {
    const at = Date.parse("2026-11-30T12:00:00Z");
    const l = new Learning();
    for (let i = 0; i < 4; i++) l.record("s", "A", true, 1, at);
    l.record("s", "B", false, 1, at - 3_600_000);
    const back = Learning.restore(JSON.parse(JSON.stringify(l.outcomes())));
    expect(back.outcomes()).toEqual(l.outcomes());
    expect(back.rate("s", "A", 0.2, S)).toBeCloseTo(l.rate("s", "A", 0.2, S), 12);
    expect(back.recentRate("s", "A", 0.2, at)).toBeCloseTo(l.recentRate("s", "A", 0.2, at), 12);
  });
});
