import { writeFileSync } from "node:fs";
import type { TuneJson } from "../replay/summary.js";
import {
  type Candidate,
  countWindows,
  type Labelled,
  type Outcome,
  type Point,
  snapshot,
  thresholdsOf,
  tune,
} from "../replay/tune.js";
import { type ReplayOptions, runReplay, summarize } from "./replay.js";

/** Replay's options, plus the costs and the recall floor. */
export interface TuneOptions extends ReplayOptions {
  costFalsePage: string;
  costMissed: string;
  costDelayPerMin: string;
  minRecall: string;
}

/** `pagewise tune`: score the history once, re-decide it under candidate thresholds, keep the cheapest. */
export async function tuneCommand(opts: TuneOptions): Promise<void> {
  const costs = {
    falsePage: numberArg("--cost-false-page", opts.costFalsePage, 0),
    missed: numberArg("--cost-missed", opts.costMissed, 0),
    delayPerMin: numberArg("--cost-delay-per-min", opts.costDelayPerMin, 0),
  };
  const minRecall = numberArg("--min-recall", opts.minRecall, 0, 1);
  const points: Point[] = [];
  const {
    run,
    watch,
    config,
    delayMs: delay,
    modelVersion,
  } = await runReplay("tune", opts, (config) => {
    const windows = countWindows(config.policy);
    return { onDecide: (incidentId, input) => points.push({ incidentId, input: snapshot(input, windows) }) };
  });
  const first = new Map<number, Point>();
  for (const p of points) if (!first.has(p.incidentId)) first.set(p.incidentId, p);
  const incidents: Labelled[] = run.incidentRecords.map((i) => {
    const p = first.get(i.id)?.input;
    return { ...i, protected: p !== undefined && (p.tier === 0 || p.regulated) };
  });
  const started = performance.now();
  const t = tune(points, incidents, config.policy, costs, minRecall);
  const seconds = (performance.now() - started) / 1000;
  const keys = [...t.best.candidate.bands.keys()];
  const diff = bandsDiff(config.policy, t.best.candidate, keys);
  const tuneJson: TuneJson = {
    costs: { false_page: costs.falsePage, missed: costs.missed, delay_per_min: costs.delayPerMin },
    min_recall: minRecall,
    candidates: t.tried.map((c) => ({
      label: c.candidate.label,
      threshold: c.candidate.bands.get("default")?.high ?? config.policy.bands.default.high,
      cost: c.outcome.cost,
      pages: c.outcome.pages,
      precision: c.outcome.precision,
      recall: c.outcome.recall,
      feasible: c.feasible,
    })),
    best: t.best.candidate.label,
  };
  if (opts.report !== undefined) {
    const { renderReport } = await import("../replay/html.js");
    const r = summarize(run, watch, config, opts, delay, modelVersion);
    writeFileSync(opts.report, await renderReport({ ...r, tune: tuneJson }));
  }
  if (opts.json === true) {
    const out = {
      points: points.length,
      candidates: t.tried.length,
      seconds,
      before: outcomeJson(t.current.outcome),
      after: outcomeJson(t.best.outcome),
      feasible: t.best.feasible,
      best: t.best.candidate.label,
      bands: Object.fromEntries([...t.best.candidate.bands].map(([k, v]) => [k, v])),
      hold_s: t.best.candidate.holdMs === null ? null : t.best.candidate.holdMs / 1000,
      diff,
      tune: tuneJson,
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  console.log(
    `${points.length} decisions re-decided under ${t.tried.length} candidates in ${seconds.toFixed(2)} s`,
  );
  console.log(
    `costs: false page ${costs.falsePage}, missed ${costs.missed}, delay ${costs.delayPerMin}/min; recall floor ${minRecall}; tier 0 and regulated keep today's recall`,
  );
  if (!t.best.feasible)
    console.log("no candidate met the recall floor: the best shown has the highest recall");
  const row = (name: string, o: Outcome) =>
    `${name.padEnd(8)} ${String(o.pages).padStart(7)} ${pct(o.precision).padStart(10)} ${pct(o.recall).padStart(8)} ${pct(o.protectedRecall).padStart(16)} ${(o.ttpP50 === null ? "n/a" : `${o.ttpP50.toFixed(0)}s`).padStart(8)} ${o.cost.toFixed(1).padStart(9)}`;
  console.log(
    `${"".padEnd(8)} ${"pages".padStart(7)} ${"precision".padStart(10)} ${"recall".padStart(8)} ${"tier0/reg recall".padStart(16)} ${"ttp p50".padStart(8)} ${"cost".padStart(9)}`,
  );
  console.log(row("before", t.current.outcome));
  console.log(row("after", t.best.outcome));
  console.log(`\nbest: ${t.best.candidate.label}`);
  console.log(diff.length === 0 ? "no change to the policy is better" : `\n${diff}`);
}

const pct = (v: number | null) => (v === null ? "n/a" : `${(v * 100).toFixed(1)}%`);

function outcomeJson(o: Outcome) {
  return {
    pages: o.pages,
    precision: o.precision,
    recall: o.recall,
    protected_recall: o.protectedRecall,
    time_to_page_p50_s: o.ttpP50,
    cost: o.cost,
  };
}

/** The change as a diff of the policy's bands, in the config's own YAML shape. */
function bandsDiff(policy: Parameters<typeof thresholdsOf>[0], c: Candidate, keys: string[]): string {
  const lines: string[] = [];
  const fmt = (t: { high: number; medium: number }) => `{ high: ${t.high}, medium: ${t.medium} }`;
  for (const k of keys) {
    const before = thresholdsOf(policy, k);
    const after = c.bands.get(k) as { high: number; medium: number };
    if (before.high === after.high && before.medium === after.medium) continue;
    const name = k === "default" ? "default" : k === "regulated" ? "regulated" : `tiers: "${k}"`;
    lines.push(`-    ${name}: ${fmt(before)}`, `+    ${name}: ${fmt(after)}`);
  }
  if (c.holdMs !== null) lines.push(`# and every validate route: for: ${c.holdMs / 60_000}m`);
  return lines.length === 0 ? "" : [" policy:", "   bands:", ...lines].join("\n");
}

function numberArg(flag: string, text: string, min: number, max = Number.POSITIVE_INFINITY): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n < min || n > max) {
    throw new Error(
      `${flag}: "${text}" must be a number${max === Number.POSITIVE_INFINITY ? ` >= ${min}` : ` from ${min} to ${max}`}`,
    );
  }
  return n;
}
