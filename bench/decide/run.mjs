#!/usr/bin/env node
// Micro-benchmark: decide() with a 50-rule policy (the target: at most 5 µs median).
// Usage: npm run build && node bench/decide/run.mjs [--calls 200000] [--batches 20]
import { parseArgs } from "node:util";
import { compilePolicy } from "../../dist/config/policy.js";
import { decide } from "../../dist/core/policy/decide.js";

const { values } = parseArgs({
  options: { calls: { type: "string", default: "200000" }, batches: { type: "string", default: "20" } },
});
const calls = Number(values.calls);
const batches = Number(values.batches);

const teams = ["payments", "platform", "search"];
const services = Array.from({ length: 20 }, (_, i) => `svc-${i}`);
const sources = ["prometheus", "logs"];
const bands = ["high", "medium", "low"];
const routes = [
  { kind: "page" },
  { kind: "triage" },
  { kind: "notify", channel: "feed" },
  { kind: "validate", for: "10m", after: { kind: "triage" } },
  { kind: "runbook", playbook: "restart" },
];

// 49 specific rules, most with label matchers (regexes included), then the default rule: the
// usual incident misses most of them, so decide() tries nearly all 50.
const rules = Array.from({ length: 49 }, (_, i) => ({
  id: `rule-${i}`,
  rationale: `Rule ${i} of the benchmark policy.`,
  match: {
    band: bands[i % 3],
    ...(i % 2 === 0 ? { team: teams[i % 3] } : {}),
    ...(i % 4 === 0 ? { tier: [i % 4, (i + 1) % 4] } : {}),
    labels: [`alertname=~"Bench${i % 7}.*"`, `env="prod"`],
    ...(i % 5 === 0 ? { business_hours: true } : {}),
    ...(i % 6 === 0 ? { count: { alerts: 3, within: "10m" } } : {}),
  },
  route: routes[i % routes.length],
  continue: i % 10 === 0,
}));
rules.push({ id: "default", rationale: "Everything else.", route: { kind: "notify", channel: "feed" } });
const raw = {
  bands: {
    default: { high: 0.7, medium: 0.3 },
    tiers: { 0: { high: 0.5, medium: 0.2 } },
    regulated: { high: 0.4, medium: 0.15 },
  },
  modifiers: [
    {
      id: "peak",
      when: { team_pages_1h: { at_least: 5 } },
      shift: { high: 0.1, medium: 0.05 },
      rationale: "Peak load.",
    },
    { id: "deploy", when: { recent_deploy: "30m" }, shift: { high: -0.1 }, rationale: "Recent deploy." },
    {
      id: "night",
      when: { business_hours: false, tier: [2, 3], band: "medium" },
      route: { kind: "triage" },
      rationale: "Night.",
    },
  ],
  rules,
  maintenance_windows: [
    {
      id: "sunday",
      services: ["svc-1"],
      weekly: { days: ["sun"], start: "02:00", duration: "2h", timezone: "Europe/Berlin" },
      rationale: "Weekly.",
    },
  ],
};
const problems = [];
const policy = compilePolicy(raw, problems, {
  teams: new Set(teams),
  services: new Set(services),
  sources: new Set(sources),
});
if (problems.length > 0) throw new Error(JSON.stringify(problems));

const t0 = Date.parse("2026-11-30T14:00:00Z");
const inputs = Array.from({ length: 1024 }, (_, i) => ({
  at: t0 + i * 60_000,
  score: ((i * 37) % 100) / 100,
  severity: ["critical", "error", "warning", "info"][i % 4],
  tier: i % 4,
  team: teams[i % 3],
  service: services[i % 20],
  serviceTimezone: "Europe/Berlin",
  regulated: i % 17 === 0,
  source: sources[i % 2],
  labels: { alertname: `Other${i % 11}`, env: i % 3 === 0 ? "prod" : "staging", service: services[i % 20] },
  businessHours: i % 2 === 0,
  minutesSinceChange: i % 9 === 0 ? 12 : null,
  teamOpenIncidents: i % 5,
  teamPages1h: i % 8,
  incidentAlertsWithin: () => 1 + (i % 4),
  silence: null,
  inhibitedBy: null,
}));

function bench(opts) {
  const per = Math.floor(calls / batches);
  const times = [];
  let sink = 0;
  for (let b = 0; b < batches + 2; b++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < per; i++) sink += decide(inputs[i & 1023], policy, opts).band.length;
    const ns = Number(process.hrtime.bigint() - start) / per;
    if (b >= 2) times.push(ns); // the first two batches warm the JIT
  }
  times.sort((a, c) => a - c);
  return { median: times[Math.floor(times.length / 2)], p90: times[Math.floor(times.length * 0.9)], sink };
}

const tried = decide(inputs[0], policy).rulesTried.length;
for (const [name, opts] of [
  ["with reasons (live, explain)", {}],
  ["routes only (tuning)", { reasons: false }],
]) {
  const r = bench(opts);
  console.log(
    `decide, ${policy.rules.length} rules, ${name.padEnd(30)} median ${(r.median / 1000).toFixed(2)} us   p90 ${(r.p90 / 1000).toFixed(2)} us`,
  );
}
console.log(`(a typical decision tries ${tried} rules before the one that matches)`);
