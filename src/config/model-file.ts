import { readFileSync } from "node:fs";
import { PagewiseError } from "../core/errors.js";
import { FEATURES } from "../core/scoring/features.js";
import { Learning } from "../core/scoring/learning.js";
import type { Model } from "../core/scoring/model.js";
import { ajvProblems, compile } from "../validation/ajv.js";

/**
 * model.json: a model and, optionally, the fast-learning counts it was trained with, so that a
 * server started with it is warm. snake_case on disk, validated when read.
 */
export const MODEL_FORMAT = "pagewise-model/1";

export interface ModelFile {
  model: Model;
  learning: Learning | null;
}

const Numbers = { type: "array", items: { type: "number" } };
const Curve = { type: "object", required: ["xs", "ys"], properties: { xs: Numbers, ys: Numbers } };
const validate = compile<Record<string, unknown>>({
  type: "object",
  required: ["format", "version", "features", "means", "scales", "weights", "bias", "calibration", "priors"],
  properties: {
    format: { const: MODEL_FORMAT },
    version: { type: "string", minLength: 1, maxLength: 200 },
    features: { type: "array", items: { type: "string" } },
    means: Numbers,
    scales: Numbers,
    weights: Numbers,
    bias: { type: "number" },
    calibration: {
      type: "object",
      required: ["kind"],
      properties: {
        kind: { enum: ["none", "platt", "isotonic"] },
        a: { type: "number" },
        b: { type: "number" },
        xs: Numbers,
        ys: Numbers,
      },
    },
    upstream: { type: "object", additionalProperties: Curve },
    priors: {
      type: "object",
      required: ["source", "rule"],
      properties: {
        source: { type: "number", exclusiveMinimum: 0 },
        rule: { type: "number", exclusiveMinimum: 0 },
      },
    },
    learning: {
      type: "array",
      items: {
        type: "object",
        required: ["source", "alertname", "genuine", "false_alarms"],
        properties: {
          source: { type: "string" },
          alertname: { type: "string" },
          genuine: { type: "number", minimum: 0 },
          false_alarms: { type: "number", minimum: 0 },
        },
      },
    },
    training: { type: "object" },
  },
});

export function readModelFile(path: string): ModelFile {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new PagewiseError("PW_CONFIG_INVALID", `cannot read model file ${path}: ${(err as Error).message}`);
  }
  return parseModelFile(data, path);
}

export function parseModelFile(data: unknown, where = "model"): ModelFile {
  if (!validate(data)) {
    throw new PagewiseError(
      "PW_CONFIG_INVALID",
      `${where} is not a valid model file`,
      ajvProblems(validate.errors),
    );
  }
  const d = data as Record<string, unknown> & { calibration: Record<string, unknown> };
  const problems = [];
  const n = FEATURES.length;
  for (const key of ["features", "means", "scales", "weights"] as const) {
    if ((d[key] as unknown[]).length !== n) problems.push({ path: key, reason: `must have ${n} entries` });
  }
  if ((d.features as string[]).some((f, i) => f !== FEATURES[i])) {
    problems.push({ path: "features", reason: `must be this build's features: ${FEATURES.join(", ")}` });
  }
  const c = d.calibration;
  if (c.kind === "platt" && (typeof c.a !== "number" || typeof c.b !== "number")) {
    problems.push({ path: "calibration", reason: "platt needs a and b" });
  }
  if (
    c.kind === "isotonic" &&
    (!Array.isArray(c.xs) || !Array.isArray(c.ys) || c.xs.length !== c.ys.length || c.xs.length === 0)
  ) {
    problems.push({ path: "calibration", reason: "isotonic needs xs and ys of the same, non-zero length" });
  }
  if (problems.length > 0)
    throw new PagewiseError("PW_CONFIG_INVALID", `${where} does not fit this build`, problems);
  const model: Model = {
    version: d.version as string,
    features: d.features as string[],
    means: d.means as number[],
    scales: d.scales as number[],
    weights: d.weights as number[],
    bias: d.bias as number,
    calibration: c as unknown as Model["calibration"],
    upstream: (d.upstream ?? {}) as Model["upstream"],
    priors: d.priors as Model["priors"],
    ...(d.training === undefined ? {} : { training: d.training as Record<string, unknown> }),
  };
  let learning: Learning | null = null;
  if (Array.isArray(d.learning)) {
    learning = Learning.fromJSON({
      sources: [],
      rules: (
        d.learning as { source: string; alertname: string; genuine: number; false_alarms: number }[]
      ).map((r) => [r.source, r.alertname, { genuine: r.genuine, falseAlarms: r.false_alarms }]),
    });
  }
  return { model, learning };
}

export function modelFileJson(model: Model, learning: Learning | null): Record<string, unknown> {
  return {
    format: MODEL_FORMAT,
    version: model.version,
    features: model.features,
    means: model.means,
    scales: model.scales,
    weights: model.weights,
    bias: model.bias,
    calibration: model.calibration,
    upstream: model.upstream,
    priors: model.priors,
    ...(learning === null
      ? {}
      : {
          learning: learning.toJSON().rules.map(([source, alertname, c]) => ({
            source,
            alertname,
            genuine: c.genuine,
            false_alarms: c.falseAlarms,
          })),
        }),
    ...(model.training === undefined ? {} : { training: model.training }),
  };
}
