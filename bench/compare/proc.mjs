import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Everything the bench starts or creates: stopped by PID and removed on any exit, error or Ctrl-C. */
const pids = new Set();
const dirs = new Set();
const CLK_TCK = 100; // Linux clock ticks per second on every common kernel config

export function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

/** Spawns a child, tracks its PID, keeps the tail of its output; `stop` kills it by that PID. */
export function startProcess(cmd, args, { cwd, onLine = () => {} } = {}) {
  const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
  const pid = child.pid;
  pids.add(pid);
  let output = "";
  let partial = "";
  const take = (chunk) => {
    const text = chunk.toString("utf8");
    output = (output + text).slice(-32_000);
    const lines = (partial + text).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) onLine(line);
  };
  child.stdout.on("data", take);
  child.stderr.on("data", take);
  const exited = new Promise((resolve) =>
    child.once("exit", (code, signal) => {
      pids.delete(pid); // the PID may be reused now: never signal it again
      resolve({ code, signal });
    }),
  );
  return {
    pid,
    exited,
    output: () => output,
    alive: () => child.exitCode === null && child.signalCode === null,
    async stop(signal = "SIGKILL") {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(pid, signal);
        } catch {}
        const t = setTimeout(() => {
          try {
            process.kill(pid, "SIGKILL");
          } catch {}
        }, 10_000);
        await exited;
        clearTimeout(t);
      }
      return exited;
    },
  };
}

export function trackPid(pid) {
  pids.add(pid);
}
export function untrackPid(pid) {
  pids.delete(pid);
}

export function cleanupSync() {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
  pids.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

export function installCleanup() {
  process.on("exit", cleanupSync);
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
    ["SIGHUP", 129],
  ])
    process.on(signal, () => {
      console.error(`\n${signal}: stopping what the bench started`);
      cleanupSync();
      process.exit(code);
    });
  const fatal = (err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    cleanupSync();
    process.exit(1);
  };
  process.on("uncaughtException", fatal);
  process.on("unhandledRejection", fatal);
}

/** Peak resident set size (VmHWM) in KiB; null once the process is gone. */
export function peakRssKiB(pid) {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m === null ? null : Number(m[1]);
  } catch {
    return null;
  }
}

/** utime + stime of a process in seconds; null once it is gone. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // the name may hold spaces
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

/** CPU seconds the whole machine was busy (all cores). */
export function machineBusySeconds() {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0];
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + steal) / CLK_TCK;
}

/** A loopback port that was free a moment ago (for Alertmanager, which cannot report port 0). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `check` every 50 ms until it returns true or `ms` pass. */
export async function waitFor(check, ms, what) {
  const until = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The time both the bench and the sink stamp with: epoch ms, sub-millisecond. */
export const nowMs = () => performance.timeOrigin + performance.now();
