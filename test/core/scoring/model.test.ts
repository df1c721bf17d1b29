import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  FEATURE_COUNT,
  FEATURE_INDEX,
  FEATURES,
  type FeatureName,
} from "../../../src/core/scoring/features.js";
import { predictIsotonic } from "../../../src/core/scoring/isotonic.js";
import { logit, sigmoid } from "../../../src/core/scoring/logistic.js";
import {
  compileModel,
  contributions,
  DEFAULT_MODEL,
  type Model,
  probability,
  rawLogit,
  upstreamProbability,
} from "../../../src/core/scoring/model.js";

const vec = (values: Partial<Record<FeatureName, number>> = {}): Float64Array => {
  const x = new Float64Array(FEATURE_COUNT);
  for (const [f, v] of Object.entries(values)) x[FEATURE_INDEX[f as FeatureName]] = v;
  return x;
};

/** The documented cold-start logit: bias 0 and the hand-set weights on raw features. */
const DEFAULT_WEIGHTS: Partial<Record<FeatureName, number>> = {
  prior: 1,
  recent: 0.5,
  sev_critical: 0.8,
  sev_error: 0.4,
  sev_info: -0.7,
  tier0: 0.3,
  tier1: 0.15,
  upstream: 0.8,
  corr_alertnames: 0.5,
  corr_sources: 0.7,
  corr_host: 0.3,
  burst: 0.4,
  novel: 0.5,
  flap_24h: -0.3,
};
const documentedLogit = (x: Float64Array) =>
  FEATURES.reduce((z, f, i) => z + (DEFAULT_WEIGHTS[f] ?? 0) * (x[i] as number), 0);

/** A model with every part non-trivial: means, scales, bias, all weights. */
function randomModel(seed: number, calibration: Model["calibration"] = { kind: "none" }): Model {
  let s = seed;
  const r = () => {
    s = (s * 16_807) % 2_147_483_647;
    return s / 2_147_483_647;
  };
  return {
    version: `random-${seed}`,
    features: [...FEATURES],
    means: FEATURES.map(() => r() * 2 - 1),
    scales: FEATURES.map(() => 0.2 + r() * 3),
    weights: FEATURES.map(() => r() * 4 - 2),
    bias: r() * 2 - 1,
    calibration,
    upstream: {},
    priors: { source: 4, rule: 4 },
  };
}

const featureArb = fc
  .array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: FEATURE_COUNT, maxLength: FEATURE_COUNT })
  .map((a) => Float64Array.from(a));

describe("DEFAULT_MODEL", () => {
  it("compiles against this build's features", () => {
    const m = compileModel(DEFAULT_MODEL);
    expect(m.model.features).toEqual([...FEATURES]);
    expect(m.coef).toHaveLength(FEATURE_COUNT);
    expect(m.intercept).toBe(0);
    expect(m.model.calibration).toEqual({ kind: "none" });
  });

  it("probability is the sigmoid of the documented logit (calibration none)", () => {
    const m = compileModel(DEFAULT_MODEL);
    const x = vec({ prior: logit(0.6), sev_critical: 1, tier0: 1, corr_sources: Math.log1p(2), flap_24h: 1 });
    const z = logit(0.6) + 0.8 + 0.3 + 0.7 * Math.log1p(2) - 0.3;
    expect(rawLogit(m, x)).toBeCloseTo(z, 12);
    expect(probability(m, x)).toBeCloseTo(sigmoid(z), 12);
    // The empty alert is a coin toss; a prior of 0.6 alone gives 0.6.
    expect(probability(m, vec())).toBe(0.5);
    expect(probability(m, vec({ prior: logit(0.6) }))).toBeCloseTo(0.6, 12);
  });

  it("property: probability = sigmoid(documented logit) for any feature vector", () => {
    const m = compileModel(DEFAULT_MODEL);
    fc.assert(
      fc.property(featureArb, (x) => {
        expect(rawLogit(m, x)).toBeCloseTo(documentedLogit(x), 10);
        expect(probability(m, x)).toBeCloseTo(sigmoid(documentedLogit(x)), 12);
      }),
    );
  });
});

describe("compileModel", () => {
  it("refuses a model trained on other features", () => {
    expect(() => compileModel({ ...DEFAULT_MODEL, features: DEFAULT_MODEL.features.slice(1) })).toThrow(
      /other features/,
    );
    const swapped = [...DEFAULT_MODEL.features];
    [swapped[0], swapped[1]] = [swapped[1] as string, swapped[0] as string];
    expect(() => compileModel({ ...DEFAULT_MODEL, features: swapped })).toThrow(/other features/);
  });

  it("rawLogit = bias + Σ w·(x − mean)/scale; calibration maps it", () => {
    const model = randomModel(7);
    const m = compileModel(model);
    const x = Float64Array.from(FEATURES.map((_, i) => Math.sin(i + 1) * 2));
    const z = model.weights.reduce(
      (acc, w, i) =>
        acc + (w * ((x[i] as number) - (model.means[i] as number))) / (model.scales[i] as number),
      model.bias,
    );
    expect(rawLogit(m, x)).toBeCloseTo(z, 10);
    expect(rawLogit(m, Float64Array.from(model.means))).toBeCloseTo(model.bias, 10);
    const platt = compileModel({ ...model, calibration: { kind: "platt", a: 0.5, b: -1 } });
    expect(probability(platt, x)).toBeCloseTo(sigmoid(0.5 * z - 1), 12);
    const iso = compileModel({ ...model, calibration: { kind: "isotonic", xs: [-1, 1], ys: [0.2, 0.6] } });
    expect(probability(iso, x)).toBeCloseTo(
      predictIsotonic({ xs: Float64Array.from([-1, 1]), ys: Float64Array.from([0.2, 0.6]) }, z),
      12,
    );
  });
});

describe("contributions", () => {
  const dropped = (m: ReturnType<typeof compileModel>, x: Float64Array) => {
    // Each kept contribution, and the count of features (hour as one) that could have been dropped.
    const cs = contributions(m, x);
    const reported = FEATURES.filter((f) => f !== "hour_cos").length;
    return { cs, missing: reported - cs.length };
  };

  it("property: they sum to rawLogit(x) − rawLogit(means), up to the dropped ones under 0.005", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), featureArb, (seed, x) => {
        const model = randomModel(seed);
        const m = compileModel(model);
        const { cs, missing } = dropped(m, x);
        const sum = cs.reduce((s, c) => s + c.logOdds, 0);
        const want = rawLogit(m, x) - rawLogit(m, Float64Array.from(model.means));
        expect(Math.abs(sum - want)).toBeLessThanOrEqual(0.005 * missing + 1e-9);
        for (const c of cs) expect(Math.abs(c.logOdds)).toBeGreaterThanOrEqual(0.005);
      }),
    );
  });

  it("with nothing dropped they sum exactly; largest first; hour_sin and hour_cos as one 'hour'", () => {
    const model = randomModel(11);
    const m = compileModel(model);
    // Every feature pushes the log-odds by exactly +1: x = mean + scale / weight.
    const x = Float64Array.from(
      model.means.map((mu, i) => mu + (model.scales[i] as number) / (model.weights[i] as number)),
    );
    const cs = contributions(m, x);
    expect(cs).toHaveLength(FEATURE_COUNT - 1);
    expect(cs.reduce((s, c) => s + c.logOdds, 0)).toBeCloseTo(rawLogit(m, x) - model.bias, 9);
    expect(rawLogit(m, x) - model.bias).toBeCloseTo(FEATURE_COUNT, 9);
    expect(cs.map((c) => c.feature)).toContain("hour");
    expect(cs.map((c) => c.feature)).not.toContain("hour_sin");
    expect(cs.map((c) => c.feature)).not.toContain("hour_cos");
    for (let i = 1; i < cs.length; i++) {
      expect(Math.abs((cs[i - 1] as { logOdds: number }).logOdds)).toBeGreaterThanOrEqual(
        Math.abs((cs[i] as { logOdds: number }).logOdds),
      );
    }
    // hour_sin and hour_cos each pushed +1: reported together, and first.
    expect(cs[0]?.feature).toBe("hour");
    expect(cs[0]?.logOdds).toBeCloseTo(2, 9);
    expect(cs[0]?.value).toBe(x[FEATURE_INDEX.hour_sin]);
  });

  it("texts start with the sign and the magnitude to two decimals", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), featureArb, (seed, x) => {
        for (const c of contributions(compileModel(randomModel(seed)), x)) {
          const head = `${c.logOdds >= 0 ? "+" : "-"}${Math.abs(c.logOdds).toFixed(2)} `;
          expect(c.text.startsWith(head), c.text).toBe(true);
          expect(c.text.length).toBeGreaterThan(head.length);
        }
      }),
      { numRuns: 50 },
    );
  });

  it("known texts under the default model", () => {
    const m = compileModel(DEFAULT_MODEL);
    const x = vec({
      prior: logit(0.75),
      sev_critical: 1,
      corr_sources: Math.log1p(3),
      flap_24h: Math.log1p(6),
      novel: 1,
    });
    const byFeature = Object.fromEntries(contributions(m, x).map((c) => [c.feature, c]));
    expect(byFeature.corr_sources?.text).toBe(
      `+${(0.7 * Math.log1p(3)).toFixed(2)} corroborated by 3 other sources`,
    );
    expect(byFeature.flap_24h?.text).toBe(`-${(0.3 * Math.log1p(6)).toFixed(2)} flapped 6 times in 24 h`);
    expect(byFeature.sev_critical?.text).toBe("+0.80 severity critical");
    expect(byFeature.novel?.text).toBe("+0.50 first time in 7 days on this service");
    expect(byFeature.prior?.text).toBe(
      `+${logit(0.75).toFixed(2)} expected genuine rate 75% for this source and alertname (inventory and outcomes so far)`,
    );
    expect(byFeature.prior?.value).toBeCloseTo(logit(0.75), 12);
    // Zero-weight features never show.
    expect(byFeature.weekend).toBeUndefined();
    expect(byFeature.tier2).toBeUndefined();
  });
});

describe("upstreamProbability", () => {
  const iso = { xs: [0, 2, 6], ys: [0.1, 0.4, 0.9] };
  const withIso = compileModel({ ...DEFAULT_MODEL, upstream: { detector: iso } });
  const plain = compileModel(DEFAULT_MODEL);

  it("goes through the source's isotonic map when the model has one (|raw|, any scale)", () => {
    const model = { xs: Float64Array.from(iso.xs), ys: Float64Array.from(iso.ys) };
    expect(upstreamProbability(withIso, "detector", 4, false)).toBeCloseTo(predictIsotonic(model, 4), 12);
    expect(upstreamProbability(withIso, "detector", 4, false)).toBeCloseTo(0.65, 12);
    expect(upstreamProbability(withIso, "detector", -4, false)).toBeCloseTo(0.65, 12);
    expect(upstreamProbability(withIso, "detector", 0.5, true)).toBeCloseTo(predictIsotonic(model, 0.5), 12);
    expect(upstreamProbability(withIso, "detector", 100, false)).toBeCloseTo(0.9, 12);
  });

  it("without a map: a score in [0, 1] is taken as given; anything else means nothing", () => {
    expect(upstreamProbability(plain, "detector", 0.8, true)).toBe(0.8);
    expect(upstreamProbability(plain, "detector", 0, true)).toBe(0);
    expect(upstreamProbability(plain, "detector", 1, true)).toBe(1);
    expect(upstreamProbability(plain, "detector", 1.5, true)).toBeNull();
    expect(upstreamProbability(plain, "detector", -0.1, true)).toBeNull();
    // A raw annotation (e.g. a z-score) is not a probability, even inside [0, 1].
    expect(upstreamProbability(plain, "detector", 0.8, false)).toBeNull();
    expect(upstreamProbability(plain, "detector", 6.2, false)).toBeNull();
    // Another source's map does not apply.
    expect(upstreamProbability(withIso, "other", 4, false)).toBeNull();
    expect(upstreamProbability(withIso, "other", 0.3, true)).toBe(0.3);
  });

  it("nothing, or a non-finite value, is null", () => {
    for (const m of [plain, withIso]) {
      expect(upstreamProbability(m, "detector", null, true)).toBeNull();
      expect(upstreamProbability(m, "detector", Number.NaN, true)).toBeNull();
      expect(upstreamProbability(m, "detector", Number.POSITIVE_INFINITY, false)).toBeNull();
    }
  });
});
