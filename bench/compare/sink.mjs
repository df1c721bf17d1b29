import { fork } from "node:child_process";
import http from "node:http";
import { fileURLToPath } from "node:url";
import { seriesIn } from "./alerts.mjs";
import { cpuSeconds, nowMs, trackPid, untrackPid } from "./proc.mjs";

/**
 * The webhook sink both systems notify, in a child process so the load generator's busy event
 * loop does not delay the arrival stamps. It keeps, per series, the arrival time of the first
 * notification that names it:
 *   Alertmanager (POST /am/<receiver>): alerts[].labels.instance of firing alerts;
 *   Pagewise     (POST /pw/<channel>):  the instance inside `summary` (the alert's summary
 *                annotation, which becomes the incident's summary).
 */

// ---- parent side ----

export async function startSink() {
  const child = fork(fileURLToPath(import.meta.url), ["--child"], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  trackPid(child.pid);
  child.once("exit", () => untrackPid(child.pid));
  let seq = 0;
  const waiting = new Map();
  let onReady;
  const ready = new Promise((r) => (onReady = r));
  child.on("message", (m) => {
    if (m.op === "ready") return onReady(m.port);
    waiting.get(m.id)?.(m);
    waiting.delete(m.id);
  });
  const call = (op, args = {}) =>
    new Promise((resolve, reject) => {
      const id = ++seq;
      const t = setTimeout(() => reject(new Error(`sink did not answer ${op}`)), 30_000);
      waiting.set(id, (m) => {
        clearTimeout(t);
        resolve(m);
      });
      child.send({ op, id, ...args });
    });
  const port = await ready;
  return {
    pid: child.pid,
    url: `http://127.0.0.1:${port}`,
    /** Forget everything and expect `series` series from `system` ("am" or "pw"). */
    reset: (system, series) => call("reset", { system, series }),
    /** How many distinct series have had a first notification so far. */
    count: async () => (await call("count")).seen,
    /** First-arrival times (epoch ms, null = none) and counters. */
    collect: () => call("collect"),
    cpuSeconds: () => cpuSeconds(child.pid),
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}

// ---- child side ----

function runChild() {
  let state = fresh("none", 0);
  function fresh(system, series) {
    return {
      system,
      first: new Float64Array(series).fill(Number.NaN),
      byReceiver: {},
      seen: 0,
      notifications: 0,
      named: 0,
      repeats: 0,
      unmatched: 0,
      wrongSystem: 0,
      bad: 0,
    };
  }
  const note = (s, i, t) => {
    s.named++;
    if (i === null || i >= s.first.length) return void s.unmatched++;
    if (Number.isNaN(s.first[i])) {
      s.first[i] = t;
      s.seen++;
    } else s.repeats++;
  };
  const server = http.createServer((req, res) => {
    const t = nowMs();
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
      const s = state;
      s.notifications++;
      const [, system, receiver] = req.url.split("/");
      if (system !== s.system) return void s.wrongSystem++;
      s.byReceiver[receiver] = (s.byReceiver[receiver] ?? 0) + 1;
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return void s.bad++;
      }
      if (system === "am") {
        for (const a of body.alerts ?? [])
          if (a.status === "firing") note(s, seriesIn(a.labels?.instance), t);
      } else if (body.kind !== "update") note(s, seriesIn(body.summary), t);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => process.send({ op: "ready", port: server.address().port }));
  process.on("message", (m) => {
    if (m.op === "reset") state = fresh(m.system, m.series);
    if (m.op === "count") return process.send({ id: m.id, seen: state.seen });
    if (m.op === "collect") {
      const { first, ...counters } = state;
      return process.send({
        id: m.id,
        ...counters,
        first: Array.from(first, (x) => (Number.isNaN(x) ? null : x)),
      });
    }
    process.send({ id: m.id });
  });
  process.on("disconnect", () => process.exit(0)); // the bench is gone
}

if (process.argv.includes("--child") && process.send !== undefined) runChild();
