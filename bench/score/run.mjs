#!/usr/bin/env node
// Micro-benchmark: one score, features included, with the context snapshot in memory.
// Usage: npm run build && node bench/score/run.mjs [--calls 200000] [--batches 20]
// Prints the median cost per score over batches (ns), for the default and a fitted model.
import { parseArgs } from "node:util";
import { ContextState } from "../../dist/core/scoring/context.js";
import { FEATURE_COUNT } from "../../dist/core/scoring/features.js";
import { fitModel } from "../../dist/core/scoring/fit.js";
import { Learning } from "../../dist/core/scoring/learning.js";
import { compileModel, DEFAULT_MODEL } from "../../dist/core/scoring/model.js";
import { scoreInput } from "../../dist/core/scoring/scorer.js";

const { values } = parseArgs({
  options: { calls: { type: "string", default: "200000" }, batches: { type: "string", default: "20" } },
});
const calls = Number(values.calls);
const batches = Number(values.batches);

// A busy context: 500 services, 40 alertnames, 3 sources, a week of signals.
const t0 = Date.parse("2026-11-01T00:00:00Z");
const context = new ContextState();
const learning = new Learning();
let seed = 42;
const rand = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const services = Array.from({ length: 500 }, (_, i) => `svc-${i}`);
const alertnames = Array.from({ length: 40 }, (_, i) => `Alert${i}`);
const sources = ["prometheus", "logs", "detector"];
let at = t0;
for (let i = 0; i < 200_000; i++) {
  at += Math.floor(rand() * 6_000);
  const service = services[Math.floor(rand() ** 2 * services.length)];
  const alertname = alertnames[Math.floor(rand() * alertnames.length)];
  const source = sources[Math.floor(rand() * 3)];
  context.observe({
    kind: "fire",
    at,
    source,
    alertKey: `${service}/${alertname}`,
    alertname,
    service,
    host: `h${i % 50}`,
    team: "t",
    incidentId: i,
  });
  if (i % 3 === 0) context.observe({ kind: "resolve", at, source, alertKey: `${service}/${alertname}` });
  if (i % 500 === 0) context.observe({ kind: "change", at, service });
  if (i % 7 === 0) learning.record(source, alertname, rand() < 0.2, 1, at);
}

const inputs = Array.from({ length: 1024 }, (_, i) => ({
  at: at + i * 1000,
  source: sources[i % 3],
  alertKey: `${services[i % 500]}/${alertnames[i % 40]}`,
  alertname: alertnames[i % 40],
  service: services[i % 500],
  host: `h${i % 50}`,
  team: "t",
  severity: ["critical", "error", "warning", "info"][i % 4],
  tier: i % 4,
  serviceKnown: i % 5 !== 0,
  timezone: ["UTC", "Europe/Berlin", "America/New_York"][i % 3],
  upstream: i % 2 === 0 ? (i % 100) / 100 : null,
  eventCount: 1 + (i % 5),
  incidentAlerts: 1 + (i % 3),
  incidentAlertnames: 1,
}));

// A fitted model with isotonic calibration, as `train` makes.
const rows = Array.from({ length: 3000 }, (_, i) => {
  const features = new Float64Array(FEATURE_COUNT).map(() => rand() * 2 - 1);
  return {
    features,
    label: rand() < 0.3 + 0.3 * features[0] ? 1 : 0,
    weight: 1,
    source: sources[i % 3],
    upstream: rand(),
  };
});
const fitted = fitModel(rows.slice(0, 2000), { version: "bench", calibrationRows: rows.slice(2000) });

const out = new Float64Array(FEATURE_COUNT);
function bench(model) {
  const state = { model: compileModel(model), learning, context };
  const per = Math.floor(calls / batches);
  const times = [];
  let sink = 0;
  for (let b = 0; b < batches + 2; b++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < per; i++) {
      sink += scoreInput(state, inputs[i & 1023], { reliability: 0.3 }, true, i, out).value;
    }
    const ns = Number(process.hrtime.bigint() - start) / per;
    if (b >= 2) times.push(ns); // the first two batches warm the JIT
  }
  times.sort((a, c) => a - c);
  return { median: times[Math.floor(times.length / 2)], p90: times[Math.floor(times.length * 0.9)], sink };
}

for (const [name, model] of [
  ["default (cold start)", DEFAULT_MODEL],
  ["fitted (isotonic calibration)", fitted],
]) {
  const r = bench(model);
  console.log(
    `${name.padEnd(32)} median ${(r.median / 1000).toFixed(2)} us/score   p90 ${(r.p90 / 1000).toFixed(2)} us`,
  );
}
