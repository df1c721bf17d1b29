import { FEATURE_COUNT, FEATURE_INDEX, FEATURES } from "./features.js";
import { fitIsotonic, type IsotonicModel, predictIsotonic } from "./isotonic.js";
import { DEFAULT_STRENGTHS, type PriorStrengths } from "./learning.js";
import { fitLogistic, logit } from "./logistic.js";
import { type Calibration, compileModel, type Model, rawLogit } from "./model.js";
import { fitPlatt } from "./platt.js";

/**
 * Fitting a model from labelled decision rows: per-source upstream recalibration (isotonic),
 * standardization, L2 logistic regression, then a calibration map fitted on rows the regression
 * did not see (or, when there are too few, on the same rows with Platt scaling).
 */
export interface TrainingRow {
  features: Float64Array;
  label: 0 | 1;
  /** Rows of one incident share a weight of 1 in total, so storms do not dominate. */
  weight: number;
  source: string;
  /** The raw upstream value behind the `upstream` feature, if any. */
  upstream: number | null;
}

export interface FitOptions {
  version: string;
  /** L2 penalty per unit of total weight (scaled by the total, so it means the same at any size). */
  l2PerWeight?: number;
  priors?: PriorStrengths;
  /** Rows kept out of the regression to fit the calibration map; none: Platt on the fit rows. */
  calibrationRows?: readonly TrainingRow[];
  /** Shrink toward this model's weights instead of toward zero (few outcomes, strong prior). */
  prior?: Model;
  training?: Record<string, unknown>;
}

/** Measured on the shared histories between 0.02 and 1; the middle of the flat part. */
export const DEFAULT_L2_PER_WEIGHT = 0.05;
const PRIOR_WEIGHT = 20;
/** Fewer calibration rows than this: no calibration map (the regression is calibrated in sample). */
const MIN_CALIBRATION_ROWS = 100;
/** Held-out rows are worth more: from this many, Platt scaling on them beats none. */
const MIN_HELD_OUT_CALIBRATION_ROWS = 30;
const UPSTREAM = FEATURE_INDEX.upstream;
const HAS_UPSTREAM = FEATURE_INDEX.has_upstream;
const MIN_UPSTREAM_ROWS = 30;
const MIN_ISOTONIC_ROWS = 400;
const EPS = 0.005;

export function fitModel(rows: readonly TrainingRow[], opts: FitOptions): Model {
  const calibrationRows = opts.calibrationRows ?? [];
  const upstream = fitUpstream([...rows, ...calibrationRows]);
  const fitX = rows.map((r) => withUpstream(r, upstream));
  const { means, scales } = standardization(fitX, rows);
  const std = fitX.map((x) => standardize(x, means, scales));
  const totalWeight = rows.reduce((s, r) => s + r.weight, 0);
  const prior = opts.prior === undefined ? undefined : compileModel(opts.prior);
  // A prior is worth at least PRIOR_WEIGHT incidents of evidence, however few rows there are.
  const perWeight = (opts.l2PerWeight ?? DEFAULT_L2_PER_WEIGHT) * Math.max(1, totalWeight);
  const l2 = prior === undefined ? perWeight : Math.max(PRIOR_WEIGHT, perWeight);
  const fit = fitLogistic(
    std,
    rows.map((r) => r.label),
    {
      l2,
      weights: rows.map((r) => r.weight),
      maxIter: 100,
      // Toward a prior, its base rate moves only as far as the evidence carries it too.
      ...(prior === undefined ? {} : { offsets: fitX.map((x) => rawLogit(prior, x)), l2Bias: l2 }),
    },
  );
  // With a prior: raw logit = prior(x) + b + Δ·(x − m)/s, folded into one standardized model.
  const weights = fit.weights.map(
    (w, i) => w + (prior === undefined ? 0 : (prior.coef[i] as number) * (scales[i] as number)),
  );
  let bias = fit.bias;
  if (prior !== undefined) {
    bias += prior.intercept;
    for (let i = 0; i < FEATURE_COUNT; i++) bias += (prior.coef[i] as number) * (means[i] as number);
  }
  const zOf = (x: Float64Array) => {
    let z = bias;
    const s = standardize(x, means, scales);
    for (let i = 0; i < FEATURE_COUNT; i++) z += (weights[i] as number) * (s[i] as number);
    return z;
  };
  const calib = calibrationRows.length > 0 ? calibrationRows : rows;
  const calibration = fitCalibration(
    calib.map((r) => zOf(withUpstream(r, upstream))),
    calib.map((r) => r.label),
    calib.map((r) => r.weight),
    calibrationRows.length > 0,
  );
  const upstreamJson: Model["upstream"] = {};
  for (const [source, m] of upstream) upstreamJson[source] = { xs: [...m.xs], ys: [...m.ys] };
  return {
    version: opts.version,
    features: [...FEATURES],
    means,
    scales,
    weights,
    bias,
    calibration,
    upstream: upstreamJson,
    priors: opts.priors ?? { ...DEFAULT_STRENGTHS },
    ...(opts.training === undefined ? {} : { training: opts.training }),
  };
}

/** Per source: |upstream| -> P(genuine), when there is enough of both classes to learn it. */
function fitUpstream(rows: readonly TrainingRow[]): Map<string, IsotonicModel> {
  const by = new Map<string, { x: number[]; y: number[]; w: number[] }>();
  for (const r of rows) {
    if (r.upstream === null || !Number.isFinite(r.upstream)) continue;
    let b = by.get(r.source);
    if (b === undefined) {
      b = { x: [], y: [], w: [] };
      by.set(r.source, b);
    }
    b.x.push(Math.abs(r.upstream));
    b.y.push(r.label);
    b.w.push(r.weight);
  }
  const out = new Map<string, IsotonicModel>();
  for (const [source, b] of by) {
    const pos = b.y.filter((v) => v === 1).length;
    if (b.x.length < MIN_UPSTREAM_ROWS || pos < 3 || b.x.length - pos < 3) continue;
    out.set(source, fitIsotonic(b.x, b.y, { weights: b.w, eps: EPS }));
  }
  return out;
}

/** A row's features as `model` sees them: the upstream feature through its recalibration. */
export function rowFeatures(model: Model, row: TrainingRow): Float64Array {
  const upstream = new Map<string, IsotonicModel>();
  const m = model.upstream[row.source];
  if (m !== undefined) upstream.set(row.source, { xs: Float64Array.from(m.xs), ys: Float64Array.from(m.ys) });
  return withUpstream(row, upstream);
}

/** The row's features with the upstream feature recomputed from the raw value. */
function withUpstream(r: TrainingRow, upstream: Map<string, IsotonicModel>): Float64Array {
  const iso = upstream.get(r.source);
  if (iso === undefined || r.upstream === null) return r.features;
  const x = Float64Array.from(r.features);
  x[UPSTREAM] = logit(Math.min(1 - EPS, Math.max(EPS, predictIsotonic(iso, Math.abs(r.upstream)))));
  x[HAS_UPSTREAM] = 1;
  return x;
}

function standardization(
  xs: readonly Float64Array[],
  rows: readonly TrainingRow[],
): { means: number[]; scales: number[] } {
  const means = new Array<number>(FEATURE_COUNT).fill(0);
  const scales = new Array<number>(FEATURE_COUNT).fill(1);
  let total = 0;
  xs.forEach((x, k) => {
    const w = (rows[k] as TrainingRow).weight;
    total += w;
    for (let i = 0; i < FEATURE_COUNT; i++) means[i] = (means[i] as number) + w * (x[i] as number);
  });
  if (total <= 0) return { means, scales };
  for (let i = 0; i < FEATURE_COUNT; i++) means[i] = (means[i] as number) / total;
  const vars = new Array<number>(FEATURE_COUNT).fill(0);
  xs.forEach((x, k) => {
    const w = (rows[k] as TrainingRow).weight;
    for (let i = 0; i < FEATURE_COUNT; i++)
      vars[i] = (vars[i] as number) + w * ((x[i] as number) - (means[i] as number)) ** 2;
  });
  for (let i = 0; i < FEATURE_COUNT; i++) {
    const sd = Math.sqrt((vars[i] as number) / total);
    scales[i] = sd > 1e-9 ? sd : 1;
  }
  return { means, scales };
}

function standardize(x: Float64Array, means: readonly number[], scales: readonly number[]): Float64Array {
  const out = new Float64Array(FEATURE_COUNT);
  for (let i = 0; i < FEATURE_COUNT; i++)
    out[i] = ((x[i] as number) - (means[i] as number)) / (scales[i] as number);
  return out;
}

function fitCalibration(z: number[], y: number[], w: number[], heldOut: boolean): Calibration {
  const pos = y.filter((v) => v === 1).length;
  const enough = heldOut ? MIN_HELD_OUT_CALIBRATION_ROWS : MIN_CALIBRATION_ROWS;
  if (pos === 0 || pos === y.length || y.length < enough) return { kind: "none" };
  if (heldOut && y.length >= MIN_ISOTONIC_ROWS && pos >= 20 && y.length - pos >= 20) {
    const iso = fitIsotonic(z, y, { weights: w, eps: EPS });
    return { kind: "isotonic", xs: [...iso.xs], ys: [...iso.ys] };
  }
  const p = fitPlatt(z, y, { weights: w });
  return { kind: "platt", a: p.a, b: p.b };
}
