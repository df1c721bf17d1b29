import { FEATURE_COUNT, FEATURES, type FeatureName } from "./features.js";
import { type IsotonicModel, predictIsotonic } from "./isotonic.js";
import { DEFAULT_STRENGTHS, type PriorStrengths } from "./learning.js";
import { sigmoid } from "./logistic.js";

/**
 * A scoring model: standardized logistic regression over FEATURES, then a calibration map from
 * its log-odds to a probability. Models are data (JSON), versioned; every score names its model.
 */
export type Calibration =
  | { kind: "none" }
  | { kind: "platt"; a: number; b: number }
  | { kind: "isotonic"; xs: number[]; ys: number[] };

export interface Model {
  version: string;
  features: string[];
  means: number[];
  scales: number[];
  weights: number[];
  bias: number;
  calibration: Calibration;
  /** Per-source recalibration of upstream values (upstream_score or a configured annotation). */
  upstream: Record<string, { xs: number[]; ys: number[] }>;
  priors: PriorStrengths;
  /** How it was made and how it did on held-out data (informational). */
  training?: Record<string, unknown>;
}

export interface Contribution {
  feature: string;
  /** The feature's raw value. */
  value: number;
  /** Its push on the log-odds, relative to the average alert the model was trained on. */
  logOdds: number;
  text: string;
}

export interface Score {
  /** Calibrated probability that the incident is genuine. */
  value: number;
  modelVersion: string;
  contributions: Contribution[];
}

/**
 * Cold start, with no history: the (source, alertname) prior from the inventory, severity, tier,
 * the sender's own confidence and corroboration, with hand-set weights on raw features.
 */
export const DEFAULT_MODEL: Model = (() => {
  const w: Partial<Record<FeatureName, number>> = {
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
  return {
    version: "default-1",
    features: [...FEATURES],
    means: FEATURES.map(() => 0),
    scales: FEATURES.map(() => 1),
    weights: FEATURES.map((f) => w[f] ?? 0),
    bias: 0,
    calibration: { kind: "none" },
    upstream: {},
    priors: { ...DEFAULT_STRENGTHS },
  };
})();

/** A model checked against this build's feature list, with typed arrays for the hot path. */
export interface CompiledModel {
  model: Model;
  coef: Float64Array; // weight / scale
  intercept: number; // bias - sum(weight * mean / scale)
  calibrate: (z: number) => number;
  upstream: Map<string, IsotonicModel>;
}

export function compileModel(model: Model): CompiledModel {
  if (model.features.length !== FEATURE_COUNT || model.features.some((f, i) => f !== FEATURES[i])) {
    throw new Error(`model ${model.version} was trained on other features than this build computes`);
  }
  const coef = new Float64Array(FEATURE_COUNT);
  let intercept = model.bias;
  for (let i = 0; i < FEATURE_COUNT; i++) {
    const w = model.weights[i] ?? 0;
    const s = model.scales[i] ?? 1;
    coef[i] = w / s;
    intercept -= (w * (model.means[i] ?? 0)) / s;
  }
  const upstream = new Map<string, IsotonicModel>();
  for (const [source, m] of Object.entries(model.upstream)) {
    upstream.set(source, { xs: Float64Array.from(m.xs), ys: Float64Array.from(m.ys) });
  }
  return { model, coef, intercept, calibrate: calibrator(model.calibration), upstream };
}

function calibrator(c: Calibration): (z: number) => number {
  switch (c.kind) {
    case "none":
      return sigmoid;
    case "platt":
      return (z) => sigmoid(c.a * z + c.b);
    case "isotonic": {
      const iso: IsotonicModel = { xs: Float64Array.from(c.xs), ys: Float64Array.from(c.ys) };
      return (z) => predictIsotonic(iso, z);
    }
    default: {
      const never: never = c;
      throw new Error(`unknown calibration ${JSON.stringify(never)}`);
    }
  }
}

/** The raw log-odds before calibration. Allocation-free. */
export function rawLogit(m: CompiledModel, x: Float64Array): number {
  let z = m.intercept;
  for (let i = 0; i < FEATURE_COUNT; i++) z += (m.coef[i] as number) * (x[i] as number);
  return z;
}

export function probability(m: CompiledModel, x: Float64Array): number {
  return m.calibrate(rawLogit(m, x));
}

/**
 * An upstream value as a probability: through the source's learned isotonic map when the model
 * has one; a sender's upstream_score in [0, 1] is taken as given otherwise; other raw values
 * (e.g. a z-score annotation) mean nothing until a model has learned them.
 */
export function upstreamProbability(
  m: CompiledModel,
  source: string,
  raw: number | null,
  isScore: boolean,
): number | null {
  if (raw === null || !Number.isFinite(raw)) return null;
  const iso = m.upstream.get(source);
  if (iso !== undefined) return predictIsotonic(iso, Math.abs(raw));
  return isScore && raw >= 0 && raw <= 1 ? raw : null;
}

/** Per-feature pushes on the log-odds, largest first; hour_sin and hour_cos are reported as one. */
export function contributions(m: CompiledModel, x: Float64Array): Contribution[] {
  const out: Contribution[] = [];
  const model = m.model;
  const push = (i: number) =>
    ((model.weights[i] ?? 0) * ((x[i] as number) - (model.means[i] ?? 0))) / (model.scales[i] ?? 1);
  for (let i = 0; i < FEATURE_COUNT; i++) {
    const name = FEATURES[i] as FeatureName;
    if (name === "hour_cos") continue;
    let logOdds = push(i);
    if (name === "hour_sin") logOdds += push(i + 1);
    if (Math.abs(logOdds) < 0.005) continue;
    const value = x[i] as number;
    const feature = name === "hour_sin" ? "hour" : name;
    out.push({
      feature,
      value,
      logOdds,
      text: `${logOdds >= 0 ? "+" : "-"}${Math.abs(logOdds).toFixed(2)} ${describe(name, x)}`,
    });
  }
  out.sort((a, b) => Math.abs(b.logOdds) - Math.abs(a.logOdds));
  return out;
}

const n = (v: number) => Math.round(Math.expm1(v));
const plural = (k: number, word: string) => `${k} ${word}${k === 1 ? "" : "s"}`;

function describe(name: FeatureName, x: Float64Array): string {
  const v = x[FEATURES.indexOf(name)] as number;
  switch (name) {
    case "prior":
      return `expected genuine rate ${Math.round(sigmoid(v) * 100)}% for this source and alertname (inventory and outcomes so far)`;
    case "recent":
      return v >= 0
        ? "this alert has been right more often lately"
        : "this alert has been wrong more often lately";
    case "sev_critical":
    case "sev_error":
    case "sev_info":
      return v > 0 ? `severity ${name.slice(4)}` : `severity is not ${name.slice(4)}`;
    case "tier0":
    case "tier1":
    case "tier2":
      return v > 0 ? `tier ${name.slice(4)} service` : `not a tier ${name.slice(4)} service`;
    case "service_unknown":
      return v > 0 ? "service not in the catalog" : "service in the catalog";
    case "upstream":
      return `upstream confidence ${sigmoid(v).toFixed(2)} after recalibration`;
    case "has_upstream":
      return v > 0 ? "the sender gave a confidence" : "no upstream confidence";
    case "flap_1h":
      return `flapped ${plural(n(v), "time")} in 1 h`;
    case "flap_24h":
      return `flapped ${plural(n(v), "time")} in 24 h`;
    case "repeats":
      return `re-sent ${plural(n(v), "time")}`;
    case "since_same":
      return `same alert last fired on this service ${Math.round(Math.expm1(v))} h ago`;
    case "novel":
      return v > 0 ? "first time in 7 days on this service" : "fired on this service within 7 days";
    case "corr_alertnames":
      return `corroborated by ${plural(n(v), "other alertname")} on the service`;
    case "corr_sources":
      return `corroborated by ${plural(n(v), "other source")}`;
    case "corr_host":
      return `${plural(n(v), "other alertname")} on the same host`;
    case "burst":
      return `alerts on the service at ${Math.exp(v).toFixed(1)}x their usual rate`;
    case "incident_alerts":
      return `incident holds ${plural(n(v) + 1, "alert")}`;
    case "incident_alertnames":
      return `incident holds ${plural(n(v) + 1, "alertname")}`;
    case "change_30m":
      return v > 0 ? "a change or deploy in the last 30 min" : "no change in the last 30 min";
    case "change_60m":
      return v > 0 ? "a change or deploy in the last hour" : "no change in the last hour";
    case "service_incidents_24h":
      return `${plural(n(v), "incident")} on the service in 24 h`;
    case "team_open":
      return `team has ${plural(n(v), "other open incident")}`;
    case "team_alerts_1h":
      return `team saw ${plural(n(v), "alert")} in the last hour`;
    case "hour_sin":
    case "hour_cos": {
      const s = x[FEATURES.indexOf("hour_sin")] as number;
      const c = x[FEATURES.indexOf("hour_cos")] as number;
      const hours = ((Math.atan2(s, c) / (2 * Math.PI)) * 24 + 24) % 24;
      const hh = Math.floor(hours);
      return `local time ${String(hh).padStart(2, "0")}:${String(Math.round((hours - hh) * 60) % 60).padStart(2, "0")}`;
    }
    case "weekend":
      return v > 0 ? "weekend" : "weekday";
    case "business_hours":
      return v > 0 ? "business hours" : "outside business hours";
    default: {
      const never: never = name;
      return String(never);
    }
  }
}
