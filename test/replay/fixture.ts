import type { GroupJson, ReplayJson, RoutingJson } from "../../src/replay/summary.js";

/** A hostile service name: every report must show it as text. */
export const EVIL = "<script>alert(1)</script>";

const group = (incidents: number, genuine: number, pages: number, pagedGenuine: number): GroupJson => ({
  incidents,
  genuine,
  pages,
  paged_genuine: pagedGenuine,
  page_rate: pages / incidents,
  genuine_rate: genuine / incidents,
  precision: pages ? pagedGenuine / pages : null,
  recall: genuine ? pagedGenuine / genuine : null,
});

const routing = (
  pages: number,
  pagedGenuine: number,
  handled: number,
  p50: number,
  p90: number,
  days: number,
): RoutingJson => ({
  paging: { pages, precision: pagedGenuine / pages, recall: pagedGenuine / 180 },
  handled: { recall: handled / 180 },
  time_to_page_s: {
    p50,
    p90,
    count: pagedGenuine,
    histogram: [
      { lo_s: 0, hi_s: 30, count: Math.round(pagedGenuine * 0.35) },
      { lo_s: 30, hi_s: 60, count: Math.round(pagedGenuine * 0.2) },
      { lo_s: 60, hi_s: 120, count: Math.round(pagedGenuine * 0.15) },
      { lo_s: 120, hi_s: 300, count: Math.round(pagedGenuine * 0.15) },
      { lo_s: 300, hi_s: 900, count: Math.round(pagedGenuine * 0.1) },
      { lo_s: 900, hi_s: 3600, count: Math.round(pagedGenuine * 0.05) },
    ],
  },
  pages_per_day: pages / days,
  noise_reduction: 1 - pages / 1240,
});

/** Twenty-eight days of a mid-sized estate: 1,240 incidents, 180 genuine, tuned. */
export function replayFixture(): ReplayJson {
  const days = 28;
  const policy = routing(262, 168, 176, 45, 410, days);
  const reliability = Array.from({ length: 10 }, (_, i) => {
    const count = [610, 240, 120, 70, 52, 40, 34, 28, 24, 22][i] ?? 0;
    const mean = i / 10 + 0.05;
    return {
      lo: i / 10,
      hi: (i + 1) / 10,
      count,
      mean_score: mean,
      genuine_rate: Math.min(1, Math.max(0, mean + (i % 3 === 0 ? -0.04 : 0.03))),
    };
  });
  const prCurve = Array.from({ length: 19 }, (_, i) => {
    const t = (i + 1) / 20;
    return {
      threshold: t,
      precision: Math.min(1, 0.14 + 0.9 * t ** 1.5),
      recall: Math.max(0.05, 1 - t ** 2.2),
    };
  });
  const daily = Array.from({ length: days }, (_, i) => {
    const day = new Date(Date.UTC(2025, 2, 1 + i)).toISOString().slice(0, 10);
    const weekend = i % 7 >= 5;
    return {
      day,
      pagewise: (weekend ? 5 : 10) + (i % 3),
      page_everything: (weekend ? 28 : 48) + ((i * 7) % 11),
      severity: (weekend ? 14 : 24) + ((i * 5) % 7),
    };
  });
  return {
    ...policy,
    history: {
      files: ["history/2025-03.jsonl", "history/extra & <odd>.jsonl"],
      events: 9_870,
      triggers: 4_310,
      first_at: "2025-03-01T00:02:11Z",
      last_at: "2025-03-28T23:51:40Z",
      days,
    },
    model: {
      version: "m-2025-02-28",
      final_version: "m-2025-03-27",
      learn: true,
      feedback_delay_s: 3600,
      refits: 27,
    },
    undeclared: { sources: ["legacy-nagios"], services: [EVIL, "billing-batch"] },
    incidents: { total: 1240, genuine: 180, labelled: 1180, alerts: 4310, compression: 4310 / 1240 },
    score: {
      count: 1240,
      genuine: 180,
      auc: 0.912,
      brier: 0.0712,
      brier_skill: 0.43,
      log_loss: 0.241,
      ece: 0.027,
      reliability,
    },
    routes: {
      page: { count: 262, genuine: 168 },
      ticket: { count: 410, genuine: 10 },
      digest: { count: 520, genuine: 2 },
      [EVIL]: { count: 48, genuine: 0 },
    },
    baselines: {
      page_everything: routing(1240, 180, 180, 20, 120, days),
      severity: routing(610, 150, 170, 30, 200, days),
    },
    teams: {
      payments: group(420, 80, 110, 76),
      platform: group(610, 70, 112, 66),
      [EVIL]: group(210, 30, 40, 26),
    },
    sources: { alertmanager: group(900, 150, 220, 142), "legacy-nagios": group(340, 30, 42, 26) },
    tiers: { "0": group(200, 60, 80, 58), "1": group(540, 90, 140, 86), "2": group(500, 30, 42, 24) },
    daily,
    pr_curve: prCurve,
    current_threshold: 0.7,
    missed: [
      {
        incident: 311,
        opened_at: "2025-03-09T03:14:00Z",
        source: "alertmanager",
        service: EVIL,
        team: "payments",
        tier: 1,
        severity: "warning",
        score: 0.41,
        route: "ticket",
        rule: "warn-to-ticket",
        explanation: "score 0.41 < high 0.70 for tier 1; severity warning",
        counterfactual: "would have paged at high threshold 0.40",
      },
      {
        incident: 902,
        opened_at: "2025-03-22T14:40:00Z",
        source: "legacy-nagios",
        service: null,
        team: null,
        tier: 2,
        severity: "info",
        score: null,
        route: "digest",
        rule: null,
        explanation: 'undeclared source "legacy-nagios": default route digest',
        counterfactual: null,
      },
    ],
    tune: tuneFixture(),
  };
}

/** Cost falls then rises with the threshold; the best is the cheapest candidate that keeps recall. */
function tuneFixture(): NonNullable<ReplayJson["tune"]> {
  const minRecall = 0.9;
  const candidates = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85].map((t) => {
    const pages = Math.round(480 - 400 * t);
    const recall = Math.min(1, 1.3 - 0.5 * t);
    return {
      label: t === 0.6 ? `high=${t} <b>&amp;</b>` : `high=${t}`,
      threshold: t,
      cost: pages + (1 - recall) * 180 * 20,
      pages,
      precision: Math.min(1, (180 * recall) / pages),
      recall,
      feasible: recall >= minRecall,
    };
  });
  const best = candidates.filter((c) => c.feasible).sort((a, b) => a.cost - b.cost)[0];
  return {
    costs: { false_page: 1, missed: 20, delay_per_min: 0.05 },
    min_recall: minRecall,
    candidates,
    best: best?.label ?? "",
  };
}
