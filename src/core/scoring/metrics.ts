/**
 * How good a set of probabilities is, measured against outcomes (1 = genuine, 0 = false alarm).
 * Every metric returns null when it is undefined for the data (no rows; AUC and Brier skill also
 * when only one class is present) rather than NaN, so a JSON report shows `null`, not a silent 0.
 * Inputs are validated: labels must be 0 or 1, probabilities in [0, 1], scores not NaN.
 */

export interface ReliabilityBin {
  /** Bin bounds: [lo, hi), the last bin also includes 1. */
  lo: number;
  hi: number;
  count: number;
  /** Mean predicted probability in the bin; null when empty. */
  meanScore: number | null;
  /** Observed fraction genuine in the bin; null when empty. */
  genuineRate: number | null;
}

export interface ProbabilityMetrics {
  count: number;
  genuine: number;
  auc: number | null;
  brier: number | null;
  brierSkill: number | null;
  logLoss: number | null;
  ece: number | null;
  reliability: ReliabilityBin[];
}

/**
 * ROC AUC as the Mann–Whitney statistic: the probability that a random genuine row scores above a
 * random false one, counting a tie as 1/2 (so all-equal scores give 0.5). Scores may be any
 * ordered numbers (logits, raw detector scores). null when either class is absent.
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number | null {
  const n = checkLengths(scores, labels);
  const order: number[] = [];
  let pos = 0;
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(scores[i])) throw new RangeError(`rocAuc: score ${i} is NaN`);
    pos += label(labels, i);
    order.push(i);
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return null;
  order.sort((a, b) => (scores[a] as number) - (scores[b] as number));
  // Walk groups of equal score upward: each genuine row beats every false row below its group
  // and ties with the false rows inside it.
  let negBelow = 0;
  let wins = 0;
  for (let start = 0; start < n; ) {
    const s = scores[order[start] as number];
    let end = start;
    let p = 0;
    let q = 0;
    while (end < n && scores[order[end] as number] === s) {
      if (labels[order[end] as number] === 1) p++;
      else q++;
      end++;
    }
    wins += p * (negBelow + 0.5 * q);
    negBelow += q;
    start = end;
  }
  return wins / (pos * neg);
}

/** Mean squared error of the probabilities. */
export function brierScore(probs: ArrayLike<number>, labels: ArrayLike<number>): number | null {
  const n = checkLengths(probs, labels);
  if (n === 0) return null;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += (prob(probs, i) - label(labels, i)) ** 2;
  return sum / n;
}

/**
 * 1 − Brier / Brier of always predicting the base rate ȳ (which is ȳ(1 − ȳ)), with ȳ taken from
 * these same rows: > 0 beats the constant, 1 is perfect. null when one class only (reference 0).
 */
export function brierSkill(probs: ArrayLike<number>, labels: ArrayLike<number>): number | null {
  const brier = brierScore(probs, labels);
  if (brier === null) return null;
  let pos = 0;
  for (let i = 0; i < labels.length; i++) pos += label(labels, i);
  const base = pos / labels.length;
  const reference = base * (1 - base);
  return reference > 0 ? 1 - brier / reference : null;
}

/** Mean negative log-likelihood in nats; probabilities are clipped to [eps, 1 − eps] first. */
export function logLoss(probs: ArrayLike<number>, labels: ArrayLike<number>, eps = 1e-15): number | null {
  const n = checkLengths(probs, labels);
  if (n === 0) return null;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const p = Math.min(Math.max(prob(probs, i), eps), 1 - eps);
    sum -= label(labels, i) === 1 ? Math.log(p) : Math.log1p(-p);
  }
  return sum / n;
}

/** Equal-width bins over [0, 1]: all of them, empty ones included, so the table has a fixed shape. */
export function reliabilityTable(
  probs: ArrayLike<number>,
  labels: ArrayLike<number>,
  bins = 10,
): ReliabilityBin[] {
  const n = checkLengths(probs, labels);
  if (!Number.isInteger(bins) || bins < 1) {
    throw new RangeError("reliabilityTable: bins must be a positive integer");
  }
  const count = new Array<number>(bins).fill(0);
  const sumP = new Array<number>(bins).fill(0);
  const sumY = new Array<number>(bins).fill(0);
  for (let i = 0; i < n; i++) {
    const p = prob(probs, i);
    const k = binOf(p, bins);
    count[k] = (count[k] as number) + 1;
    sumP[k] = (sumP[k] as number) + p;
    sumY[k] = (sumY[k] as number) + label(labels, i);
  }
  return count.map((c, k) => ({
    lo: k / bins,
    hi: (k + 1) / bins,
    count: c,
    meanScore: c > 0 ? (sumP[k] as number) / c : null,
    genuineRate: c > 0 ? (sumY[k] as number) / c : null,
  }));
}

/** Expected calibration error: Σ over bins of (count / N)·|mean score − genuine rate|. */
export function expectedCalibrationError(
  probs: ArrayLike<number>,
  labels: ArrayLike<number>,
  bins = 10,
): number | null {
  return eceOf(reliabilityTable(probs, labels, bins), probs.length);
}

/** All of the above at once, in the shape `pagewise train` and `score` report. */
export function probabilityMetrics(
  probs: ArrayLike<number>,
  labels: ArrayLike<number>,
  bins = 10,
): ProbabilityMetrics {
  const reliability = reliabilityTable(probs, labels, bins);
  let genuine = 0;
  for (let i = 0; i < labels.length; i++) genuine += label(labels, i);
  return {
    count: labels.length,
    genuine,
    auc: rocAuc(probs, labels),
    brier: brierScore(probs, labels),
    brierSkill: brierSkill(probs, labels),
    logLoss: logLoss(probs, labels),
    ece: eceOf(reliability, labels.length),
    reliability,
  };
}

function eceOf(table: ReliabilityBin[], n: number): number | null {
  if (n === 0) return null;
  let sum = 0;
  for (const b of table) {
    if (b.count > 0) sum += b.count * Math.abs((b.meanScore as number) - (b.genuineRate as number));
  }
  return sum / n;
}

/** Bin k holds [k/bins, (k+1)/bins); compared against those exact bounds, not just floor(p·bins). */
function binOf(p: number, bins: number): number {
  let k = Math.min(Math.floor(p * bins), bins - 1);
  if (k > 0 && p < k / bins) k--;
  else if (k < bins - 1 && p >= (k + 1) / bins) k++;
  return k;
}

function checkLengths(values: ArrayLike<number>, labels: ArrayLike<number>): number {
  if (values.length !== labels.length) {
    throw new RangeError(`${values.length} predictions for ${labels.length} labels`);
  }
  return values.length;
}

function label(labels: ArrayLike<number>, i: number): number {
  const y = labels[i];
  if (y !== 0 && y !== 1) throw new RangeError(`label ${i} must be 0 or 1`);
  return y;
}

function prob(probs: ArrayLike<number>, i: number): number {
  const p = probs[i] as number;
  if (!(p >= 0 && p <= 1)) throw new RangeError(`probability ${i} is not in [0, 1]`);
  return p;
}
