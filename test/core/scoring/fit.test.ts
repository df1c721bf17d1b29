import { describe, expect, it } from "vitest";
import { FEATURE_COUNT, FEATURE_INDEX, type FeatureName } from "../../../src/core/scoring/features.js";
import {
  DEFAULT_L2_PER_WEIGHT,
  fitModel,
  rowFeatures,
  type TrainingRow,
} from "../../../src/core/scoring/fit.js";
import { predictIsotonic } from "../../../src/core/scoring/isotonic.js";
import { logit, sigmoid } from "../../../src/core/scoring/logistic.js";
import { rocAuc } from "../../../src/core/scoring/metrics.js";
import {
  compileModel,
  DEFAULT_MODEL,
  type Model,
  probability,
  rawLogit,
} from "../../../src/core/scoring/model.js";

/** A seeded generator (mulberry32) and a standard normal from it (Box–Muller). */
function rng(seed: number) {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal };
}

/** The generating model: log-odds from a few features; others are noise the fit must ignore. */
const TRUE_BIAS = -1;
const TRUE: Partial<Record<FeatureName, number>> = {
  prior: 1.2,
  sev_critical: 0.9,
  corr_sources: 0.8,
  flap_24h: -0.6,
};
const trueLogit = (x: Float64Array) =>
  Object.entries(TRUE).reduce(
    (z, [f, w]) => z + w * (x[FEATURE_INDEX[f as FeatureName]] as number),
    TRUE_BIAS,
  );

function synthetic(n: number, seed: number): TrainingRow[] {
  const r = rng(seed);
  const rows: TrainingRow[] = [];
  for (let k = 0; k < n; k++) {
    const x = new Float64Array(FEATURE_COUNT);
    x[FEATURE_INDEX.prior] = r.normal();
    x[FEATURE_INDEX.sev_critical] = r.uniform() < 0.3 ? 1 : 0;
    x[FEATURE_INDEX.corr_sources] = Math.log1p(Math.floor(r.uniform() * 4));
    x[FEATURE_INDEX.flap_24h] = Math.abs(r.normal());
    // Irrelevant but varying features.
    x[FEATURE_INDEX.team_open] = r.normal();
    x[FEATURE_INDEX.weekend] = r.uniform() < 0.3 ? 1 : 0;
    x[FEATURE_INDEX.hour_sin] = Math.sin(r.uniform() * 2 * Math.PI);
    rows.push({
      features: x,
      label: r.uniform() < sigmoid(trueLogit(x)) ? 1 : 0,
      weight: 1,
      source: "metrics",
      upstream: null,
    });
  }
  return rows;
}

const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;

describe("fitModel on data from a known logistic model", () => {
  const train = synthetic(2000, 1);
  const calib = synthetic(600, 2);
  const test = synthetic(2000, 3);
  const labels = test.map((r) => r.label);

  it("recovers a model whose held-out AUC is close to the generating model's", () => {
    const model = fitModel(train, { version: "synthetic", calibrationRows: calib });
    const m = compileModel(model);
    const fitted = rocAuc(
      test.map((r) => probability(m, rowFeatures(model, r))),
      labels,
    );
    const truth = rocAuc(
      test.map((r) => trueLogit(r.features)),
      labels,
    );
    expect(truth).not.toBeNull();
    expect(truth as number).toBeGreaterThan(0.7);
    expect(fitted as number).toBeGreaterThan((truth as number) - 0.01);
    // The logistic part points the right way on every informative feature, and ignores noise.
    for (const [f, w] of Object.entries(TRUE)) {
      const c = m.coef[FEATURE_INDEX[f as FeatureName]] as number;
      expect(Math.sign(c), f).toBe(Math.sign(w));
      expect(Math.abs(c), f).toBeGreaterThan(0.5 * Math.abs(w));
      expect(Math.abs(c), f).toBeLessThan(1.5 * Math.abs(w));
    }
    expect(Math.abs(m.coef[FEATURE_INDEX.team_open] as number)).toBeLessThan(0.15);
    expect(model.version).toBe("synthetic");
    expect(model.features).toEqual(DEFAULT_MODEL.features);
  });

  it("is calibrated: with held-out rows (isotonic), mean score ≈ genuine rate", () => {
    const model = fitModel(train, { version: "iso", calibrationRows: calib });
    expect(model.calibration.kind).toBe("isotonic");
    const m = compileModel(model);
    const pCal = calib.map((r) => probability(m, r.features));
    expect(mean(pCal)).toBeCloseTo(mean(calib.map((r) => r.label)), 2);
    const pTest = test.map((r) => probability(m, r.features));
    expect(Math.abs(mean(pTest) - mean(labels))).toBeLessThan(0.03);
  });

  it("is calibrated: without held-out rows (Platt on the fit rows), mean score ≈ genuine rate", () => {
    const model = fitModel(train, { version: "platt" });
    expect(model.calibration.kind).toBe("platt");
    const m = compileModel(model);
    const p = train.map((r) => probability(m, r.features));
    expect(Math.abs(mean(p) - mean(train.map((r) => r.label)))).toBeLessThan(0.005);
    const pTest = test.map((r) => probability(m, r.features));
    expect(Math.abs(mean(pTest) - mean(labels))).toBeLessThan(0.03);
    // Calibrated probabilities near the generating ones.
    const err = mean(test.map((r, i) => Math.abs((pTest[i] as number) - sigmoid(trueLogit(r.features)))));
    expect(err).toBeLessThan(0.04);
  });

  it("standardizes: means and scales are the rows' weighted mean and sd; constant features get scale 1", () => {
    const model = fitModel(train, { version: "std" });
    const prior = train.map((r) => r.features[FEATURE_INDEX.prior] as number);
    const mu = mean(prior);
    expect(model.means[FEATURE_INDEX.prior]).toBeCloseTo(mu, 12);
    expect(model.scales[FEATURE_INDEX.prior]).toBeCloseTo(
      Math.sqrt(mean(prior.map((v) => (v - mu) ** 2))),
      12,
    );
    expect(model.scales[FEATURE_INDEX.tier0]).toBe(1);
    expect(model.means[FEATURE_INDEX.tier0]).toBe(0);
    expect(DEFAULT_L2_PER_WEIGHT).toBeGreaterThan(0);
  });
});

describe("fitModel with a prior model", () => {
  /** The prior: a few weights on raw features, calibration none. */
  const prior: Model = {
    ...DEFAULT_MODEL,
    version: "prior",
    weights: DEFAULT_MODEL.weights.map((_, i) =>
      i === FEATURE_INDEX.prior ? 1.5 : i === FEATURE_INDEX.corr_sources ? 1 : 0,
    ),
    bias: -0.5,
  };
  const compiledPrior = compileModel(prior);

  /** Points where the data say exactly what the prior says: each x as a genuine and a false row. */
  function agreeing(n: number, seed: number): TrainingRow[] {
    const r = rng(seed);
    const rows: TrainingRow[] = [];
    for (let k = 0; k < n; k++) {
      const x = new Float64Array(FEATURE_COUNT);
      x[FEATURE_INDEX.prior] = r.normal();
      x[FEATURE_INDEX.corr_sources] = r.uniform() * 2;
      const p = sigmoid(rawLogit(compiledPrior, x));
      rows.push({ features: x, label: 1, weight: p, source: "s", upstream: null });
      rows.push({ features: x, label: 0, weight: 1 - p, source: "s", upstream: null });
    }
    return rows;
  }

  function distance(model: Model, seed: number): number {
    const m = compileModel(model);
    const probe = agreeing(200, seed).filter((_, i) => i % 2 === 0);
    return mean(probe.map((r) => Math.abs(rawLogit(m, r.features) - rawLogit(compiledPrior, r.features))));
  }

  it("data that agree with the prior leave its log-odds where they were; toward zero without it", () => {
    const rows = agreeing(8, 5);
    const withPrior = fitModel(rows, { version: "with", prior });
    const without = fitModel(rows, { version: "without" });
    expect(distance(withPrior, 6)).toBeLessThan(1e-3);
    expect(distance(without, 6)).toBeGreaterThan(0.2);
  });

  /** Rows drawn from the prior model itself: labels sampled from its probabilities. */
  function fromPrior(n: number, seed: number): TrainingRow[] {
    const r = rng(seed);
    const rows: TrainingRow[] = [];
    for (let k = 0; k < n; k++) {
      const x = new Float64Array(FEATURE_COUNT);
      x[FEATURE_INDEX.prior] = r.normal();
      x[FEATURE_INDEX.corr_sources] = r.uniform() * 2;
      const label = r.uniform() < sigmoid(rawLogit(compiledPrior, x)) ? 1 : 0;
      rows.push({ features: x, label, weight: 1, source: "s", upstream: null });
    }
    return rows;
  }

  // "Shrink toward this model's weights ... (few outcomes, strong prior)": six outcomes that the
  // prior itself generated should leave it nearly where it was.
  it("a tiny data set drawn from the prior leaves the model close to the prior", () => {
    const distances = [11, 12, 13, 14, 15].map((seed) =>
      distance(fitModel(fromPrior(6, seed), { version: "tiny", prior }), 100 + seed),
    );
    expect(mean(distances)).toBeLessThan(0.5);
  });
});

describe("upstream recalibration", () => {
  /** A detector whose |value| predicts genuine alerts (larger = more likely), as raw z-scores. */
  function detectorRows(n: number, seed: number): TrainingRow[] {
    const r = rng(seed);
    const rows: TrainingRow[] = [];
    for (let k = 0; k < n; k++) {
      const z = (r.uniform() * 8 - 4) * (r.uniform() < 0.5 ? -1 : 1);
      const x = new Float64Array(FEATURE_COUNT);
      x[FEATURE_INDEX.prior] = r.normal();
      rows.push({
        features: x,
        label: r.uniform() < sigmoid(Math.abs(z) - 2) ? 1 : 0,
        weight: 1,
        source: "detector",
        upstream: z,
      });
    }
    return rows;
  }

  it("fits an isotonic map per source from |upstream| when there is enough of both classes", () => {
    const rows = [...detectorRows(400, 21), ...synthetic(200, 22)];
    const model = fitModel(rows, { version: "up" });
    expect(Object.keys(model.upstream)).toEqual(["detector"]);
    const map = model.upstream.detector as { xs: number[]; ys: number[] };
    for (let i = 1; i < map.ys.length; i++) expect(map.ys[i]).toBeGreaterThanOrEqual(map.ys[i - 1] as number);
    const iso = { xs: Float64Array.from(map.xs), ys: Float64Array.from(map.ys) };
    expect(predictIsotonic(iso, 4)).toBeGreaterThan(predictIsotonic(iso, 0.5) + 0.3);
    // The fitted upstream weight is positive: the recalibrated value carries the signal.
    expect(compileModel(model).coef[FEATURE_INDEX.upstream]).toBeGreaterThan(0);
  });

  it("needs 30 rows of a source with 3 of each class", () => {
    const few = detectorRows(29, 23);
    expect(fitModel([...few, ...synthetic(100, 24)], { version: "few" }).upstream).toEqual({});
  });

  it("rowFeatures applies the model's recalibration to the row's raw upstream value", () => {
    const model: Model = {
      ...DEFAULT_MODEL,
      upstream: { detector: { xs: [0, 2, 4], ys: [0.1, 0.5, 0.9] } },
    };
    const x = new Float64Array(FEATURE_COUNT);
    x[FEATURE_INDEX.prior] = 0.3;
    const row: TrainingRow = { features: x, label: 1, weight: 1, source: "detector", upstream: -3 };
    const out = rowFeatures(model, row);
    expect(out[FEATURE_INDEX.upstream]).toBeCloseTo(logit(0.7), 12);
    expect(out[FEATURE_INDEX.has_upstream]).toBe(1);
    expect(out[FEATURE_INDEX.prior]).toBe(0.3);
    // The row itself is not changed.
    expect(x[FEATURE_INDEX.upstream]).toBe(0);
    // Probabilities at the ends are clipped to [0.005, 0.995].
    const low = rowFeatures(
      { ...model, upstream: { detector: { xs: [0, 1], ys: [0, 1] } } },
      { ...row, upstream: 0 },
    );
    expect(low[FEATURE_INDEX.upstream]).toBeCloseTo(logit(0.005), 12);
    // Another source, or no upstream value: the features as they are.
    expect(rowFeatures(model, { ...row, source: "other" })).toBe(x);
    expect(rowFeatures(model, { ...row, upstream: null })).toBe(x);
  });
});
