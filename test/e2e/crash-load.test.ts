import { writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HttpPeer, httpPeer, type Recorded } from "../notify/peers.js";
import {
  ADMIN_TOKEN,
  apiGet,
  killAllChildren,
  killAndWait,
  type Pagewise,
  sleep,
  startPagewise,
  tempDir,
} from "./harness.js";

/**
 * The real CLI under a sustained stream of alerts, SIGKILLed at seeded pseudo-random moments and
 * restarted on the same SQLite file; its delivery worker sends every notification to a real HTTP
 * sink. Then a channel outage over real time. README "What a 2xx means" and "The outbox".
 *
 * PAGEWISE_CRASH_SEED replays a run's kill moments (the seed is printed).
 */

const KILLS = 5;
const SENDERS = 3;
/** Each kill comes this long after the restarted server answered /healthz. */
const KILL_AFTER_MS: [number, number] = [300, 1800];
/**
 * The shipped CLI: a row claimed when the process died is taken back by the next `serve` at
 * start (SqliteStore.releaseLeases), so nothing waits for the 60 s delivery lease.
 */
const GEN_KEY = "demo-generic-key";

const SEED =
  process.env.PAGEWISE_CRASH_SEED === undefined
    ? Math.floor(Math.random() * 2 ** 31)
    : Number(process.env.PAGEWISE_CRASH_SEED);
if (!Number.isSafeInteger(SEED)) throw new Error("PAGEWISE_CRASH_SEED must be an integer");

/** mulberry32: a small seeded PRNG, so a failing run's kill moments can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Every incident is told: labelled pages go to the chain (the hook channel and bob's own webhook
 * at once), everything else is one notify to the hook channel. One alert, one incident.
 */
function configText(sink: string, maxAttempts = 12): string {
  return `server:
  public_url: http://pagewise.test
  link_secret: a-test-link-secret-0123456789
  delivery_max_attempts: ${maxAttempts}
users:
  - { name: bob, webhook: "${sink}/bob" }
chains:
  - name: main
    steps:
      - { targets: [{ channel: hook }, { user: bob }], delay: 30m }
channels:
  - { name: hook, kind: webhook, url: "${sink}/hook" }
teams:
  - { name: ops, chain: main, channel: hook }
services:
  - { name: api, team: ops, tier: 1 }
sources:
  - { name: gen, kind: generic, key: ${GEN_KEY}, auto_resolve_after: never, default_service: api }
api_tokens:
  - { name: admin, token: ${ADMIN_TOKEN}, role: admin }
policy:
  rules:
    - id: paging
      match: { labels: ['page="yes"'] }
      route: { kind: page }
      rationale: Labelled pages escalate.
    - id: default
      route: { kind: notify, channel: hook }
      rationale: Everything else is one message to the hook channel.
`;
}

function alertBody(id: string, page: boolean) {
  return {
    dedup_key: id,
    summary: `crash-load ${id}`,
    severity: "error",
    labels: { alertname: "CrashLoad", alert: id, page: page ? "yes" : "no" },
  };
}

async function sendAlert(base: string, id: string, page: boolean): Promise<number> {
  const res = await fetch(`${base}/ingest/events`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${GEN_KEY}` },
    body: JSON.stringify(alertBody(id, page)),
    signal: AbortSignal.timeout(10_000),
  });
  await res.text().catch(() => "");
  return res.status;
}

/** What the sink received: every request, with the answer it gave. */
interface Receipt {
  key: string;
  path: string;
  incident: number;
  status: number;
  at: number;
}

function receiptOf(req: Recorded, status: number): Receipt {
  const body = JSON.parse(req.body) as { incident_id: number };
  return {
    key: String(req.headers["idempotency-key"]),
    path: req.url,
    incident: body.incident_id,
    status,
    at: Date.now(),
  };
}

interface OutboxRow {
  id: number;
  incident_id: number;
  channel: string;
  recipient: string | null;
  idempotency_key: string;
  status: string;
  attempts: number;
  lease_until: number | null;
}

function readDb<T>(dbPath: string, fn: (db: Database.Database) => T): T {
  const db = new Database(dbPath, { fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

function outbox(dbPath: string): OutboxRow[] {
  return readDb(
    dbPath,
    (db) =>
      db
        .prepare(
          "SELECT id, incident_id, channel, recipient, idempotency_key, status, attempts, lease_until FROM outbox ORDER BY id",
        )
        .all() as OutboxRow[],
  );
}

/**
 * The two tests run side by side to save wall time: the outage starts when the crash test begins
 * its final wait (for the last deliveries, mostly idle),
 * so that it does not compete with the load for the CPU. Each test kills only its own servers.
 */
let crashRunning = false;
let signalDraining: () => void = () => {};
const crashDraining = new Promise<void>((resolve) => {
  signalDraining = resolve;
});

describe.concurrent("a real process over real time", () => {
  const dir = tempDir("pagewise-crash-load-");
  const dbPath = join(dir.path, "pagewise.db");
  const config = join(dir.path, "pagewise.yaml");
  const outageDb = join(dir.path, "outage.db");
  const outageConfig = join(dir.path, "outage.yaml");
  let sink: HttpPeer;
  let outageSink: HttpPeer;
  const receipts: Receipt[] = [];
  const outageReceipts: Receipt[] = [];
  let recoverAt = Number.POSITIVE_INFINITY;

  beforeAll(async () => {
    sink = await httpPeer((req) => {
      receipts.push(receiptOf(req, 200));
      return { status: 200 };
    });
    writeFileSync(config, configText(sink.url));
    outageSink = await httpPeer((req) => {
      const status = Date.now() < recoverAt ? 503 : 200;
      outageReceipts.push(receiptOf(req, status));
      return { status };
    });
    // Two tries: a notification whose retry also falls inside the outage becomes a dead letter.
    writeFileSync(outageConfig, configText(outageSink.url, 2));
  });
  afterAll(async () => {
    await killAllChildren();
    await sink?.close();
    await outageSink?.close();
    dir.cleanup();
  });

  it(`keeps every acknowledged alert once and delivers every notification across ${KILLS} SIGKILLs`, async () => {
    crashRunning = true;
    let current: Pagewise | null = null;
    try {
      await crashLoad((s) => {
        current = s;
      });
    } finally {
      signalDraining();
      if (current !== null) await killAndWait((current as Pagewise).child);
    }
  }, 150_000);

  async function crashLoad(started: (s: Pagewise) => void): Promise<void> {
    console.log(`crash-load: seed ${SEED} (replay: PAGEWISE_CRASH_SEED=${SEED})`);
    // The seed decides only the kill moments, so that a run replays whatever the interleaving.
    const random = prng(SEED);
    /** Alert id -> whether it is a page. Every id is sent until it is acknowledged. */
    const alerts = new Map<string, boolean>();
    const acked = new Set<string>();
    const unacked: string[] = [];
    const refused: string[] = [];
    let next = 0;
    let lastKillAt = 0;

    for (let round = 1; round <= KILLS + 1; round++) {
      const server = await startPagewise({ config, db: dbPath });
      started(server);
      const final = round > KILLS;
      let dead = false;
      // A sender that was cut off sends the same alert again later, as Prometheus would.
      const retry = unacked.splice(0);
      const sender = async () => {
        while (!dead) {
          let id = retry.shift();
          if (id === undefined) {
            if (final) return;
            const n = next++;
            id = `a${n}`;
            alerts.set(id, n % 5 === 0); // One in five pages.
          }
          try {
            const status = await sendAlert(server.url, id, alerts.get(id) as boolean);
            if (status >= 200 && status < 300) acked.add(id);
            else {
              refused.push(`${id}: HTTP ${status}`);
              unacked.push(id);
            }
          } catch {
            unacked.push(id); // Cut off by the kill: not acknowledged, sent again next round.
          }
        }
      };
      const senders = Promise.all(Array.from({ length: SENDERS }, sender));
      if (final) {
        await senders;
        // Nothing is left unacknowledged once the server stays up.
        expect(unacked, "alerts still refused with the server up").toEqual([]);
        await drainAndCheck(server);
        return;
      }
      const delay = KILL_AFTER_MS[0] + Math.floor(random() * (KILL_AFTER_MS[1] - KILL_AFTER_MS[0]));
      await sleep(delay);
      dead = true;
      process.kill(server.pid, "SIGKILL");
      lastKillAt = Date.now();
      await senders;
      const exit = await server.exited;
      expect(exit.signal, `round ${round}: the server should die of our SIGKILL\n${server.output()}`).toBe(
        "SIGKILL",
      );
      // Straight from the file of the dead server: every acknowledged alert is there.
      const stored = storedAlerts();
      const lost = [...acked].filter((id) => !stored.has(id));
      expect(lost, `round ${round} (kill ${delay} ms after start): acknowledged alerts missing`).toEqual([]);
      console.log(
        `crash-load: kill ${round} at ${delay} ms: ${acked.size} acknowledged, ${unacked.length} cut off, ${stored.size} stored`,
      );
    }

    function storedAlerts(): Map<string, number> {
      return readDb(dbPath, (db) => {
        expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
        const rows = db.prepare("SELECT alert_key, COUNT(*) AS n FROM alerts GROUP BY alert_key").all() as {
          alert_key: string;
          n: number;
        }[];
        const dup = rows.filter((r) => r.n !== 1).map((r) => `${r.alert_key} x${r.n}`);
        expect(dup, "an alert stored twice").toEqual([]);
        return new Map(rows.map((r) => [r.alert_key, r.n]));
      });
    }

    async function drainAndCheck(server: Pagewise): Promise<void> {
      expect(refused, "valid alerts refused").toEqual([]);
      // Every alert was acknowledged in the end, and is stored exactly once, with its incident.
      expect(acked.size).toBe(alerts.size);
      const stored = storedAlerts();
      expect([...stored.keys()].sort()).toEqual([...alerts.keys()].sort());

      // Wait for the worker: rows claimed when a process died were released when the next started.
      signalDraining();
      const deadline = Date.now() + 15_000;
      let rows = outbox(dbPath);
      const waiting = () => {
        const arrived = new Set(receipts.map((r) => r.key));
        return rows.filter((r) => r.status !== "sent" || !arrived.has(r.idempotency_key));
      };
      while (waiting().length > 0 && Date.now() < deadline) {
        await sleep(250);
        rows = outbox(dbPath);
      }
      const waited = ((Date.now() - lastKillAt) / 1000).toFixed(1);

      // Every incident was due its notifications: the hook channel, and bob too for a page.
      const incidents = readDb(
        dbPath,
        (db) =>
          db
            .prepare(
              "SELECT i.id, json_extract(a.labels, '$.alert') AS alert, json_extract(a.labels, '$.page') AS page FROM incidents i JOIN alerts a ON a.incident_id = i.id",
            )
            .all() as { id: number; alert: string; page: string }[],
      );
      expect(incidents).toHaveLength(alerts.size);
      const missingRows: string[] = [];
      for (const i of incidents) {
        const mine = rows.filter((r) => r.incident_id === i.id);
        const want = i.page === "yes" ? ["hook", "user-webhook/bob"] : ["hook"];
        const have = mine
          .map((r) => (r.recipient === null ? r.channel : `${r.channel}/${r.recipient}`))
          .sort();
        if (!want.every((w) => have.includes(w)) || (i.page !== "yes" && have.length !== 1))
          missingRows.push(
            `incident ${i.id} (${i.alert}, page=${i.page}): ${have.join(", ") || "no outbox row"}`,
          );
      }
      expect(missingRows, "incidents without the notifications they were due").toEqual([]);

      // At least once: every notification arrived; copies (same idempotency key) are counted.
      const perKey = new Map<string, number>();
      for (const r of receipts) perKey.set(r.key, (perKey.get(r.key) ?? 0) + 1);
      const known = new Set(rows.map((r) => r.idempotency_key));
      const missing = rows
        .filter((r) => !perKey.has(r.idempotency_key) || r.status !== "sent")
        .map((r) => `#${r.id} incident ${r.incident_id} ${r.channel} ${r.status} (${r.attempts} attempts)`);
      const duplicates = [...perKey.entries()].filter(([, n]) => n > 1);
      const phantoms = [...perKey.keys()].filter((k) => !known.has(k));
      console.log(
        `crash-load: seed ${SEED}: ${alerts.size} alerts (${[...alerts.values()].filter(Boolean).length} pages), ` +
          `${incidents.length} incidents, ${rows.length} notifications, ${receipts.length} received at the sink, ` +
          `${duplicates.length} delivered more than once (${duplicates.reduce((s, [, n]) => s + n - 1, 0)} extra copies` +
          `${
            duplicates.length > 0
              ? `: ${duplicates
                  .slice(0, 10)
                  .map(([k, n]) => `${k} x${n}`)
                  .join(", ")}`
              : ""
          }), ` +
          `${missing.length} missing; all delivered ${waited} s after the last kill`,
      );
      expect(missing, "notifications that never arrived").toEqual([]);
      expect(phantoms, "messages at the sink that no outbox row sent").toEqual([]);

      // The server is still healthy and shuts down cleanly.
      await killAndWait(server.child, "SIGTERM");
      expect((await server.exited).code, server.output()).toBe(0);
    }
  }

  it("delivers every notification once the sink is back, or shows it as a dead letter that a retry sends", async () => {
    await sleep(500);
    if (crashRunning) await crashDraining;
    const server = await startPagewise({ config: outageConfig, db: outageDb });
    try {
      await outage(server);
    } finally {
      await killAndWait(server.child);
    }
  }, 180_000);

  async function outage(server: Pagewise): Promise<void> {
    const dbPath = outageDb;
    const receipts = outageReceipts;
    const send = async (prefix: string, n: number) => {
      for (let i = 0; i < n; i++) expect(await sendAlert(server.url, `${prefix}${i}`, i % 4 === 0)).toBe(200);
    };
    // Wave A meets the outage on its first try and on its retry 4-6 s later (backoff 5 s ±20%):
    // dead letters. Wave B's first try fails too, but its retry comes after the sink is back.
    const start = Date.now();
    recoverAt = start + 8_000;
    await send("A", 8);
    await sleep(start + 4_500 - Date.now());
    await send("B", 8);

    const deadline = Date.now() + 25_000;
    let rows = outbox(dbPath);
    const settled = () => rows.every((r) => r.status === "sent" || r.status === "failed");
    while (!(rows.length > 0 && settled()) && Date.now() < deadline) {
      await sleep(250);
      rows = outbox(dbPath);
    }
    expect(settled(), `still in flight: ${JSON.stringify(rows.filter((r) => r.status !== "sent"))}`).toBe(
      true,
    );
    expect(receipts.filter((r) => r.status === 503).length, "the outage was seen").toBeGreaterThan(0);

    // Sent means a 2xx reached the sink after recovery; failed means listed as a dead letter.
    const delivered = new Set(receipts.filter((r) => r.status === 200).map((r) => r.key));
    for (const r of rows.filter((x) => x.status === "sent"))
      expect(delivered.has(r.idempotency_key), `row ${r.id} marked sent but never answered 2xx`).toBe(true);
    const dead = rows.filter((r) => r.status === "failed");
    const listed = await apiGet<{ deliveries: { id: number; status: string; idempotency_key: string }[] }>(
      server.url,
      "/api/v1/deliveries?status=failed&limit=1000",
    );
    expect(listed.deliveries.map((d) => d.id).sort((a, b) => a - b)).toEqual(dead.map((r) => r.id));
    for (const r of dead) {
      const timeline = await apiGet<{ incident: { timeline: { kind: string }[] } }>(
        server.url,
        `/api/v1/incidents/${r.incident_id}`,
      );
      expect(timeline.incident.timeline.map((t) => t.kind)).toContain("delivery_failed");
    }
    const incidentOf = new Map(
      readDb(
        dbPath,
        (db) =>
          db.prepare("SELECT a.incident_id AS id, a.alert_key AS alert FROM alerts a").all() as {
            id: number;
            alert: string;
          }[],
      ).map((r) => [r.id, r.alert]),
    );
    const waveB = rows.filter((r) => incidentOf.get(r.incident_id)?.startsWith("B"));
    expect(waveB.length).toBeGreaterThan(0);
    // Wave B retried after recovery: delivered by itself, no dead letter.
    expect(waveB.filter((r) => r.status !== "sent").map((r) => r.id)).toEqual([]);
    // Wave A's retries fell inside the outage (by 2 s of slack): dead letters, visible.
    expect(dead.length, "no dead letter: wave A's retries missed the outage").toBeGreaterThan(0);

    // An operator retries the dead letters: each goes out again, with the same key.
    for (const r of dead) {
      const res = await fetch(`${server.url}/api/v1/deliveries/${r.id}/retry`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(res.status, await res.text()).toBe(200);
    }
    const until = Date.now() + 10_000;
    while (outbox(dbPath).some((r) => r.status !== "sent") && Date.now() < until) await sleep(250);
    rows = outbox(dbPath);
    const ok = new Set(receipts.filter((r) => r.status === 200).map((r) => r.key));
    const vanished = rows.filter((r) => r.status !== "sent" || !ok.has(r.idempotency_key));
    console.log(
      `outage: ${rows.length} notifications, ${receipts.filter((r) => r.status === 503).length} attempts answered 503, ` +
        `${dead.length} dead letters retried by hand, ${vanished.length} missing`,
    );
    expect(vanished.map((r) => `#${r.id} ${r.status}`)).toEqual([]);
  }
});
