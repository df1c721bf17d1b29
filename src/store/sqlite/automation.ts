import type Database from "better-sqlite3";
import type { Run, RunStatus } from "../../core/automation/run.js";
import type { HeartbeatState, StoredRun } from "../../engine/ports.js";

/** Runbook runs and heartbeats in SQLite: shared by the store (reads, claims) and its Tx. */
export class AutomationRows {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      insertRun: p(
        "INSERT INTO runbook_runs (incident_id, status, lease_until, body) VALUES (?, ?, NULL, ?)",
      ),
      saveRun: p("UPDATE runbook_runs SET status = ?, lease_until = NULL, body = ? WHERE id = ?"),
      run: p("SELECT * FROM runbook_runs WHERE id = ?"),
      runsOf: p("SELECT * FROM runbook_runs WHERE incident_id = ? ORDER BY id"),
      claim: p(
        `UPDATE runbook_runs SET lease_until = ?
         WHERE id IN (SELECT id FROM runbook_runs
                      WHERE status IN ('running', 'rolling_back') AND (lease_until IS NULL OR lease_until <= ?)
                      ORDER BY id LIMIT ?)
         RETURNING *`,
      ),
      heartbeat: p("SELECT * FROM heartbeats WHERE name = ?"),
      heartbeats: p("SELECT * FROM heartbeats ORDER BY name"),
      saveHeartbeat: p(
        `INSERT INTO heartbeats (name, last_seen, missed_at) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET last_seen = excluded.last_seen, missed_at = excluded.missed_at
         RETURNING id`,
      ),
    };
  }

  insertRun(run: Omit<Run, "id">): number {
    return Number(this.s.insertRun.run(run.incidentId, run.status, JSON.stringify(run)).lastInsertRowid);
  }

  saveRun(run: Run): void {
    const { id, ...body } = run;
    this.s.saveRun.run(run.status, JSON.stringify(body), id);
  }

  run(id: number): StoredRun | undefined {
    const r = this.s.run.get(id);
    return r === undefined ? undefined : runFromRow(r as RunRow);
  }

  runsOf(incidentId: number): StoredRun[] {
    return this.s.runsOf.all(incidentId).map((r) => runFromRow(r as RunRow));
  }

  claim(now: number, leaseMs: number, limit: number): StoredRun[] {
    return this.s.claim.all(now + leaseMs, now, limit).map((r) => runFromRow(r as RunRow));
  }

  runs(f: { incidentId?: number; status?: RunStatus; limit: number }): StoredRun[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (f.incidentId !== undefined) {
      where.push("incident_id = ?");
      args.push(f.incidentId);
    }
    if (f.status !== undefined) {
      where.push("status = ?");
      args.push(f.status);
    }
    const sql = `SELECT * FROM runbook_runs ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`;
    return this.db
      .prepare(sql)
      .all(...args, f.limit)
      .map((r) => runFromRow(r as RunRow));
  }

  heartbeat(name: string): HeartbeatState | undefined {
    const r = this.s.heartbeat.get(name);
    return r === undefined ? undefined : heartbeatFromRow(r as HeartbeatRow);
  }

  heartbeats(): HeartbeatState[] {
    return this.s.heartbeats.all().map((r) => heartbeatFromRow(r as HeartbeatRow));
  }

  saveHeartbeat(h: Omit<HeartbeatState, "id">): number {
    return Number(this.s.saveHeartbeat.pluck().get(h.name, h.lastSeen, h.missedAt));
  }
}

interface RunRow {
  id: number;
  lease_until: number | null;
  body: string;
}

function runFromRow(r: RunRow): StoredRun {
  const body = JSON.parse(r.body) as Omit<Run, "id">;
  return { ...body, id: Number(r.id), leaseUntil: r.lease_until === null ? null : Number(r.lease_until) };
}

interface HeartbeatRow {
  id: number;
  name: string;
  last_seen: number | null;
  missed_at: number | null;
}

function heartbeatFromRow(r: HeartbeatRow): HeartbeatState {
  return {
    id: Number(r.id),
    name: r.name,
    lastSeen: r.last_seen === null ? null : Number(r.last_seen),
    missedAt: r.missed_at === null ? null : Number(r.missed_at),
  };
}
