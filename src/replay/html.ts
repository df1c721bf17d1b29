import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { type ReportChart, reportCharts } from "./charts.js";
import {
  esc,
  groupTable,
  headlineTables,
  int,
  missedTable,
  routesTable,
  scoreTable,
  tuneTable,
  undeclaredList,
} from "./html-tables.js";
import type { ReplayJson } from "./summary.js";

/**
 * The report of `pagewise replay --report out.html`: one self-contained file. Charts are
 * rendered to SVG here (Vega headless, no canvas) and inlined; there is no script, no
 * stylesheet link, no font or image to fetch, so it opens offline and can be mailed around.
 */

/** Renders a Vega-Lite spec to an SVG string, ready to inline in HTML. */
export async function specToSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    const svg = await view.toSVG();
    // Inline SVG in HTML needs no namespace declarations; dropping them keeps the file free of URLs.
    return svg.replace(/ xmlns(:xlink)?="[^"]*"/g, "");
  } finally {
    view.finalize();
  }
}

const CSS = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; margin: 0; background: #f6f7f9; }
main { max-width: 1180px; margin: 0 auto; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 32px 0 10px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 14px; margin: 18px 0 6px; }
.meta { color: #666; margin: 0 0 8px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 16px; }
figure { margin: 0; background: #fff; border: 1px solid #e3e3e3; border-radius: 6px; padding: 10px; }
figure svg { max-width: 100%; height: auto; display: block; }
table { border-collapse: collapse; background: #fff; margin: 6px 0 14px; font-variant-numeric: tabular-nums; }
caption { text-align: left; color: #666; font-size: 12px; padding: 0 0 4px; caption-side: top; }
th, td { border: 1px solid #e3e3e3; padding: 4px 8px; text-align: right; vertical-align: top; }
th { background: #f0f2f5; font-weight: 600; }
td:first-child, th:first-child { text-align: left; }
#t-missed td, #t-missed th { text-align: left; max-width: 320px; }
.na, .empty, .note { color: #888; }
.warn { color: #b3261e; font-weight: 600; }
code { font-size: 13px; background: #eef; padding: 0 3px; border-radius: 3px; }
`;

async function chartFigure(c: ReportChart): Promise<string> {
  const svg = await specToSvg(c.spec);
  return `<figure id="chart-${c.id}" data-chart="${c.id}" aria-label="${esc(c.title)}">${svg}</figure>`;
}

function header(r: ReplayJson): string {
  const h = r.history;
  const m = r.model;
  const span =
    h.first_at === null || h.last_at === null
      ? "no events"
      : `${esc(h.first_at)} to ${esc(h.last_at)} (${h.days.toFixed(1)} days)`;
  const learn = m.learn
    ? `, learning online (feedback after ${Math.round(m.feedback_delay_s)}s, ${m.refits} refits)`
    : "";
  const finalModel = m.final_version !== m.version ? `, ending at <code>${esc(m.final_version)}</code>` : "";
  return `<h1>Pagewise replay${r.tune ? " and tuning" : ""}</h1>
<p class="meta">${int(h.events)} events (${int(h.triggers)} triggers) from ${h.files.map((f) => `<code>${esc(f)}</code>`).join(", ")}; ${span}.</p>
<p class="meta">Model <code>${esc(m.version)}</code>${finalModel}${learn}.</p>`;
}

/** The whole report as one HTML document. */
export async function renderReport(r: ReplayJson): Promise<string> {
  const figures: string[] = [];
  // Sequential: the views are cheap and this keeps memory flat on big histories.
  for (const c of reportCharts(r)) figures.push(await chartFigure(c));
  const tune = r.tune ? `<h2>Tuning</h2>\n${tuneTable(r)}` : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pagewise replay report</title>
<style>${CSS}</style>
</head>
<body>
<main>
${header(r)}
<h2>Headline</h2>
${headlineTables(r)}
<h2>Charts</h2>
<div class="charts">
${figures.join("\n")}
</div>
<h2>Routes</h2>
${routesTable(r)}
<h2>Score quality</h2>
${scoreTable(r)}
<h2>Breakdowns: page rate against genuine rate</h2>
<h3>Teams</h3>
${groupTable("t-teams", "team", r.teams)}
<h3>Sources</h3>
${groupTable("t-sources", "source", r.sources)}
<h3>Tiers</h3>
${groupTable("t-tiers", "tier", r.tiers)}
<h2>Missed genuine incidents</h2>
${missedTable(r)}
<h2>Undeclared sources and services</h2>
${undeclaredList(r)}
${tune}
</main>
</body>
</html>
`;
}
