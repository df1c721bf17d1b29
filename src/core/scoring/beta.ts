/**
 * Beta–Bernoulli posteriors of a genuine rate, for fast learning: every outcome that becomes known
 * adds one to a count, no refit needed. A Beta(α, β) is read as α "genuine" and β "false alarm"
 * pseudo-outcomes; its mean is α / (α + β). Counts may be fractional (e.g. decayed or weighted).
 */

export interface BetaRate {
  readonly alpha: number;
  readonly beta: number;
}

/**
 * The prior worth `strength` outcomes with the given mean genuine rate, e.g. an inventory label
 * "reliability: high" mapped to mean 0.7 with strength 10 means "as if 7 of 10 were genuine".
 */
export function betaPrior(mean: number, strength: number): BetaRate {
  if (!(mean > 0 && mean < 1)) throw new RangeError("betaPrior: mean must be in (0, 1)");
  checkStrength(strength, "betaPrior");
  return { alpha: mean * strength, beta: (1 - mean) * strength };
}

/** The posterior after `genuine` genuine outcomes and `falseAlarms` false alarms. */
export function betaPosterior(prior: BetaRate, genuine: number, falseAlarms: number): BetaRate {
  checkCount(genuine, "genuine");
  checkCount(falseAlarms, "falseAlarms");
  return { alpha: prior.alpha + genuine, beta: prior.beta + falseAlarms };
}

export function betaMean(b: BetaRate): number {
  return b.alpha / (b.alpha + b.beta);
}

/** log(α / β): the mean's log-odds, the scale on which a rate enters the logistic model. */
export function betaLogOdds(b: BetaRate): number {
  return Math.log(b.alpha) - Math.log(b.beta);
}

export function betaVariance(b: BetaRate): number {
  const n = b.alpha + b.beta;
  return (b.alpha * b.beta) / (n * n * (n + 1));
}

/**
 * A child's rate (a (source, alertname)) shrunk toward its parent's (the source's posterior): the
 * child's prior has the parent's mean and `strength` pseudo-outcomes, so the child's own counts
 * outweigh the parent only once there are more than `strength` of them. With no observations the
 * child's mean is exactly the parent's. The parent's posterior usually already contains the
 * child's outcomes; that double count is mild while a source has several alertnames.
 */
export function shrinkToward(
  parent: BetaRate,
  strength: number,
  genuine: number,
  falseAlarms: number,
): BetaRate {
  checkStrength(strength, "shrinkToward");
  const mean = betaMean(parent);
  return betaPosterior({ alpha: mean * strength, beta: (1 - mean) * strength }, genuine, falseAlarms);
}

function checkStrength(strength: number, fn: string): void {
  if (!(strength > 0) || !Number.isFinite(strength)) {
    throw new RangeError(`${fn}: strength must be finite and > 0`);
  }
}

function checkCount(count: number, name: string): void {
  if (!(count >= 0) || !Number.isFinite(count)) {
    throw new RangeError(`betaPosterior: ${name} must be finite and ≥ 0`);
  }
}
