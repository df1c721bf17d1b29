import type Database from "better-sqlite3";
import type { Alert } from "../../core/alert.js";
import type { Run } from "../../core/automation/run.js";
import type { Incident } from "../../core/incident.js";
import type { Signal } from "../../core/scoring/context.js";
import type { RuleOutcome } from "../../core/scoring/learning.js";
import type {
  AlertHead,
  DecisionRecord,
  EventRecord,
  Feedback,
  HeartbeatState,
  NewAlert,
  NewIncident,
  OutboxEntry,
  StoredRun,
  TimelineEntry,
  Timer,
  TimerKind,
  Tx,
} from "../../engine/ports.js";
import {
  alertFromRow,
  alertToRow,
  feedbackFromRow,
  incidentFromRow,
  incidentToRow,
  outcomeFromRow,
} from "../rows.js";
import { AutomationRows } from "./automation.js";
import { HeadCache } from "./heads.js";

const INCIDENT_COLS = [
  "source",
  "group_key",
  "status",
  "service",
  "service_known",
  "team",
  "tier",
  "severity",
  "summary",
  "opened_at",
  "last_event_at",
  "acknowledged_at",
  "acknowledged_by",
  "resolved_at",
  "resolved_by",
  "resolve_reason",
  "alert_count",
  "open_alert_count",
  "score",
  "score_model",
  "scored_at",
  "policy_version",
  "route",
  "escalation",
  "assignee",
];
const ALERT_COLS = [
  "incident_id",
  "source",
  "alert_key",
  "status",
  "summary",
  "severity",
  "service",
  "labels",
  "annotations",
  "links",
  "upstream_score",
  "starts_at",
  "ends_at",
  "first_seen",
  "last_seen",
  "resolved_at",
  "event_count",
  "raw",
];

const insertSql = (table: string, cols: string[]) =>
  `INSERT INTO ${table} (${cols.join(", ")}) VALUES (${cols.map((c) => `@${c}`).join(", ")})`;
const updateSql = (table: string, cols: string[]) =>
  `UPDATE ${table} SET ${cols.map((c) => `${c} = @${c}`).join(", ")} WHERE id = @id`;

/** The engine's Tx over prepared statements; only used inside SqliteStore.transaction. */
export class SqliteTx implements Tx {
  private readonly s;
  readonly auto: AutomationRows;
  /** Cleared by the store when a transaction rolls back. */
  readonly heads = new HeadCache();

  constructor(db: Database.Database) {
    this.auto = new AutomationRows(db);
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      currentAlert: p(
        `SELECT a.* FROM alerts a JOIN incidents i ON i.id = a.incident_id
         WHERE a.source = ? AND a.alert_key = ? AND i.status <> 'resolved' ORDER BY a.id DESC LIMIT 1`,
      ),
      alertHead: p(
        `SELECT a.id, a.incident_id, a.status, a.severity, a.ends_at, a.event_count, a.service, a.annotations
         FROM alerts a JOIN incidents i ON i.id = a.incident_id
         WHERE a.source = ? AND a.alert_key = ? AND i.status <> 'resolved' ORDER BY a.id DESC LIMIT 1`,
      ),
      touchLean: p("UPDATE alerts SET last_seen = ?, event_count = ?, ends_at = ? WHERE id = ?"),
      openIncident: p("SELECT * FROM incidents WHERE source = ? AND group_key = ? AND status <> 'resolved'"),
      incident: p("SELECT * FROM incidents WHERE id = ?"),
      alert: p("SELECT * FROM alerts WHERE id = ?"),
      firingAlerts: p("SELECT * FROM alerts WHERE incident_id = ? AND status = 'firing' ORDER BY id"),
      alertsOf: p("SELECT * FROM alerts WHERE incident_id = ? ORDER BY id"),
      latestFeedback: p("SELECT * FROM feedback WHERE incident_id = ? ORDER BY id DESC LIMIT 1"),
      insertFeedback: p(
        "INSERT INTO feedback (incident_id, at, author, verdict, route_fit, note) VALUES (?, ?, ?, ?, ?, ?)",
      ),
      outcome: p("SELECT * FROM learning WHERE source = ? AND alertname = ?"),
      saveOutcome: p(
        `INSERT INTO learning (source, alertname, genuine, false_alarms, recent_genuine, recent_false_alarms, recent_at)
         VALUES (@source, @alertname, @genuine, @falseAlarms, @recentGenuine, @recentFalseAlarms, @recentAt)
         ON CONFLICT (source, alertname) DO UPDATE SET
           genuine = excluded.genuine, false_alarms = excluded.false_alarms, recent_genuine = excluded.recent_genuine,
           recent_false_alarms = excluded.recent_false_alarms, recent_at = excluded.recent_at`,
      ),
      lastSeen: p("SELECT MAX(last_seen) FROM alerts WHERE incident_id = ?").pluck(),
      insertIncident: p(insertSql("incidents", INCIDENT_COLS)),
      saveIncident: p(updateSql("incidents", INCIDENT_COLS)),
      insertAlert: p(insertSql("alerts", ALERT_COLS)),
      saveAlert: p(updateSql("alerts", ALERT_COLS)),
      touchAlert: p(
        "UPDATE alerts SET last_seen = ?, event_count = ?, ends_at = ?, annotations = ?, raw = ? WHERE id = ?",
      ),
      insertEvent: p(
        `INSERT INTO events (received_at, at, source, action, alert_key, incident_id, service, summary, raw)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      addTimeline: p("INSERT INTO timeline (incident_id, at, kind, actor, detail) VALUES (?, ?, ?, ?, ?)"),
      insertSignal: p("INSERT INTO signals (at, kind, body) VALUES (?, ?, ?)"),
      lastDecisionHash: p("SELECT hash FROM decisions ORDER BY id DESC LIMIT 1").pluck(),
      insertDecision: p(
        `INSERT INTO decisions (incident_id, at, reason, policy_version, route, body, prev_hash, hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      pruneSignals: p(
        "DELETE FROM signals WHERE id IN (SELECT id FROM signals WHERE at < ? ORDER BY at LIMIT ?)",
      ),
      deleteIncidentScores: p("DELETE FROM scores WHERE incident_id = ?"),
      deleteIncidentFeedback: p("DELETE FROM feedback WHERE incident_id = ?"),
      armSet: p(
        `INSERT INTO timers (kind, ref, due_at, attempts, payload) VALUES (?, ?, ?, 0, ?)
         ON CONFLICT (kind, ref) DO UPDATE SET due_at = excluded.due_at, lease_owner = NULL, lease_until = NULL,
           payload = excluded.payload`,
      ),
      armEarliest: p(
        `INSERT INTO timers (kind, ref, due_at, attempts, payload) VALUES (?, ?, ?, 0, ?)
         ON CONFLICT (kind, ref) DO UPDATE SET due_at = excluded.due_at, lease_owner = NULL, lease_until = NULL,
           payload = excluded.payload
         WHERE excluded.due_at < timers.due_at`,
      ),
      enqueue: p(
        `INSERT INTO outbox (incident_id, channel, recipient, adhoc_url, message, idempotency_key, status, attempts,
                             next_attempt_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING`,
      ),
      finishSent: p(
        `UPDATE outbox SET status = 'sent', sent_at = ?, lease_until = NULL, last_error = NULL
         WHERE id = ? AND status = 'sending' AND lease_until = ?`,
      ),
      cancelPending: p(
        `UPDATE outbox SET status = 'cancelled', last_error = ?
         WHERE incident_id = ? AND status = 'pending' AND json_extract(message, '$.kind') IN ('page', 'approval')`,
      ),
      notifiedChannels: p(
        `SELECT DISTINCT channel FROM outbox
         WHERE incident_id = ? AND recipient IS NULL AND adhoc_url IS NULL AND status <> 'cancelled'`,
      ).pluck(),
      retryDelivery: p(
        "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, lease_until = NULL WHERE id = ? AND status = 'failed'",
      ),
      finishOther: p(
        `UPDATE outbox SET status = ?, next_attempt_at = ?, last_error = ?, lease_until = NULL
         WHERE id = ? AND status = 'sending' AND lease_until = ?`,
      ),
      useLink: p(
        "INSERT INTO link_uses (token, used_at, incident_id) VALUES (?, ?, ?) ON CONFLICT (token) DO NOTHING",
      ),
      cancelTimer: p("DELETE FROM timers WHERE kind = ? AND ref = ?"),
      finishTimer: p("DELETE FROM timers WHERE id = ? AND lease_owner = ?"),
      rearmClaimed: p(
        "UPDATE timers SET due_at = ?, lease_owner = NULL, lease_until = NULL, attempts = 0 WHERE id = ? AND lease_owner = ?",
      ),
      pruneEvents: p(
        "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE received_at < ? ORDER BY received_at LIMIT ?)",
      ),
      oldResolved: p(
        "SELECT id FROM incidents WHERE status = 'resolved' AND resolved_at < ? ORDER BY resolved_at LIMIT ?",
      ).pluck(),
      deleteIncidentAlerts: p("DELETE FROM alerts WHERE incident_id = ?"),
      deleteIncidentTimeline: p("DELETE FROM timeline WHERE incident_id = ?"),
      deleteIncidentEvents: p("DELETE FROM events WHERE incident_id = ?"),
      deleteIncidentTimers: p(
        "DELETE FROM timers WHERE kind IN ('incident_quiet', 'escalation_step', 'ack_timeout') AND ref = ?",
      ),
      deleteIncidentOutbox: p("DELETE FROM outbox WHERE incident_id = ?"),
      deleteIncidentLinks: p("DELETE FROM link_uses WHERE incident_id = ?"),
      deleteIncident: p("DELETE FROM incidents WHERE id = ?"),
    };
  }

  currentAlert(source: string, alertKey: string): Alert | undefined {
    const row = this.s.currentAlert.get(source, alertKey);
    return row === undefined ? undefined : alertFromRow(row as never);
  }

  alertHead(source: string, alertKey: string): AlertHead | undefined {
    const key = HeadCache.key(source, alertKey);
    const cached = this.heads.get(key);
    if (cached !== undefined) return cached;
    const r = this.s.alertHead.get(source, alertKey) as
      | {
          id: number;
          incident_id: number;
          status: string;
          severity: string;
          ends_at: number | null;
          event_count: number;
          service: string | null;
          annotations: string;
        }
      | undefined;
    if (r === undefined) return undefined;
    const head: AlertHead = {
      id: Number(r.id),
      incidentId: Number(r.incident_id),
      status: r.status as AlertHead["status"],
      severity: r.severity as AlertHead["severity"],
      endsAt: r.ends_at === null ? null : Number(r.ends_at),
      eventCount: r.event_count,
      service: r.service,
      annotationsJson: r.annotations,
    };
    this.heads.put(key, head);
    return head;
  }

  openIncident(source: string, groupKey: string): Incident | undefined {
    const row = this.s.openIncident.get(source, groupKey);
    return row === undefined ? undefined : incidentFromRow(row as never);
  }

  incident(id: number): Incident | undefined {
    const row = this.s.incident.get(id);
    return row === undefined ? undefined : incidentFromRow(row as never);
  }

  alert(id: number): Alert | undefined {
    const row = this.s.alert.get(id);
    return row === undefined ? undefined : alertFromRow(row as never);
  }

  firingAlerts(incidentId: number): Alert[] {
    return this.s.firingAlerts.all(incidentId).map((r) => alertFromRow(r as never));
  }

  alertsOf(incidentId: number): Alert[] {
    return this.s.alertsOf.all(incidentId).map((r) => alertFromRow(r as never));
  }

  latestFeedback(incidentId: number): Feedback | undefined {
    const r = this.s.latestFeedback.get(incidentId) as
      | {
          incident_id: number;
          at: number;
          author: string;
          verdict: string;
          route_fit: string | null;
          note: string | null;
        }
      | undefined;
    return r === undefined ? undefined : feedbackFromRow(r);
  }

  insertFeedback(f: Feedback): void {
    this.s.insertFeedback.run(f.incidentId, f.at, f.author, f.verdict, f.routeFit, f.note);
  }

  outcome(source: string, alertname: string): RuleOutcome | undefined {
    const r = this.s.outcome.get(source, alertname);
    return r === undefined ? undefined : outcomeFromRow(r as never);
  }

  saveOutcome(o: RuleOutcome): void {
    this.s.saveOutcome.run(o);
  }

  lastSeen(incidentId: number): number | null {
    const v = this.s.lastSeen.get(incidentId) as number | bigint | null;
    return v === null ? null : Number(v);
  }

  insertIncident(incident: NewIncident): number {
    return Number(this.s.insertIncident.run(incidentToRow(incident)).lastInsertRowid);
  }

  saveIncident(incident: Incident): void {
    this.s.saveIncident.run({ ...incidentToRow(incident), id: incident.id });
    // Resolved is final: its alerts are no longer anyone's head.
    if (incident.status === "resolved") this.heads.forgetIncident(incident.id);
  }

  insertAlert(alert: NewAlert): number {
    this.heads.forgetKey(HeadCache.key(alert.source, alert.alertKey));
    return Number(this.s.insertAlert.run(alertToRow(alert)).lastInsertRowid);
  }

  saveAlert(alert: Alert): void {
    this.heads.forgetKey(HeadCache.key(alert.source, alert.alertKey));
    this.s.saveAlert.run({ ...alertToRow(alert), id: alert.id });
  }

  touchAlert(
    a: Pick<Alert, "id" | "lastSeen" | "eventCount" | "endsAt"> & Partial<Pick<Alert, "annotations" | "raw">>,
  ): void {
    if (a.annotations === undefined || a.raw === undefined) {
      this.s.touchLean.run(a.lastSeen, a.eventCount, a.endsAt, a.id);
      this.heads.touched(a.id, a);
      return;
    }
    const annotations = JSON.stringify(a.annotations);
    this.s.touchAlert.run(a.lastSeen, a.eventCount, a.endsAt, annotations, JSON.stringify(a.raw), a.id);
    this.heads.touched(a.id, a, annotations);
  }

  insertEvent(e: EventRecord): void {
    this.s.insertEvent.run(
      e.receivedAt,
      e.at,
      e.source,
      e.action,
      e.alertKey,
      e.incidentId,
      e.service,
      e.summary,
      JSON.stringify(e.raw),
    );
  }

  addTimeline(t: TimelineEntry): void {
    this.s.addTimeline.run(t.incidentId, t.at, t.kind, t.actor, JSON.stringify(t.detail));
  }

  insertSignal(signal: Signal): void {
    this.s.insertSignal.run(signal.at, signal.kind, JSON.stringify(signal));
  }

  lastDecisionHash(): string {
    return (this.s.lastDecisionHash.get() as string | undefined) ?? "";
  }

  insertDecision(d: DecisionRecord, bodyJson: string): number {
    const r = this.s.insertDecision.run(
      d.incidentId,
      d.at,
      d.reason,
      d.policyVersion,
      d.route,
      bodyJson,
      d.prevHash,
      d.hash,
    );
    return Number(r.lastInsertRowid);
  }

  pruneSignals(before: number, limit: number): number {
    return this.s.pruneSignals.run(before, limit).changes;
  }

  armTimer(
    kind: TimerKind,
    ref: number,
    dueAt: number,
    mode: "set" | "earliest",
    payload: Record<string, unknown> | null = null,
  ): void {
    (mode === "set" ? this.s.armSet : this.s.armEarliest).run(
      kind,
      ref,
      dueAt,
      payload === null ? null : JSON.stringify(payload),
    );
  }

  /** How many notifications were queued through this Tx (the store compares it across a commit). */
  enqueued = 0;

  enqueue(e: OutboxEntry): void {
    this.enqueued++;
    this.s.enqueue.run(
      e.incidentId,
      e.channel,
      e.recipient,
      e.adhocUrl,
      JSON.stringify(e.message),
      e.idempotencyKey,
      e.nextAttemptAt,
      e.createdAt,
    );
  }

  finishDelivery(
    id: number,
    leaseUntil: number,
    outcome:
      | { status: "sent"; at: number }
      | { status: "pending" | "failed"; nextAttemptAt: number; error: string },
  ): boolean {
    const r =
      outcome.status === "sent"
        ? this.s.finishSent.run(outcome.at, id, leaseUntil)
        : this.s.finishOther.run(outcome.status, outcome.nextAttemptAt, outcome.error, id, leaseUntil);
    return r.changes === 1;
  }

  cancelPending(incidentId: number, reason: string): number {
    return this.s.cancelPending.run(reason, incidentId).changes;
  }

  notifiedChannels(incidentId: number): string[] {
    return this.s.notifiedChannels.all(incidentId) as string[];
  }

  retryDelivery(id: number, now: number): boolean {
    return this.s.retryDelivery.run(now, id).changes === 1;
  }

  useLink(token: string, incidentId: number, at: number): boolean {
    return this.s.useLink.run(token, at, incidentId).changes === 1;
  }

  insertRun(run: Omit<Run, "id">): number {
    return this.auto.insertRun(run);
  }

  run(id: number): StoredRun | undefined {
    return this.auto.run(id);
  }

  saveRun(run: Run): void {
    this.auto.saveRun(run);
  }

  runsOf(incidentId: number): StoredRun[] {
    return this.auto.runsOf(incidentId);
  }

  heartbeat(name: string): HeartbeatState | undefined {
    return this.auto.heartbeat(name);
  }

  saveHeartbeat(h: Omit<HeartbeatState, "id">): number {
    return this.auto.saveHeartbeat(h);
  }

  cancelTimer(kind: TimerKind, ref: number): void {
    this.s.cancelTimer.run(kind, ref);
  }

  finishTimer(timer: Timer, owner: string): void {
    this.s.finishTimer.run(timer.id, owner);
  }

  rearmClaimed(timer: Timer, owner: string, dueAt: number): void {
    this.s.rearmClaimed.run(dueAt, timer.id, owner);
  }

  pruneEvents(before: number, limit: number): number {
    return this.s.pruneEvents.run(before, limit).changes;
  }

  pruneIncidents(resolvedBefore: number, limit: number): number {
    const ids = this.s.oldResolved.all(resolvedBefore, limit) as number[];
    for (const id of ids) {
      this.heads.forgetIncident(id);
      this.s.deleteIncidentAlerts.run(id);
      this.s.deleteIncidentTimeline.run(id);
      this.s.deleteIncidentScores.run(id);
      this.s.deleteIncidentFeedback.run(id);
      this.s.deleteIncidentEvents.run(id);
      this.s.deleteIncidentTimers.run(id);
      this.s.deleteIncidentOutbox.run(id);
      this.s.deleteIncidentLinks.run(id);
      this.s.deleteIncident.run(id);
    }
    return ids.length;
  }
}
