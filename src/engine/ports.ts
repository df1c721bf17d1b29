import type { Alert } from "../core/alert.js";
import type { Run, RunStatus } from "../core/automation/run.js";
import type { Incident, IncidentStatus } from "../core/incident.js";
import type { RouteKind } from "../core/policy/types.js";
import type { Signal } from "../core/scoring/context.js";
import type { RuleOutcome } from "../core/scoring/learning.js";
import type { Labels } from "../core/types.js";
import type { Message } from "../notify/types.js";

/**
 * The ports the engine talks to. Adapters under src/store implement them (SQLite today;
 * PostgreSQL and the in-memory store for replay later). Transactions are synchronous: a whole
 * batch is applied and committed before the sender gets its answer.
 */

export type EventAction = "trigger" | "acknowledge" | "resolve" | "change";

/** A raw event worth keeping: anything that changed state, and every change event. */
export interface EventRecord {
  receivedAt: number;
  at: number;
  source: string;
  action: EventAction;
  alertKey: string | null;
  incidentId: number | null;
  service: string | null;
  summary: string;
  raw: unknown;
}

export type TimelineKind =
  | "opened"
  | "alert_added"
  | "alert_refired"
  | "alert_severity_raised"
  | "alert_resolved"
  | "alert_expired"
  | "acknowledged"
  | "resolved"
  | "feedback"
  | "escalation_exhausted"
  | "delivery_skipped"
  | "delivery_failed"
  | "delivery_retried"
  | "escalated"
  | "reassigned"
  | "rerouted"
  | "reopened"
  | "runbook"
  | "validated"
  | "heartbeat_missed"
  | "heartbeat_restored";

export interface TimelineEntry {
  incidentId: number;
  at: number;
  kind: TimelineKind;
  actor: string | null;
  detail: Record<string, unknown>;
}

/** The one durable timer mechanism: rows with a due time, claimed under a lease. */
export type TimerKind =
  | "alert_expiry"
  | "incident_quiet"
  | "retention"
  | "escalation_step"
  | "ack_timeout"
  /** ref: incident; a validation hold's window ends. */
  | "validation_end"
  /** ref: runbook run; nobody answered its approval request in time. */
  | "runbook_approval"
  /** ref: heartbeat; no check-in for `every` + `grace`. */
  | "heartbeat"
  /** ref: incident; a muted incident is looked at again when its mute may have ended. */
  | "mute_check";

export interface Timer {
  id: number;
  kind: TimerKind;
  ref: number;
  dueAt: number;
  attempts: number;
  leaseOwner: string | null;
  leaseUntil: number | null;
  /** Data the handler checks, e.g. the escalation fence the timer was armed for. */
  payload: Record<string, unknown> | null;
}

/** cancelled: still waiting when its incident was acknowledged or resolved (no longer worth sending). */
export type DeliveryStatus = "pending" | "sending" | "sent" | "failed" | "cancelled";

/** One outgoing notification, written in the transaction of the decision that wants it. */
export interface OutboxEntry {
  incidentId: number;
  /** A configured channel's name, or "user-webhook" with adhocUrl set. */
  channel: string;
  recipient: string | null;
  adhocUrl: string | null;
  message: Message;
  idempotencyKey: string;
  createdAt: number;
  nextAttemptAt: number;
}

export interface Delivery extends OutboxEntry {
  id: number;
  status: DeliveryStatus;
  attempts: number;
  leaseUntil: number | null;
  lastError: string | null;
  sentAt: number | null;
}

/** Why an incident was scored and decided (EVENTS.md). */
export type DecisionReason =
  | "opened"
  | "new_alert"
  | "corroborated"
  | "change"
  | "override"
  | "validation_end"
  | "unmuted";

/** A runbook run as stored: the runner holds a lease while it carries out a step. */
export interface StoredRun extends Run {
  leaseUntil: number | null;
}

export interface HeartbeatState {
  id: number;
  name: string;
  lastSeen: number | null;
  /** When the current miss was declared; null while checking in. */
  missedAt: number | null;
}

export type Verdict = "genuine" | "false_alarm";
export type RouteFit = "too_high" | "right" | "too_low";

export interface Feedback {
  incidentId: number;
  at: number;
  author: string;
  verdict: Verdict;
  routeFit: RouteFit | null;
  note: string | null;
}

/** What a re-send needs of its alert: the hot path reads no JSON columns but annotations' text. */
export type AlertHead = Pick<
  Alert,
  "id" | "incidentId" | "status" | "severity" | "endsAt" | "eventCount" | "service"
> & {
  /** The stored annotations as JSON text, to skip rewriting them when unchanged (null: unknown). */
  annotationsJson: string | null;
};

/** A decision record: append-only, each row chained to the previous one by hash. */
export interface DecisionRecord {
  incidentId: number;
  at: number;
  reason: string;
  policyVersion: string;
  route: RouteKind;
  body: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export interface StoredDecision extends DecisionRecord {
  id: number;
}

export interface Silence {
  id: number;
  matchers: string[];
  startsAt: number;
  endsAt: number;
  author: string;
  comment: string;
  createdAt: number;
  expiredAt: number | null;
}

export interface FiringAlert {
  labels: Labels;
  source: string;
  service: string | null;
  incidentService: string | null;
  team: string | null;
}

export type NewIncident = Omit<Incident, "id">;
export type NewAlert = Omit<Alert, "id">;

export interface Tx {
  /** The alert of this key in an open incident of this source, if any. */
  currentAlert(source: string, alertKey: string): Alert | undefined;
  /** The same alert, lean: for re-sends, most of the traffic. */
  alertHead(source: string, alertKey: string): AlertHead | undefined;
  openIncident(source: string, groupKey: string): Incident | undefined;
  incident(id: number): Incident | undefined;
  alert(id: number): Alert | undefined;
  firingAlerts(incidentId: number): Alert[];
  /** Every alert of the incident, resolved ones included. */
  alertsOf(incidentId: number): Alert[];
  latestFeedback(incidentId: number): Feedback | undefined;
  /** Latest last_seen over the incident's alerts (re-sends refresh alerts, not the incident). */
  lastSeen(incidentId: number): number | null;

  insertIncident(incident: NewIncident): number;
  saveIncident(incident: Incident): void;
  insertAlert(alert: NewAlert): number;
  saveAlert(alert: Alert): void;
  /** The hot path: a re-send refreshes its alert and writes nothing else. */
  touchAlert(
    alert: Pick<Alert, "id" | "lastSeen" | "eventCount" | "endsAt"> &
      Partial<Pick<Alert, "annotations" | "raw">>,
  ): void;
  insertEvent(event: EventRecord): void;
  addTimeline(entry: TimelineEntry): void;
  /** Context signals, kept so the in-memory context can be rebuilt after a restart. */
  insertSignal(signal: Signal): void;
  /** The hash the next decision record chains to ("" for the first). */
  lastDecisionHash(): string;
  /** `bodyJson` is JSON.stringify(record.body), made once by the caller for the hash too. */
  insertDecision(record: DecisionRecord, bodyJson: string): number;
  insertFeedback(feedback: Feedback): void;
  /** A rule's fast-learning state, and its new value (computed with applyOutcome). */
  outcome(source: string, alertname: string): RuleOutcome | undefined;
  saveOutcome(outcome: RuleOutcome): void;

  /** Sets the timer's due time ("set"), or moves it earlier only ("earliest"); clears any lease. */
  armTimer(
    kind: TimerKind,
    ref: number,
    dueAt: number,
    mode: "set" | "earliest",
    payload?: Record<string, unknown> | null,
  ): void;
  /** Queues a notification; a second one with the same idempotency key is ignored. */
  enqueue(entry: OutboxEntry): void;
  /** Records a delivery attempt's outcome (only for a row this worker still leases). */
  finishDelivery(
    id: number,
    leaseUntil: number,
    outcome:
      | { status: "sent"; at: number }
      | { status: "pending" | "failed"; nextAttemptAt: number; error: string },
  ): boolean;
  /**
   * Cancels an incident's pages and approval requests still waiting (not those being sent, and
   * not status updates); returns how many.
   */
  cancelPending(incidentId: number, reason: string): number;
  /** Channels (not people) an incident's messages went to, for status updates. */
  notifiedChannels(incidentId: number): string[];
  /** A dead letter goes back to pending with its attempts reset; false unless it was failed. */
  retryDelivery(id: number, now: number): boolean;
  /** Marks a signed link used; false when it was used before. */
  useLink(token: string, incidentId: number, at: number): boolean;
  cancelTimer(kind: TimerKind, ref: number): void;
  /** Completes a claimed timer: deletes it, unless someone re-armed it since the claim. */
  finishTimer(timer: Timer, owner: string): void;
  /** Re-arms a claimed timer at a later time, unless someone re-armed it since the claim. */
  rearmClaimed(timer: Timer, owner: string, dueAt: number): void;

  insertRun(run: Omit<Run, "id">): number;
  run(id: number): StoredRun | undefined;
  /** Saves the run and drops any lease on it. */
  saveRun(run: Run): void;
  runsOf(incidentId: number): StoredRun[];
  heartbeat(name: string): HeartbeatState | undefined;
  /** Inserts or updates by name; returns the heartbeat's id. */
  saveHeartbeat(h: Omit<HeartbeatState, "id">): number;

  pruneEvents(before: number, limit: number): number;
  pruneSignals(before: number, limit: number): number;
  pruneIncidents(resolvedBefore: number, limit: number): number;
}

export interface IncidentFilter {
  status?: IncidentStatus[];
  service?: string;
  source?: string;
  /** Keyset paging: incidents with id below this. */
  before?: number;
  limit: number;
}

export interface TimelineRow extends TimelineEntry {
  id: number;
}

export interface Store {
  transaction<T>(fn: (tx: Tx) => T): T;
  claimDueTimers(now: number, owner: string, leaseMs: number, limit: number): Timer[];
  nextTimerDue(): number | null;
  listIncidents(filter: IncidentFilter): Promise<Incident[]>;
  incidentAlerts(incidentId: number): Promise<Alert[]>;
  incidentTimeline(incidentId: number): Promise<TimelineRow[]>;
  getIncident(id: number): Promise<Incident | undefined>;
  /** Signals since `since` in time order, plus a resend for every alert seen since `recentSince`. */
  loadSignals(since: number, recentSince: number): Signal[];
  incidentFeedback(incidentId: number): Promise<Feedback[]>;
  incidentDecisions(incidentId: number): Promise<StoredDecision[]>;
  decision(id: number): Promise<StoredDecision | undefined>;
  /** Decision records in id order, from `afterId` on, for walking the chain. */
  decisionsFrom(afterId: number, limit: number): StoredDecision[];
  /** Every firing alert of an open incident, for rebuilding inhibitions. */
  allFiringAlerts(): FiringAlert[];
  /** (team, time) of pages since `since`: the peak-load context after a restart. */
  pagesSince(since: number): { team: string | null; at: number }[];
  insertSilence(s: Omit<Silence, "id">): number;
  silences(includeExpired: boolean): Silence[];
  expireSilence(id: number, at: number): Silence | undefined;
  /** Leases due notifications (pending ones, and ones whose sender died mid-send). */
  claimDeliveries(now: number, leaseMs: number, limit: number): Delivery[];
  deliveries(filter: { status?: DeliveryStatus; incidentId?: number; limit: number }): Delivery[];
  delivery(id: number): Delivery | undefined;
  outboxStats(): { pending: number; oldestPendingAt: number | null; failed: number; sending: number };
  /** Leases runs with a step to carry out (and runs whose runner died mid-step). */
  claimRuns(now: number, leaseMs: number, limit: number): StoredRun[];
  runs(filter: { incidentId?: number; status?: RunStatus; limit: number }): StoredRun[];
  runById(id: number): StoredRun | undefined;
  heartbeats(): HeartbeatState[];
  meta(key: string): string | null;
  linkUsed(token: string): boolean;
  setMeta(key: string, value: string): void;
  /** Records a policy version as active (its text is kept once per version). */
  recordPolicy(version: string, text: string, at: number): void;
  policyText(version: string): string | null;
  outcomes(): RuleOutcome[];
  /** The active model's JSON (model-file format), or null for the built-in default. */
  activeModel(): string | null;
  activateModel(version: string, body: string, now: number): void;
  /** For /readyz: the database answers and every migration has been applied. */
  ready(): Promise<{ ok: true } | { ok: false; reason: string }>;
  /** Timer count, and the due time of the oldest timer that no live lease holds. */
  stats(now: number): { timers: number; oldestDueTimer: number | null };
  close(): Promise<void>;
}
