/**
 * Weighted isotonic regression by pool-adjacent-violators (PAVA): the non-decreasing function of
 * x closest to y in weighted squared error. Used to recalibrate a score into a probability.
 *
 * Equal x values are pooled first, so they always get one fitted value (the function must be a
 * function of x). Prediction between training points interpolates linearly between the knots and
 * is flat beyond the ends (as scikit-learn's IsotonicRegression does): a score between two
 * calibrated levels gets a probability between them rather than a jump at an arbitrary point.
 */

export interface IsotonicModel {
  /** Knot positions, strictly increasing: each pooled block's lowest and (if different) highest x. */
  readonly xs: Float64Array;
  /** Fitted value at each knot, non-decreasing. */
  readonly ys: Float64Array;
}

export interface IsotonicOptions {
  /** Sample weights ≥ 0; default 1 each. Points with weight 0 are ignored. */
  weights?: ArrayLike<number>;
  /**
   * Clip fitted values to [eps, 1 − eps], for probabilities: a block with no genuine alert must not
   * claim certainty (log loss would be infinite). Clipping keeps the fit monotone but breaks the
   * equal-weighted-mean property a little. Default: no clipping.
   */
  eps?: number;
}

export function fitIsotonic(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  opts: IsotonicOptions = {},
): IsotonicModel {
  const { weights, eps } = opts;
  const n = x.length;
  if (y.length !== n) throw new RangeError(`fitIsotonic: ${y.length} values for ${n} points`);
  if (weights !== undefined && weights.length !== n) {
    throw new RangeError(`fitIsotonic: ${weights.length} weights for ${n} points`);
  }
  if (eps !== undefined && !(eps >= 0 && eps < 0.5)) {
    throw new RangeError("fitIsotonic: eps must be in [0, 0.5)");
  }

  const order: number[] = [];
  for (let i = 0; i < n; i++) {
    const w = weights === undefined ? 1 : (weights[i] as number);
    if (!Number.isFinite(x[i]) || !Number.isFinite(y[i])) {
      throw new RangeError(`fitIsotonic: point ${i} is not finite`);
    }
    if (!(w >= 0) || !Number.isFinite(w)) {
      throw new RangeError(`fitIsotonic: weight ${i} must be finite and ≥ 0`);
    }
    if (w > 0) order.push(i);
  }
  if (order.length === 0) throw new RangeError("fitIsotonic: no points with positive weight");
  order.sort((a, b) => (x[a] as number) - (x[b] as number));

  // Pool equal x first (ties are one point), and only then run PAVA over the distinct values:
  // pooling a tie into an already-merged block would drag the block's other points along.
  const gx: number[] = [];
  const gw: number[] = [];
  const gwy: number[] = [];
  for (const i of order) {
    const w = weights === undefined ? 1 : (weights[i] as number);
    const last = gx.length - 1;
    if (last >= 0 && gx[last] === x[i]) {
      gw[last] = (gw[last] as number) + w;
      gwy[last] = (gwy[last] as number) + w * (y[i] as number);
    } else {
      gx.push(x[i] as number);
      gw.push(w);
      gwy.push(w * (y[i] as number));
    }
  }

  // The stack of blocks: [lo, hi] x-range, total weight, weighted sum of y. Block means stay
  // strictly increasing: a new block that is not above the top one is merged into it.
  const lo: number[] = [];
  const hi: number[] = [];
  const sw: number[] = [];
  const swy: number[] = [];
  for (let g = 0; g < gx.length; g++) {
    lo.push(gx[g] as number);
    hi.push(gx[g] as number);
    sw.push(gw[g] as number);
    swy.push(gwy[g] as number);
    while (lo.length > 1) {
      const k = lo.length - 1;
      if ((swy[k - 1] as number) / (sw[k - 1] as number) < (swy[k] as number) / (sw[k] as number)) break;
      hi[k - 1] = hi[k] as number;
      sw[k - 1] = (sw[k - 1] as number) + (sw[k] as number);
      swy[k - 1] = (swy[k - 1] as number) + (swy[k] as number);
      lo.pop();
      hi.pop();
      sw.pop();
      swy.pop();
    }
  }

  const xs: number[] = [];
  const ys: number[] = [];
  for (let k = 0; k < lo.length; k++) {
    let v = (swy[k] as number) / (sw[k] as number);
    if (eps !== undefined) v = Math.min(Math.max(v, eps), 1 - eps);
    xs.push(lo[k] as number);
    ys.push(v);
    if ((hi[k] as number) > (lo[k] as number)) {
      xs.push(hi[k] as number);
      ys.push(v);
    }
  }
  return { xs: Float64Array.from(xs), ys: Float64Array.from(ys) };
}

/**
 * The fitted function at x: linear between knots, constant beyond the first and last knot.
 * Binary search, no allocation (hot path). NaN in, NaN out.
 */
export function predictIsotonic(model: IsotonicModel, x: number): number {
  const { xs, ys } = model;
  const last = xs.length - 1;
  if (Number.isNaN(x)) return Number.NaN;
  if (x <= (xs[0] as number)) return ys[0] as number;
  if (x >= (xs[last] as number)) return ys[last] as number;
  // Invariant: xs[a] ≤ x < xs[b].
  let a = 0;
  let b = last;
  while (b - a > 1) {
    const mid = (a + b) >>> 1;
    if ((xs[mid] as number) <= x) a = mid;
    else b = mid;
  }
  const x0 = xs[a] as number;
  const y0 = ys[a] as number;
  const y1 = ys[b] as number;
  const v = y0 + ((x - x0) / ((xs[b] as number) - x0)) * (y1 - y0);
  return Math.min(v, y1); // rounding must never step above the next knot (keeps it monotone)
}
