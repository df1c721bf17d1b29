import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { logit, sigmoid } from "../../../src/core/scoring/logistic.js";
import { fitPlatt, plattLogit, predictPlatt } from "../../../src/core/scoring/platt.js";

/** Rows whose weights are the exact expected counts of σ(a·s + b): the MLE is then (a, b). */
function expectedCounts(a: number, b: number) {
  const scores: number[] = [];
  const labels: number[] = [];
  const weights: number[] = [];
  for (let s = -3; s <= 3; s += 0.5) {
    const p = sigmoid(a * s + b);
    scores.push(s, s);
    labels.push(1, 0);
    weights.push(100 * p, 100 * (1 - p));
  }
  return { scores, labels, weights };
}

describe("fitPlatt", () => {
  it("recovers the slope and intercept that generated the data", () => {
    const { scores, labels, weights } = expectedCounts(1.5, -0.4);
    const raw = fitPlatt(scores, labels, { weights, smoothTargets: false, l2: 0 });
    expect(raw.converged).toBe(true);
    expect(raw.a).toBeCloseTo(1.5, 9);
    expect(raw.b).toBeCloseTo(-0.4, 9);
    // Smoothed targets with ~1300 weighted samples move the answer only a little, toward 0.
    const smooth = fitPlatt(scores, labels, { weights });
    expect(smooth.a).toBeCloseTo(1.5, 1);
    expect(smooth.a).toBeLessThan(1.5);
    expect(smooth.b).toBeCloseTo(-0.4, 1);
  });

  it("uses Platt's targets (N₊+1)/(N₊+2) and 1/(N₋+2)", () => {
    // One class of 3 genuine: every target is 4/5, so the slope is 0 and p = 0.8 everywhere.
    const one = fitPlatt([0.1, 0.5, 2], [1, 1, 1]);
    expect(one.converged).toBe(true);
    expect(one.a).toBeCloseTo(0, 6);
    expect(predictPlatt(one, -10)).toBeCloseTo(0.8, 6);
    expect(predictPlatt(one, 10)).toBeCloseTo(0.8, 6);
    // Equal scores, 2 genuine and 2 false: targets 3/4 and 1/4 average to 1/2.
    const flat = fitPlatt([1, 1, 1, 1], [1, 0, 1, 0]);
    expect(flat.converged).toBe(true);
    expect(predictPlatt(flat, 1)).toBeCloseTo(0.5, 6);
    // 1 genuine and 3 false at distinct scores: targets 2/3 and 1/5, so log loss can never be ∞.
    const sep = fitPlatt([0, 1, 2, 3], [0, 0, 0, 1], { l2: 0 });
    expect(sep.converged).toBe(true);
    const p3 = predictPlatt(sep, 3);
    expect(p3).toBeGreaterThan(0.5);
    expect(p3).toBeLessThan(2 / 3 + 1e-9);
  });

  it("stays finite and increasing on perfectly separated scores", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: -400, max: 400 }), { minLength: 2, maxLength: 40 }),
        fc.integer({ min: 1, max: 39 }),
        (raw, cut) => {
          const scores = raw.map((v) => v / 8).sort((a, b) => a - b); // distinct, up to ±50
          const k = Math.min(cut, scores.length - 1);
          const labels = scores.map((_, i) => (i >= k ? 1 : 0));
          const fit = fitPlatt(scores, labels);
          expect(fit.converged).toBe(true);
          expect(Number.isFinite(fit.a) && Number.isFinite(fit.b)).toBe(true);
          expect(fit.a).toBeGreaterThanOrEqual(0);
          const lo = predictPlatt(fit, scores[0] as number);
          const hi = predictPlatt(fit, scores[scores.length - 1] as number);
          expect(lo).toBeGreaterThan(0);
          expect(hi).toBeLessThan(1);
          expect(hi).toBeGreaterThanOrEqual(lo);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("plattLogit is the log-odds of predictPlatt", () => {
    const m = { a: 2, b: -1 };
    expect(plattLogit(m, 0.75)).toBe(0.5);
    expect(logit(predictPlatt(m, 0.75))).toBeCloseTo(0.5, 12);
  });

  it("rejects labels other than 0/1 when smoothing, and length mismatches", () => {
    expect(() => fitPlatt([1, 2], [1, 0.5])).toThrow(RangeError);
    expect(() => fitPlatt([1, 2], [1])).toThrow(RangeError);
    expect(fitPlatt([1, 2], [0.9, 0.1], { smoothTargets: false }).a).toBeLessThan(0);
  });
});
