import { readFileSync } from "node:fs";
import { describeDurability } from "./durability.mjs";

/** Formatting of results: one line per run on stderr, Markdown tables on stdout. */

function median(values) {
  const v = values.filter((x) => x !== null && x !== undefined).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** The median of every numeric column separately; counts are summed, durability must hold in all. */
export function medianOf(runs) {
  const m = (key) => median(runs.map((r) => r[key]));
  return {
    ...runs[0],
    run: `median of ${runs.length}`,
    alertsPerSec: m("alertsPerSec"),
    alertsPerSecMin: Math.min(...runs.map((r) => r.alertsPerSec)),
    alertsPerSecMax: Math.max(...runs.map((r) => r.alertsPerSec)),
    p50Ms: m("p50Ms"),
    p99Ms: m("p99Ms"),
    maxMs: m("maxMs"),
    requests: m("requests"),
    prefillAlertsPerSec: m("prefillAlertsPerSec"),
    serverCpu: m("serverCpu"),
    benchCpu: m("benchCpu"),
    otherCpu: m("otherCpu"),
    peakRssMiB: m("peakRssMiB"),
    non2xx: runs.reduce((s, r) => s + r.non2xx, 0),
    errors: runs.reduce((s, r) => s + r.errors, 0),
    durable: runs.some((r) => r.durable === null) ? null : runs.every((r) => r.durable),
  };
}

const COLUMNS = [
  ["durability", (r) => r.durability],
  ["batch", (r) => r.batch],
  ["concurrency", (r) => r.concurrency],
  ["series", (r) => r.series.toLocaleString("en-US")],
  ["run", (r) => r.run],
  ["accepted alerts/s", (r) => thousands(r.alertsPerSec)],
  [
    "min–max",
    (r) =>
      r.alertsPerSecMin === undefined
        ? "-"
        : `${thousands(r.alertsPerSecMin)}–${thousands(r.alertsPerSecMax)}`,
  ],
  ["p50 ms", (r) => fixed(r.p50Ms, 2)],
  ["p99 ms", (r) => fixed(r.p99Ms, 2)],
  ["requests", (r) => Math.round(r.requests).toLocaleString("en-US")],
  ["non-2xx (+errors)", (r) => (r.errors > 0 ? `${r.non2xx} (+${r.errors})` : String(r.non2xx))],
  ["server CPU", (r) => percent(r.serverCpu)],
  ["bench CPU", (r) => percent(r.benchCpu)],
  ["other CPU", (r) => percent(r.otherCpu)],
  ["peak RSS MiB", (r) => fixed(r.peakRssMiB, 0)],
  [
    "first-send alerts/s",
    (r) => (r.prefillAlertsPerSec === null ? "-" : Math.round(r.prefillAlertsPerSec).toLocaleString("en-US")),
  ],
  ["durable", (r) => (r.durable === null ? "not checked" : r.durable ? "yes" : "**NO**")],
];

function thousands(x) {
  return Math.round(x).toLocaleString("en-US");
}

function fixed(x, digits) {
  return x === null || x === undefined ? "-" : x.toFixed(digits);
}

function percent(x) {
  return x === null || x === undefined ? "-" : `${Math.round(x * 100)}%`;
}

export function table(rows) {
  const lines = [
    `| ${COLUMNS.map(([h]) => h).join(" | ")} |`,
    // Parameters left-aligned, figures right-aligned.
    `| ${COLUMNS.map((_, i) => (i < 5 ? "---" : "---:")).join(" | ")} |`,
  ];
  for (const r of rows) lines.push(`| ${COLUMNS.map(([, f]) => f(r)).join(" | ")} |`);
  return lines.join("\n");
}

export function describe(r) {
  const parts = [
    `batch ${r.batch}, concurrency ${r.concurrency}, series ${r.series}, ${r.durability} durability, run ${r.run}` +
      `${r.discarded ? " (DISCARDED: the rest of the machine was busy; run again)" : ""}:`,
    `${Math.round(r.alertsPerSec)} accepted alerts/s over ${r.seconds.toFixed(1)} s, p50 ${fixed(r.p50Ms, 2)} ms, p99 ${fixed(r.p99Ms, 2)} ms,`,
    `${r.non2xx} non-2xx, ${r.errors} request errors, server CPU ${percent(r.serverCpu)}, bench CPU ${percent(r.benchCpu)},`,
    `rest of the machine ${percent(r.otherCpu)} of a core, peak RSS ${fixed(r.peakRssMiB, 0)} MiB`,
  ];
  if (r.firstFailure !== null) parts.push(`  first failure: ${r.firstFailure}`);
  if (r.serverErrors) parts.push(`  the server logged ${r.serverErrors} error line(s)`);
  if (r.durabilityDetail !== null)
    parts.push(
      `  durability (server stopped with ${r.durabilityDetail.stoppedWith}): ${describeDurability(r.durabilityDetail)}`,
    );
  if (r.profile !== null)
    parts.push(
      `  CPU profile of the measured phase: node bench/ingest/cpuprofile.mjs --from ${r.measuredFrom.toFixed(1)}` +
        ` --until ${r.measuredUntil.toFixed(1)} ${r.profile}`,
    );
  return parts.join("\n  ");
}

/**
 * The table for runs saved with --json: the median per point when a point ran several times.
 * Discarded runs (foreign load) are left out, as they were from the medians when measured.
 */
export function tableFromJson(file) {
  const runs = readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line))
    .filter((r) => !r.discarded);
  const byPoint = new Map();
  for (const r of runs) {
    const key = `${r.durability}/${r.batch}/${r.concurrency}/${r.series}`;
    byPoint.set(key, [...(byPoint.get(key) ?? []), r]);
  }
  return table([...byPoint.values()].map((rs) => (rs.length > 1 ? medianOf(rs) : rs[0])));
}
