#!/usr/bin/env node
// Summarizes a V8 .cpuprofile (node --cpu-prof): where the busy CPU time went, by self time.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { parseArgs } from "node:util";

const HELP = `Usage: node bench/ingest/cpuprofile.mjs [--top N] [--from S] [--until S] FILE.cpuprofile...

Prints, per profile: the functions with the most self time, the self time per area (Pagewise's
own code by folder, each npm package, Node internals, native code, GC), and the inclusive time
of Pagewise's functions. Percentages are of busy time: (idle) is left out.

  --top N      how many functions to list (default 25)
  --from S     only samples from S seconds after the profile started (run.mjs prints the
               measured phase's window, which leaves out startup, prefill and warm-up)
  --until S    only samples before S seconds after the profile started

Time spent inside a native call (a better-sqlite3 statement, JSON.parse) is mostly counted as
the self time of the JavaScript function that made the call.
`;

/** Self time per node: each sample owns the interval until the next sample. */
function selfTimes(profile, fromUs, untilUs) {
  const self = new Map();
  const { samples, timeDeltas } = profile;
  let t = 0; // since the profile's start
  for (let i = 0; i < samples.length; i++) {
    t += timeDeltas[i];
    if (t < fromUs || t >= untilUs) continue;
    const dt = i + 1 < timeDeltas.length ? timeDeltas[i + 1] : 0;
    self.set(samples[i], (self.get(samples[i]) ?? 0) + Math.max(0, dt));
  }
  return self;
}

function shortUrl(url) {
  if (url === "") return "";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(url);
  if (pkg !== null) return `${pkg[1]}/${pkg[2]}`;
  const dist = /\/dist\/(.*)$/.exec(url);
  if (dist !== null) return `pagewise/${dist[1]}`;
  return url.replace(/^file:\/\//, "");
}

/** The area a frame belongs to: what to change (or not) to make it cheaper. */
function areaOf(frame) {
  const { url, functionName } = frame;
  if (url === "") {
    if (functionName.startsWith("(")) return functionName; // (garbage collector), (program), (idle)
    return "native (V8 builtins, C++ bindings, better-sqlite3 calls)";
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg !== null) return `npm: ${pkg[1]}`;
  const dist = /\/dist\/([^/]+)\//.exec(url);
  if (dist !== null) return `pagewise: ${dist[1]}/`;
  if (url.startsWith("node:")) return "node: internals (http, streams, timers)";
  return shortUrl(url);
}

function label(frame) {
  const name = frame.functionName === "" ? "(anonymous)" : frame.functionName;
  const where = shortUrl(frame.url);
  return where === "" ? name : `${name}  ${where}:${frame.lineNumber + 1}`;
}

function summarize(file, top, fromS, untilS) {
  const profile = JSON.parse(readFileSync(file, "utf8"));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = selfTimes(profile, fromS * 1e6, untilS * 1e6);

  let total = 0;
  let idle = 0;
  const byFunction = new Map();
  const byArea = new Map();
  const inclusive = new Map();
  for (const [id, us] of self) {
    const frame = byId.get(id).callFrame;
    if (frame.functionName === "(idle)") {
      idle += us;
      continue;
    }
    total += us;
    const key = label(frame);
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const area = areaOf(frame);
    byArea.set(area, (byArea.get(area) ?? 0) + us);
    // Inclusive time of Pagewise's own functions: each counted once per stack (recursion).
    const seen = new Set();
    for (let p = id; p !== undefined; p = parent.get(p)) {
      const f = byId.get(p).callFrame;
      if (!/\/dist\//.test(f.url)) continue;
      const k = label(f);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    }
  }

  const ms = (us) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
  const pct = (us) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
  const list = (map, n) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => `  ${pct(us)} ${ms(us)}  ${k}`)
      .join("\n");
  const wall = (profile.endTime - profile.startTime) / 1e6;
  const window = `${fromS.toFixed(1)} s to ${Math.min(untilS, wall).toFixed(1)} s of ${wall.toFixed(1)} s`;
  console.log(`# ${basename(file)}`);
  console.log(
    `window ${window}; main thread busy ${(total / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s`,
  );
  console.log(`\nTop ${top} functions by self time (% of busy time):\n${list(byFunction, top)}`);
  console.log(`\nSelf time by area:\n${list(byArea, 20)}`);
  console.log(`\nPagewise functions by inclusive time:\n${list(inclusive, top)}\n`);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: "string", default: "25" },
    from: { type: "string", default: "0" },
    until: { type: "string", default: "Infinity" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help || positionals.length === 0) {
  process.stdout.write(HELP);
  process.exit(values.help ? 0 : 2);
}
for (const file of positionals)
  summarize(file, Number(values.top), Number(values.from), Number(values.until));
