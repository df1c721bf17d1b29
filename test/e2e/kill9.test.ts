import { writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  getIncident,
  killAllChildren,
  killAndWait,
  listAllIncidents,
  type Pagewise,
  startPagewise,
  tempDir,
} from "./harness.js";

/**
 * EVENTS.md "What 2xx means": a 2xx is sent only after the batch is committed, and it survives
 * kill -9. Real CLI, real sockets, real SIGKILL while other requests are in flight; then the
 * database file is checked directly and through a restarted server.
 */

const ROUNDS = 3;
const CONCURRENCY = 4;
const BATCH_SIZE = 150;
/** Per round: how long after the chosen acknowledgement the SIGKILL goes out. */
const KILL_DELAYS_MS = [0, 2, 7];

/**
 * The test's own config, so that each batch is exactly one incident whatever the example config
 * says about grouping (keys and token as in examples/pagewise.yaml).
 */
const CONFIG = `teams:
  - name: payments
services:
  - name: checkout
    team: payments
    tier: 0
  - name: ledger
    team: payments
    tier: 0
sources:
  - name: prometheus
    kind: prometheus
    key: demo-prometheus-key
    group_by: [alertname, service]
    severity_map: { page: critical }
  - name: generic
    kind: generic
    key: demo-generic-key
    group_by: [alertname, service]
api_tokens:
  - name: admin
    token: demo-admin-token
    role: admin
`;

type Kind = "alertmanager_v2" | "generic";

interface Batch {
  id: string;
  kind: Kind;
  size: number;
  /** 2xx received: every alert of it must be stored. */
  acked: boolean;
}

function batchBody(kind: Kind, id: string, size: number): unknown[] {
  const items: unknown[] = [];
  for (let i = 0; i < size; i++) {
    // One group key per batch (alertname + service), unique labels per alert.
    const labels = { alertname: `Kill9_${id}`, batch: id, item: String(i) };
    items.push(
      kind === "alertmanager_v2"
        ? {
            labels: { ...labels, service: "checkout", severity: "page" },
            annotations: { summary: `kill9 ${id} #${i}` },
          }
        : { dedup_key: `${id}-${i}`, summary: `kill9 ${id} #${i}`, service: "ledger", labels },
    );
  }
  return items;
}

async function send(base: string, kind: Kind, body: unknown[]): Promise<number> {
  const res = await fetch(`${base}${kind === "alertmanager_v2" ? "/api/v2/alerts" : "/ingest/events"}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${kind === "alertmanager_v2" ? "demo-prometheus-key" : "demo-generic-key"}`,
    },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  // The status line is the acknowledgement; the rest of the body may be cut off by the kill.
  await res.text().catch(() => "");
  return res.status;
}

/**
 * Sends batches from several concurrent senders and SIGKILLs the server synchronously on the
 * `killAfter`-th acknowledgement, so the other senders' requests are cut off mid-flight.
 */
async function blastAndKill(
  server: Pagewise,
  round: number,
  killAfter: number,
  delayMs: number,
): Promise<Batch[]> {
  const batches: Batch[] = [];
  let acks = 0;
  let killed = false;
  const kill = () => {
    killed = true;
    process.kill(server.pid, "SIGKILL");
  };
  let next = 0;
  const rejected: string[] = [];
  const sender = async () => {
    while (!killed) {
      const n = next++;
      const batch: Batch = {
        id: `r${round}b${n}`,
        kind: n % 2 === 0 ? "alertmanager_v2" : "generic",
        size: BATCH_SIZE,
        acked: false,
      };
      batches.push(batch);
      let status: number;
      try {
        status = await send(server.url, batch.kind, batchBody(batch.kind, batch.id, batch.size));
      } catch {
        return; // Connection cut by the kill: an in-flight batch, not acknowledged.
      }
      if (status < 200 || status > 299) {
        rejected.push(`${batch.id}: HTTP ${status}`);
        return;
      }
      batch.acked = true;
      acks++;
      // Right away, or a little later so that the next batches are mid-transaction.
      if (acks === killAfter) {
        if (delayMs === 0) kill();
        else setTimeout(kill, delayMs);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, sender));
  if (!killed) kill(); // Every sender stopped early: the checks below say why.
  const exit = await server.exited;
  expect(rejected, "the server refused a valid batch").toEqual([]);
  expect(exit.signal, `the server should die of our SIGKILL\n${server.output()}`).toBe("SIGKILL");
  return batches;
}

/** Alerts stored per batch id, read from the SQLite file of a dead server. */
function storedPerBatchFromFile(dbPath: string): Map<string, number> {
  const db = new Database(dbPath, { fileMustExist: true }); // Opening replays the WAL.
  try {
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    const rows = db
      .prepare(
        `SELECT json_extract(labels, '$.batch') AS batch, COUNT(*) AS n,
                COUNT(DISTINCT json_extract(labels, '$.item')) AS items, SUM(event_count) AS events
         FROM alerts GROUP BY batch`,
      )
      .all() as { batch: string; n: number; items: number; events: number }[];
    const out = new Map<string, number>();
    for (const r of rows) {
      expect(r.items, `batch ${r.batch}: duplicate alerts`).toBe(r.n);
      expect(r.events, `batch ${r.batch}: each alert was sent once`).toBe(r.n);
      out.set(r.batch, r.n);
    }
    // Every stored alert has its raw event and its incident, written in the same transaction.
    const alerts = db.prepare("SELECT COUNT(*) FROM alerts").pluck().get() as number;
    const events = db.prepare("SELECT COUNT(*) FROM events WHERE action = 'trigger'").pluck().get() as number;
    expect(events).toBe(alerts);
    const incidents = db.prepare("SELECT group_key, alert_count FROM incidents").all() as {
      group_key: string;
      alert_count: number;
    }[];
    expect(incidents).toHaveLength(out.size);
    for (const i of incidents) expect(i.alert_count, i.group_key).toBe(BATCH_SIZE);
    return out;
  } finally {
    db.close();
  }
}

/** The same count through the HTTP API of a running server. */
async function storedPerBatchFromApi(server: Pagewise): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const summary of await listAllIncidents(server.url)) {
    const incident = await getIncident(server.url, summary.id);
    expect(incident.alerts).toHaveLength(incident.alert_count);
    for (const alert of incident.alerts) {
      const batch = alert.labels.batch ?? "(none)";
      expect(alert.event_count).toBe(1);
      out.set(batch, (out.get(batch) ?? 0) + 1);
    }
  }
  return out;
}

/** Acknowledged batches complete; the others complete or absent, never partial. */
function expectDurable(all: Batch[], stored: Map<string, number>, where: string): void {
  const known = new Set(all.map((b) => b.id));
  for (const id of stored.keys()) expect(known.has(id), `${where}: unexpected batch ${id}`).toBe(true);
  const lost = all.filter((b) => b.acked && stored.get(b.id) !== b.size).map((b) => b.id);
  expect(lost, `${where}: acknowledged batches missing or incomplete`).toEqual([]);
  const partial = all
    .filter((b) => !b.acked && stored.has(b.id) && stored.get(b.id) !== b.size)
    .map((b) => `${b.id}: ${stored.get(b.id)}/${b.size}`);
  expect(partial, `${where}: in-flight batches partly stored`).toEqual([]);
}

describe("kill -9 durability", () => {
  const dir = tempDir("pagewise-kill9-");
  const dbPath = join(dir.path, "pagewise.db");
  const config = join(dir.path, "pagewise.yaml");

  // startPagewise fails each test with a clear message when dist/ was not built.
  beforeAll(() => writeFileSync(config, CONFIG));
  afterEach(killAllChildren);
  afterAll(async () => {
    await killAllChildren();
    dir.cleanup();
  });

  it("keeps every acknowledged batch across kill -9 and restarts, and stores batches all-or-nothing", async () => {
    const all: Batch[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const server = await startPagewise({ config, db: dbPath });
      if (round > 1) expectDurable(all, await storedPerBatchFromApi(server), `after restart ${round}`);

      // A different kill point each round, fixed so that a failure reruns alike.
      const batches = await blastAndKill(server, round, 6 + round * 5, KILL_DELAYS_MS[round - 1] ?? 0);
      expect(batches.filter((b) => b.acked).length).toBeGreaterThanOrEqual(6 + round * 5);
      all.push(...batches);
      expectDurable(all, storedPerBatchFromFile(dbPath), `file after kill ${round}`);
    }

    // A last restart: the API sees the same, and a SIGTERM shuts down cleanly.
    const server = await startPagewise({ config, db: dbPath });
    const stored = await storedPerBatchFromApi(server);
    expectDurable(all, stored, "final restart");
    await killAndWait(server.child, "SIGTERM");
    expect((await server.exited).code, server.output()).toBe(0);
    expectDurable(all, storedPerBatchFromFile(dbPath), "file after SIGTERM");
  }, 90_000);
});
