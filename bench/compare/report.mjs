import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";

/** What the machine and the builds are, for the report header. */
export function machineInfo({ amVersion, pagewiseRoot, label }) {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? "unknown";
  const memKiB = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync("/proc/meminfo", "utf8"))?.[1] ?? 0);
  let pagewise = pagewiseRoot;
  try {
    const git = (...a) =>
      execFileSync("git", ["-C", pagewiseRoot, ...a], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }).trim();
    pagewise = `${git("rev-parse", "--short", "HEAD")}${git("status", "--porcelain", "--untracked-files=no") === "" ? "" : " + uncommitted changes"} (${pagewiseRoot})`;
  } catch {}
  if (label !== undefined) pagewise = `${label} (${pagewiseRoot})`;
  return {
    nproc: os.availableParallelism(),
    memGiB: memKiB / 1024 / 1024,
    cpu: model,
    kernel: os.release(),
    node: process.version,
    alertmanager: amVersion,
    pagewise,
  };
}

export function median(xs) {
  const v = xs.filter((x) => x !== null && x !== undefined && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** Metrics per run; the report takes the median of each over a point's runs, separately. */
export const METRICS = [
  { key: "alertsPerSec", head: "re-send alerts/s", fmt: int },
  { key: "firstPassAlertsPerSec", head: "new alerts/s", fmt: int },
  { key: "p50Ms", head: "HTTP p50 ms", fmt: ms },
  { key: "p99Ms", head: "HTTP p99 ms", fmt: ms },
  { key: "notifyP50Ms", head: "notify p50 ms", fmt: ms },
  { key: "notifyP99Ms", head: "notify p99 ms", fmt: ms },
  { key: "peakRssMiB", head: "peak RSS MiB", fmt: int },
  { key: "cpuPct", head: "CPU % core", fmt: int },
  { key: "cpuUsPerAlert", head: "CPU µs/alert", fmt: one },
];

function int(x) {
  return x === null ? "-" : Math.round(x).toLocaleString("en-US");
}
function ms(x) {
  return x === null
    ? "-"
    : x < 10
      ? x.toFixed(2)
      : x < 100
        ? x.toFixed(1)
        : Math.round(x).toLocaleString("en-US");
}
function one(x) {
  return x === null ? "-" : x.toFixed(1);
}
const ratio = (pw, am) => (pw === null || am === null || am === 0 ? "-" : `${(pw / am).toFixed(2)}`);

export const pointKey = (p) => `${p.batch}x${p.concurrency}x${p.series}`;

/** Median of each metric per (point, system), in the order the points were first run. */
export function summarize(runs) {
  const groups = new Map();
  for (const r of runs) {
    const k = `${pointKey(r)}|${r.system}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(r);
  }
  const out = new Map();
  for (const [k, rs] of groups) {
    const m = {
      n: rs.length,
      missing: rs.reduce((s, r) => s + r.notifyMissing, 0),
      non2xx: rs.reduce((s, r) => s + r.non2xx + r.errors, 0),
      otherCpu: median(rs.map((r) => r.otherCpu)),
    };
    for (const { key } of METRICS) m[key] = median(rs.map((r) => r[key]));
    out.set(k, m);
  }
  return out;
}

/**
 * Two Markdown tables (ingest; notification and resources): per point one row per Pagewise mode,
 * each metric as Alertmanager | Pagewise | ratio (Pagewise / Alertmanager).
 */
export function tables(runs) {
  const s = summarize(runs);
  const points = [];
  for (const r of runs) if (!points.some((p) => pointKey(p) === pointKey(r))) points.push(r);
  const modes = ["pw", "pw-full"].filter((m) => runs.some((r) => r.system === m));
  const halves = [METRICS.slice(0, 4), METRICS.slice(4)];
  const out = [];
  for (const metrics of halves) {
    const head = ["batch", "conc.", "series", "Pagewise mode", "runs AM/PW"];
    for (const m of metrics) head.push(`${m.head} AM`, "PW", "PW/AM");
    const lines = [
      `| ${head.join(" | ")} |`,
      `| ${head.map((_, i) => (i < 4 ? "---" : "---:")).join(" | ")} |`,
    ];
    for (const p of points) {
      const am = s.get(`${pointKey(p)}|am`);
      for (const mode of modes) {
        const pw = s.get(`${pointKey(p)}|${mode}`);
        if (pw === undefined) continue;
        const row = [
          p.batch,
          p.concurrency,
          p.series.toLocaleString("en-US"),
          mode === "pw" ? "normal" : "full",
          `${am?.n ?? 0}/${pw.n}`,
        ];
        for (const m of metrics) {
          const a = am?.[m.key] ?? null;
          const b = pw[m.key];
          row.push(m.fmt(a), m.fmt(b), ratio(b, a));
        }
        lines.push(`| ${row.join(" | ")} |`);
      }
    }
    out.push(lines.join("\n"));
  }
  return out.join("\n\n");
}

/** Anything a reader must know: missing notifications, failed requests, busy machine. */
export function caveats(runs) {
  const notes = [];
  for (const r of runs) {
    const where = `${r.system} ${pointKey(r)} run ${r.rep}`;
    if (r.notifyMissing > 0)
      notes.push(
        `${where}: ${r.notifyMissing} of ${r.firstAccepted} new alerts had no notification within the drain time`,
      );
    if (r.non2xx + r.errors > 0)
      notes.push(`${where}: ${r.non2xx} non-2xx, ${r.errors} request errors (${r.firstFailure})`);
    if (r.firstPassIncomplete)
      notes.push(
        `${where}: the first pass did not finish in time (${r.firstAccepted} of ${r.series} new alerts accepted)`,
      );
  }
  const busy = runs.filter((r) => r.otherCpu !== null && r.otherCpu > 0.25).length;
  if (busy > 0)
    notes.push(
      `${busy} of ${runs.length} runs had other work on the machine above 0.25 cores while measured (column otherCpu in the JSON)`,
    );
  return notes;
}

export function machineTable(m) {
  return [
    "| | |",
    "| --- | --- |",
    `| nproc | ${m.nproc} |`,
    `| memory | ${m.memGiB.toFixed(1)} GiB |`,
    `| CPU | ${m.cpu} |`,
    `| kernel | ${m.kernel} |`,
    `| node | ${m.node} |`,
    `| Alertmanager | ${m.alertmanager} |`,
    `| Pagewise | ${m.pagewise} |`,
  ].join("\n");
}
