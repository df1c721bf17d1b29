import type { Config, TopLevelSpec } from "vega-lite";
import type { PositionFieldDef } from "vega-lite/types_unstable/channeldef.js";
import type { LayerSpec } from "vega-lite/types_unstable/spec/layer.js";
import type { ReplayJson } from "./summary.js";

/**
 * Vega-Lite specs for the replay report, as plain objects built from `replay --json` alone so the
 * web UI can draw the same charts. Data is inlined (`data.values`); nothing is fetched.
 */

const WIDTH = 420;
const HEIGHT = 260;
const POLICY = "#4c78a8";
const ACCENT = "#e45756";

/** The three routings in the order and colours every chart uses. */
const SERIES = ["pagewise", "page everything", "severity only"];
const SERIES_COLOURS = [POLICY, "#f58518", "#54a24b"];

/** Shared look: no external fonts, the system sans-serif. */
const config: Config = {
  font: "sans-serif",
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: "#eee" },
  legend: { orient: "bottom" },
  title: { anchor: "start", fontSize: 14 },
};

const base = (title: string, subtitle?: string) => ({
  $schema: "https://vega.github.io/schema/vega-lite/v6.json",
  title: subtitle === undefined ? { text: title } : { text: title, subtitle },
  width: WIDTH,
  height: HEIGHT,
  background: "white",
  config,
});

const unit: Omit<PositionFieldDef<string>, "field"> = {
  type: "quantitative",
  scale: { domain: [0, 1] },
  axis: { format: ".1f" },
};

/** (a) Reliability: mean score against genuine rate per bin, point size by count, with the diagonal. */
export function reliabilityChart(r: ReplayJson): TopLevelSpec {
  const bins = r.score.reliability
    .filter((b) => b.count > 0 && b.mean_score !== null && b.genuine_rate !== null)
    .map((b) => ({ ...b, bin: `${b.lo.toFixed(1)}-${b.hi.toFixed(1)}` }));
  return {
    ...base("Reliability", "genuine rate per score bin; on the diagonal = calibrated"),
    layer: [
      {
        // Named "decor_": drawn whatever the data, so a renderer check does not count it as data.
        name: "decor_diagonal",
        data: { values: [{ x: 0 }, { x: 1 }] },
        mark: { type: "line", color: "#999", strokeDash: [4, 4] },
        encoding: { x: { field: "x", ...unit }, y: { field: "x", ...unit } },
      },
      {
        data: { values: bins },
        mark: { type: "line", color: POLICY, opacity: 0.5 },
        encoding: {
          x: { field: "mean_score", title: "mean score", ...unit },
          y: { field: "genuine_rate", title: "genuine rate", ...unit },
        },
      },
      {
        data: { values: bins },
        mark: { type: "circle", color: POLICY, opacity: 0.85 },
        encoding: {
          x: { field: "mean_score", ...unit },
          y: { field: "genuine_rate", ...unit },
          size: { field: "count", type: "quantitative", title: "incidents", scale: { range: [30, 600] } },
          tooltip: [{ field: "bin" }, { field: "count" }, { field: "mean_score" }, { field: "genuine_rate" }],
        },
      },
    ],
  };
}

/** The pr_curve point nearest the current threshold (null when the curve has no defined point). */
export function currentPrPoint(r: ReplayJson) {
  let best: { threshold: number; precision: number; recall: number } | null = null;
  for (const p of r.pr_curve) {
    if (p.precision === null || p.recall === null) continue;
    if (
      best === null ||
      Math.abs(p.threshold - r.current_threshold) < Math.abs(best.threshold - r.current_threshold)
    )
      best = { threshold: p.threshold, precision: p.precision, recall: p.recall };
  }
  return best;
}

/** (b) Precision-recall of paging on peak score alone, with the current threshold marked. */
export function prCurveChart(r: ReplayJson): TopLevelSpec {
  const points = r.pr_curve.filter((p) => p.precision !== null && p.recall !== null);
  const current = currentPrPoint(r);
  const marked = current === null ? [] : [{ ...current, label: `threshold ${current.threshold.toFixed(2)}` }];
  return {
    ...base(
      "Precision and recall by threshold",
      `paging on peak score; red = current ${r.current_threshold}`,
    ),
    layer: [
      {
        data: { values: points },
        mark: { type: "line", color: POLICY, point: { size: 20 }, interpolate: "linear" },
        encoding: {
          x: { field: "recall", title: "recall", ...unit },
          y: { field: "precision", title: "precision", ...unit },
          order: { field: "threshold", type: "quantitative" },
          tooltip: [{ field: "threshold" }, { field: "precision" }, { field: "recall" }],
        },
      },
      {
        data: { values: marked },
        mark: { type: "point", shape: "diamond", filled: true, size: 160, color: ACCENT },
        encoding: { x: { field: "recall", ...unit }, y: { field: "precision", ...unit } },
      },
      {
        data: { values: marked },
        mark: { type: "text", align: "left", dx: 8, dy: -8, color: ACCENT },
        encoding: {
          x: { field: "recall", ...unit },
          y: { field: "precision", ...unit },
          text: { field: "label" },
        },
      },
    ],
  };
}

/** (c) Cost and pages for each tune candidate against its high threshold, best marked. Null without tune. */
export function tuneChart(r: ReplayJson): TopLevelSpec | null {
  const t = r.tune;
  if (t === undefined) return null;
  const values = t.candidates.map((c) => ({
    ...c,
    status: c.label === t.best ? "best" : c.feasible ? "feasible" : `recall < ${t.min_recall}`,
  }));
  const best = values.filter((c) => c.status === "best");
  const x: PositionFieldDef<string> = {
    field: "threshold",
    type: "quantitative",
    title: "high threshold",
    scale: { zero: false },
  };
  const panel = (field: "cost" | "pages", title: string): LayerSpec<string> => ({
    width: WIDTH,
    height: 160,
    layer: [
      {
        data: { values },
        mark: { type: "line", color: "#bbb" },
        encoding: { x, y: { field, type: "quantitative", title }, order: { field: "threshold" } },
      },
      {
        data: { values },
        mark: { type: "point", filled: true, size: 60 },
        encoding: {
          x,
          y: { field, type: "quantitative" },
          color: {
            field: "status",
            title: "candidate",
            scale: {
              domain: ["best", "feasible", `recall < ${t.min_recall}`],
              range: [ACCENT, POLICY, "#bbb"],
            },
          },
          tooltip: [{ field: "label" }, { field }, { field: "precision" }, { field: "recall" }],
        },
      },
      {
        data: { values: best },
        mark: { type: "rule", color: ACCENT, strokeDash: [3, 3] },
        encoding: { x },
      },
      {
        data: { values: best },
        mark: { type: "text", align: "left", dx: 6, dy: -8, color: ACCENT },
        encoding: { x, y: { field, type: "quantitative" }, text: { field: "label" } },
      },
    ],
  });
  const { width: _w, height: _h, ...head } = base("Tuning: cost and pages by threshold", `best: ${t.best}`);
  return { ...head, vconcat: [panel("cost", "cost"), panel("pages", "pages")] };
}

/** (d) Pages per UTC day: the policy against both baselines. */
export function dailyChart(r: ReplayJson): TopLevelSpec {
  const values = r.daily.flatMap((d) => [
    { day: d.day, series: SERIES[0], pages: d.pagewise },
    { day: d.day, series: SERIES[1], pages: d.page_everything },
    { day: d.day, series: SERIES[2], pages: d.severity },
  ]);
  return {
    ...base("Pages per day", "UTC days; the policy beside both baselines"),
    data: { values },
    mark: { type: "line", point: { size: 25 } },
    encoding: {
      x: {
        field: "day",
        type: "temporal",
        timeUnit: "utcyearmonthdate",
        title: "day (UTC)",
        axis: { format: "%b %d", labelAngle: 0, tickCount: 8 },
      },
      y: { field: "pages", type: "quantitative", title: "pages" },
      color: { field: "series", title: null, scale: { domain: SERIES, range: SERIES_COLOURS } },
      tooltip: [{ field: "day" }, { field: "series" }, { field: "pages" }],
    },
  };
}

/** Seconds as a short duration label: 45s, 5m, 1.5h. */
export function shortDuration(s: number): string {
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${+(s / 60).toFixed(1)}m`;
  return `${+(s / 3600).toFixed(1)}h`;
}

/** (e) Time from an incident's first alert to its first page (genuine paged incidents). */
export function timeToPageChart(r: ReplayJson): TopLevelSpec {
  const values = [...r.time_to_page_s.histogram]
    .sort((a, b) => a.lo_s - b.lo_s)
    .map((b, i) => ({ ...b, i, bin: `${shortDuration(b.lo_s)}-${shortDuration(b.hi_s)}` }));
  return {
    ...base("Time to page", `${r.time_to_page_s.count} genuine paged incidents`),
    data: { values },
    mark: { type: "bar", color: POLICY },
    encoding: {
      x: {
        field: "bin",
        type: "ordinal",
        title: "first alert to first page",
        sort: { field: "i" },
        axis: { labelAngle: 0 },
      },
      y: { field: "count", type: "quantitative", title: "incidents" },
      tooltip: [{ field: "bin" }, { field: "count" }],
    },
  };
}

export interface ReportChart {
  id: string;
  title: string;
  spec: TopLevelSpec;
}

/** Every chart the report draws, in order; the tune chart only when tune is present. */
export function reportCharts(r: ReplayJson): ReportChart[] {
  const charts: ReportChart[] = [
    { id: "daily", title: "Pages per day", spec: dailyChart(r) },
    { id: "reliability", title: "Reliability", spec: reliabilityChart(r) },
    { id: "pr-curve", title: "Precision and recall", spec: prCurveChart(r) },
    { id: "time-to-page", title: "Time to page", spec: timeToPageChart(r) },
  ];
  const tune = tuneChart(r);
  if (tune !== null) charts.push({ id: "tune", title: "Tuning", spec: tune });
  return charts;
}
