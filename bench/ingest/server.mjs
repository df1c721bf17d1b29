import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { removeDir, trackDir, trackPid, untrackPid } from "./cleanup.mjs";

/** This checkout; --server-root may name another one (e.g. a clean build of one commit). */
export const ROOT = new URL("../../", import.meta.url).pathname;
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;
/** Linux reports CPU times in clock ticks; 100 per second on every common kernel config. */
const CLK_TCK = 100;

/**
 * Starts `pagewise serve` on a fresh SQLite file in a temp dir, on 127.0.0.1 and a port the OS
 * picks (--port 0; the address is read from the "pagewise listening" log line, so no race).
 */
/** The node flags the server's own bin/pagewise.js asks for on its `#!/usr/bin/env -S node` line. */
export function shippedNodeFlags(root) {
  const first = readFileSync(join(root, "bin", "pagewise.js"), "utf8").split("\n", 1)[0] ?? "";
  const m = /^#!\/usr\/bin\/env -S node\s+(.*)$/.exec(first);
  return m === null ? [] : (m[1] ?? "").split(/\s+/).filter((f) => f !== "");
}

export async function startServer({ root, config, durability, nodeFlags = [] }) {
  if (!existsSync(join(root, "dist", "cli", "main.js")))
    throw new Error(`${join(root, "dist", "cli", "main.js")} is missing: run npm run build in ${root}`);
  const dir = mkdtempSync(join(tmpdir(), "pagewise-bench-"));
  trackDir(dir);
  const dbPath = join(dir, "bench.db");
  const args = [
    ...shippedNodeFlags(root),
    ...nodeFlags,
    join(root, "bin", "pagewise.js"),
    "serve",
    "--config",
    config,
    "--port",
    "0",
    "--host",
    "127.0.0.1",
    "--db",
    dbPath,
    "--durability",
    durability,
    // info is needed for the "listening" line; the server does not log requests anyway.
    "--log-level",
    "info",
  ];
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  if (child.pid === undefined) throw new Error("could not start the server");
  const pid = child.pid;
  trackPid(pid);

  let output = "";
  let errorLines = 0;
  let buffered = "";
  let onAddress = () => {};
  const keep = (text) => {
    output += text;
    if (output.length > 64_000) output = output.slice(-32_000);
  };
  child.stdout.on("data", (chunk) => {
    const text = chunk.toString("utf8");
    keep(text);
    buffered += text;
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) {
      const entry = parseLogLine(line);
      if (entry === null) continue;
      if (entry.level >= 50) errorLines++;
      if (entry.msg === "pagewise listening" && typeof entry.address === "string") onAddress(entry.address);
    }
  });
  child.stderr.on("data", (chunk) => keep(chunk.toString("utf8")));

  const exited = new Promise((resolve) => {
    child.once("exit", (code, signal) => {
      untrackPid(pid);
      resolve({ code, signal });
    });
  });

  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not start in time:\n${output}`)),
      READY_TIMEOUT_MS,
    );
    onAddress = (address) => {
      clearTimeout(timer);
      resolve(address);
    };
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server exited before listening (code ${code}, signal ${signal}):\n${output}`));
    });
  });

  return {
    pid,
    url,
    dir,
    dbPath,
    /** Seconds since the spawn: where a moment falls in the server's CPU profile. */
    sinceSpawn: (t = performance.now()) => (t - spawnedAt) / 1000,
    output: () => output,
    errorLines: () => errorLines,
    /** Peak resident set size since start (VmHWM), in KiB; null once the process is gone. */
    peakRssKiB: () => procStatusKiB(pid, "VmHWM"),
    /** User + system CPU seconds used so far. */
    cpuSeconds: () => procCpuSeconds(pid),
    /** SIGKILL mimics a crash (what 2xx must survive); SIGTERM lets --cpu-prof write its file. */
    async stop(signal) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      try {
        process.kill(pid, signal);
      } catch {
        // Exited between the check and the kill.
      }
      const timer = setTimeout(() => {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }, STOP_TIMEOUT_MS);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
    remove: () => removeDir(dir),
  };
}

function parseLogLine(line) {
  if (!line.startsWith("{")) return null;
  try {
    return JSON.parse(line);
  } catch {
    return null;
  }
}

function procStatusKiB(pid, field) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
    return m === null ? null : Number(m[1]);
  } catch {
    return null;
  }
}

function procCpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces; fields after its ')' are plain numbers.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime: fields 14 and 15
  } catch {
    return null;
  }
}
