import type { Alert } from "../../core/alert.js";
import { isActive, type Run, type RunStatus } from "../../core/automation/run.js";
import type { Incident } from "../../core/incident.js";
import type { Signal } from "../../core/scoring/context.js";
import type { RuleOutcome } from "../../core/scoring/learning.js";
import type {
  AlertHead,
  DecisionRecord,
  Delivery,
  DeliveryStatus,
  EventRecord,
  Feedback,
  FiringAlert,
  HeartbeatState,
  IncidentFilter,
  NewAlert,
  NewIncident,
  OutboxEntry,
  Silence,
  Store,
  StoredDecision,
  StoredRun,
  TimelineEntry,
  TimelineRow,
  Timer,
  TimerKind,
  Tx,
} from "../../engine/ports.js";
import { TimerHeap } from "./heap.js";

/**
 * The store for history runs (train, score, replay, simulate): the same ports as SQLite, in
 * memory, keeping only what is open. A resolved incident and its alerts are handed to `onClose`
 * and dropped at the end of the transaction, so memory follows the open set, not the history.
 */
export interface MemoryStoreOptions {
  onClose?: (incident: Incident) => void;
  /** Every decision record as it is written (replay compares and reports them). */
  onDecision?: (record: DecisionRecord) => void;
  /** Every notification as it is queued (replay watches pages). */
  onEnqueue?: (entry: OutboxEntry) => void;
  /** false: notifications go to onEnqueue only and are not kept (history runs). */
  keepOutbox?: boolean;
}

/** Messages that ask someone to act: moot once the incident is handled (updates still go). */
const MOOT_KINDS = new Set(["page", "approval"]);

const timerKey = (kind: TimerKind, ref: number) => `${kind}\u0000${ref}`;
const alertKeyOf = (source: string, key: string) => `${source}\u0000${key}`;

export class MemoryStore implements Store, Tx {
  private readonly incidents = new Map<number, Incident>();
  private readonly openByGroup = new Map<string, number>();
  private readonly alerts = new Map<number, Alert>();
  private readonly alertByKey = new Map<string, number>();
  private readonly alertIds = new Map<number, number[]>();
  private readonly timers = new Map<string, Timer>();
  private readonly heap = new TimerHeap();
  private readonly closing: number[] = [];
  private nextIncident = 1;
  private nextAlert = 1;
  private nextTimer = 1;
  private readonly runTable = new Map<number, StoredRun>();
  private nextRun = 1;
  private readonly beats = new Map<string, HeartbeatState>();

  /** Undo steps of the open transaction: a throw restores everything, as SQL's rollback does. */
  private undo: (() => void)[] | null = null;

  constructor(private readonly opts: MemoryStoreOptions = {}) {}

  transaction<T>(fn: (tx: Tx) => T): T {
    this.undo = [];
    const closing = this.closing.length;
    const ids = [this.nextIncident, this.nextAlert, this.nextTimer] as const;
    try {
      const result = fn(this);
      this.undo = null;
      return result;
    } catch (err) {
      const steps = this.undo ?? [];
      for (let i = steps.length - 1; i >= 0; i--) (steps[i] as () => void)();
      this.closing.length = closing;
      [this.nextIncident, this.nextAlert, this.nextTimer] = ids;
      this.undo = null;
      throw err;
    } finally {
      this.evictClosed();
    }
  }

  private put<K, V>(m: Map<K, V>, k: K, v: V): void {
    if (this.undo !== null) {
      const had = m.has(k);
      const prev = m.get(k);
      this.undo.push(() => (had ? m.set(k, prev as V) : m.delete(k)));
    }
    m.set(k, v);
  }

  private drop<K, V>(m: Map<K, V>, k: K): void {
    if (!m.has(k)) return;
    if (this.undo !== null) {
      const prev = m.get(k) as V;
      this.undo.push(() => m.set(k, prev));
    }
    m.delete(k);
  }

  // --- reads -------------------------------------------------------------------------------

  currentAlert(source: string, alertKey: string): Alert | undefined {
    const id = this.alertByKey.get(alertKeyOf(source, alertKey));
    const alert = id === undefined ? undefined : this.alerts.get(id);
    // As in SQL: only an alert whose incident is still open (a closing one is not).
    if (alert === undefined || this.incidents.get(alert.incidentId)?.status === "resolved") return undefined;
    return alert;
  }

  alertHead(source: string, alertKey: string): AlertHead | undefined {
    const a = this.currentAlert(source, alertKey);
    return a === undefined ? undefined : { ...a, annotationsJson: null };
  }

  openIncident(source: string, groupKey: string): Incident | undefined {
    const id = this.openByGroup.get(alertKeyOf(source, groupKey));
    return id === undefined ? undefined : this.incidents.get(id);
  }

  incident(id: number): Incident | undefined {
    return this.incidents.get(id);
  }

  alert(id: number): Alert | undefined {
    return this.alerts.get(id);
  }

  firingAlerts(incidentId: number): Alert[] {
    const out: Alert[] = [];
    for (const id of this.alertIds.get(incidentId) ?? []) {
      const a = this.alerts.get(id);
      if (a !== undefined && a.status === "firing") out.push(a);
    }
    return out;
  }

  lastSeen(incidentId: number): number | null {
    let last: number | null = null;
    for (const id of this.alertIds.get(incidentId) ?? []) {
      const a = this.alerts.get(id);
      if (a !== undefined && (last === null || a.lastSeen > last)) last = a.lastSeen;
    }
    return last;
  }

  /** Every alert of an incident that is still held (open incidents, or one closing now). */
  alertsOfIncident(incidentId: number): Alert[] {
    const out: Alert[] = [];
    for (const id of this.alertIds.get(incidentId) ?? []) {
      const a = this.alerts.get(id);
      if (a !== undefined) out.push(a);
    }
    return out;
  }

  // --- writes ------------------------------------------------------------------------------

  insertIncident(incident: NewIncident): number {
    const id = this.nextIncident++;
    this.put(this.incidents, id, { ...incident, id });
    if (incident.status !== "resolved")
      this.put(this.openByGroup, alertKeyOf(incident.source, incident.groupKey), id);
    this.put(this.alertIds, id, []);
    return id;
  }

  saveIncident(incident: Incident): void {
    this.put(this.incidents, incident.id, incident);
    if (incident.status === "resolved") {
      const k = alertKeyOf(incident.source, incident.groupKey);
      if (this.openByGroup.get(k) === incident.id) this.drop(this.openByGroup, k);
      this.closing.push(incident.id);
    }
  }

  insertAlert(alert: NewAlert): number {
    const id = this.nextAlert++;
    this.put(this.alerts, id, { ...alert, id });
    this.put(this.alertByKey, alertKeyOf(alert.source, alert.alertKey), id);
    const list = this.alertIds.get(alert.incidentId);
    if (list !== undefined) this.put(this.alertIds, alert.incidentId, [...list, id]);
    return id;
  }

  saveAlert(alert: Alert): void {
    this.put(this.alerts, alert.id, alert);
  }

  touchAlert(
    a: Pick<Alert, "id" | "lastSeen" | "eventCount" | "endsAt"> & Partial<Pick<Alert, "annotations" | "raw">>,
  ): void {
    const cur = this.alerts.get(a.id);
    if (cur !== undefined) this.put(this.alerts, a.id, { ...cur, ...a });
  }

  alertsOf(incidentId: number): Alert[] {
    return this.alertsOfIncident(incidentId);
  }
  latestFeedback(): Feedback | undefined {
    return undefined;
  }
  insertFeedback(_f: Feedback): void {}
  outcome(): RuleOutcome | undefined {
    return undefined;
  }
  saveOutcome(): void {}
  async incidentFeedback(): Promise<Feedback[]> {
    return [];
  }
  outcomes(): RuleOutcome[] {
    return [];
  }
  activeModel(): string | null {
    return null;
  }
  activateModel(): void {}

  private lastHash = "";
  private nextDecision = 1;
  lastDecisionHash(): string {
    return this.lastHash;
  }
  insertDecision(d: DecisionRecord): number {
    const prev = this.lastHash;
    if (this.undo !== null)
      this.undo.push(() => {
        this.lastHash = prev;
      });
    this.lastHash = d.hash;
    this.opts.onDecision?.(d);
    return this.nextDecision++;
  }
  async incidentDecisions(): Promise<StoredDecision[]> {
    return [];
  }
  async decision(): Promise<StoredDecision | undefined> {
    return undefined;
  }
  decisionsFrom(): StoredDecision[] {
    return [];
  }
  allFiringAlerts(): FiringAlert[] {
    const out: FiringAlert[] = [];
    for (const a of this.alerts.values()) {
      const i = this.incidents.get(a.incidentId);
      if (a.status !== "firing" || i === undefined || i.status === "resolved") continue;
      out.push({
        labels: a.labels,
        source: a.source,
        service: a.service,
        incidentService: i.service,
        team: i.team,
      });
    }
    return out;
  }
  pagesSince(): { team: string | null; at: number }[] {
    return [];
  }
  insertSilence(): number {
    throw new Error("silences are not kept in history runs");
  }
  silences(): Silence[] {
    return [];
  }
  expireSilence(): Silence | undefined {
    return undefined;
  }
  recordPolicy(): void {}
  policyText(): string | null {
    return null;
  }

  private readonly outbox = new Map<number, Delivery>();
  private readonly outboxKeys = new Set<string>();
  private nextDelivery = 1;
  private readonly links = new Set<string>();
  private readonly metaValues = new Map<string, string>();

  enqueue(e: OutboxEntry): void {
    // Replay only watches what would be sent: keeping it would grow with the history.
    if (this.opts.keepOutbox === false) {
      this.opts.onEnqueue?.(e);
      return;
    }
    if (this.outboxKeys.has(e.idempotencyKey)) return;
    const id = this.nextDelivery++;
    this.outboxKeys.add(e.idempotencyKey);
    this.outbox.set(id, {
      ...e,
      id,
      status: "pending",
      attempts: 0,
      leaseUntil: null,
      lastError: null,
      sentAt: null,
    });
    if (this.undo !== null) {
      this.undo.push(() => {
        this.outbox.delete(id);
        this.outboxKeys.delete(e.idempotencyKey);
      });
    }
    this.opts.onEnqueue?.(e);
  }
  finishDelivery(
    id: number,
    leaseUntil: number,
    outcome:
      | { status: "sent"; at: number }
      | { status: "pending" | "failed"; nextAttemptAt: number; error: string },
  ): boolean {
    const d = this.outbox.get(id);
    if (d === undefined || d.status !== "sending" || d.leaseUntil !== leaseUntil) return false;
    this.outbox.set(
      id,
      outcome.status === "sent"
        ? { ...d, status: "sent", sentAt: outcome.at, leaseUntil: null, lastError: null }
        : {
            ...d,
            status: outcome.status,
            nextAttemptAt: outcome.nextAttemptAt,
            lastError: outcome.error,
            leaseUntil: null,
          },
    );
    return true;
  }
  useLink(token: string): boolean {
    if (this.links.has(token)) return false;
    this.links.add(token);
    this.undo?.push(() => this.links.delete(token));
    return true;
  }
  cancelPending(incidentId: number, reason: string): number {
    let n = 0;
    for (const d of [...this.outbox.values()]) {
      if (d.incidentId !== incidentId || d.status !== "pending" || !MOOT_KINDS.has(d.message.kind)) continue;
      this.outbox.set(d.id, { ...d, status: "cancelled", lastError: reason });
      this.undo?.push(() => this.outbox.set(d.id, d));
      n++;
    }
    return n;
  }
  notifiedChannels(incidentId: number): string[] {
    const out = new Set<string>();
    for (const d of this.outbox.values()) {
      if (d.incidentId !== incidentId || d.recipient !== null || d.adhocUrl !== null) continue;
      // A cancelled message never went out: its channel was not told.
      if (d.status !== "cancelled") out.add(d.channel);
    }
    return [...out];
  }
  retryDelivery(id: number, now: number): boolean {
    const d = this.outbox.get(id);
    if (d === undefined || d.status !== "failed") return false;
    this.outbox.set(id, { ...d, status: "pending", attempts: 0, nextAttemptAt: now, leaseUntil: null });
    this.undo?.push(() => this.outbox.set(id, d));
    return true;
  }
  delivery(id: number): Delivery | undefined {
    return this.outbox.get(id);
  }
  insertRun(run: Omit<Run, "id">): number {
    const id = this.nextRun++;
    this.runTable.set(id, { ...run, id, leaseUntil: null });
    this.undo?.push(() => this.runTable.delete(id));
    return id;
  }
  run(id: number): StoredRun | undefined {
    return this.runTable.get(id);
  }
  saveRun(run: Run): void {
    const before = this.runTable.get(run.id);
    this.runTable.set(run.id, { ...run, leaseUntil: null });
    this.undo?.push(() =>
      before === undefined ? this.runTable.delete(run.id) : this.runTable.set(run.id, before),
    );
  }
  runsOf(incidentId: number): StoredRun[] {
    return [...this.runTable.values()].filter((r) => r.incidentId === incidentId);
  }
  runById(id: number): StoredRun | undefined {
    return this.runTable.get(id);
  }
  runs(f: { incidentId?: number; status?: RunStatus; limit: number }): StoredRun[] {
    return [...this.runTable.values()]
      .filter(
        (r) =>
          (f.incidentId === undefined || r.incidentId === f.incidentId) &&
          (f.status === undefined || r.status === f.status),
      )
      .reverse()
      .slice(0, f.limit);
  }
  claimRuns(now: number, leaseMs: number, limit: number): StoredRun[] {
    const due = [...this.runTable.values()]
      .filter((r) => isActive(r.status) && (r.leaseUntil === null || r.leaseUntil <= now))
      .slice(0, limit);
    return due.map((r) => {
      const claimed = { ...r, leaseUntil: now + leaseMs };
      this.runTable.set(r.id, claimed);
      return claimed;
    });
  }
  heartbeat(name: string): HeartbeatState | undefined {
    return this.beats.get(name);
  }
  heartbeats(): HeartbeatState[] {
    return [...this.beats.values()];
  }
  saveHeartbeat(h: Omit<HeartbeatState, "id">): number {
    const before = this.beats.get(h.name);
    const id = before?.id ?? this.beats.size + 1;
    this.beats.set(h.name, { ...h, id });
    this.undo?.push(() =>
      before === undefined ? this.beats.delete(h.name) : this.beats.set(h.name, before),
    );
    return id;
  }
  linkUsed(token: string): boolean {
    return this.links.has(token);
  }
  claimDeliveries(now: number, leaseMs: number, limit: number): Delivery[] {
    const due = [...this.outbox.values()]
      .filter(
        (d) =>
          (d.status === "pending" && d.nextAttemptAt <= now) ||
          (d.status === "sending" && (d.leaseUntil ?? 0) <= now),
      )
      .sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.id - b.id)
      .slice(0, limit);
    return due.map((d) => {
      const claimed: Delivery = {
        ...d,
        status: "sending",
        leaseUntil: now + leaseMs,
        attempts: d.attempts + 1,
      };
      this.outbox.set(d.id, claimed);
      return claimed;
    });
  }
  deliveries(f: { status?: DeliveryStatus; incidentId?: number; limit: number }): Delivery[] {
    return [...this.outbox.values()]
      .filter(
        (d) =>
          (f.status === undefined || d.status === f.status) &&
          (f.incidentId === undefined || d.incidentId === f.incidentId),
      )
      .sort((a, b) => b.id - a.id)
      .slice(0, f.limit);
  }
  outboxStats(): { pending: number; oldestPendingAt: number | null; failed: number; sending: number } {
    let pending = 0;
    let failed = 0;
    let sending = 0;
    let oldest: number | null = null;
    for (const d of this.outbox.values()) {
      if (d.status === "pending") {
        pending++;
        if (oldest === null || d.createdAt < oldest) oldest = d.createdAt;
      } else if (d.status === "failed") failed++;
      else if (d.status === "sending") sending++;
    }
    return { pending, oldestPendingAt: oldest, failed, sending };
  }
  meta(key: string): string | null {
    return this.metaValues.get(key) ?? null;
  }
  setMeta(key: string, value: string): void {
    this.metaValues.set(key, value);
  }

  insertEvent(_event: EventRecord): void {}
  addTimeline(_entry: TimelineEntry): void {}
  insertSignal(_signal: Signal): void {}

  armTimer(
    kind: TimerKind,
    ref: number,
    dueAt: number,
    mode: "set" | "earliest",
    payload: Record<string, unknown> | null = null,
  ): void {
    const k = timerKey(kind, ref);
    const cur = this.timers.get(k);
    if (cur !== undefined && mode === "earliest" && cur.dueAt <= dueAt) return;
    const timer: Timer = {
      id: cur?.id ?? this.nextTimer++,
      kind,
      ref,
      dueAt,
      attempts: 0,
      leaseOwner: null,
      leaseUntil: null,
      payload,
    };
    this.put(this.timers, k, timer);
    this.heap.push(dueAt, k, timer.id);
  }

  cancelTimer(kind: TimerKind, ref: number): void {
    this.drop(this.timers, timerKey(kind, ref));
  }

  finishTimer(timer: Timer, owner: string): void {
    const k = timerKey(timer.kind, timer.ref);
    if (this.timers.get(k)?.leaseOwner === owner) this.drop(this.timers, k);
  }

  rearmClaimed(timer: Timer, owner: string, dueAt: number): void {
    const k = timerKey(timer.kind, timer.ref);
    const cur = this.timers.get(k);
    if (cur?.leaseOwner !== owner) return;
    this.put(this.timers, k, { ...cur, dueAt, leaseOwner: null, leaseUntil: null, attempts: 0 });
    this.heap.push(dueAt, k, cur.id);
  }

  pruneEvents(): number {
    return 0;
  }
  pruneSignals(): number {
    return 0;
  }
  pruneIncidents(): number {
    return 0;
  }

  // --- Store -------------------------------------------------------------------------------

  claimDueTimers(now: number, owner: string, leaseMs: number, limit: number): Timer[] {
    const out: Timer[] = [];
    while (out.length < limit) {
      const top = this.heap.peek();
      if (top === undefined || top.due > now) break;
      this.heap.pop();
      const t = this.timers.get(top.key);
      // Stale heap entries (re-armed or cancelled timers) are skipped.
      if (t === undefined || eligibleAt(t) !== top.due) continue;
      const claimed: Timer = { ...t, leaseOwner: owner, leaseUntil: now + leaseMs, attempts: t.attempts + 1 };
      this.timers.set(top.key, claimed);
      // If its holder never finishes it, it can be claimed again when the lease runs out.
      this.heap.push(now + leaseMs, top.key, t.id);
      out.push(claimed);
    }
    return out;
  }

  nextTimerDue(): number | null {
    for (;;) {
      const top = this.heap.peek();
      if (top === undefined) return null;
      const t = this.timers.get(top.key);
      if (t !== undefined && eligibleAt(t) === top.due) return top.due;
      this.heap.pop();
    }
  }

  stats(_now?: number): { timers: number; oldestDueTimer: number | null } {
    return { timers: this.timers.size, oldestDueTimer: this.nextTimerDue() };
  }

  openIncidents(): Incident[] {
    return [...this.incidents.values()].filter((i) => i.status !== "resolved");
  }

  async listIncidents(f: IncidentFilter): Promise<Incident[]> {
    return [...this.incidents.values()]
      .filter((i) => f.status === undefined || f.status.includes(i.status))
      .filter((i) => f.service === undefined || i.service === f.service)
      .filter((i) => f.source === undefined || i.source === f.source)
      .filter((i) => f.before === undefined || i.id < f.before)
      .sort((a, b) => b.id - a.id)
      .slice(0, f.limit);
  }
  async getIncident(id: number): Promise<Incident | undefined> {
    return this.incidents.get(id);
  }
  async incidentAlerts(incidentId: number): Promise<Alert[]> {
    return this.alertsOfIncident(incidentId);
  }
  async incidentTimeline(): Promise<TimelineRow[]> {
    return [];
  }

  loadSignals(): Signal[] {
    return [];
  }
  async ready(): Promise<{ ok: true }> {
    return { ok: true };
  }
  async close(): Promise<void> {}

  private evictClosed(): void {
    while (this.closing.length > 0) {
      const id = this.closing.pop() as number;
      const incident = this.incidents.get(id);
      if (incident === undefined || incident.status !== "resolved") continue;
      this.opts.onClose?.(incident);
      for (const alertId of this.alertIds.get(id) ?? []) {
        const a = this.alerts.get(alertId);
        if (a !== undefined && this.alertByKey.get(alertKeyOf(a.source, a.alertKey)) === alertId) {
          this.alertByKey.delete(alertKeyOf(a.source, a.alertKey));
        }
        this.alerts.delete(alertId);
      }
      this.alertIds.delete(id);
      this.incidents.delete(id);
    }
  }
}

/** When a timer may be claimed: at its due time, or when a claim on it has lapsed. */
function eligibleAt(t: Timer): number {
  return t.leaseOwner === null ? t.dueAt : (t.leaseUntil as number);
}
