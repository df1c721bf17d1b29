import type { GroupJson, ReplayJson, RoutingJson } from "./summary.js";

/** Escapes text for HTML element content and double-quoted attributes. Every data string goes through it. */
export function esc(s: string): string {
  return s
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

const NA = '<span class="na">n/a</span>';

export const pct = (v: number | null, digits = 1) => (v === null ? NA : `${(v * 100).toFixed(digits)}%`);
export const num = (v: number | null, digits = 3) => (v === null ? NA : v.toFixed(digits));
export const int = (v: number) => v.toLocaleString("en-US");

/** Seconds as "45s", "4m 10s", "2h 05m". */
export function dur(v: number | null): string {
  if (v === null) return NA;
  const s = Math.round(v);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** Cells are already-escaped HTML (the helpers above, or esc()). */
function table(id: string, head: string[], rows: string[][], caption?: string): string {
  const th = head.map((h) => `<th>${h}</th>`).join("");
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("\n");
  const cap = caption === undefined ? "" : `<caption>${caption}</caption>`;
  return `<table id="${id}">${cap}<thead><tr>${th}</tr></thead>\n<tbody>\n${body}\n</tbody></table>`;
}

const empty = (what: string) => `<p class="empty">${what}</p>`;

export function headlineTables(r: ReplayJson): string {
  const inc = r.incidents;
  const volume = table(
    "t-volume",
    ["incidents", "genuine", "labelled", "alerts", "alerts per incident"],
    [[int(inc.total), int(inc.genuine), int(inc.labelled), int(inc.alerts), num(inc.compression, 2)]],
  );
  const cols: [string, RoutingJson][] = [
    ["pagewise", r],
    ["page everything", r.baselines.page_everything],
    ["severity only", r.baselines.severity],
  ];
  const row = (label: string, cell: (x: RoutingJson) => string) => [label, ...cols.map(([, x]) => cell(x))];
  const routing = table(
    "t-headline",
    ["", ...cols.map(([name]) => esc(name))],
    [
      row("pages", (x) => int(x.paging.pages)),
      row("paging precision", (x) => pct(x.paging.precision)),
      row("paging recall", (x) => pct(x.paging.recall)),
      row("handled recall", (x) => pct(x.handled.recall)),
      row("time to page p50", (x) => dur(x.time_to_page_s.p50)),
      row("time to page p90", (x) => dur(x.time_to_page_s.p90)),
      row("pages per day", (x) => num(x.pages_per_day, 1)),
      row("noise reduction", (x) => pct(x.noise_reduction)),
    ],
    "The policy beside both baselines, on the same incidents",
  );
  return volume + routing;
}

export function routesTable(r: ReplayJson): string {
  const rows = Object.entries(r.routes)
    .sort(([, a], [, b]) => b.count - a.count)
    .map(([route, v]) => [
      esc(route),
      int(v.count),
      int(v.genuine),
      pct(v.count ? v.genuine / v.count : null),
    ]);
  return rows.length
    ? table("t-routes", ["route", "incidents", "genuine", "genuine share"], rows)
    : empty("No incidents.");
}

export function scoreTable(r: ReplayJson): string {
  const s = r.score;
  return table(
    "t-score",
    ["scored", "genuine", "AUC", "Brier", "Brier skill", "log loss", "ECE"],
    [
      [
        int(s.count),
        int(s.genuine),
        num(s.auc),
        num(s.brier, 4),
        num(s.brier_skill),
        num(s.log_loss),
        num(s.ece),
      ],
    ],
  );
}

/** Page rate minus genuine rate, in points; flagged when a group is paged far more or less than it is genuine. */
const SKEW_FLAG = 0.15;

export function groupTable(id: string, key: string, groups: Record<string, GroupJson>): string {
  const entries = Object.entries(groups);
  // Tiers read best in their own order; names by size.
  const numeric = entries.every(([k]) => /^\d+$/.test(k));
  const rows = entries
    .sort(([ka, a], [kb, b]) => (numeric ? Number(ka) - Number(kb) : b.incidents - a.incidents))
    .map(([name, g]) => {
      const skew = g.genuine_rate === null ? null : g.page_rate - g.genuine_rate;
      const flag = skew !== null && Math.abs(skew) >= SKEW_FLAG;
      const skewCell =
        skew === null
          ? NA
          : `<span class="${flag ? "warn" : ""}">${skew >= 0 ? "+" : ""}${(skew * 100).toFixed(1)}</span>`;
      return [
        esc(name),
        int(g.incidents),
        int(g.genuine),
        int(g.pages),
        pct(g.page_rate),
        pct(g.genuine_rate),
        skewCell,
        pct(g.precision),
        pct(g.recall),
      ];
    });
  if (!rows.length) return empty("None.");
  return table(
    id,
    [
      esc(key),
      "incidents",
      "genuine",
      "pages",
      "page rate",
      "genuine rate",
      "skew (pts)",
      "precision",
      "recall",
    ],
    rows,
    `Skew = page rate − genuine rate; highlighted at ±${SKEW_FLAG * 100} points`,
  );
}

export function missedTable(r: ReplayJson): string {
  if (!r.missed.length) return empty("No genuine incident went unpaged.");
  const rows = r.missed.map((m) => [
    String(m.incident),
    esc(m.opened_at),
    esc(m.source),
    m.service === null ? NA : esc(m.service),
    m.team === null ? NA : esc(m.team),
    String(m.tier),
    esc(m.severity),
    num(m.score),
    esc(m.route),
    m.rule === null ? NA : esc(m.rule),
    esc(m.explanation),
    m.counterfactual === null ? NA : esc(m.counterfactual),
  ]);
  const head = ["#", "opened", "source", "service", "team", "tier", "severity", "score", "route", "rule"];
  return table("t-missed", [...head, "why", "what would have paged it"], rows);
}

export function undeclaredList(r: ReplayJson): string {
  const { sources, services } = r.undeclared;
  if (!sources.length && !services.length)
    return empty("Every source and service in the history is declared in the config.");
  const list = (xs: string[]) => (xs.length ? xs.map((x) => `<code>${esc(x)}</code>`).join(", ") : "none");
  return `<ul id="l-undeclared"><li>sources: ${list(sources)}</li><li>services: ${list(services)}</li></ul>
<p class="note">Documented defaults were applied to these; declare them to route them deliberately.</p>`;
}

export function tuneTable(r: ReplayJson): string {
  const t = r.tune;
  if (t === undefined) return "";
  const c = t.costs;
  const rows = [...t.candidates]
    .sort((a, b) => a.cost - b.cost)
    .map((x) => [
      x.label === t.best ? `<strong>${esc(x.label)}</strong> (best)` : esc(x.label),
      num(x.threshold, 2),
      num(x.cost, 1),
      int(x.pages),
      pct(x.precision),
      pct(x.recall),
      x.feasible ? "yes" : '<span class="warn">no</span>',
    ]);
  const caption =
    `Costs: false page ${num(c.false_page, 1)}, missed ${num(c.missed, 1)}, ` +
    `delay ${num(c.delay_per_min, 2)}/min; recall at least ${pct(t.min_recall)}`;
  return table(
    "t-tune",
    ["candidate", "high threshold", "cost", "pages", "precision", "recall", "feasible"],
    rows,
    caption,
  );
}
