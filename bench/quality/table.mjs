#!/usr/bin/env node
// The README's quality table: runs `pagewise score --learn --json` on each history and prints
// Markdown. Usage: npm run build && node bench/quality/table.mjs HISTORY... [--delay 1h]
import { execFileSync } from "node:child_process";
import { basename } from "node:path";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    delay: { type: "string", default: "1h" },
    config: { type: "string", default: "examples/pagewise.yaml" },
  },
});
if (positionals.length === 0) {
  console.error("usage: node bench/quality/table.mjs HISTORY... [--delay 1h] [--config FILE]");
  process.exit(1);
}
const f = (v) => (v === null || v === undefined ? "n/a" : v.toFixed(3));
for (const history of positionals) {
  const args = ["bin/pagewise.js", "score", "--config", values.config, "--history", history, "--learn"];
  args.push("--feedback-delay", values.delay, "--json");
  const out = JSON.parse(execFileSync("node", args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 }));
  console.log(
    `\n**${basename(history)}** (${out.events} events; prequential, outcomes revealed ${values.delay} after an incident opens)\n`,
  );
  console.log("| level | scorer | count (genuine) | AUC | Brier skill | log loss | ECE |");
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  for (const level of ["alert", "incident"]) {
    const rows = [
      ["Pagewise", out[level]],
      ["constant base rate", out.baselines.constant_base_rate[level]],
      ["severity only", out.baselines.severity_only[level]],
      ["per-rule Beta prior", out.baselines.per_rule_prior[level]],
    ];
    for (const [name, m] of rows) {
      console.log(
        `| ${level} | ${name} | ${m.count} (${m.genuine}) | ${f(m.auc)} | ${f(m.brier_skill)} | ${f(m.log_loss)} | ${f(m.ece)} |`,
      );
    }
  }
}
