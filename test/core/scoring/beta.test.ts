import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  betaLogOdds,
  betaMean,
  betaPosterior,
  betaPrior,
  betaVariance,
  shrinkToward,
} from "../../../src/core/scoring/beta.js";

const mean = fc.double({ min: 0.001, max: 0.999, noNaN: true });
const strength = fc.double({ min: 0.01, max: 1000, noNaN: true });
const count = fc.integer({ min: 0, max: 500 });

describe("Beta–Bernoulli posteriors", () => {
  it("known priors, posteriors, means and variances", () => {
    expect(betaPrior(0.2, 10)).toEqual({ alpha: 2, beta: 8 });
    const post = betaPosterior({ alpha: 2, beta: 3 }, 3, 1);
    expect(post).toEqual({ alpha: 5, beta: 4 });
    expect(betaMean(post)).toBeCloseTo(5 / 9, 15);
    expect(betaVariance(post)).toBeCloseTo((5 * 4) / (81 * 10), 15);
    expect(betaLogOdds(post)).toBeCloseTo(Math.log(5 / 4), 15);
    // Uniform prior: Laplace's rule of succession (k + 1) / (n + 2).
    expect(betaMean(betaPosterior({ alpha: 1, beta: 1 }, 7, 3))).toBeCloseTo(8 / 12, 15);
  });

  it("learning one outcome at a time equals learning the counts at once", () => {
    fc.assert(
      fc.property(mean, strength, fc.array(fc.boolean(), { maxLength: 50 }), (m, s, outcomes) => {
        let b = betaPrior(m, s);
        for (const genuine of outcomes) b = betaPosterior(b, genuine ? 1 : 0, genuine ? 0 : 1);
        const g = outcomes.filter(Boolean).length;
        const batch = betaPosterior(betaPrior(m, s), g, outcomes.length - g);
        expect(b.alpha).toBeCloseTo(batch.alpha, 9);
        expect(b.beta).toBeCloseTo(batch.beta, 9);
      }),
    );
  });

  it("rejects impossible priors and counts", () => {
    expect(() => betaPrior(0, 10)).toThrow(RangeError);
    expect(() => betaPrior(1, 10)).toThrow(RangeError);
    expect(() => betaPrior(0.5, 0)).toThrow(RangeError);
    expect(() => betaPosterior({ alpha: 1, beta: 1 }, -1, 0)).toThrow(RangeError);
    expect(() => betaPosterior({ alpha: 1, beta: 1 }, 0, Number.NaN)).toThrow(RangeError);
    expect(() => shrinkToward({ alpha: 1, beta: 1 }, Number.POSITIVE_INFINITY, 0, 0)).toThrow(RangeError);
  });
});

describe("shrinkToward (alertname toward its source)", () => {
  it("a known answer: parent mean 0.3, strength 5, child 4 genuine of 5 → (1.5 + 4) / 10", () => {
    const parent = betaPosterior(betaPrior(0.5, 2), 2, 6); // Beta(3, 7), mean 0.3
    const child = shrinkToward(parent, 5, 4, 1);
    expect(child.alpha).toBeCloseTo(5.5, 14);
    expect(child.beta).toBeCloseTo(4.5, 14);
    expect(betaMean(child)).toBeCloseTo(0.55, 14);
  });

  it("with zero observations the child equals the parent", () => {
    fc.assert(
      fc.property(mean, strength, strength, (m, s, k) => {
        const parent = betaPrior(m, s);
        expect(betaMean(shrinkToward(parent, k, 0, 0))).toBeCloseTo(betaMean(parent), 12);
      }),
    );
  });

  it("lies between the parent's mean and the child's own rate, closer to the parent as strength grows", () => {
    fc.assert(
      fc.property(mean, strength, count, count, (m, s, g, f) => {
        fc.pre(g + f > 0);
        const parent = betaPrior(m, 10);
        const own = g / (g + f);
        const child = betaMean(shrinkToward(parent, s, g, f));
        expect(child).toBeGreaterThanOrEqual(Math.min(m, own) - 1e-12);
        expect(child).toBeLessThanOrEqual(Math.max(m, own) + 1e-12);
        const stronger = betaMean(shrinkToward(parent, s * 2, g, f));
        expect(Math.abs(stronger - m)).toBeLessThanOrEqual(Math.abs(child - m) + 1e-12);
      }),
    );
  });
});
