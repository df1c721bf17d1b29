/**
 * Platt scaling: p = σ(a·score + b), a 1-D logistic regression on a score (often a logit or an
 * upstream detector's z). Two parameters, so it needs far less data than isotonic regression, at
 * the price of assuming the miscalibration has a sigmoid shape.
 *
 * By default it fits Platt's smoothed targets (N₊ + 1)/(N₊ + 2) for genuine and 1/(N₋ + 2) for
 * false alarms instead of 1 and 0: the fit stays finite on separable or one-class data, and small
 * samples are pulled toward 1/2 rather than to certainty.
 */

import { fitLogistic, sigmoid } from "./logistic.js";

export interface PlattModel {
  /** Slope; > 0 when higher scores mean more genuine. */
  readonly a: number;
  readonly b: number;
}

export interface PlattFit extends PlattModel {
  readonly iterations: number;
  readonly converged: boolean;
}

export interface PlattOptions {
  /** Sample weights ≥ 0; default 1 each. N₊ and N₋ are then weighted counts. */
  weights?: ArrayLike<number>;
  /** Default true: Platt's smoothed targets (labels must then be 0 or 1). */
  smoothTargets?: boolean;
  /**
   * L2 on the slope. Default 1e-6: negligible, but it makes the answer unique (slope 0) when every
   * score is the same and the slope is otherwise undetermined.
   */
  l2?: number;
}

/** Labels: 1 = genuine, 0 = false alarm (or soft targets in [0, 1] with smoothTargets: false). */
export function fitPlatt(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  opts: PlattOptions = {},
): PlattFit {
  const { weights, smoothTargets = true, l2 = 1e-6 } = opts;
  const n = scores.length;
  if (labels.length !== n) throw new RangeError(`fitPlatt: ${labels.length} labels for ${n} scores`);
  let targets: ArrayLike<number> = labels;
  if (smoothTargets) {
    let pos = 0;
    let neg = 0;
    for (let i = 0; i < n; i++) {
      const y = labels[i];
      const w = weights === undefined ? 1 : (weights[i] as number);
      if (y === 1) pos += w;
      else if (y === 0) neg += w;
      else throw new RangeError(`fitPlatt: label ${i} must be 0 or 1 when targets are smoothed`);
    }
    const hi = (pos + 1) / (pos + 2);
    const lo = 1 / (neg + 2);
    targets = Array.from(labels, (y) => (y === 1 ? hi : lo));
  }
  const rows = Array.from(scores, (s) => [s]);
  const fit = fitLogistic(rows, targets, { l2, weights });
  return { a: fit.weights[0] as number, b: fit.bias, iterations: fit.iterations, converged: fit.converged };
}

/** a·score + b: the calibrated log-odds. Allocation-free. */
export function plattLogit(model: PlattModel, score: number): number {
  return model.a * score + model.b;
}

/** σ(a·score + b): the calibrated probability. Allocation-free. */
export function predictPlatt(model: PlattModel, score: number): number {
  return sigmoid(model.a * score + model.b);
}
