import { type ProbabilityMetrics, probabilityMetrics } from "../core/scoring/metrics.js";
import type { ScoredSet } from "./runner.js";

/** Metrics as `score --json` and `train --json` print them (stable snake_case keys). */
export interface MetricsJson {
  count: number;
  genuine: number;
  auc: number | null;
  brier: number | null;
  brier_skill: number | null;
  log_loss: number | null;
  ece: number | null;
  reliability: {
    lo: number;
    hi: number;
    count: number;
    mean_score: number | null;
    genuine_rate: number | null;
  }[];
}

export function metricsJson(m: ProbabilityMetrics): MetricsJson {
  return {
    count: m.count,
    genuine: m.genuine,
    auc: m.auc,
    brier: m.brier,
    brier_skill: m.brierSkill,
    log_loss: m.logLoss,
    ece: m.ece,
    reliability: m.reliability.map((b) => ({
      lo: b.lo,
      hi: b.hi,
      count: b.count,
      mean_score: b.meanScore,
      genuine_rate: b.genuineRate,
    })),
  };
}

export type Scorer = "pagewise" | "baseRate" | "severity" | "rule";
export const BASELINES: Record<Exclude<Scorer, "pagewise">, string> = {
  baseRate: "constant_base_rate",
  severity: "severity_only",
  rule: "per_rule_prior",
};

export function setMetrics(set: ScoredSet, scorer: Scorer): MetricsJson {
  return metricsJson(probabilityMetrics(set[scorer], set.labels));
}

const f = (v: number | null, digits = 3) => (v === null ? "n/a" : v.toFixed(digits));

/** A human-readable block: the four scorers side by side, then Pagewise's reliability table. */
export function metricsText(title: string, set: ScoredSet): string {
  const lines = [
    `${title}: ${set.labels.length} scored, ${set.labels.filter((l) => l === 1).length} genuine`,
  ];
  lines.push(
    `  ${"scorer".padEnd(20)} ${"AUC".padStart(6)} ${"Brier".padStart(7)} ${"skill".padStart(7)} ${"logloss".padStart(8)} ${"ECE".padStart(6)}`,
  );
  for (const [scorer, name] of [["pagewise", "pagewise"], ...Object.entries(BASELINES)] as [
    Scorer,
    string,
  ][]) {
    const m = setMetrics(set, scorer);
    lines.push(
      `  ${name.padEnd(20)} ${f(m.auc).padStart(6)} ${f(m.brier, 4).padStart(7)} ${f(m.brier_skill).padStart(7)} ${f(m.log_loss).padStart(8)} ${f(m.ece).padStart(6)}`,
    );
  }
  const rel = setMetrics(set, "pagewise").reliability;
  lines.push("  reliability (pagewise):  bin          count  mean score  genuine rate");
  for (const b of rel) {
    if (b.count === 0) continue;
    lines.push(
      `                           ${b.lo.toFixed(1)}-${b.hi.toFixed(1)}  ${String(b.count).padStart(8)}  ${f(b.mean_score).padStart(10)}  ${f(b.genuine_rate).padStart(12)}`,
    );
  }
  return lines.join("\n");
}
