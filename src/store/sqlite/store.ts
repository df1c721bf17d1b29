import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { Kysely, Migrator, SqliteDialect } from "kysely";
import type { Alert } from "../../core/alert.js";
import type { RunStatus } from "../../core/automation/run.js";
import { PagewiseError } from "../../core/errors.js";
import type { Incident } from "../../core/incident.js";
import type { Signal } from "../../core/scoring/context.js";
import type { RuleOutcome } from "../../core/scoring/learning.js";
import type {
  Delivery,
  DeliveryStatus,
  Feedback,
  FiringAlert,
  HeartbeatState,
  IncidentFilter,
  Silence,
  Store,
  StoredDecision,
  StoredRun,
  TimelineRow,
  Timer,
  Tx,
} from "../../engine/ports.js";
import { LATEST_MIGRATION, migrationProvider } from "../migrations.js";
import {
  alertFromRow,
  decisionFromRow,
  deliveryFromRow,
  feedbackFromRow,
  incidentFromRow,
  outcomeFromRow,
  silenceFromRow,
  timerFromRow,
} from "../rows.js";
import type { Tables } from "../tables.js";
import { SqliteTx } from "./tx.js";

export type Durability = "normal" | "full";

export interface SqliteOptions {
  path: string;
  /** normal: survives kill -9 (WAL, synchronous=NORMAL). full: also survives power loss. */
  durability: Durability;
}

/** SQLite errors that mean "not now", not "bad request": the sender should retry. */
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|CANTOPEN|READONLY|NOMEM|CORRUPT|NOTADB)/;

export class SqliteStore implements Store {
  readonly db: Database.Database;
  readonly kysely: Kysely<Tables>;
  private readonly tx: SqliteTx;
  private readonly runInTx: (fn: (tx: Tx) => unknown) => unknown;
  private readonly claimStmt: Database.Statement;
  private readonly nextDueStmt: Database.Statement;
  private readonly claimOutboxStmt: Database.Statement;
  private readonly countTimersStmt: Database.Statement;

  private constructor(db: Database.Database) {
    this.db = db;
    this.kysely = new Kysely<Tables>({ dialect: new SqliteDialect({ database: db }) });
    this.tx = new SqliteTx(db);
    const wrapped = db.transaction((fn: (tx: Tx) => unknown) => fn(this.tx));
    this.runInTx = (fn) => wrapped.immediate(fn);
    this.claimStmt = db.prepare(
      `UPDATE timers SET lease_owner = ?, lease_until = ?, attempts = attempts + 1
       WHERE id IN (SELECT id FROM timers WHERE due_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
                    ORDER BY due_at LIMIT ?)
       RETURNING *`,
    );
    this.nextDueStmt = db.prepare("SELECT MIN(due_at) AS due FROM timers").pluck();
    // Each half walks outbox_due in order and stops at the limit: during a storm's backlog, an
    // OR over both would sort every due row on each claim.
    this.claimOutboxStmt = db.prepare(
      `UPDATE outbox SET status = 'sending', lease_until = ?, attempts = attempts + 1
       WHERE id IN (
         SELECT id FROM (
           SELECT * FROM (SELECT id, next_attempt_at FROM outbox WHERE status = 'sending' AND lease_until <= ?
                          ORDER BY next_attempt_at LIMIT ?)
           UNION ALL
           SELECT * FROM (SELECT id, next_attempt_at FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?
                          ORDER BY next_attempt_at LIMIT ?)
         ) ORDER BY next_attempt_at LIMIT ?)
       RETURNING *`,
    );
    // Lag counts timers nobody holds: unclaimed ones, and ones whose claimer's lease ran out.
    this.countTimersStmt = db.prepare(
      "SELECT COUNT(*) AS n, MIN(CASE WHEN lease_until IS NULL OR lease_until <= ? THEN due_at END) AS oldest FROM timers",
    );
  }

  static async open(opts: SqliteOptions): Promise<SqliteStore> {
    if (opts.path !== ":memory:") mkdirSync(dirname(opts.path), { recursive: true });
    const db = new Database(opts.path);
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${opts.durability === "full" ? "FULL" : "NORMAL"}`);
    db.pragma("busy_timeout = 5000");
    db.pragma("temp_store = MEMORY");
    db.pragma("cache_size = -65536");
    const kysely = new Kysely<unknown>({ dialect: new SqliteDialect({ database: db }) });
    const { error, results } = await new Migrator({
      db: kysely,
      provider: migrationProvider,
    }).migrateToLatest();
    if (error !== undefined) {
      const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
      db.close();
      throw new PagewiseError("PW_STORE_UNAVAILABLE", `migration ${failed} failed: ${String(error)}`);
    }
    return new SqliteStore(db);
  }

  /** Called after a commit that queued notifications (the delivery worker wakes up). */
  onOutbox: (() => void) | null = null;

  /**
   * At the start of `serve`: whatever a previous process had claimed is due again now, not when
   * its lease lapses. Only one process serves a file (OwnerLock), so that process is gone, and
   * a page it claimed but may not have sent must not wait a minute. At least once, as before.
   */
  releaseLeases(now: number): { deliveries: number; timers: number; runs: number } {
    const run = this.db.transaction(() => ({
      deliveries: this.db
        .prepare(
          `UPDATE outbox SET status = 'pending', lease_until = NULL, next_attempt_at = MIN(next_attempt_at, ?)
           WHERE status = 'sending'`,
        )
        .run(now).changes,
      timers: this.db
        .prepare("UPDATE timers SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL")
        .run().changes,
      runs: this.db
        .prepare(
          `UPDATE runbook_runs SET lease_until = NULL
           WHERE lease_until IS NOT NULL AND status IN ('running', 'rolling_back')`,
        )
        .run().changes,
    }));
    return run.immediate();
  }

  /** After rows were changed behind the store's back (a test, a repair): read them afresh. */
  forgetCached(): void {
    this.tx.heads.clear();
  }

  transaction<T>(fn: (tx: Tx) => T): T {
    const before = this.tx.enqueued;
    let out: T;
    try {
      out = this.runInTx(fn) as T;
    } catch (err) {
      this.tx.heads.clear(); // it may hold what was rolled back
      throw asStoreError(err);
    }
    if (this.tx.enqueued !== before) this.onOutbox?.();
    return out;
  }

  claimDueTimers(now: number, owner: string, leaseMs: number, limit: number): Timer[] {
    try {
      // RETURNING does not keep the subquery's order: due order is restored here.
      return this.claimStmt
        .all(owner, now + leaseMs, now, now, limit)
        .map((r) => timerFromRow(r as never))
        .sort((a, b) => a.dueAt - b.dueAt || a.id - b.id);
    } catch (err) {
      throw asStoreError(err);
    }
  }

  nextTimerDue(): number | null {
    const due = this.nextDueStmt.get() as number | bigint | null;
    return due === null ? null : Number(due);
  }

  stats(now: number): { timers: number; oldestDueTimer: number | null } {
    const r = this.countTimersStmt.get(now) as { n: number; oldest: number | null };
    return { timers: r.n, oldestDueTimer: r.oldest === null ? null : Number(r.oldest) };
  }

  async listIncidents(f: IncidentFilter): Promise<Incident[]> {
    let q = this.kysely.selectFrom("incidents").selectAll();
    if (f.status !== undefined && f.status.length > 0) q = q.where("status", "in", f.status);
    if (f.service !== undefined) q = q.where("service", "=", f.service);
    if (f.source !== undefined) q = q.where("source", "=", f.source);
    if (f.before !== undefined) q = q.where("id", "<", f.before);
    const rows = await q.orderBy("id", "desc").limit(f.limit).execute();
    return rows.map(incidentFromRow);
  }

  async getIncident(id: number): Promise<Incident | undefined> {
    const row = await this.kysely.selectFrom("incidents").selectAll().where("id", "=", id).executeTakeFirst();
    return row === undefined ? undefined : incidentFromRow(row);
  }

  async incidentAlerts(incidentId: number): Promise<Alert[]> {
    const rows = await this.kysely
      .selectFrom("alerts")
      .selectAll()
      .where("incident_id", "=", incidentId)
      .orderBy("id")
      .execute();
    return rows.map(alertFromRow);
  }

  async incidentTimeline(incidentId: number): Promise<TimelineRow[]> {
    const rows = await this.kysely
      .selectFrom("timeline")
      .selectAll()
      .where("incident_id", "=", incidentId)
      .orderBy("id")
      .execute();
    return rows.map((r) => ({
      id: Number(r.id),
      incidentId: Number(r.incident_id),
      at: Number(r.at),
      kind: r.kind as TimelineRow["kind"],
      actor: r.actor,
      detail: JSON.parse(r.detail) as Record<string, unknown>,
    }));
  }

  loadSignals(since: number, recentSince: number): Signal[] {
    const out: Signal[] = [];
    for (const r of this.db
      .prepare("SELECT body FROM signals WHERE at >= ? ORDER BY at, id")
      .iterate(since)) {
      out.push(JSON.parse((r as { body: string }).body) as Signal);
    }
    const recent = this.db
      .prepare(
        "SELECT source, labels, service, last_seen FROM alerts WHERE last_seen >= ? AND status = 'firing'",
      )
      .all(recentSince) as { source: string; labels: string; service: string | null; last_seen: number }[];
    for (const a of recent) {
      const labels = JSON.parse(a.labels) as Record<string, string>;
      out.push({
        kind: "resend",
        at: Number(a.last_seen),
        source: a.source,
        alertname: labels.alertname ?? "",
        service: a.service,
        host: labels.host ?? null,
      });
    }
    return out;
  }

  async incidentFeedback(incidentId: number): Promise<Feedback[]> {
    const rows = await this.kysely
      .selectFrom("feedback")
      .selectAll()
      .where("incident_id", "=", incidentId)
      .orderBy("id")
      .execute();
    return rows.map(feedbackFromRow);
  }

  outcomes(): RuleOutcome[] {
    return this.db
      .prepare("SELECT * FROM learning ORDER BY source, alertname")
      .all()
      .map((r) => outcomeFromRow(r as never));
  }

  activeModel(): string | null {
    const row = this.db.prepare("SELECT body FROM models WHERE active = 1").get() as
      | { body: string }
      | undefined;
    return row?.body ?? null;
  }

  activateModel(version: string, body: string, now: number): void {
    this.db.transaction(() => {
      this.db.prepare("UPDATE models SET active = 0 WHERE active = 1").run();
      this.db
        .prepare(
          `INSERT INTO models (version, created_at, body, active) VALUES (?, ?, ?, 1)
           ON CONFLICT (version) DO UPDATE SET body = excluded.body, active = 1`,
        )
        .run(version, now, body);
    })();
  }

  async incidentDecisions(incidentId: number): Promise<StoredDecision[]> {
    return this.db
      .prepare("SELECT * FROM decisions WHERE incident_id = ? ORDER BY id")
      .all(incidentId)
      .map((r) => decisionFromRow(r as never));
  }

  async decision(id: number): Promise<StoredDecision | undefined> {
    const r = this.db.prepare("SELECT * FROM decisions WHERE id = ?").get(id);
    return r === undefined ? undefined : decisionFromRow(r as never);
  }

  decisionsFrom(afterId: number, limit: number): StoredDecision[] {
    return this.db
      .prepare("SELECT * FROM decisions WHERE id > ? ORDER BY id LIMIT ?")
      .all(afterId, limit)
      .map((r) => decisionFromRow(r as never));
  }

  allFiringAlerts(): FiringAlert[] {
    const rows = this.db
      .prepare(
        `SELECT a.labels, a.source, a.service, i.service AS incident_service, i.team FROM alerts a
         JOIN incidents i ON i.id = a.incident_id WHERE a.status = 'firing' AND i.status <> 'resolved'`,
      )
      .all() as {
      labels: string;
      source: string;
      service: string | null;
      incident_service: string | null;
      team: string | null;
    }[];
    return rows.map((r) => ({
      labels: JSON.parse(r.labels) as Record<string, string>,
      source: r.source,
      service: r.service,
      incidentService: r.incident_service,
      team: r.team,
    }));
  }

  pagesSince(since: number): { team: string | null; at: number }[] {
    const rows = this.db
      .prepare(
        // A page is an incident's first unmuted page decision, as the running engine counts them.
        `SELECT i.team AS team, MIN(d.at) AS at FROM decisions d JOIN incidents i ON i.id = d.incident_id
         WHERE d.route = 'page' AND json_extract(d.body, '$.decision.muted_by') IS NULL
           AND d.incident_id IN (SELECT incident_id FROM decisions WHERE at >= ? AND route = 'page')
         GROUP BY d.incident_id HAVING MIN(d.at) >= ? ORDER BY at`,
      )
      .all(since, since) as { team: string | null; at: number }[];
    return rows.map((r) => ({ team: r.team, at: Number(r.at) }));
  }

  insertSilence(s: Omit<Silence, "id">): number {
    const r = this.db
      .prepare(
        `INSERT INTO silences (matchers, starts_at, ends_at, author, comment, created_at, expired_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(JSON.stringify(s.matchers), s.startsAt, s.endsAt, s.author, s.comment, s.createdAt, s.expiredAt);
    return Number(r.lastInsertRowid);
  }

  silences(includeExpired: boolean): Silence[] {
    const sql = includeExpired
      ? "SELECT * FROM silences ORDER BY id"
      : "SELECT * FROM silences WHERE expired_at IS NULL ORDER BY id";
    return this.db
      .prepare(sql)
      .all()
      .map((r) => silenceFromRow(r as never));
  }

  expireSilence(id: number, at: number): Silence | undefined {
    this.db.prepare("UPDATE silences SET expired_at = ? WHERE id = ? AND expired_at IS NULL").run(at, id);
    const r = this.db.prepare("SELECT * FROM silences WHERE id = ?").get(id);
    return r === undefined ? undefined : silenceFromRow(r as never);
  }

  claimDeliveries(now: number, leaseMs: number, limit: number): Delivery[] {
    try {
      return this.claimOutboxStmt
        .all(now + leaseMs, now, limit, now, limit, limit)
        .map((r) => deliveryFromRow(r as never))
        .sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.id - b.id);
    } catch (err) {
      throw asStoreError(err);
    }
  }

  delivery(id: number): Delivery | undefined {
    const row = this.db.prepare("SELECT * FROM outbox WHERE id = ?").get(id);
    return row === undefined ? undefined : deliveryFromRow(row as never);
  }

  deliveries(f: { status?: DeliveryStatus; incidentId?: number; limit: number }): Delivery[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (f.status !== undefined) {
      where.push("status = ?");
      args.push(f.status);
    }
    if (f.incidentId !== undefined) {
      where.push("incident_id = ?");
      args.push(f.incidentId);
    }
    const sql = `SELECT * FROM outbox ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`;
    return this.db
      .prepare(sql)
      .all(...args, f.limit)
      .map((r) => deliveryFromRow(r as never));
  }

  outboxStats(): { pending: number; oldestPendingAt: number | null; failed: number; sending: number } {
    // One indexed count per status: sent rows (most of the table) are never scanned.
    const count = (status: string) =>
      this.db
        .prepare("SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox WHERE status = ?")
        .get(status) as {
        n: number;
        oldest: number | null;
      };
    const pending = count("pending");
    const r = {
      pending: pending.n,
      oldest: pending.oldest,
      failed: count("failed").n,
      sending: count("sending").n,
    };
    return {
      pending: r.pending ?? 0,
      oldestPendingAt: r.oldest === null ? null : Number(r.oldest),
      failed: r.failed ?? 0,
      sending: r.sending ?? 0,
    };
  }

  claimRuns(now: number, leaseMs: number, limit: number): StoredRun[] {
    try {
      return this.tx.auto.claim(now, leaseMs, limit);
    } catch (err) {
      throw asStoreError(err);
    }
  }

  runs(filter: { incidentId?: number; status?: RunStatus; limit: number }): StoredRun[] {
    return this.tx.auto.runs(filter);
  }

  runById(id: number): StoredRun | undefined {
    return this.tx.auto.run(id);
  }

  heartbeats(): HeartbeatState[] {
    return this.tx.auto.heartbeats();
  }

  linkUsed(token: string): boolean {
    return this.db.prepare("SELECT 1 FROM link_uses WHERE token = ?").get(token) !== undefined;
  }

  meta(key: string): string | null {
    return (
      (this.db.prepare("SELECT value FROM meta WHERE key = ?").pluck().get(key) as string | undefined) ?? null
    );
  }

  setMeta(key: string, value: string): void {
    this.db
      .prepare(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      )
      .run(key, value);
  }

  recordPolicy(version: string, text: string, at: number): void {
    this.db
      .prepare(
        "INSERT INTO policies (version, text, loaded_at) VALUES (?, ?, ?) ON CONFLICT (version) DO NOTHING",
      )
      .run(version, text, at);
  }

  policyText(version: string): string | null {
    return (
      (this.db.prepare("SELECT text FROM policies WHERE version = ?").pluck().get(version) as
        | string
        | undefined) ?? null
    );
  }

  async ready(): Promise<{ ok: true } | { ok: false; reason: string }> {
    try {
      const row = this.db.prepare("SELECT name FROM kysely_migration ORDER BY name DESC LIMIT 1").get() as
        | { name: string }
        | undefined;
      if (row?.name !== LATEST_MIGRATION)
        return { ok: false, reason: `migration ${LATEST_MIGRATION} not applied` };
      return { ok: true };
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

function asStoreError(err: unknown): unknown {
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && UNAVAILABLE.test(code)) {
    return new PagewiseError("PW_STORE_UNAVAILABLE", `database unavailable (${code}); retry later`);
  }
  return err;
}
