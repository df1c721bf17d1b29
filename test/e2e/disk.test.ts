import { execFileSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { killAllChildren, killAndWait, ROOT, startPagewise, tempDir } from "./harness.js";

/**
 * README "What a 2xx means" and the error table: when the database cannot take a write (locked
 * by another process, or the disk is full) ingest answers 503 PW_STORE_UNAVAILABLE with
 * Retry-After, stores nothing, and the sender's retry succeeds once the cause is gone. Real CLI,
 * real SQLite file; the lock is held by this test's own connection, the full disk is a tmpfs.
 */

const GEN_KEY = "demo-generic-key";
const PROM_KEY = "demo-prometheus-key";
const AM_KEY = "demo-alertmanager-key";
const PD_KEY = "demopagerdutykey0000000000000000";
const CONFIG = `services:
  - { name: checkout, tier: 1 }
sources:
  - { name: generic, kind: generic, key: ${GEN_KEY}, default_service: checkout }
  - { name: prometheus, kind: prometheus, key: ${PROM_KEY}, group_by: [alertname, service] }
  - { name: alertmanager, kind: alertmanager, key: ${AM_KEY} }
  - { name: pagerduty, kind: pagerduty, key: ${PD_KEY} }
heartbeats:
  - { name: nightly, every: 1d, grace: 2h, service: checkout }
api_tokens:
  - { name: admin, token: demo-admin-token, role: admin }
`;

/** One small request for every ingest path (all tagged batch=full where they carry labels). */
const EVERY_PATH: { path: string; key: string; body: unknown; pagerduty?: boolean }[] = [
  {
    path: "/api/v2/alerts",
    key: PROM_KEY,
    body: [{ labels: { alertname: "Full", batch: "full", item: "v2" } }],
  },
  {
    path: "/ingest/alertmanager",
    key: AM_KEY,
    body: {
      groupKey: "g-full",
      alerts: [{ status: "firing", labels: { alertname: "Full", batch: "full", item: "am" } }],
    },
  },
  {
    path: "/ingest/events",
    key: GEN_KEY,
    body: { summary: "full", dedup_key: "full-gen", labels: { batch: "full" } },
  },
  {
    path: "/v2/enqueue",
    key: "",
    pagerduty: true,
    body: {
      routing_key: PD_KEY,
      event_action: "trigger",
      dedup_key: "full-pd",
      payload: { summary: "full", source: "h", severity: "error" },
    },
  },
  {
    path: "/v2/change/enqueue",
    key: "",
    pagerduty: true,
    body: { routing_key: PD_KEY, payload: { summary: "deploy", custom_details: { service: "checkout" } } },
  },
  { path: "/api/v1/heartbeats/nightly", key: GEN_KEY, body: {} },
];

/** Rows written by ingest, and the heartbeat's last check-in: a refused request changes none. */
function ingestState(dbPath: string): string {
  const db = new Database(dbPath, { fileMustExist: true });
  try {
    const counts = ["incidents", "alerts", "events", "signals", "decisions", "outbox"].map(
      (t) => `${t}=${db.prepare(`SELECT COUNT(*) FROM ${t}`).pluck().get() as number}`,
    );
    const hb = db.prepare("SELECT last_seen FROM heartbeats WHERE name = 'nightly'").pluck().get();
    return `${counts.join(" ")} heartbeat=${String(hb)}`;
  } finally {
    db.close();
  }
}

/** The server's busy timeout, read from the store so that the test follows a change to it. */
function busyTimeoutMs(): number {
  const text = readFileSync(join(ROOT, "src", "store", "sqlite", "store.ts"), "utf8");
  const m = /busy_timeout\s*=\s*(\d+)/.exec(text);
  if (m === null) throw new Error("src/store/sqlite/store.ts no longer sets busy_timeout: update this test");
  return Number(m[1]);
}

async function post(base: string, path: string, key: string, body: unknown) {
  const started = Date.now();
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, ms: Date.now() - started };
}

function expectUnavailable(r: { status: number; headers: Headers; text: string }, pagerduty = false): void {
  expect(r.status, r.text).toBe(503);
  expect(r.headers.get("retry-after")).toBe("5");
  expect(r.headers.get("content-type")).toContain("application/json");
  if (pagerduty) {
    // PagerDuty's shape on its endpoints: {status, message, errors}.
    const body = JSON.parse(r.text) as { status: string; message: string; errors: string[] };
    expect(body.status).toBe("error");
    expect(body.message).toMatch(/database unavailable \(SQLITE_\w+\); retry later/);
    return;
  }
  const body = JSON.parse(r.text) as { error: { code: string; message: string } };
  expect(body.error.code).toBe("PW_STORE_UNAVAILABLE");
  expect(body.error.message).toMatch(/database unavailable \(SQLITE_\w+\); retry later/);
}

/** Alerts stored with this batch label (a fresh read: whatever is committed now). */
function storedWithBatch(dbPath: string, batch: string): number {
  const db = new Database(dbPath, { fileMustExist: true });
  try {
    return db
      .prepare("SELECT COUNT(*) FROM alerts WHERE json_extract(labels, '$.batch') = ?")
      .pluck()
      .get(batch) as number;
  } finally {
    db.close();
  }
}

function promBatch(batch: string, size: number, pad = 0) {
  return Array.from({ length: size }, (_, i) => ({
    labels: { alertname: `Disk_${batch}`, service: "checkout", batch, item: String(i) },
    annotations: { summary: `${batch} #${i}`, description: "d".repeat(pad) },
  }));
}

describe("database locked by another process", () => {
  const dir = tempDir("pagewise-locked-");
  const dbPath = join(dir.path, "pagewise.db");
  const config = join(dir.path, "pagewise.yaml");
  beforeAll(() => writeFileSync(config, CONFIG));
  afterEach(killAllChildren);
  afterAll(async () => {
    await killAllChildren();
    dir.cleanup();
  });

  it("answers 503 PW_STORE_UNAVAILABLE after the busy timeout, stores nothing, and the retry succeeds", async () => {
    const busy = busyTimeoutMs();
    const server = await startPagewise({ config, db: dbPath });
    expect((await post(server.url, "/api/v2/alerts", PROM_KEY, promBatch("before", 3))).status).toBe(200);

    // Hold the write lock (as a backup tool or a stray sqlite3 shell would) past the timeout.
    const holder = new Database(dbPath, { fileMustExist: true });
    holder.exec("BEGIN IMMEDIATE");
    let released = false;
    try {
      const refused = await post(server.url, "/api/v2/alerts", PROM_KEY, promBatch("locked", 5));
      // It waited for the lock as long as the busy timeout allows, then gave up with a 503.
      expect(refused.ms).toBeGreaterThanOrEqual(busy - 50);
      expectUnavailable(refused);
      holder.exec("ROLLBACK");
      released = true;
    } finally {
      if (!released) holder.exec("ROLLBACK");
      holder.close();
    }
    expect(storedWithBatch(dbPath, "locked"), "a refused request stored something").toBe(0);

    // The lock is gone: the senders' retries are accepted and stored once.
    expect((await post(server.url, "/api/v2/alerts", PROM_KEY, promBatch("locked", 5))).status).toBe(200);
    expect(storedWithBatch(dbPath, "locked")).toBe(5);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    await killAndWait(server.child, "SIGTERM");
    expect((await server.exited).code, server.output()).toBe(0);
  }, 60_000);
});

describe("disk full", () => {
  const dir = tempDir("pagewise-disk-full-");
  const mnt = join(dir.path, "mnt");
  const config = join(dir.path, "pagewise.yaml");
  const dbPath = join(mnt, "pagewise.db");
  let mounted = false;

  beforeAll(() => {
    writeFileSync(config, CONFIG);
    mkdirSync(mnt);
    // A small tmpfs holds the database, so it can really fill up (ENOSPC -> SQLITE_FULL).
    if (process.getuid?.() !== 0) {
      throw new Error(
        `the disk-full test mounts a small tmpfs and needs root (uid ${process.getuid?.()}); run the suite as root, e.g. in the CI container`,
      );
    }
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=64m,mode=0700", "tmpfs", mnt], { stdio: "pipe" });
    } catch (err) {
      const e = err as { stderr?: Buffer; message: string };
      throw new Error(
        `the disk-full test could not mount a tmpfs (needs CAP_SYS_ADMIN): ${e.stderr?.toString().trim() || e.message}`,
      );
    }
    mounted = true;
  });
  afterEach(killAllChildren);
  afterAll(async () => {
    await killAllChildren();
    if (mounted) execFileSync("umount", ["-l", mnt]);
    dir.cleanup();
  });

  /** Writes until the filesystem refuses even one more byte. */
  function fill(path: string): number {
    const fd = openSync(path, "w");
    let written = 0;
    try {
      for (const size of [1 << 20, 64 << 10, 4096, 512, 1]) {
        const chunk = Buffer.alloc(size, 0x61);
        for (;;) {
          try {
            written += writeSync(fd, chunk);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
            break;
          }
        }
      }
    } finally {
      closeSync(fd);
    }
    return written;
  }

  it("answers 503 PW_STORE_UNAVAILABLE when the disk is full, stores nothing, and the retry succeeds", async () => {
    const server = await startPagewise({ config, db: dbPath });
    expect((await post(server.url, "/api/v2/alerts", PROM_KEY, promBatch("before", 3))).status).toBe(200);

    const filler = join(mnt, "filler");
    const filled = fill(filler);
    expect(filled).toBeGreaterThan(0);
    // A batch larger than any free page left in the WAL: the write needs new space.
    const batch = promBatch("full", 300, 2000);
    const refused = await post(server.url, "/api/v2/alerts", PROM_KEY, batch);
    expectUnavailable(refused);
    expect(refused.text).toContain("SQLITE_FULL");
    // Every other ingest path, each with a small request: refused the same way.
    const before = ingestState(dbPath);
    for (const p of EVERY_PATH) {
      const r = await post(server.url, p.path, p.key, p.body);
      expect(r.status, `${p.path}: ${r.text}`).toBe(503);
      expectUnavailable(r, p.pagerduty);
    }
    // Reads still work while the disk is full, and the refused requests left nothing behind.
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    expect(storedWithBatch(dbPath, "full"), "a refused request stored something").toBe(0);
    expect(ingestState(dbPath), "a refused request changed the database").toBe(before);

    // Space is back: the senders' retries are accepted, and stored once.
    rmSync(filler);
    const retried = await post(server.url, "/api/v2/alerts", PROM_KEY, batch);
    expect(retried.status, retried.text).toBe(200);
    expect(storedWithBatch(dbPath, "full")).toBe(300);
    for (const p of EVERY_PATH) {
      const r = await post(server.url, p.path, p.key, p.body);
      expect(r.status, `${p.path}: ${r.text}`).toBeLessThan(300);
    }
    // Three of them carry batch=full labels (v2, webhook, generic); PagerDuty's and the heartbeat do not.
    expect(storedWithBatch(dbPath, "full")).toBe(303);
    expect(ingestState(dbPath)).not.toContain("heartbeat=null");

    const db = new Database(dbPath, { fileMustExist: true });
    try {
      expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    } finally {
      db.close();
    }
    await killAndWait(server.child, "SIGTERM");
    expect((await server.exited).code, server.output()).toBe(0);
  }, 60_000);
});
