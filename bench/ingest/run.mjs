#!/usr/bin/env node
// Ingest benchmark: Alertmanager API v2 batches against a Pagewise server. `--help` for usage.
import { appendFileSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { installCleanupHandlers } from "./cleanup.mjs";
import { checkDurability } from "./durability.mjs";
import { LoadState, runLoad } from "./load.mjs";
import { machineBusySeconds, waitForQuiet } from "./machine.mjs";
import { describe, medianOf, table, tableFromJson } from "./report.mjs";
import { SeriesSet } from "./series.mjs";
import { ROOT, startServer } from "./server.mjs";

const HELP = `Usage: node bench/ingest/run.mjs [options]

Sends Alertmanager API v2 batches (POST /api/v2/alerts, what Prometheus sends) to Pagewise and
reports accepted alerts/s (2xx only), HTTP latency p50/p99, non-2xx answers and the server's
peak RSS. By default it starts its own server (npm run build first) on a fresh SQLite file in a
temp dir, and after the run stops it and checks that every acknowledged alert is in the file.

Each request carries the next --batch series, round-robin over --series label sets; after the
first pass every alert is a re-send, as with Prometheus. A run has three phases:
  prefill   one pass over all series (batch 100, concurrency 8), so that the measured phase is
            Prometheus' steady state of re-sends; its rate (first sends) is reported too
  warm-up   --warmup seconds at the run's batch and concurrency, not measured
  measured  until --requests requests were sent or --duration seconds passed, whichever first

Load:
  --batch N             alerts per request (default 100)
  --concurrency N       requests in flight, one keep-alive connection each (default 8)
  --series N            distinct alert label sets (default 1000; must be >= --batch)
  --duration S          measure for at most S seconds (default 10; 300 when only --requests
                        is given, so a run is always bounded in time)
  --requests N          measure at most N requests (default: no count limit, --duration bounds it)
  --warmup S            unmeasured warm-up in seconds (default 2; 0 to skip)
  --no-prefill          skip the prefill: the measured phase then includes first sends
  --repeat N            run each point N times, each on a fresh server, and report the median
                        of every column (default 1)
  --grid                batch {1, 10, 100} x concurrency {1, 8, 32} x series {1000, 10000}, a
                        fresh server per point; prints a Markdown table (--batch,
                        --concurrency and --series are ignored)

Server (spawned unless --url is given):
  --durability MODE     normal | full: the server's --durability (default normal)
  --server-root DIR     the Pagewise checkout whose bin/pagewise.js (and built dist/) to run
                        (default: the one this bench is in); e.g. a clean build of one commit:
                          git archive HEAD | tar -x -C DIR && ln -s $PWD/node_modules DIR/ &&
                          (cd DIR && npx tsc -p tsconfig.build.json)
  --config FILE         server config (default examples/pagewise.yaml of --server-root)
  --stop SIGNAL         kill | term: how the server is stopped before the durability check
                        (default kill, i.e. a crash: what a 2xx must survive); --cpu-prof
                        switches to term so that Node can write the profile
  --node-flags FLAGS    extra flags for the server's node, one string, e.g. "--max-old-space-size=512";
                        they follow the flags on the server's bin/pagewise.js #! line, which the
                        bench always passes (the server runs as shipped)
  --cpu-prof DIR        profile the server (node --cpu-prof) and write one .cpuprofile per run to
                        DIR; summarize with node bench/ingest/cpuprofile.mjs FILE
  --url URL             target an already running server instead (only http://127.0.0.1:PORT);
                        no RSS, CPU, "other CPU" (so no retries) or durability figures then

Shared machine (the bench, its server and anything else share the cores; every run reports
the CPU the rest of the machine used while it was measured, "other CPU"):
  --quiet-cores N       what counts as a quiet machine, in cores (default 0.25)
  --quiet-wait S        before each run, wait up to S seconds until the rest of the machine uses
                        less than --quiet-cores for a second (default 60; 0: do not wait)
  --retries N           run again, at most N times, a run during which the rest of the machine
                        used more than --quiet-cores (default 2); a discarded run is printed and
                        saved (--json) but left out of the medians; if every try was busy, the
                        last one counts

Output:
  --token KEY           the source's ingest key (default demo-prometheus-key)
  --json FILE           also append every run's figures to FILE as JSON lines
  --report FILE         only print the table for the runs saved in FILE (medians per point)
  -h, --help            this text

Examples:
  npm run build
  node bench/ingest/run.mjs --batch 100 --concurrency 8 --series 1000 --repeat 3
  node bench/ingest/run.mjs --grid --duration 10
  node bench/ingest/run.mjs --durability full --repeat 3
  node bench/ingest/run.mjs --batch 1 --cpu-prof .tmp/prof    # prints the cpuprofile.mjs command
`;

const GRID = { batch: [1, 10, 100], concurrency: [1, 8, 32], series: [1000, 10000] };
const PREFILL_BATCH = 100;
const PREFILL_CONCURRENCY = 8;
const PREFILL_MAX_MS = 120_000;

const OPTIONS = {
  batch: { type: "string", default: "100" },
  concurrency: { type: "string", default: "8" },
  series: { type: "string", default: "1000" },
  duration: { type: "string" },
  requests: { type: "string" },
  warmup: { type: "string", default: "2" },
  prefill: { type: "boolean", default: true },
  repeat: { type: "string", default: "1" },
  grid: { type: "boolean", default: false },
  durability: { type: "string", default: "normal" },
  "server-root": { type: "string", default: ROOT },
  config: { type: "string" },
  stop: { type: "string", default: "kill" },
  "node-flags": { type: "string", default: "" },
  "cpu-prof": { type: "string" },
  url: { type: "string" },
  "quiet-wait": { type: "string", default: "60" },
  "quiet-cores": { type: "string", default: "0.25" },
  retries: { type: "string", default: "2" },
  report: { type: "string" },
  token: { type: "string", default: "demo-prometheus-key" },
  json: { type: "string" },
  help: { type: "boolean", short: "h", default: false },
};

function parseOptions(argv) {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, allowNegative: true, options: OPTIONS }));
  } catch (err) {
    usage(err.message);
  }

  if (values.help) return { help: true };
  if (values.report !== undefined) return { report: values.report };

  const opts = {
    batch: positiveInt(values.batch, "--batch"),
    concurrency: positiveInt(values.concurrency, "--concurrency"),
    series: positiveInt(values.series, "--series"),
    requests:
      values.requests === undefined ? Number.POSITIVE_INFINITY : positiveInt(values.requests, "--requests"),
    duration: seconds(values.duration ?? (values.requests === undefined ? "10" : "300"), "--duration", false),
    warmup: seconds(values.warmup, "--warmup", true),
    prefill: values.prefill,
    repeat: positiveInt(values.repeat, "--repeat"),
    grid: values.grid,
    durability: oneOf(values.durability, ["normal", "full"], "--durability"),
    serverRoot: resolve(values["server-root"]),
    config: resolve(values.config ?? join(values["server-root"], "examples", "pagewise.yaml")),
    stop: oneOf(values.stop, ["kill", "term"], "--stop"),
    nodeFlags: values["node-flags"].split(/\s+/).filter((f) => f !== ""),
    cpuProf: values["cpu-prof"] === undefined ? null : resolve(values["cpu-prof"]),
    url: values.url === undefined ? null : localUrl(values.url),
    quietWait: seconds(values["quiet-wait"], "--quiet-wait", true),
    quietCores: seconds(values["quiet-cores"], "--quiet-cores", false),
    retries: values.retries === "0" ? 0 : positiveInt(values.retries, "--retries"),
    token: values.token,
    json: values.json ?? null,
  };
  if (!opts.grid && opts.batch > opts.series) usage("--series must be at least --batch");
  if (opts.url !== null && opts.cpuProf !== null) usage("--cpu-prof needs a spawned server (no --url)");
  return opts;
}

function usage(message) {
  console.error(`error: ${message}\n(see --help)`);
  process.exit(2);
}

function positiveInt(text, name) {
  if (!/^\d+$/.test(text) || Number(text) < 1) usage(`${name} must be a whole number >= 1, not "${text}"`);
  return Number(text);
}

function seconds(text, name, zeroOk) {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n < 0 || (n === 0 && !zeroOk))
    usage(`${name} must be a number of seconds${zeroOk ? "" : " > 0"}, not "${text}"`);
  return n;
}

function oneOf(text, choices, name) {
  if (!choices.includes(text)) usage(`${name} must be one of ${choices.join(", ")}, not "${text}"`);
  return text;
}

/** The bench only ever loads this machine: anything but 127.0.0.1 is refused. */
function localUrl(text) {
  let url;
  try {
    url = new URL(text);
  } catch {
    usage(`--url is not a URL: "${text}"`);
  }
  if (url.protocol !== "http:" || url.hostname !== "127.0.0.1")
    usage(`--url must be http://127.0.0.1:PORT, not "${text}"`);
  return url.origin;
}

/** The first pass over every series: all first sends, at a fixed batch and concurrency. */
async function prefillPass(common) {
  const count = common.state.series.count;
  const batch = Math.min(PREFILL_BATCH, count);
  const result = await runLoad({
    ...common,
    batch,
    concurrency: PREFILL_CONCURRENCY,
    maxRequests: Math.ceil(count / batch),
    maxMs: PREFILL_MAX_MS,
  });
  if (result.ok * batch < count)
    throw new Error(`prefill did not store every series: ${result.firstFailure ?? "too slow"}`);
  common.state.cursor = 0; // the measured phases start a fresh pass
  return result;
}

/** One run of one point; a spawned server lives exactly as long as this call. */
async function runOnce(point, opts, runLabel) {
  const nodeFlags = [...opts.nodeFlags];
  let stopSignal = opts.stop === "kill" ? "SIGKILL" : "SIGTERM";
  let profile = null;
  if (opts.cpuProf !== null) {
    mkdirSync(opts.cpuProf, { recursive: true });
    profile = join(opts.cpuProf, `pagewise-${pointName(point, opts)}-${runLabel}.cpuprofile`);
    nodeFlags.push(
      "--cpu-prof",
      `--cpu-prof-dir=${opts.cpuProf}`,
      `--cpu-prof-name=${profile.split("/").pop()}`,
    );
    stopSignal = "SIGTERM"; // the profile is written on a normal exit only
  }
  const server =
    opts.url === null
      ? await startServer({
          root: opts.serverRoot,
          config: opts.config,
          durability: opts.durability,
          nodeFlags,
        })
      : null;
  try {
    const target = opts.url ?? server.url;
    const state = new LoadState(new SeriesSet(point.series));
    const common = { target, token: opts.token, state };
    const ownCpu = () => cpuSecondsOf(process.cpuUsage()) + (server?.cpuSeconds() ?? 0);
    let quietBefore = null;
    if (opts.quietWait > 0) {
      quietBefore = await waitForQuiet(ownCpu, opts.quietCores, opts.quietWait * 1000);
      if (quietBefore >= opts.quietCores)
        console.error(`warning: the rest of the machine still uses ${quietBefore.toFixed(2)} cores`);
    }

    const prefill = opts.prefill ? await prefillPass(common) : null;
    if (opts.warmup > 0) {
      await runLoad({
        ...common,
        ...point,
        maxRequests: Number.POSITIVE_INFINITY,
        maxMs: opts.warmup * 1000,
      });
    }

    const serverCpu0 = server?.cpuSeconds() ?? null;
    const benchCpu0 = process.cpuUsage();
    const machine0 = machineBusySeconds();
    const measuredFrom = server?.sinceSpawn() ?? null;
    const measured = await runLoad({
      ...common,
      ...point,
      maxRequests: opts.requests,
      maxMs: opts.duration * 1000,
    });
    const elapsedS = measured.elapsedMs / 1000;
    const serverCpu1 = server?.cpuSeconds() ?? null;
    const measuredUntil = server?.sinceSpawn() ?? null;
    const benchCpu = cpuSecondsOf(process.cpuUsage(benchCpu0));
    const machineCpu = machineBusySeconds() - machine0;
    const serverCpu = serverCpu0 === null || serverCpu1 === null ? null : serverCpu1 - serverCpu0;

    const result = {
      ...point,
      durability: opts.url === null ? opts.durability : "unknown",
      serverRoot: opts.url === null ? opts.serverRoot : null,
      run: runLabel,
      alertsPerSec: measured.alertsPerSec,
      p50Ms: measured.p50Ms,
      p99Ms: measured.p99Ms,
      maxMs: measured.maxMs,
      requests: measured.requests,
      acceptedAlerts: measured.acceptedAlerts,
      non2xx: measured.non2xx,
      errors: measured.errors,
      statuses: measured.statuses,
      firstFailure: measured.firstFailure,
      seconds: elapsedS,
      prefillAlertsPerSec: prefill?.alertsPerSec ?? null,
      serverCpu: serverCpu === null ? null : serverCpu / elapsedS,
      benchCpu: benchCpu / elapsedS,
      // In cores; unknown with --url, where the server is part of "the rest of the machine".
      otherCpu: serverCpu === null ? null : Math.max(0, machineCpu - benchCpu - serverCpu) / elapsedS,
      quietBefore,
      peakRssMiB: null,
      durable: null,
      durabilityDetail: null,
      serverErrors: null,
      profile,
      // The measured phase within the server's life, e.g. for cpuprofile.mjs --from/--until.
      measuredFrom,
      measuredUntil,
    };
    if (server !== null) {
      const rss = server.peakRssKiB(); // read before the stop: /proc forgets it afterwards
      result.peakRssMiB = rss === null ? null : rss / 1024;
      result.serverErrors = server.errorLines();
      const exit = await server.stop(stopSignal);
      if (stopSignal === "SIGTERM" && exit.code !== 0)
        console.error(
          `warning: server exit code ${exit.code} after SIGTERM:\n${server.output().slice(-2000)}`,
        );
      const d = checkDurability(server.dbPath, state);
      result.durable = d.ok;
      result.durabilityDetail = { ...d, stoppedWith: stopSignal };
    }
    return result;
  } finally {
    if (server !== null) {
      await server.stop("SIGKILL");
      server.remove();
    }
  }
}

function cpuSecondsOf(usage) {
  return (usage.user + usage.system) / 1e6;
}

function pointName(point, opts) {
  return `b${point.batch}-c${point.concurrency}-s${point.series}-${opts.durability}`;
}

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  if (opts.help) {
    process.stdout.write(HELP);
    return;
  }
  if (opts.report !== undefined) {
    console.log(tableFromJson(opts.report));
    return;
  }
  installCleanupHandlers();
  const points = opts.grid
    ? GRID.series.flatMap((series) =>
        GRID.batch.flatMap((batch) =>
          GRID.concurrency.map((concurrency) => ({ batch, concurrency, series })),
        ),
      )
    : [{ batch: opts.batch, concurrency: opts.concurrency, series: opts.series }];

  const rows = [];
  for (const point of points) {
    const runs = [];
    for (let i = 1; i <= opts.repeat; i++) {
      for (let attempt = 0; ; attempt++) {
        const r = await runOnce(point, opts, attempt === 0 ? String(i) : `${i}-retry${attempt}`);
        // Foreign load skews a run; measure it again rather than average it in.
        r.discarded = r.otherCpu !== null && r.otherCpu > opts.quietCores && attempt < opts.retries;
        console.error(describe(r));
        if (opts.json !== null) appendFileSync(opts.json, `${JSON.stringify(r)}\n`);
        if (r.discarded) continue;
        runs.push(r);
        break;
      }
    }
    if (!opts.grid) rows.push(...runs);
    if (opts.repeat > 1 || opts.grid) rows.push(runs.length > 1 ? medianOf(runs) : runs[0]);
  }

  const where = opts.url === null ? "a spawned server" : opts.url;
  console.log(
    `\nIngest benchmark against ${where}: measured ${Number.isFinite(opts.requests) ? `at most ${opts.requests} requests or ` : ""}` +
      `${opts.duration} s per run after a ${opts.warmup} s warm-up${opts.prefill ? " and a prefill pass" : ""}.\n`,
  );
  console.log(table(rows));
  if (rows.some((r) => r.durable === false)) process.exitCode = 1;
}

await main();
