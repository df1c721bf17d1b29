import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fitIsotonic, type IsotonicModel, predictIsotonic } from "../../../src/core/scoring/isotonic.js";

const fitted = (m: IsotonicModel, x: number[]) => x.map((v) => predictIsotonic(m, v));

const sse = (f: number[], y: number[], w: number[]) =>
  f.reduce((acc, v, i) => acc + (w[i] as number) * (v - (y[i] as number)) ** 2, 0);

/**
 * Independent reference: the min–max formula for isotonic regression on distinct sorted x,
 * f_i = max_{j ≤ i} min_{k ≥ i} (weighted mean of y_j..y_k). O(n³), fine for small n.
 * Ties are pooled first (weighted mean, summed weight), as the model promises.
 */
function reference(x: number[], y: number[], w: number[]): Map<number, number> {
  const groups = new Map<number, { w: number; wy: number }>();
  x.forEach((xi, i) => {
    const g = groups.get(xi) ?? { w: 0, wy: 0 };
    g.w += w[i] as number;
    g.wy += (w[i] as number) * (y[i] as number);
    groups.set(xi, g);
  });
  const keys = [...groups.keys()].sort((a, b) => a - b);
  const gw = keys.map((k) => (groups.get(k) as { w: number }).w);
  const gwy = keys.map((k) => (groups.get(k) as { wy: number }).wy);
  const out = new Map<number, number>();
  keys.forEach((key, i) => {
    let best = Number.NEGATIVE_INFINITY;
    for (let j = 0; j <= i; j++) {
      let worst = Number.POSITIVE_INFINITY;
      for (let k = i; k < keys.length; k++) {
        let sw = 0;
        let swy = 0;
        for (let t = j; t <= k; t++) {
          sw += gw[t] as number;
          swy += gwy[t] as number;
        }
        worst = Math.min(worst, swy / sw);
      }
      best = Math.max(best, worst);
    }
    out.set(key, best);
  });
  return out;
}

/** Small data sets with many ties in x (integers 0..8), real or 0/1 y, positive weights. */
const points = fc.array(
  fc.record({
    x: fc.integer({ min: 0, max: 8 }),
    y: fc.oneof(fc.constantFrom(0, 1), fc.double({ min: -10, max: 10, noNaN: true })),
    w: fc.double({ min: 0.1, max: 5, noNaN: true }),
  }),
  { minLength: 1, maxLength: 14 },
);
const unpack = (ps: { x: number; y: number; w: number }[]) => ({
  x: ps.map((p) => p.x),
  y: ps.map((p) => p.y),
  w: ps.map((p) => p.w),
});

describe("fitIsotonic known answers", () => {
  it("pools one violating pair, and interpolates between knots", () => {
    const m = fitIsotonic([0, 1, 2, 3], [1, 3, 2, 4]);
    expect(fitted(m, [0, 1, 2, 3])).toEqual([1, 2.5, 2.5, 4]);
    expect(Array.from(m.xs)).toEqual([0, 1, 2, 3]);
    expect(predictIsotonic(m, 0.5)).toBeCloseTo(1.75, 15);
    expect(predictIsotonic(m, 1.5)).toBe(2.5);
    expect(predictIsotonic(m, -100)).toBe(1);
    expect(predictIsotonic(m, 100)).toBe(4);
    expect(predictIsotonic(m, Number.NaN)).toBeNaN();
  });

  it("uses the weights when pooling", () => {
    const m = fitIsotonic([0, 1, 2, 3], [1, 3, 2, 4], { weights: [1, 1, 3, 1] });
    expect(fitted(m, [0, 1, 2, 3])).toEqual([1, 2.25, 2.25, 4]);
    expect(predictIsotonic(m, 0.5)).toBeCloseTo(1.625, 15);
  });

  it("turns decreasing data into its mean, stored as two knots", () => {
    const m = fitIsotonic([5, 6, 7], [3, 2, 1]);
    expect(Array.from(m.xs)).toEqual([5, 7]);
    expect(Array.from(m.ys)).toEqual([2, 2]);
  });

  it("pools equal x before fitting, whatever the input order", () => {
    const m = fitIsotonic([2, 1, 1], [0.2, 1, 0]);
    expect(predictIsotonic(m, 1)).toBeCloseTo(0.4, 15);
    expect(predictIsotonic(m, 2)).toBeCloseTo(0.4, 15);
    // A tie must not pool into a block that an equal mean merged earlier: x = 0 keeps its 0.
    const n = fitIsotonic([6, 6, 0], [0, 1, 0]);
    expect(fitted(n, [0, 6])).toEqual([0, 0.5]);
  });

  it("ignores zero-weight points", () => {
    const m = fitIsotonic([0, 1, 2], [0, 100, 1], { weights: [1, 0, 1] });
    expect(Array.from(m.xs)).toEqual([0, 2]);
    expect(Array.from(m.ys)).toEqual([0, 1]);
  });

  it("clips to [eps, 1 − eps] for probabilities", () => {
    const m = fitIsotonic([0.1, 0.2, 0.7, 0.9], [0, 0, 1, 1], { eps: 0.01 });
    expect(fitted(m, [0.1, 0.2, 0.7, 0.9])).toEqual([0.01, 0.01, 0.99, 0.99]);
    expect(predictIsotonic(m, 0.45)).toBeCloseTo(0.5, 12);
  });

  it("rejects malformed input", () => {
    expect(() => fitIsotonic([], [])).toThrow(RangeError);
    expect(() => fitIsotonic([1], [1, 2])).toThrow(RangeError);
    expect(() => fitIsotonic([Number.NaN], [1])).toThrow(RangeError);
    expect(() => fitIsotonic([1], [1], { weights: [0] })).toThrow(RangeError);
    expect(() => fitIsotonic([1], [1], { weights: [-1] })).toThrow(RangeError);
    expect(() => fitIsotonic([1], [1], { eps: 0.5 })).toThrow(RangeError);
  });
});

describe("fitIsotonic properties", () => {
  it("is non-decreasing in x, at the training points and anywhere else", () => {
    fc.assert(
      fc.property(
        points,
        fc.array(fc.double({ min: -2, max: 10, noNaN: true }), { maxLength: 30 }),
        (ps, probes) => {
          const { x, y, w } = unpack(ps);
          const m = fitIsotonic(x, y, { weights: w });
          for (let k = 1; k < m.ys.length; k++) expect(m.ys[k]).toBeGreaterThanOrEqual(m.ys[k - 1] as number);
          for (let k = 1; k < m.xs.length; k++) expect(m.xs[k]).toBeGreaterThan(m.xs[k - 1] as number);
          const sorted = [...probes, ...x].sort((a, b) => a - b);
          const f = fitted(m, sorted);
          for (let k = 1; k < f.length; k++) expect(f[k]).toBeGreaterThanOrEqual(f[k - 1] as number);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("keeps the weighted mean of y", () => {
    fc.assert(
      fc.property(points, (ps) => {
        const { x, y, w } = unpack(ps);
        const f = fitted(fitIsotonic(x, y, { weights: w }), x);
        const mean = (v: number[]) =>
          v.reduce((a, b, i) => a + b * (w[i] as number), 0) / w.reduce((a, b) => a + b);
        expect(mean(f)).toBeCloseTo(mean(y), 9);
      }),
      { numRuns: 300 },
    );
  });

  it("equals the min–max formula (the exact optimum), ties included", () => {
    fc.assert(
      fc.property(points, (ps) => {
        const { x, y, w } = unpack(ps);
        const m = fitIsotonic(x, y, { weights: w });
        const ref = reference(x, y, w);
        for (const [xi, v] of ref) expect(predictIsotonic(m, xi)).toBeCloseTo(v, 9);
      }),
      { numRuns: 300 },
    );
  });

  it("has no larger squared error than any other non-decreasing fit we can draw", () => {
    fc.assert(
      fc.property(
        points,
        fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 9, maxLength: 9 }),
        (ps, levels) => {
          const { x, y, w } = unpack(ps);
          const f = fitted(fitIsotonic(x, y, { weights: w }), x);
          // A competitor: any non-decreasing step function of x ∈ 0..8 (sorted random levels).
          const step = [...levels].sort((a, b) => a - b);
          const g = x.map((xi) => step[xi] as number);
          expect(sse(f, y, w)).toBeLessThanOrEqual(sse(g, y, w) + 1e-9);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("is idempotent, and leaves already-monotone data unchanged", () => {
    fc.assert(
      fc.property(points, (ps) => {
        const { x, y, w } = unpack(ps);
        const f = fitted(fitIsotonic(x, y, { weights: w }), x);
        const again = fitted(fitIsotonic(x, f, { weights: w }), x);
        again.forEach((v, i) => {
          expect(v).toBeCloseTo(f[i] as number, 12);
        });
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 1, maxLength: 20 }),
        (vs) => {
          const y = [...vs].sort((a, b) => a - b);
          const x = y.map((_, i) => i);
          fitted(fitIsotonic(x, y), x).forEach((v, i) => {
            expect(v).toBeCloseTo(y[i] as number, 12); // equal up to rounding (−0 and 0 merge)
          });
        },
      ),
    );
  });
});
