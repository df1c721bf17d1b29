import { writeFileSync } from "node:fs";
import { loadConfigFile } from "../config/load.js";
import { readModelFile } from "../config/model-file.js";
import type { Config } from "../config/types.js";
import { probabilityMetrics } from "../core/scoring/metrics.js";
import { DEFAULT_MODEL } from "../core/scoring/model.js";
import { prCurve, RouteWatch } from "../replay/measure.js";
import { metricsJson } from "../replay/report.js";
import { type RunOptions, type RunResult, runHistory } from "../replay/runner.js";
import type { ReplayJson } from "../replay/summary.js";
import { replayText } from "../replay/text.js";
import { progressBar } from "./progress.js";
import { durationArg } from "./score.js";

export interface ReplayOptions {
  config: string;
  history: string[];
  model?: string;
  learn?: boolean;
  feedbackDelay: string;
  report?: string;
  json?: boolean;
}

/** `pagewise replay`: the history through the live engine code; what would have happened. */
export async function replay(opts: ReplayOptions): Promise<void> {
  const r = await replayHistory(opts);
  if (opts.report !== undefined) {
    const { renderReport } = await import("../replay/html.js");
    writeFileSync(opts.report, await renderReport(r));
  }
  if (opts.json === true) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
  else console.log(replayText(r));
}

export async function replayHistory(opts: ReplayOptions): Promise<ReplayJson> {
  const r = await runReplay("replay", opts);
  return summarize(r.run, r.watch, r.config, opts, r.delayMs, r.modelVersion);
}

/** The history through the engine with routes carried out, watched: shared by replay and tune. */
export async function runReplay(
  label: string,
  opts: Pick<ReplayOptions, "config" | "history" | "model" | "learn" | "feedbackDelay">,
  extra: (config: Config) => Pick<RunOptions, "onDecide"> = () => ({}),
) {
  const config = loadConfigFile(opts.config);
  const delayMs = durationArg("--feedback-delay", opts.feedbackDelay);
  const file = opts.model === undefined ? null : readModelFile(opts.model);
  const watch = new RouteWatch();
  const progress = progressBar(label);
  const run = await runHistory({
    config,
    files: opts.history,
    model: file?.model ?? DEFAULT_MODEL,
    ...(file?.learning == null ? {} : { learning: file.learning }),
    learn: opts.learn === true,
    feedbackDelayMs: delayMs,
    onProgress: progress.update,
    carryOut: true,
    alertLevel: false,
    trainingRows: opts.learn === true,
    onRecord: watch.onRecord,
    ...extra(config),
  });
  progress.done();
  return { run, watch, config, delayMs, modelVersion: file?.model.version ?? DEFAULT_MODEL.version };
}

export function summarize(
  run: RunResult,
  watch: RouteWatch,
  config: ReturnType<typeof loadConfigFile>,
  opts: Pick<ReplayOptions, "history" | "learn">,
  delayMs: number,
  version: string,
): ReplayJson {
  const first = run.firstAt ?? 0;
  const last = run.lastAt ?? first;
  const m = watch.measure(run.incidentRecords, config, { first, last });
  const labelled = run.incidentRecords.filter((i) => i.labelled);
  const services = new Set<string>();
  for (const i of run.incidentRecords)
    if (i.service !== null && !config.services.has(i.service)) services.add(i.service);
  return {
    history: {
      files: opts.history,
      events: run.events,
      triggers: run.triggers,
      first_at: run.firstAt === null ? null : new Date(run.firstAt).toISOString(),
      last_at: run.lastAt === null ? null : new Date(run.lastAt).toISOString(),
      days: Math.max(1, (last - first) / 86_400_000),
    },
    model: {
      version,
      final_version: run.model.version,
      learn: opts.learn === true,
      feedback_delay_s: delayMs / 1000,
      refits: run.refits,
    },
    undeclared: { sources: run.undeclaredSources, services: [...services].sort() },
    incidents: {
      total: run.incidentRecords.length,
      genuine: labelled.filter((i) => i.genuine).length,
      labelled: labelled.length,
      alerts: run.triggers,
      compression: run.incidentRecords.length === 0 ? null : run.triggers / run.incidentRecords.length,
    },
    score: metricsJson(probabilityMetrics(run.incidents.pagewise, run.incidents.labels)),
    ...m.policy,
    routes: m.routes,
    baselines: { page_everything: m.page_everything, severity: m.severity },
    teams: m.teams,
    sources: m.sources,
    tiers: m.tiers,
    daily: m.daily,
    pr_curve: prCurve(run.incidentRecords),
    current_threshold: config.policy.bands.default.high,
    missed: m.missed,
  };
}
