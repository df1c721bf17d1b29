import type { GroupJson, ReplayJson, RoutingJson } from "./summary.js";

/** `pagewise replay` without --json: the same figures as tables people read. */
const pct = (v: number | null) => (v === null ? "n/a" : `${(v * 100).toFixed(1)}%`);
const num = (v: number | null, d = 3) => (v === null ? "n/a" : v.toFixed(d));
const secs = (v: number | null) =>
  v === null ? "n/a" : v < 120 ? `${v.toFixed(0)}s` : `${(v / 60).toFixed(1)}m`;

export function replayText(r: ReplayJson): string {
  const out: string[] = [];
  const h = r.history;
  out.push(
    `${h.events} events (${h.triggers} triggers) from ${h.first_at} to ${h.last_at} (${h.days.toFixed(1)} days)`,
  );
  out.push(
    `model ${r.model.version}${r.model.learn ? `, learning from outcomes ${r.model.feedback_delay_s / 60} min after opening (${r.model.refits} refits, final ${r.model.final_version})` : ", frozen"}`,
  );
  if (r.undeclared.sources.length > 0)
    out.push(`sources not in the config (kind generic, reliability low): ${r.undeclared.sources.join(", ")}`);
  if (r.undeclared.services.length > 0)
    out.push(
      `services not in the config (tier 3, no team): ${r.undeclared.services.slice(0, 10).join(", ")}${r.undeclared.services.length > 10 ? ", ..." : ""}`,
    );
  const i = r.incidents;
  out.push(
    `incidents ${i.total} (${i.genuine} genuine of ${i.labelled} labelled) from ${i.alerts} alerts: ${num(i.compression, 2)} alerts per incident`,
  );
  out.push(
    `score: AUC ${num(r.score.auc)}, Brier ${num(r.score.brier, 4)}, log loss ${num(r.score.log_loss)}, ECE ${num(r.score.ece)}`,
  );
  out.push("");
  out.push(
    row(["", "pages", "precision", "recall", "handled", "ttp p50", "ttp p90", "pages/day", "noise cut"]),
  );
  const line = (name: string, x: RoutingJson) =>
    row([
      name,
      String(x.paging.pages),
      pct(x.paging.precision),
      pct(x.paging.recall),
      pct(x.handled.recall),
      secs(x.time_to_page_s.p50),
      secs(x.time_to_page_s.p90),
      x.pages_per_day.toFixed(2),
      pct(x.noise_reduction),
    ]);
  out.push(line("pagewise", r));
  out.push(line("page everything", r.baselines.page_everything));
  out.push(line("by severity", r.baselines.severity));
  out.push("");
  out.push(
    `routes: ${Object.entries(r.routes)
      .map(([k, v]) => `${k} ${v.count} (${v.genuine} genuine)`)
      .join(", ")}`,
  );
  out.push("");
  out.push(groupTable("team", r.teams));
  out.push(groupTable("tier", r.tiers));
  if (r.missed.length > 0) {
    out.push("");
    out.push(`missed genuine incidents (${r.missed.length}${r.missed.length >= 200 ? "+, first 200" : ""}):`);
    for (const m of r.missed.slice(0, 20)) {
      out.push(
        `  #${m.incident} ${m.opened_at} ${m.source}/${m.service ?? "-"}: ${m.explanation}${m.counterfactual === null ? "" : ` ${m.counterfactual}`}`,
      );
    }
    if (r.missed.length > 20) out.push(`  ... ${r.missed.length - 20} more in --json`);
  }
  return out.join("\n");
}

function groupTable(what: string, groups: Record<string, GroupJson>): string {
  const lines = [row([what, "incidents", "genuine rate", "page rate", "precision", "recall"])];
  for (const [k, g] of Object.entries(groups))
    lines.push(
      row([k, String(g.incidents), pct(g.genuine_rate), pct(g.page_rate), pct(g.precision), pct(g.recall)]),
    );
  return lines.join("\n");
}

function row(cells: string[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(18) : c.padStart(10))).join(" ");
}
