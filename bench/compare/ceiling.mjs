#!/usr/bin/env node
// What a server that does nothing can reach with this generator on this machine: a node:http
// child that reads each body, JSON.parses it and answers 200, loaded exactly as run.mjs loads
// Alertmanager and Pagewise. It bounds what any Node server can show at batch 1, concurrency 1,
// where every alert is one round trip.
//
//   node bench/compare/ceiling.mjs [--points 1x1x1000,1x8x1000] [--duration 6] [--repeat 2]
import { spawn } from "node:child_process";
import { parseArgs } from "node:util";
import { SeriesSet } from "./alerts.mjs";
import { runLoad } from "./load.mjs";

const { values } = parseArgs({
  options: {
    points: { type: "string", default: "1x1x1000,1x8x1000" },
    duration: { type: "string", default: "6" },
    repeat: { type: "string", default: "2" },
  },
});

const SERVER = `
const http = require("node:http");
const s = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    JSON.parse(Buffer.concat(chunks).toString("utf8"));
    const body = '{"status":"success"}';
    res.writeHead(200, { "content-type": "application/json", "content-length": body.length });
    res.end(body);
  });
});
s.listen(0, "127.0.0.1", () => console.log(s.address().port));
`;

const child = spawn(process.execPath, ["-e", SERVER], { stdio: ["ignore", "pipe", "inherit"] });
const stop = () => child.kill("SIGKILL");
process.on("exit", stop);
process.on("SIGINT", () => process.exit(130));
const port = await new Promise((resolve, reject) => {
  child.stdout.once("data", (d) => resolve(Number(String(d).trim())));
  child.once("exit", (code) => reject(new Error(`the server exited (${code})`)));
});

console.log("| batch | conc. | series | run | alerts/s | HTTP p50 ms | HTTP p99 ms |");
console.log("| --- | --- | --- | --- | ---: | ---: | ---: |");
for (const point of values.points.split(",")) {
  const [batch, concurrency, count] = point.split("x").map(Number);
  if (![batch, concurrency, count].every((n) => Number.isInteger(n) && n > 0)) {
    console.error(`--points: ${point} is not BATCHxCONCURRENCYxSERIES`);
    process.exit(1);
  }
  const series = new SeriesSet(count);
  for (let run = 1; run <= Number(values.repeat); run++) {
    const r = await runLoad({
      url: `http://127.0.0.1:${port}/api/v2/alerts`,
      token: null,
      series,
      cursor: { at: 0 },
      batch,
      concurrency,
      maxRequests: Number.MAX_SAFE_INTEGER,
      maxMs: Number(values.duration) * 1000,
    });
    console.log(
      `| ${batch} | ${concurrency} | ${count.toLocaleString("en")} | ${run} | ${Math.round(r.alertsPerSec).toLocaleString("en")} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} |`,
    );
  }
}
stop();
