#!/usr/bin/env node
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { SeriesSet } from "./alerts.mjs";
import { ensureAlertmanager, startAlertmanager } from "./am.mjs";
import { percentile, runLoad } from "./load.mjs";
import { ROOT, startPagewise } from "./pagewise.mjs";
import { installCleanup, machineBusySeconds } from "./proc.mjs";
import { caveats, machineInfo, machineTable, pointKey, tables } from "./report.mjs";
import { startSink } from "./sink.mjs";

const HELP = `Pagewise vs Prometheus Alertmanager 0.25, side by side, on 127.0.0.1 only.

  node bench/compare/run.mjs [options]

Each run starts one server (Alertmanager, Pagewise, or Pagewise --durability full) on a fresh
temp dir, then with the point's batch and concurrency:
  1. first pass: every series once (new alerts, each notified once to the webhook sink);
  2. warm-up (--warmup s), then re-sends for --duration s: accepted alerts/s, HTTP p50/p99;
  3. waits (at most --drain s) until the sink has a notification for every accepted new alert:
     first-notification latency = its POST -> its first webhook arrival, p50/p99;
and reads the server's peak RSS (VmHWM) and CPU (utime+stime from first pass to end of
re-sends). Runs alternate between the systems; tables show the median of each metric.

Grid (default): batch 1,10,100 x concurrency 1,8,32 x series 1000,10000, 3 runs each.
  --batch LIST --concurrency LIST --series LIST   the grid's axes (comma lists)
  --points LIST       instead of the grid, e.g. 1x8x1000,100x32x1000 (batch x conc. x series)
  --quick             1x8x1000,100x8x1000 (+ full), 1 run, 5 s
  --repeat N          runs per point and system (default 3)
  --duration S        re-send phase (default 10)   --warmup S (default 1)
  --first-pass-max S  bound on the first pass (default 120)   --drain S (default 30)
  --max-requests N    bound on requests per phase (default 2000000)
  --full LIST|all|none  points that also run Pagewise --durability full (default all)
  --pagewise-root DIR a built Pagewise checkout (default this one; needs dist/)
  --pagewise-label T  how the report names that build (default: git commit of the root)
  --am-group-interval D  (default 1s)
  --quiet-wait S      before each run wait up to S s for the machine to be quiet (default 10)
  --json FILE         write every raw run (JSON lines; the first line is the machine)
  --report FILE       only print the tables again from a --json file
`;

const opts = parseArgs({
  options: {
    batch: { type: "string", default: "1,10,100" },
    concurrency: { type: "string", default: "1,8,32" },
    series: { type: "string", default: "1000,10000" },
    points: { type: "string" },
    quick: { type: "boolean", default: false },
    repeat: { type: "string" },
    duration: { type: "string" },
    warmup: { type: "string", default: "1" },
    "first-pass-max": { type: "string", default: "120" },
    drain: { type: "string", default: "30" },
    "max-requests": { type: "string", default: "2000000" },
    full: { type: "string", default: "all" },
    "pagewise-root": { type: "string", default: ROOT },
    "pagewise-label": { type: "string" },
    "am-group-interval": { type: "string", default: "1s" },
    "quiet-wait": { type: "string", default: "10" },
    json: { type: "string" },
    report: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
}).values;

function num(text, name, min = 0) {
  const n = Number(text);
  if (text === undefined || text.trim() === "" || !Number.isFinite(n) || n < min) {
    console.error(`${name} must be a number >= ${min}, not "${text}"`);
    process.exit(2);
  }
  return n;
}
const list = (text, name) => text.split(",").map((x) => num(x, name, 1));
function parsePoint(text) {
  const m = /^(\d+)x(\d+)x(\d+)$/.exec(text.trim());
  if (m === null) {
    console.error(`a point is BATCHxCONCURRENCYxSERIES, e.g. 100x8x1000, not "${text}"`);
    process.exit(2);
  }
  return { batch: Number(m[1]), concurrency: Number(m[2]), series: Number(m[3]) };
}

function printReport(runs, meta) {
  console.log(`\n### Machine\n\n${machineTable(meta.machine)}\n\nCommand: \`${meta.command}\`\n`);
  console.log(tables(runs));
  const notes = caveats(runs);
  if (notes.length > 0) console.log(`\n${notes.map((n) => `- ${n}`).join("\n")}`);
}

if (opts.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
if (opts.report !== undefined) {
  const lines = readFileSync(opts.report, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  printReport(
    lines.filter((l) => l.type === "run"),
    lines.find((l) => l.type === "meta"),
  );
  process.exit(0);
}

const quick = opts.quick;
const cfg = {
  repeat: num(opts.repeat ?? (quick ? "1" : "3"), "--repeat", 1),
  durationMs: num(opts.duration ?? (quick ? "5" : "10"), "--duration", 0.1) * 1000,
  warmupMs: num(opts.warmup, "--warmup") * 1000,
  firstPassMaxMs: num(opts["first-pass-max"], "--first-pass-max", 1) * 1000,
  drainMs: num(opts.drain, "--drain", 1) * 1000,
  maxRequests: num(opts["max-requests"], "--max-requests", 1),
  quietWaitMs: num(opts["quiet-wait"], "--quiet-wait") * 1000,
  pagewiseRoot: resolve(opts["pagewise-root"]),
  groupInterval: opts["am-group-interval"],
};
const points = quick
  ? ["1x8x1000", "100x8x1000"].map(parsePoint)
  : opts.points !== undefined
    ? opts.points.split(",").map(parsePoint)
    : list(opts.series, "--series").flatMap((series) =>
        list(opts.batch, "--batch").flatMap((batch) =>
          list(opts.concurrency, "--concurrency").map((concurrency) => ({ batch, concurrency, series })),
        ),
      );
for (const p of points)
  if (p.batch > p.series) {
    console.error(`batch above series in ${pointKey(p)}`);
    process.exit(2);
  }
const fullKeys =
  opts.full === "all"
    ? null
    : opts.full === "none"
      ? new Set()
      : new Set(opts.full.split(",").map((t) => pointKey(parsePoint(t))));
const wantsFull = (p) => fullKeys === null || fullKeys.has(pointKey(p));

/** Waits until the rest of the machine uses under 0.25 cores for half a second, or gives up. */
async function waitQuiet() {
  const until = Date.now() + cfg.quietWaitMs;
  for (;;) {
    const m0 = machineBusySeconds();
    const c0 = process.cpuUsage();
    await new Promise((r) => setTimeout(r, 500));
    const used = process.cpuUsage(c0);
    const own = (used.user + used.system) / 1e6;
    const load = (machineBusySeconds() - m0 - own) / 0.5;
    if (load < 0.25 || Date.now() >= until) return load;
  }
}

/** One run of one point against one system; the server lives exactly as long as this call. */
async function runOnce(point, system, rep, sink) {
  const quietBefore = cfg.quietWaitMs > 0 ? await waitQuiet() : null;
  const server =
    system === "am"
      ? await startAlertmanager({ sinkUrl: sink.url, groupInterval: cfg.groupInterval })
      : await startPagewise({
          sinkUrl: sink.url,
          durability: system === "pw-full" ? "full" : "normal",
          root: cfg.pagewiseRoot,
        });
  try {
    const n = point.series;
    const series = new SeriesSet(n);
    const cursor = { at: 0 };
    const url = server.url + server.ingestPath;
    const common = {
      url,
      token: server.token,
      series,
      cursor,
      batch: point.batch,
      concurrency: point.concurrency,
    };
    await sink.reset(system === "am" ? "am" : "pw", n); // the sink's path prefix
    const postAt = new Float64Array(n).fill(Number.NaN);
    const accepted = new Uint8Array(n);

    const cpu0 = server.cpuSeconds();
    const first = await runLoad({
      ...common,
      maxRequests: Math.min(cfg.maxRequests, Math.ceil(n / point.batch)),
      maxMs: cfg.firstPassMaxMs,
      sent: (f, b, t) => {
        for (let k = 0; k < b; k++) postAt[(f + k) % n] = t;
      },
      answered: (f, b, ok) => {
        if (ok) for (let k = 0; k < b; k++) accepted[(f + k) % n] = 1;
      },
    });
    const firstAccepted = accepted.reduce((s, x) => s + x, 0);
    const warm =
      cfg.warmupMs > 0
        ? await runLoad({ ...common, maxRequests: cfg.maxRequests, maxMs: cfg.warmupMs })
        : null;

    const cpuB0 = server.cpuSeconds();
    const sinkCpu = () => sink.cpuSeconds() ?? 0;
    const own0 = process.cpuUsage();
    const sink0 = sinkCpu();
    const machine0 = machineBusySeconds();
    const steady = await runLoad({ ...common, maxRequests: cfg.maxRequests, maxMs: cfg.durationMs });
    const cpu1 = server.cpuSeconds();
    const machineUsed = machineBusySeconds() - machine0;
    const ownUsed = (process.cpuUsage(own0).user + process.cpuUsage(own0).system) / 1e6 + (sinkCpu() - sink0);
    const peakRss = server.peakRssKiB();

    // Every accepted new alert should have been notified; wait for the stragglers.
    const drainStart = Date.now();
    while ((await sink.count()) < firstAccepted && Date.now() - drainStart < cfg.drainMs)
      await new Promise((r) => setTimeout(r, 100));
    const got = await sink.collect();
    const lat = [];
    for (let i = 0; i < n; i++) if (accepted[i] && got.first[i] !== null) lat.push(got.first[i] - postAt[i]);
    const sorted = Float64Array.from(lat).sort();
    const loadedS = (first.elapsedMs + (warm?.elapsedMs ?? 0) + steady.elapsedMs) / 1000;
    const allAlerts = firstAccepted + (warm?.acceptedAlerts ?? 0) + steady.acceptedAlerts;
    return {
      type: "run",
      system,
      rep,
      ...point,
      alertsPerSec: steady.alertsPerSec,
      p50Ms: steady.p50Ms,
      p99Ms: steady.p99Ms,
      maxMs: steady.maxMs,
      requests: steady.requests,
      statuses: steady.statuses,
      firstPassAlertsPerSec: first.alertsPerSec,
      firstPassP99Ms: first.p99Ms,
      firstPassSeconds: first.elapsedMs / 1000,
      firstAccepted,
      firstPassIncomplete: firstAccepted < n,
      notifyP50Ms: percentile(sorted, 0.5),
      notifyP90Ms: percentile(sorted, 0.9),
      notifyP99Ms: percentile(sorted, 0.99),
      notifyMaxMs: sorted.length === 0 ? null : sorted[sorted.length - 1],
      notified: lat.length,
      notifyMissing: firstAccepted - lat.length,
      sink: {
        byReceiver: got.byReceiver,
        notifications: got.notifications,
        named: got.named,
        repeats: got.repeats,
        unmatched: got.unmatched,
        wrongSystem: got.wrongSystem,
        bad: got.bad,
      },
      non2xx: first.non2xx + (warm?.non2xx ?? 0) + steady.non2xx,
      errors: first.errors + (warm?.errors ?? 0) + steady.errors,
      firstFailure: first.firstFailure ?? warm?.firstFailure ?? steady.firstFailure,
      peakRssMiB: peakRss === null ? null : peakRss / 1024,
      // Server CPU from the first pass to the end of the re-sends, % of one core.
      cpuPct: ((cpu1 - cpu0) / loadedS) * 100,
      cpuSteadyPct: ((cpu1 - cpuB0) / (steady.elapsedMs / 1000)) * 100,
      cpuUsPerAlert: ((cpu1 - cpu0) / allAlerts) * 1e6,
      // The rest of the machine during the re-sends, in cores (not the server, bench or sink).
      otherCpu: Math.max(0, machineUsed - (cpu1 - cpuB0) - ownUsed) / (steady.elapsedMs / 1000),
      quietBefore,
      seconds: steady.elapsedMs / 1000,
    };
  } finally {
    await server.stop();
  }
}

function line(r) {
  const f = (x, d = 0) => (x === null ? "-" : x.toFixed(d));
  return (
    `${r.system.padEnd(7)} ${pointKey(r).padEnd(12)} run ${r.rep}: ${f(r.alertsPerSec)} alerts/s (new ${f(r.firstPassAlertsPerSec)}), ` +
    `p50 ${f(r.p50Ms, 2)} p99 ${f(r.p99Ms, 2)} ms, notify p50 ${f(r.notifyP50Ms, 1)} p99 ${f(r.notifyP99Ms, 1)} ms ` +
    `(${r.notified}/${r.firstAccepted}), RSS ${f(r.peakRssMiB)} MiB, CPU ${f(r.cpuPct)}%, other ${f(r.otherCpu, 2)} cores`
  );
}

async function main() {
  installCleanup();
  const amVersion = ensureAlertmanager();
  const meta = {
    type: "meta",
    command: `node bench/compare/run.mjs ${process.argv.slice(2).join(" ")}`.trim(),
    machine: machineInfo({ amVersion, pagewiseRoot: cfg.pagewiseRoot, label: opts["pagewise-label"] }),
    cfg,
    points,
    startedAt: new Date().toISOString(),
  };
  if (opts.json !== undefined) writeFileSync(opts.json, `${JSON.stringify(meta)}\n`);
  const sink = await startSink();
  const runs = [];
  const started = Date.now();
  try {
    for (const point of points) {
      const systems = wantsFull(point) ? ["am", "pw", "pw-full"] : ["am", "pw"];
      for (let rep = 1; rep <= cfg.repeat; rep++) {
        // Alternate which system goes first, so drift in the machine's load hits both alike.
        for (const system of rep % 2 === 1 ? systems : [...systems].reverse()) {
          const r = await runOnce(point, system, rep, sink);
          runs.push(r);
          console.error(line(r));
          if (opts.json !== undefined) appendFileSync(opts.json, `${JSON.stringify(r)}\n`);
        }
      }
    }
  } finally {
    sink.stop();
  }
  console.error(`\n${runs.length} runs in ${((Date.now() - started) / 60_000).toFixed(1)} min`);
  printReport(runs, meta);
}

await main();
