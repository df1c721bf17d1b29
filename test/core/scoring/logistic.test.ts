import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BIAS_LIMIT,
  fitLogistic,
  type LogisticModel,
  logisticObjective,
  logit,
  predictLogit,
  predictProbability,
  sigmoid,
  softplus,
} from "../../../src/core/scoring/logistic.js";

/** The penalized objective written naively and independently of the module (moderate z only). */
function naiveObjective(theta: number[], rows: number[][], y: number[], l2: number, s?: number[]): number {
  const d = theta.length - 1;
  let f = 0;
  rows.forEach((row, i) => {
    let z = theta[d] as number;
    for (let j = 0; j < d; j++) z += (theta[j] as number) * (row[j] as number);
    const p = 1 / (1 + Math.exp(-z));
    f += (s?.[i] ?? 1) * -((y[i] as number) * Math.log(p) + (1 - (y[i] as number)) * Math.log(1 - p));
  });
  for (let j = 0; j < d; j++) f += 0.5 * l2 * (theta[j] as number) ** 2;
  return f;
}

/** Central finite differences of the naive objective at the fitted point. */
function numericGradient(
  m: LogisticModel,
  rows: number[][],
  y: number[],
  l2: number,
  s?: number[],
): number[] {
  const theta = [...m.weights, m.bias];
  return theta.map((v, j) => {
    const h = 1e-6 * Math.max(1, Math.abs(v));
    const up = theta.slice();
    const down = theta.slice();
    up[j] = v + h;
    down[j] = v - h;
    return (naiveObjective(up, rows, y, l2, s) - naiveObjective(down, rows, y, l2, s)) / (2 * h);
  });
}

const maxAbs = (v: number[]) => Math.max(0, ...v.map(Math.abs));

/** Small random data sets: 1–4 features in [-3, 3], optional positive weights. */
const dataSet = fc.integer({ min: 1, max: 4 }).chain((d) =>
  fc.record({
    points: fc.array(
      fc.record({
        x: fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: d, maxLength: d }),
        y: fc.constantFrom(0, 1),
        s: fc.double({ min: 0.1, max: 5, noNaN: true }),
      }),
      { minLength: 2, maxLength: 30 },
    ),
    l2: fc.double({ min: 0.01, max: 10, noNaN: true }),
    weighted: fc.boolean(),
  }),
);

describe("sigmoid, logit, softplus", () => {
  it("stay finite and accurate at extreme arguments", () => {
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(800)).toBe(1);
    expect(sigmoid(-800)).toBe(0);
    expect(sigmoid(-40)).toBeCloseTo(Math.exp(-40) / (1 + Math.exp(-40)), 30);
    expect(softplus(1000)).toBe(1000);
    expect(softplus(-1000)).toBe(0);
    expect(softplus(-40) / Math.exp(-40)).toBeCloseTo(1, 12); // relative accuracy where the naive form rounds to 0
    expect(softplus(0)).toBeCloseTo(Math.LN2, 15);
    expect(logit(0.5)).toBe(0);
    expect(logit(0)).toBe(-Infinity);
    expect(logit(1)).toBe(Infinity);
    // (for large positive z, 1 − σ(z) keeps few digits in a double: the round trip is exact only up to ~15)
    for (const z of [-30, -5, -0.1, 0.3, 7, 15]) expect(logit(sigmoid(z))).toBeCloseTo(z, 8);
  });
});

describe("fitLogistic known answers", () => {
  it("with no features, the bias is the logit of the (weighted) base rate", () => {
    const rows = [[], [], [], [], []];
    const fit = fitLogistic(rows, [1, 0, 0, 1, 0], { l2: 1 });
    expect(fit.converged).toBe(true);
    expect(fit.weights).toEqual([]);
    expect(fit.bias).toBeCloseTo(logit(0.4), 12);
    const weighted = fitLogistic(rows, [1, 0, 0, 1, 0], { l2: 1, weights: [3, 1, 1, 1, 0] });
    expect(weighted.bias).toBeCloseTo(logit(4 / 6), 12);
  });

  it("a feature independent of the label gets weight 0 and the bias is logit(mean)", () => {
    // Every value of x has the same genuine rate 1/4, so the gradient in w vanishes at w = 0.
    const rows: number[][] = [];
    const y: number[] = [];
    for (const x of [-1, 0, 2.5]) {
      for (let k = 0; k < 4; k++) {
        rows.push([x]);
        y.push(k === 0 ? 1 : 0);
      }
    }
    for (const l2 of [0, 0.5, 10]) {
      const fit = fitLogistic(rows, y, { l2 });
      expect(fit.converged).toBe(true);
      expect(fit.weights[0]).toBeCloseTo(0, 10);
      expect(fit.bias).toBeCloseTo(logit(0.25), 10);
    }
  });

  it("unregularized with one binary feature reproduces the two group log-odds exactly", () => {
    // x = 0: 1 of 5 genuine; x = 1: 3 of 4 genuine. The saturated model's MLE is closed form.
    const rows = [[0], [0], [0], [0], [0], [1], [1], [1], [1]];
    const y = [1, 0, 0, 0, 0, 1, 1, 1, 0];
    const fit = fitLogistic(rows, y, { l2: 0 });
    expect(fit.converged).toBe(true);
    expect(fit.bias).toBeCloseTo(logit(0.2), 10);
    expect(fit.weights[0]).toBeCloseTo(logit(0.75) - logit(0.2), 10);
  });

  it("with l2 > 0 on symmetric data, matches the root of the 1-D stationarity equation", () => {
    // n rows at x = +1 with k genuine, n at x = −1 with n − k genuine: b = 0 by symmetry and
    // w solves n(2σ(w) − 1) − (2k − n) + l2·w = 0, found here by bisection.
    const n = 10;
    const k = 8;
    const l2 = 3;
    const rows: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < n; i++) {
      rows.push([1], [-1]);
      y.push(i < k ? 1 : 0, i < n - k ? 1 : 0);
    }
    const h = (w: number) => n * (2 * sigmoid(w) - 1) - (2 * k - n) + l2 * w;
    let lo = 0;
    let hi = 10;
    for (let it = 0; it < 200; it++) {
      const mid = (lo + hi) / 2;
      if (h(mid) > 0) hi = mid;
      else lo = mid;
    }
    const fit = fitLogistic(rows, y, { l2 });
    expect(fit.bias).toBeCloseTo(0, 10);
    expect(fit.weights[0]).toBeCloseTo(lo, 10);
    expect(fit.weights[0]).toBeLessThan(logit(k / n)); // shrunk below the unregularized answer
  });

  it("matches an independent optimizer (scipy BFGS + Newton-CG) on weighted data", () => {
    // Reference computed once with numpy/scipy on this exact data (gradient norm < 1e-11).
    const rows = [
      [0.5, -1.2],
      [1.5, 0.3],
      [-0.7, 0.8],
      [2.0, 1.1],
      [-1.3, -0.4],
      [0.1, 0.0],
      [1.1, -0.9],
      [-0.2, 1.7],
      [0.9, 0.6],
      [-1.8, -1.1],
      [0.4, 0.2],
      [1.7, -0.3],
    ];
    const y = [0, 1, 0, 1, 0, 1, 0, 1, 1, 0, 0, 1];
    const weights = [1, 2, 1, 0.5, 1, 1, 3, 1, 1, 1, 0.25, 1];
    const fit = fitLogistic(rows, y, { l2: 0.7, weights });
    expect(fit.converged).toBe(true);
    expect(fit.weights[0]).toBeCloseTo(1.048685289878272, 9);
    expect(fit.weights[1]).toBeCloseTo(1.51104157148284, 9);
    expect(fit.bias).toBeCloseTo(-0.609670808954451, 9);
    expect(logisticObjective(fit, rows, y, { l2: 0.7, weights })).toBeCloseTo(5.569744587921299, 10);
    expect(fit.iterations).toBeLessThan(15);
  });
});

describe("fitLogistic properties", () => {
  it("the penalized objective's numerical gradient is ~0 at the returned point", () => {
    fc.assert(
      fc.property(dataSet, ({ points, l2, weighted }) => {
        const rows = points.map((p) => p.x);
        const y = points.map((p) => p.y);
        const s = weighted ? points.map((p) => p.s) : undefined;
        const fit = fitLogistic(rows, y, { l2, weights: s });
        if (y.every((v) => v === y[0])) {
          // one class: no finite optimum, reported as such
          expect(fit.converged).toBe(false);
          expect(Math.abs(fit.bias)).toBe(BIAS_LIMIT);
          return;
        }
        expect(fit.converged).toBe(true);
        const total = s ? s.reduce((a, b) => a + b, 0) : rows.length;
        expect(maxAbs(numericGradient(fit, rows, y, l2, s))).toBeLessThan(1e-5 * (1 + total));
        // and the module's objective agrees with the naive one
        const naive = naiveObjective([...fit.weights, fit.bias], rows, y, l2, s);
        expect(logisticObjective(fit, rows, y, { l2, weights: s })).toBeCloseTo(naive, 9);
      }),
      { numRuns: 200 },
    );
  });

  it("flipping every label negates every parameter", () => {
    fc.assert(
      fc.property(dataSet, ({ points, l2 }) => {
        const rows = points.map((p) => p.x);
        const y = points.map((p) => p.y);
        const a = fitLogistic(rows, y, { l2 });
        const b = fitLogistic(
          rows,
          y.map((v) => 1 - v),
          { l2 },
        );
        expect(b.bias).toBeCloseTo(-a.bias, 6);
        a.weights.forEach((w, j) => {
          expect(b.weights[j]).toBeCloseTo(-w, 6);
        });
      }),
      { numRuns: 100 },
    );
  });

  it("an integer weight equals repeating the row; a zero weight equals dropping it", () => {
    const rows = [[0.2], [1.4], [-0.5], [0.9], [-1.1], [0.3]];
    const y = [0, 1, 0, 1, 1, 0];
    const weighted = fitLogistic(rows, y, { l2: 0.3, weights: [1, 3, 1, 0, 2, 1] });
    const expanded = fitLogistic(
      [[0.2], [1.4], [1.4], [1.4], [-0.5], [-1.1], [-1.1], [0.3]],
      [0, 1, 1, 1, 0, 1, 1, 0],
      { l2: 0.3 },
    );
    expect(weighted.bias).toBeCloseTo(expanded.bias, 10);
    expect(weighted.weights[0]).toBeCloseTo(expanded.weights[0] as number, 10);
  });

  it("scaling all sample weights by c is the same fit as scaling l2 by 1/c", () => {
    fc.assert(
      fc.property(dataSet, fc.double({ min: 0.01, max: 100, noNaN: true }), ({ points, l2 }, c) => {
        const rows = points.map((p) => p.x);
        const y = points.map((p) => p.y);
        const s = points.map((p) => p.s);
        const a = fitLogistic(rows, y, { l2, weights: s });
        const b = fitLogistic(rows, y, { l2: l2 * c, weights: s.map((v) => v * c) });
        expect(b.bias).toBeCloseTo(a.bias, 6);
        a.weights.forEach((w, j) => {
          expect(b.weights[j]).toBeCloseTo(w, 6);
        });
      }),
      { numRuns: 100 },
    );
  });

  it("scaling a feature by c with l2 by c² divides its weight by c", () => {
    const rows = [[0.2], [1.4], [-0.5], [0.9], [-1.1], [0.3], [2.2]];
    const y = [0, 1, 0, 1, 1, 0, 1];
    const a = fitLogistic(rows, y, { l2: 0.4 });
    const b = fitLogistic(
      rows.map((r) => [(r[0] as number) * 1000]),
      y,
      { l2: 0.4 * 1e6 },
    );
    expect(b.converged).toBe(true);
    expect((b.weights[0] as number) * 1000).toBeCloseTo(a.weights[0] as number, 8);
    expect(b.bias).toBeCloseTo(a.bias, 8);
  });
});

describe("fitLogistic numerical safety", () => {
  it("perfectly separable data converges to finite parameters when l2 > 0", () => {
    const rows = [[-3], [-2], [-1.5], [-1], [1], [1.5], [2], [3]];
    const y = [0, 0, 0, 0, 1, 1, 1, 1];
    const fit = fitLogistic(rows, y, { l2: 0.01 });
    expect(fit.converged).toBe(true);
    expect(Number.isFinite(fit.weights[0])).toBe(true);
    expect(fit.weights[0]).toBeGreaterThan(3);
    expect(maxAbs(numericGradient(fit, rows, y, 0.01))).toBeLessThan(1e-6);
    // Without a penalty the optimum is at infinity: reported, not silently "converged".
    const free = fitLogistic(rows, y, { l2: 0, maxIter: 30 });
    expect(free.converged).toBe(false);
    expect(free.iterations).toBe(30);
  });

  it("a single class is reported as not converged, with finite parameters predicting that class", () => {
    const rows = [
      [0.1, 2],
      [1, -1],
      [-0.4, 0.5],
    ];
    const ones = fitLogistic(rows, [1, 1, 1], { l2: 1 });
    expect(ones.converged).toBe(false);
    expect(ones).toMatchObject({ weights: [0, 0], bias: BIAS_LIMIT });
    for (const r of rows) expect(predictProbability(ones, r)).toBeGreaterThan(1 - 1e-9);
    const zeros = fitLogistic(rows, [0, 0, 0], { l2: 1 });
    for (const r of rows) expect(predictProbability(zeros, r)).toBeLessThan(1e-9);
  });

  it("collinear features with a negligible l2 still converge (damped Newton)", () => {
    const rows = [
      [1, 2],
      [2, 4],
      [3, 6],
      [4, 8],
      [5, 10],
    ];
    const y = [0, 1, 0, 1, 1];
    const fit = fitLogistic(rows, y, { l2: 1e-9 });
    expect(fit.converged).toBe(true);
    expect(maxAbs(numericGradient(fit, rows, y, 1e-9))).toBeLessThan(1e-6);
    expect(fit.weights[1]).toBeCloseTo(2 * (fit.weights[0] as number), 6); // minimum-norm split
  });

  it("accepts Float64Array rows and soft labels", () => {
    const rows = [Float64Array.of(0), Float64Array.of(1)];
    const fit = fitLogistic(rows, [0.2, 0.9], { l2: 0 });
    expect(predictProbability(fit, rows[0] as Float64Array)).toBeCloseTo(0.2, 9);
    expect(predictProbability(fit, rows[1] as Float64Array)).toBeCloseTo(0.9, 9);
    expect(predictLogit(fit, [1])).toBeCloseTo(logit(0.9), 9);
  });

  it("rejects malformed input", () => {
    expect(() => fitLogistic([], [], { l2: 1 })).toThrow(RangeError);
    expect(() => fitLogistic([[1]], [1, 0], { l2: 1 })).toThrow(RangeError);
    expect(() => fitLogistic([[1], [1, 2]], [1, 0], { l2: 1 })).toThrow(RangeError);
    expect(() => fitLogistic([[Number.NaN]], [1], { l2: 1 })).toThrow(RangeError);
    expect(() => fitLogistic([[1]], [2], { l2: 1 })).toThrow(RangeError);
    expect(() => fitLogistic([[1]], [1], { l2: -1 })).toThrow(RangeError);
    expect(() => fitLogistic([[1]], [1], { l2: 1, weights: [0] })).toThrow(RangeError);
    expect(() => fitLogistic([[1]], [1], { l2: 1, weights: [-1] })).toThrow(RangeError);
  });
});
