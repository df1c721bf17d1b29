import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Shared plumbing for the end-to-end tests: they run the compiled CLI (bin/pagewise.js ->
 * dist/) and real clients as child processes, and talk to them over real sockets.
 */

export const ROOT = new URL("../../", import.meta.url).pathname;
export const BIN = join(ROOT, "bin", "pagewise.js");
export const EXAMPLE_CONFIG = join(ROOT, "examples", "pagewise.yaml");
export const ADMIN_TOKEN = "demo-admin-token";

/** The e2e tests run what `npm run build` produced; say so instead of failing obscurely. */
export function requireBuild(): void {
  if (!existsSync(join(ROOT, "dist", "cli", "main.js"))) {
    throw new Error("dist/cli/main.js is missing: run `npm run build` first (npm test does it in pretest)");
  }
}

const children = new Set<ChildProcess>();

/** SIGKILLs every child still running (by PID) and waits for each to exit. For afterEach/afterAll. */
export async function killAllChildren(): Promise<void> {
  const alive = [...children];
  children.clear();
  await Promise.all(alive.map((c) => killAndWait(c)));
}

export async function killAndWait(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  children.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  if (child.pid !== undefined) {
    try {
      process.kill(child.pid, signal);
    } catch {
      // Already gone between the check and the kill.
    }
  }
  await exited;
}

/** A child whose output is kept (bounded) for failure messages. */
export interface Proc {
  child: ChildProcess;
  pid: number;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startProcess(command: string, args: string[], opts: { cwd?: string } = {}): Proc {
  const child = spawn(command, args, {
    cwd: opts.cwd ?? ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let out = "";
  const keep = (chunk: Buffer) => {
    out += chunk.toString("utf8");
    if (out.length > 64_000) out = out.slice(-32_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  return { child, pid: child.pid, output: () => out, exited };
}

/** A port that was free a moment ago (the OS picks it for port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("no port assigned"))));
    });
  });
}

export function tempDir(prefix: string): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

export interface Pagewise extends Proc {
  port: number;
  url: string;
}

/** Starts `pagewise serve` and resolves once GET /healthz answers 200. */
export async function startPagewise(opts: {
  config: string;
  db: string;
  timeoutMs?: number;
}): Promise<Pagewise> {
  requireBuild();
  const port = await freePort();
  const proc = startProcess(process.execPath, [
    BIN,
    "serve",
    "--config",
    opts.config,
    "--port",
    String(port),
    "--host",
    "127.0.0.1",
    "--db",
    opts.db,
    "--log-level",
    "warn",
  ]);
  const url = `http://127.0.0.1:${port}`;
  let exited = false;
  void proc.exited.then(() => {
    exited = true;
  });
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  while (Date.now() < deadline) {
    if (exited) throw new Error(`pagewise exited before it was healthy:\n${proc.output()}`);
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) });
      if (res.status === 200) return { ...proc, port, url };
    } catch {
      // Not listening yet.
    }
    await sleep(50);
  }
  await killAndWait(proc.child);
  throw new Error(`pagewise did not answer /healthz within the timeout:\n${proc.output()}`);
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion (killed after timeoutMs), capturing both streams. */
export function runCli(args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}) {
  requireBuild();
  return new Promise<CliResult>((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: opts.env ?? process.env,
    });
    children.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (c: Buffer) => {
      stdout += c.toString("utf8");
    });
    child.stderr?.on("data", (c: Buffer) => {
      stderr += c.toString("utf8");
    });
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, "SIGKILL");
    }, opts.timeoutMs ?? 15_000);
    child.once("error", reject);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** GET a JSON API path with the admin token; throws on a non-200 with the body. */
export async function apiGet<T>(base: string, path: string): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/** The fields of the incident API that the tests read. */
export interface IncidentJson {
  id: number;
  status: string;
  source: string;
  group_key: string;
  service: string | null;
  team: string | null;
  tier: number;
  severity: string;
  summary: string;
  alert_count: number;
  open_alert_count: number;
}

export interface AlertJson {
  id: number;
  alert_key: string;
  status: string;
  severity: string;
  service: string | null;
  labels: Record<string, string>;
  event_count: number;
  first_seen: string;
  last_seen: string;
}

/** Every incident, newest first, following next_cursor. */
export async function listAllIncidents(base: string, query = ""): Promise<IncidentJson[]> {
  const out: IncidentJson[] = [];
  let cursor: string | null = null;
  for (;;) {
    const params = new URLSearchParams(query);
    params.set("limit", "500");
    if (cursor !== null) params.set("cursor", cursor);
    const page: { incidents: IncidentJson[]; next_cursor: string | null } = await apiGet(
      base,
      `/api/v1/incidents?${params}`,
    );
    out.push(...page.incidents);
    if (page.next_cursor === null) return out;
    cursor = page.next_cursor;
  }
}

export interface IncidentDetailJson extends IncidentJson {
  alerts: AlertJson[];
  timeline: { id: number; at: string; kind: string; actor: string | null }[];
}

export async function getIncident(base: string, id: number): Promise<IncidentDetailJson> {
  const body = await apiGet<{ incident: IncidentDetailJson }>(base, `/api/v1/incidents/${id}`);
  return body.incident;
}
