/**
 * L2-regularized logistic regression, fitted by damped Newton steps (IRLS) with a backtracking
 * line search. It minimizes the penalized negative log-likelihood
 *
 *   F(w, b) = Σ_i s_i · [softplus(z_i) − y_i·z_i] + (l2 / 2)·‖w‖²,   z_i = w·x_i + b
 *
 * The penalty is added to the *sum* of the weighted losses (not their mean), so multiplying every
 * sample weight by c is the same fit as dividing l2 by c. The bias is never penalized. Labels may
 * be soft (any value in [0, 1]); Platt's smoothed targets rely on that.
 *
 * Each loss term is computed as y·softplus(−z) + (1 − y)·softplus(z), which equals the form above
 * but never subtracts two large numbers, so F is accurate to rounding even where z is large.
 *
 * Features are few (tens at most), so the (d+1)² Hessian is formed and solved by Cholesky.
 * Features are used as given: standardize them first, or l2 means different things per feature.
 */

export type Row = ArrayLike<number>;

export interface LogisticModel {
  readonly weights: readonly number[];
  readonly bias: number;
}

export interface LogisticFit extends LogisticModel {
  /** Newton steps taken. */
  readonly iterations: number;
  /**
   * True when every |∂F/∂θ_j| ≤ tol·(1 + Σ_i s_i·|x_ij|) and the next Newton step would move no
   * row's log-odds by more than stepTol. False when there is no finite optimum (one class only;
   * separable data with l2 = 0), when maxIter ran out, or when the line search stalled.
   * The step test is what tells a true optimum from a divergent one: there the gradient vanishes
   * too, but every Newton step keeps moving the separated rows' log-odds by about 1.
   */
  readonly converged: boolean;
}

export interface LogisticOptions {
  /** L2 strength on the weights (not the bias); must be ≥ 0. With 0, separable data diverges. */
  l2: number;
  /** Sample weights s_i ≥ 0; default 1 each. */
  weights?: ArrayLike<number>;
  /** Default 100; Newton usually needs fewer than 15. */
  maxIter?: number;
  /** Gradient tolerance, relative to each coordinate's scale Σ s_i·|x_ij|; default 1e-10. */
  tol?: number;
  /** Largest change of any row's log-odds by the next Newton step; default 1e-4. (The step is then
   * taken, and Newton's error after it is about its square.) */
  stepTol?: number;
  /**
   * A fixed log-odds offset per row: z_i = offset_i + w·x_i + b. With the offset being a prior
   * model's log-odds, the L2 penalty pulls toward that model instead of toward zero.
   */
  offsets?: ArrayLike<number>;
  /** L2 strength on the bias (default 0: unpenalized). With offsets, it keeps a tiny data set
   * from moving the prior model's base rate. */
  l2Bias?: number;
}

/** |bias| reported when every label is the same class and the optimum is at infinity. */
export const BIAS_LIMIT = 30;

/** σ(z) = 1 / (1 + e^−z), without overflow for large |z|. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** log(p / (1 − p)); ±Infinity at 0 and 1. */
export function logit(p: number): number {
  return Math.log(p) - Math.log1p(-p);
}

/** log(1 + e^z), exact for large |z| where the naive form overflows or loses everything. */
export function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/** The linear predictor w·x + b (log-odds). Allocation-free: this is on the scoring hot path. */
export function predictLogit(model: LogisticModel, row: Row): number {
  const w = model.weights;
  let z = model.bias;
  for (let j = 0; j < w.length; j++) z += (w[j] as number) * (row[j] as number);
  return z;
}

export function predictProbability(model: LogisticModel, row: Row): number {
  return sigmoid(predictLogit(model, row));
}

/** F(w, b) above, for reporting training loss and for checking a fit. */
export function logisticObjective(
  model: LogisticModel,
  rows: readonly Row[],
  labels: ArrayLike<number>,
  opts: Pick<LogisticOptions, "l2" | "weights">,
): number {
  let f = 0;
  for (let i = 0; i < rows.length; i++) {
    f += sampleWeight(opts.weights, i) * loss(predictLogit(model, rows[i] as Row), labels[i] as number);
  }
  let ww = 0;
  for (const w of model.weights) ww += w * w;
  return f + 0.5 * opts.l2 * ww;
}

export function fitLogistic(
  rows: readonly Row[],
  labels: ArrayLike<number>,
  opts: LogisticOptions,
): LogisticFit {
  const n = rows.length;
  const d = n > 0 ? (rows[0] as Row).length : 0;
  const m = d + 1; // parameters: weights then bias
  // gradTol[j] starts as Σ s_i·|x_ij|, the largest |∂F/∂θ_j| could be (bias: x = 1).
  const gradTol = new Float64Array(m);
  const totalWeight = validate(rows, labels, opts, d, gradTol);
  const { l2, weights: sw } = opts;
  const off = opts.offsets;
  const l2Bias = opts.l2Bias ?? 0;
  if (off !== undefined && off.length !== n)
    throw new RangeError(`fitLogistic: ${off.length} offsets for ${n} rows`);
  const maxIter = opts.maxIter ?? 100;
  const tol = opts.tol ?? 1e-10;
  for (let j = 0; j < m; j++) gradTol[j] = tol * (1 + (gradTol[j] as number));
  const stepTol = opts.stepTol ?? 1e-4;

  let yMean = 0;
  for (let i = 0; i < n; i++) yMean += sampleWeight(sw, i) * (labels[i] as number);
  yMean /= totalWeight;
  if (yMean <= 0 || yMean >= 1) {
    // One class only: the infimum is at bias ±∞ with w = 0. Say so instead of iterating there.
    return {
      weights: new Array<number>(d).fill(0),
      bias: yMean <= 0 ? -BIAS_LIMIT : BIAS_LIMIT,
      iterations: 0,
      converged: false,
    };
  }
  // Start at w = 0 and the bias of the base rate: the exact answer when no feature carries signal.
  let theta = new Float64Array(m);
  // With offsets the base rate is already in them; otherwise start at the base rate's log-odds.
  theta[d] = off === undefined ? logit(yMean) : 0;

  const objective = (t: Float64Array): number => {
    let f = 0;
    for (let i = 0; i < n; i++) {
      f += sampleWeight(sw, i) * loss(linear(t, rows[i] as Row, d) + offsetAt(off, i), labels[i] as number);
    }
    for (let j = 0; j < d; j++) f += 0.5 * l2 * (t[j] as number) ** 2;
    f += 0.5 * l2Bias * (t[d] as number) ** 2;
    return f;
  };

  const grad = new Float64Array(m);
  const hess = new Float64Array(m * m);
  const chol = new Float64Array(m * m);
  const step = new Float64Array(m);
  let trial = new Float64Array(m);
  let f = objective(theta);
  let iterations = 0;
  let converged = false;

  while (true) {
    gradientAndHessian(theta, rows, labels, sw, off, l2, l2Bias, d, grad, hess);
    newtonStep(hess, grad, m, chol, step);
    if (gradientSmall(grad, gradTol) && maxLogOddsChange(step, rows, d) <= stepTol) {
      // Take the last (tiny) step: Newton's error after it is about the square of its size.
      for (let j = 0; j < m; j++) theta[j] = (theta[j] as number) + (step[j] as number);
      converged = true;
      break;
    }
    if (iterations >= maxIter) break;

    let slope = 0; // directional derivative, < 0 for a descent direction
    for (let j = 0; j < m; j++) slope += (grad[j] as number) * (step[j] as number);
    // Near the optimum the predicted decrease −slope falls below the rounding of F and no line
    // search can see it; there a full Newton step is safe (quadratic convergence) and is taken.
    const tiny = Math.abs(slope) <= 1e-12 * (1 + Math.abs(f));
    let t = 1;
    let accepted = false;
    for (let k = 0; k < 50; k++, t *= 0.5) {
      for (let j = 0; j < m; j++) trial[j] = (theta[j] as number) + t * (step[j] as number);
      const ft = objective(trial);
      // Armijo, and a strict decrease: accepting an unchanged F would be a no-op step forever.
      if ((tiny && t === 1) || (ft < f && ft <= f + 1e-4 * t * slope)) {
        [theta, trial] = [trial, theta];
        f = ft;
        accepted = true;
        break;
      }
    }
    if (!accepted) break; // stalled: not a descent direction in floating point
    iterations++;
  }

  return { weights: Array.from(theta.subarray(0, d)), bias: theta[d] as number, iterations, converged };
}

/** softplus(z) − y·z, written so that no two large terms cancel (both parts are ≥ 0). */
function loss(z: number, y: number): number {
  return y === 0 ? softplus(z) : y === 1 ? softplus(-z) : y * softplus(-z) + (1 - y) * softplus(z);
}

function gradientSmall(grad: Float64Array, tol: Float64Array): boolean {
  for (let j = 0; j < grad.length; j++) if (Math.abs(grad[j] as number) > (tol[j] as number)) return false;
  return true;
}

function sampleWeight(weights: ArrayLike<number> | undefined, i: number): number {
  return weights === undefined ? 1 : (weights[i] as number);
}

function offsetAt(offsets: ArrayLike<number> | undefined, i: number): number {
  return offsets === undefined ? 0 : (offsets[i] as number);
}

function linear(theta: Float64Array, row: Row, d: number): number {
  let z = theta[d] as number;
  for (let j = 0; j < d; j++) z += (theta[j] as number) * (row[j] as number);
  return z;
}

function maxLogOddsChange(step: Float64Array, rows: readonly Row[], d: number): number {
  let m = 0;
  for (const row of rows) m = Math.max(m, Math.abs(linear(step, row, d)));
  return m;
}

/** ∇F and ∇²F at theta; the bias is the last coordinate (x_d = 1, no penalty). */
function gradientAndHessian(
  theta: Float64Array,
  rows: readonly Row[],
  labels: ArrayLike<number>,
  sw: ArrayLike<number> | undefined,
  off: ArrayLike<number> | undefined,
  l2: number,
  l2Bias: number,
  d: number,
  grad: Float64Array,
  hess: Float64Array,
): void {
  const m = d + 1;
  grad.fill(0);
  hess.fill(0);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as Row;
    const s = sampleWeight(sw, i);
    if (s === 0) continue;
    const z = linear(theta, row, d) + offsetAt(off, i);
    const y = labels[i] as number;
    // p − y as p(1 − y) − (1 − p)y, and p(1 − p), from σ(z) and σ(−z): no cancellation when p ≈ 1.
    const p = sigmoid(z);
    const q = sigmoid(-z);
    const r = s * (p * (1 - y) - q * y);
    const h = s * p * q;
    for (let j = 0; j < m; j++) {
      const xj = j < d ? (row[j] as number) : 1;
      grad[j] = (grad[j] as number) + r * xj;
      const hx = h * xj;
      for (let k = j; k < m; k++) {
        const xk = k < d ? (row[k] as number) : 1;
        hess[j * m + k] = (hess[j * m + k] as number) + hx * xk;
      }
    }
  }
  for (let j = 0; j < d; j++) {
    grad[j] = (grad[j] as number) + l2 * (theta[j] as number);
    hess[j * m + j] = (hess[j * m + j] as number) + l2;
  }
  grad[d] = (grad[d] as number) + l2Bias * (theta[d] as number);
  hess[d * m + d] = (hess[d * m + d] as number) + l2Bias;
  for (let j = 0; j < m; j++) for (let k = 0; k < j; k++) hess[j * m + k] = hess[k * m + j] as number;
}

/**
 * step = −(H + μI)⁻¹ g. μ starts at 0 and grows only when Cholesky finds H (numerically) singular,
 * e.g. l2 = 0 with collinear features, or every p(1−p) underflowing on (nearly) separated data.
 */
function newtonStep(
  hess: Float64Array,
  grad: Float64Array,
  m: number,
  chol: Float64Array,
  step: Float64Array,
): void {
  let maxDiag = 0;
  for (let j = 0; j < m; j++) maxDiag = Math.max(maxDiag, hess[j * m + j] as number);
  let mu = 0;
  for (let attempt = 0; !cholesky(hess, mu, m, chol); attempt++) {
    if (attempt === 40 || !Number.isFinite(mu)) {
      // Hopeless (overflowing features): fall back to a scaled gradient step for the line search.
      for (let j = 0; j < m; j++) step[j] = -(grad[j] as number) / Math.max(maxDiag, 1);
      return;
    }
    mu = mu === 0 ? 1e-12 * Math.max(maxDiag, 1) : mu * 10;
  }
  // Solve L y = −g, then Lᵀ step = y.
  for (let j = 0; j < m; j++) {
    let v = -(grad[j] as number);
    for (let k = 0; k < j; k++) v -= (chol[j * m + k] as number) * (step[k] as number);
    step[j] = v / (chol[j * m + j] as number);
  }
  for (let j = m - 1; j >= 0; j--) {
    let v = step[j] as number;
    for (let k = j + 1; k < m; k++) v -= (chol[k * m + j] as number) * (step[k] as number);
    step[j] = v / (chol[j * m + j] as number);
  }
}

/** Lower-triangular L with L Lᵀ = A + μI; false when a pivot is not clearly positive. */
function cholesky(a: Float64Array, mu: number, m: number, out: Float64Array): boolean {
  for (let j = 0; j < m; j++) {
    const ajj = (a[j * m + j] as number) + mu;
    let v = ajj;
    for (let k = 0; k < j; k++) v -= (out[j * m + k] as number) ** 2;
    if (!(v > 1e-13 * ajj) || !(v > 0)) return false;
    const ljj = Math.sqrt(v);
    out[j * m + j] = ljj;
    for (let i = j + 1; i < m; i++) {
      let u = a[i * m + j] as number;
      for (let k = 0; k < j; k++) u -= (out[i * m + k] as number) * (out[j * m + k] as number);
      out[i * m + j] = u / ljj;
    }
  }
  return true;
}

/** Throws RangeError on malformed input; returns the total sample weight and fills scale[j] = Σ s·|x_j|. */
function validate(
  rows: readonly Row[],
  labels: ArrayLike<number>,
  opts: LogisticOptions,
  d: number,
  scale: Float64Array,
): number {
  const n = rows.length;
  if (n === 0) throw new RangeError("fitLogistic: no rows");
  if (labels.length !== n) throw new RangeError(`fitLogistic: ${labels.length} labels for ${n} rows`);
  if (opts.weights !== undefined && opts.weights.length !== n) {
    throw new RangeError(`fitLogistic: ${opts.weights.length} weights for ${n} rows`);
  }
  if (!(opts.l2 >= 0) || !Number.isFinite(opts.l2)) {
    throw new RangeError("fitLogistic: l2 must be finite and ≥ 0");
  }
  let total = 0;
  for (let i = 0; i < n; i++) {
    const row = rows[i] as Row;
    if (row.length !== d) {
      throw new RangeError(`fitLogistic: row ${i} has ${row.length} features, expected ${d}`);
    }
    for (let j = 0; j < d; j++) {
      if (!Number.isFinite(row[j])) throw new RangeError(`fitLogistic: row ${i} feature ${j} is not finite`);
    }
    const y = labels[i] as number;
    if (!(y >= 0 && y <= 1)) throw new RangeError(`fitLogistic: label ${i} is not in [0, 1]`);
    const s = sampleWeight(opts.weights, i);
    if (!(s >= 0) || !Number.isFinite(s)) {
      throw new RangeError(`fitLogistic: weight ${i} must be finite and ≥ 0`);
    }
    total += s;
    for (let j = 0; j < d; j++) scale[j] = (scale[j] as number) + s * Math.abs(row[j] as number);
  }
  scale[d] = total;
  if (!(total > 0)) throw new RangeError("fitLogistic: total sample weight is 0");
  return total;
}
