import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { loadConfigFile } from "../config/load.js";
import { modelFileJson } from "../config/model-file.js";
import { fitModel, rowFeatures, type TrainingRow } from "../core/scoring/fit.js";
import { probabilityMetrics } from "../core/scoring/metrics.js";
import { compileModel, DEFAULT_MODEL, probability } from "../core/scoring/model.js";
import { metricsJson } from "../replay/report.js";
import { runHistory } from "../replay/runner.js";
import { progressBar } from "./progress.js";
import { durationArg } from "./score.js";

export interface TrainOptions {
  config: string;
  history: string[];
  out: string;
  feedbackDelay: string;
  json?: boolean;
}

/**
 * `pagewise train`: features are computed prequentially (as they would have been live), then
 * incidents are split by a hash of their id: 60% fit the regression, 20% fit the calibration,
 * 20% measure it. The saved model is refitted on the fit and measure parts together.
 */
export async function train(opts: TrainOptions): Promise<void> {
  const config = loadConfigFile(opts.config);
  const delay = durationArg("--feedback-delay", opts.feedbackDelay);
  const progress = progressBar("train");
  const r = await runHistory({
    config,
    files: opts.history,
    model: DEFAULT_MODEL,
    learn: true,
    refit: false,
    feedbackDelayMs: delay,
    onProgress: progress.update,
  });
  progress.done();
  const parts: Record<"fit" | "calibrate" | "test", { rows: TrainingRow[]; ids: number[] }> = {
    fit: { rows: [], ids: [] },
    calibrate: { rows: [], ids: [] },
    test: { rows: [], ids: [] },
  };
  r.rows.forEach((row, i) => {
    const id = r.rowIncidents[i] as number;
    const h = mix(id) % 10;
    const part = parts[h < 6 ? "fit" : h < 8 ? "calibrate" : "test"];
    part.rows.push(row);
    part.ids.push(id);
  });
  // Like online refits, training pulls toward the cold-start model rather than toward zero.
  const base = { priors: DEFAULT_MODEL.priors, prior: DEFAULT_MODEL };
  const probe = fitModel(parts.fit.rows, {
    ...base,
    version: "held-out",
    calibrationRows: parts.calibrate.rows,
  });
  const heldOut = incidentMetrics(probe, parts.test.rows, parts.test.ids);

  const stamp = new Date().toISOString().replace(/[-:]/g, "").slice(0, 15);
  const all = [...parts.fit.rows, ...parts.test.rows];
  const draft = fitModel(all, { ...base, version: "draft", calibrationRows: parts.calibrate.rows });
  const digest = createHash("sha256")
    .update(JSON.stringify([draft.weights, draft.bias]))
    .digest("hex")
    .slice(0, 8);
  const model = {
    ...draft,
    version: `train-${stamp}-${digest}`,
    training: {
      histories: opts.history,
      feedback_delay_s: delay / 1000,
      incidents: new Set(r.rowIncidents).size,
      genuine: r.incidents.labels.filter((l) => l === 1).length,
      held_out: { incident: heldOut },
      undeclared_sources: r.undeclaredSources,
    },
  };
  writeFileSync(opts.out, `${JSON.stringify(modelFileJson(model, r.learning), null, 2)}\n`);
  if (opts.json === true) {
    process.stdout.write(
      `${JSON.stringify({ model_version: model.version, out: opts.out, held_out: { incident: heldOut } }, null, 2)}\n`,
    );
    return;
  }
  console.log(`${r.events} events, ${r.triggers} triggers, ${model.training.incidents} labelled incidents`);
  console.log(`wrote ${opts.out} (model ${model.version})`);
  console.log(`held-out incidents (20%, never fitted): ${heldOut.count}, ${heldOut.genuine} genuine`);
  const f = (v: number | null) => (v === null ? "n/a" : v.toFixed(3));
  console.log(
    `  AUC ${f(heldOut.auc)}  Brier ${f(heldOut.brier)}  Brier skill ${f(heldOut.brier_skill)}  log loss ${f(heldOut.log_loss)}  ECE ${f(heldOut.ece)}`,
  );
  console.log("  reliability:  bin       count  mean score  genuine rate");
  for (const b of heldOut.reliability) {
    if (b.count === 0) continue;
    console.log(
      `                ${b.lo.toFixed(1)}-${b.hi.toFixed(1)} ${String(b.count).padStart(8)}  ${f(b.mean_score).padStart(10)}  ${f(b.genuine_rate).padStart(12)}`,
    );
  }
}

/** An incident's score is the highest of its decision scores (before its outcome was known). */
function incidentMetrics(model: Parameters<typeof compileModel>[0], rows: TrainingRow[], ids: number[]) {
  const compiled = compileModel(model);
  const peak = new Map<number, { p: number; y: number }>();
  rows.forEach((row, i) => {
    const id = ids[i] as number;
    const p = probability(compiled, rowFeatures(model, row));
    const cur = peak.get(id);
    if (cur === undefined || p > cur.p) peak.set(id, { p, y: row.label });
  });
  const list = [...peak.values()];
  return metricsJson(
    probabilityMetrics(
      list.map((v) => v.p),
      list.map((v) => v.y),
    ),
  );
}

/** A stable integer hash (so the split is the same on every run). */
function mix(n: number): number {
  let h = Math.imul(n ^ 0x9e3779b9, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
