import { rmSync } from "node:fs";

/**
 * Everything the bench starts or creates, so that a normal end, an error or Ctrl-C all stop the
 * same processes (by PID, never by name) and remove the same temp dirs.
 */
const pids = new Set();
const dirs = new Set();
let installed = false;

export function trackPid(pid) {
  pids.add(pid);
}

/** Called once the child has exited: its PID may be reused, so it must never be signalled again. */
export function untrackPid(pid) {
  pids.delete(pid);
}

export function trackDir(dir) {
  dirs.add(dir);
}

export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

/** Synchronous, so it also works from the 'exit' event. */
export function cleanupSync() {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  pids.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

export function installCleanupHandlers() {
  if (installed) return;
  installed = true;
  process.on("exit", cleanupSync);
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
    ["SIGHUP", 129],
  ]) {
    process.on(signal, () => {
      console.error(`\n${signal}: stopping the server(s) and removing temp dirs`);
      cleanupSync();
      process.exit(code);
    });
  }
  const fatal = (err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    cleanupSync();
    process.exit(1);
  };
  process.on("uncaughtException", fatal);
  process.on("unhandledRejection", fatal);
}
