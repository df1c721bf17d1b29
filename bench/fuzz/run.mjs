#!/usr/bin/env node
// The ingest fuzz property of test/http/fuzz.test.ts at a larger scale (npm test runs 10,000 cases).
// Usage: node bench/fuzz/run.mjs [--runs 100000] [--seed N]
// It runs that very test file through vitest with PAGEWISE_FUZZ_RUNS / PAGEWISE_FUZZ_SEED, so the
// property is the same code; no build is needed. Exit code: vitest's (0 when every case passed).
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "100000" }, seed: { type: "string" } },
});
const runs = Number(values.runs);
const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
if (!Number.isSafeInteger(runs) || runs < 1)
  throw new Error(`--runs must be a positive integer, got ${values.runs}`);
if (!Number.isSafeInteger(seed)) throw new Error(`--seed must be an integer, got ${values.seed}`);

const root = fileURLToPath(new URL("../../", import.meta.url));
const vitest = fileURLToPath(new URL("../../node_modules/vitest/vitest.mjs", import.meta.url));

console.log(
  `fuzz: ${runs} cases, seed ${seed} (replay: node bench/fuzz/run.mjs --runs ${runs} --seed ${seed})`,
);
const started = Date.now();
const child = spawn(process.execPath, [vitest, "run", "test/http/fuzz.test.ts", "--reporter=verbose"], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, PAGEWISE_FUZZ_RUNS: String(runs), PAGEWISE_FUZZ_SEED: String(seed) },
});
child.on("exit", (code, signal) => {
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const verdict = code === 0 ? "passed" : `FAILED (${signal ?? `exit ${code}`})`;
  console.log(`fuzz: ${runs} cases, seed ${seed}: ${verdict} in ${seconds} s (vitest start-up included)`);
  process.exit(code ?? 1);
});
