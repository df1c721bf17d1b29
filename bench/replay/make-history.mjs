#!/usr/bin/env node
// Builds a large labelled history for the replay benchmark: the shared histories concatenated
// N times, each copy shifted after the previous one in time and with its services and sources
// renamed, so copies are new incidents, not re-sends. Streams; never holds a file in memory.
import { createReadStream, createWriteStream } from "node:fs";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { createGunzip, createGzip } from "node:zlib";

const { values, positionals: inputs } = parseArgs({
  options: {
    copies: { type: "string", default: "22" },
    out: { type: "string", default: "/tmp/pagewise-big-history.jsonl.gz" },
    help: { type: "boolean", default: false },
  },
  allowPositionals: true,
});
if (values.help || inputs.length === 0) {
  console.log(
    "usage: node bench/replay/make-history.mjs [--copies 22] [--out FILE.jsonl.gz] HISTORY.jsonl.gz...",
  );
  process.exit(values.help ? 0 : 1);
}
const copies = Number(values.copies);
if (!Number.isInteger(copies) || copies < 1) throw new Error("--copies must be a whole number >= 1");

async function* lines(file) {
  const input = createReadStream(file);
  const rl = createInterface({
    input: file.endsWith(".gz") ? input.pipe(createGunzip()) : input,
    crlfDelay: Infinity,
  });
  for await (const line of rl) if (line.trim() !== "") yield JSON.parse(line);
}

const gz = createGzip();
const out = gz.pipe(createWriteStream(values.out));
let written = 0;
let offset = 0;
for (let c = 0; c < copies; c++) {
  let last = 0;
  for (const file of inputs) {
    // Each file's copy starts where the previous copy ended (histories must be in time order).
    let first = null;
    for await (const ev of lines(file)) {
      const at = Date.parse(ev.at);
      first ??= at;
      const t = offset + (at - first);
      last = Math.max(last, t);
      ev.at = new Date(t).toISOString();
      if (typeof ev.service === "string") ev.service = `${ev.service}-c${c}`;
      if (typeof ev.dedup_key === "string") ev.dedup_key = `${ev.dedup_key}-c${c}`;
      if (!gz.write(`${JSON.stringify(ev)}\n`)) await new Promise((r) => gz.once("drain", r));
      written++;
    }
    offset = last + 3_600_000;
  }
}
gz.end();
await new Promise((r) => out.on("finish", r));
console.log(`${written} events -> ${values.out}`);
