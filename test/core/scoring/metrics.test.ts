import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  brierScore,
  brierSkill,
  expectedCalibrationError,
  logLoss,
  probabilityMetrics,
  reliabilityTable,
  rocAuc,
} from "../../../src/core/scoring/metrics.js";

/** O(n²) reference: fraction of (genuine, false) pairs ordered correctly, ties counting 1/2. */
function pairwiseAuc(s: number[], y: number[]): number | null {
  let wins = 0;
  let pairs = 0;
  s.forEach((si, i) => {
    s.forEach((sj, j) => {
      if (y[i] === 1 && y[j] === 0) {
        pairs++;
        wins += si > sj ? 1 : si === sj ? 0.5 : 0;
      }
    });
  });
  return pairs === 0 ? null : wins / pairs;
}

/** Scores on a 1/8 grid (exact in doubles, many ties) with 0/1 labels. */
const scored = fc.array(fc.record({ s: fc.integer({ min: -50, max: 50 }), y: fc.constantFrom(0, 1) }), {
  maxLength: 40,
});
const split = (rows: { s: number; y: number }[]) => ({
  s: rows.map((r) => r.s / 8),
  y: rows.map((r) => r.y),
});

describe("rocAuc", () => {
  it("known answers: perfect, reversed, all tied, a tie between classes, one class", () => {
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
    expect(rocAuc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1])).toBe(0);
    expect(rocAuc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBe(0.5);
    // pairs (0.4>0.1) 1, (0.4=0.4) ½, (0.8>0.1) 1, (0.8>0.4) 1 → 3.5 / 4
    expect(rocAuc([0.1, 0.4, 0.4, 0.8], [0, 1, 0, 1])).toBe(0.875);
    expect(rocAuc([-1e9, Number.POSITIVE_INFINITY], [0, 1])).toBe(1); // any ordered score works
    expect(rocAuc([0.3, 0.7], [1, 1])).toBeNull();
    expect(rocAuc([], [])).toBeNull();
  });

  it("equals the pairwise definition", () => {
    fc.assert(
      fc.property(scored, (rows) => {
        const { s, y } = split(rows);
        const auc = rocAuc(s, y);
        const ref = pairwiseAuc(s, y);
        if (ref === null) expect(auc).toBeNull();
        else expect(auc).toBeCloseTo(ref, 12);
      }),
      { numRuns: 300 },
    );
  });

  it("is invariant under strictly increasing transforms of the scores", () => {
    const transforms = [
      (x: number) => x ** 3 + x,
      (x: number) => Math.exp(x),
      (x: number) => 1 / (1 + Math.exp(-x)),
    ];
    fc.assert(
      fc.property(scored, (rows) => {
        const { s, y } = split(rows);
        const auc = rocAuc(s, y);
        for (const f of transforms) expect(rocAuc(s.map(f), y)).toBe(auc);
      }),
      { numRuns: 300 },
    );
  });

  it("AUC(s) + AUC(−s) = 1 (ties count ½ both ways, so this holds with ties too)", () => {
    fc.assert(
      fc.property(scored, (rows) => {
        const { s, y } = split(rows);
        const a = rocAuc(s, y);
        const b = rocAuc(
          s.map((v) => -v),
          y,
        );
        if (a === null) expect(b).toBeNull();
        else expect(a + (b as number)).toBeCloseTo(1, 12);
      }),
      { numRuns: 300 },
    );
  });
});

describe("Brier score and skill", () => {
  it("known answers", () => {
    expect(brierScore([0.9, 0.2], [1, 0])).toBeCloseTo((0.01 + 0.04) / 2, 15);
    expect(brierScore([1, 0], [1, 0])).toBe(0);
    expect(brierScore([], [])).toBeNull();
    expect(brierSkill([1, 0, 0, 1], [1, 0, 0, 1])).toBe(1);
    expect(brierSkill([0.5, 0.5], [1, 1])).toBeNull(); // one class: the reference Brier is 0
    // base rate 1/4: reference Brier 3/16; predicting 1/2 everywhere scores 1/4 → skill −1/3
    expect(brierSkill([0.5, 0.5, 0.5, 0.5], [1, 0, 0, 0])).toBeCloseTo(-1 / 3, 14);
  });

  it("predicting the constant base rate has skill 0", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(0, 1), { minLength: 1, maxLength: 50 }), (y) => {
        const rate = y.reduce<number>((a, b) => a + b, 0) / y.length;
        const skill = brierSkill(
          y.map(() => rate),
          y,
        );
        if (rate === 0 || rate === 1) expect(skill).toBeNull();
        else expect(skill).toBeCloseTo(0, 12);
      }),
    );
  });
});

describe("logLoss", () => {
  it("known answers, and clipping keeps a confident mistake finite", () => {
    expect(logLoss([0.5, 0.5, 0.5], [1, 0, 1])).toBeCloseTo(Math.LN2, 15);
    expect(logLoss([0.9, 0.2], [1, 0])).toBeCloseTo(-(Math.log(0.9) + Math.log(0.8)) / 2, 15);
    expect(logLoss([0], [1])).toBeCloseTo(-Math.log(1e-15), 10);
    expect(logLoss([1], [0], 1e-6)).toBeCloseTo(-Math.log(1e-6), 8);
    expect(logLoss([], [])).toBeNull();
  });
});

describe("reliability table and ECE", () => {
  it("a hand-computed table", () => {
    const probs = [0.05, 0.15, 0.15, 0.95, 1];
    const labels = [0, 1, 0, 1, 1];
    const table = reliabilityTable(probs, labels);
    expect(table).toHaveLength(10);
    expect(table[0]).toEqual({ lo: 0, hi: 0.1, count: 1, meanScore: 0.05, genuineRate: 0 });
    expect(table[1]).toMatchObject({ count: 2, meanScore: 0.15, genuineRate: 0.5 });
    expect(table[5]).toEqual({ lo: 0.5, hi: 0.6, count: 0, meanScore: null, genuineRate: null });
    expect(table[9]).toMatchObject({ lo: 0.9, hi: 1, count: 2, meanScore: 0.975, genuineRate: 1 });
    // (1·0.05 + 2·0.35 + 2·0.025) / 5
    expect(expectedCalibrationError(probs, labels)).toBeCloseTo(0.16, 15);
  });

  it("puts a probability on a bin edge into the bin that starts there", () => {
    const edges = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
    const table = reliabilityTable(
      edges,
      edges.map(() => 0),
    );
    for (const bin of table) expect(bin.count).toBe(1);
    expect(reliabilityTable([1], [1])[9]?.count).toBe(1);
    // Where floor(p·bins) alone is off by one: 15/22·22 rounds below 15, and the double just
    // below 9/14 times 14 rounds up to 9.
    expect(reliabilityTable([15 / 22], [1], 22)[15]?.count).toBe(1);
    const below = 9 / 14 - Number.EPSILON * (9 / 14);
    expect(below).toBeLessThan(9 / 14);
    expect(reliabilityTable([below], [1], 14)[8]?.count).toBe(1);
  });

  it("is 0 when every bin's genuine rate equals its mean score", () => {
    expect(
      expectedCalibrationError(
        [0.25, 0.25, 0.25, 0.25, 0.8, 0.8, 0.8, 0.8, 0.8],
        [1, 0, 0, 0, 1, 1, 1, 1, 0],
      ),
    ).toBe(0);
  });

  it("lies in [0, 1], and the counts add up", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ p: fc.double({ min: 0, max: 1, noNaN: true }), y: fc.constantFrom(0, 1) }), {
          minLength: 1,
          maxLength: 60,
        }),
        (rows) => {
          const p = rows.map((r) => r.p);
          const y = rows.map((r) => r.y);
          const ece = expectedCalibrationError(p, y) as number;
          expect(ece).toBeGreaterThanOrEqual(0);
          expect(ece).toBeLessThanOrEqual(1);
          const table = reliabilityTable(p, y);
          expect(table.reduce((a, b) => a + b.count, 0)).toBe(rows.length);
          for (const b of table) {
            if (b.meanScore !== null) {
              expect(b.meanScore).toBeGreaterThanOrEqual(b.lo);
              expect(b.meanScore).toBeLessThanOrEqual(b.hi);
            }
          }
        },
      ),
    );
  });
});

describe("probabilityMetrics", () => {
  it("bundles every metric in one object", () => {
    const p = [0.05, 0.15, 0.15, 0.95, 1];
    const y = [0, 1, 0, 1, 1];
    const m = probabilityMetrics(p, y);
    expect(m).toEqual({
      count: 5,
      genuine: 3,
      auc: rocAuc(p, y),
      brier: brierScore(p, y),
      brierSkill: brierSkill(p, y),
      logLoss: logLoss(p, y),
      ece: expectedCalibrationError(p, y),
      reliability: reliabilityTable(p, y),
    });
    expect(probabilityMetrics([], [])).toMatchObject({ count: 0, auc: null, brier: null, ece: null });
  });

  it("rejects malformed input", () => {
    expect(() => brierScore([0.5], [2])).toThrow(RangeError);
    expect(() => brierScore([1.5], [1])).toThrow(RangeError);
    expect(() => logLoss([Number.NaN], [1])).toThrow(RangeError);
    expect(() => rocAuc([Number.NaN, 1], [0, 1])).toThrow(RangeError);
    expect(() => rocAuc([1], [0, 1])).toThrow(RangeError);
    expect(() => reliabilityTable([0.5], [1], 0)).toThrow(RangeError);
  });
});
