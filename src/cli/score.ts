import { loadConfigFile } from "../config/load.js";
import { readModelFile } from "../config/model-file.js";
import { parseDuration } from "../core/duration.js";
import { PagewiseError } from "../core/errors.js";
import { DEFAULT_MODEL } from "../core/scoring/model.js";
import { BASELINES, metricsText, type Scorer, setMetrics } from "../replay/report.js";
import { runHistory } from "../replay/runner.js";
import { progressBar } from "./progress.js";

export interface ScoreOptions {
  config: string;
  model?: string;
  history: string[];
  learn?: boolean;
  refit?: boolean;
  feedbackDelay: string;
  json?: boolean;
}

/** `pagewise score`: how well a model scores a labelled history, scoring before outcomes are known. */
export async function score(opts: ScoreOptions): Promise<void> {
  const config = loadConfigFile(opts.config);
  const delay = durationArg("--feedback-delay", opts.feedbackDelay);
  const file = opts.model === undefined ? null : readModelFile(opts.model);
  const progress = progressBar("score");
  const r = await runHistory({
    config,
    files: opts.history,
    model: file?.model ?? DEFAULT_MODEL,
    ...(file?.learning == null ? {} : { learning: file.learning }),
    learn: opts.learn === true,
    refit: opts.refit !== false,
    feedbackDelayMs: delay,
    onProgress: progress.update,
  });
  progress.done();
  if (opts.json === true) {
    const baselines: Record<string, unknown> = {};
    for (const [scorer, name] of Object.entries(BASELINES)) {
      baselines[name] = {
        alert: setMetrics(r.alerts, scorer as Scorer),
        incident: setMetrics(r.incidents, scorer as Scorer),
      };
    }
    const out = {
      alert: setMetrics(r.alerts, "pagewise"),
      incident: setMetrics(r.incidents, "pagewise"),
      baselines,
      model_version: file?.model.version ?? DEFAULT_MODEL.version,
      final_model_version: r.model.version,
      learn: opts.learn === true,
      feedback_delay_s: delay / 1000,
      refits: r.refits,
      events: r.events,
      triggers: r.triggers,
      undeclared_sources: r.undeclaredSources,
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  const mode =
    opts.learn === true
      ? `prequential, outcomes revealed ${opts.feedbackDelay} after opening`
      : "frozen model";
  console.log(
    `${r.events} events, ${r.triggers} triggers; model ${file?.model.version ?? DEFAULT_MODEL.version} (${mode})`,
  );
  if (r.refits > 0) console.log(`refitted online ${r.refits} times; final model ${r.model.version}`);
  if (r.undeclaredSources.length > 0) {
    console.log(`sources not in the config (documented defaults applied): ${r.undeclaredSources.join(", ")}`);
  }
  console.log(metricsText("alert level", r.alerts));
  console.log(metricsText("incident level", r.incidents));
}

export function durationArg(flag: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === null) {
    throw new PagewiseError("PW_INVALID_QUERY", `${flag}: "${text}" is not a duration (e.g. 30m, 1h)`);
  }
  return ms;
}
