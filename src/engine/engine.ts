import { randomBytes } from "node:crypto";
import { compilePolicy } from "../config/policy.js";
import type { Config } from "../config/types.js";
import type { Run } from "../core/automation/run.js";
import type { Clock } from "../core/clock.js";
import { PagewiseError, type Problem } from "../core/errors.js";
import { type Incident, transition } from "../core/incident.js";
import type { Policy } from "../core/policy/types.js";
import { CONTEXT_HORIZON, ContextState, type Signal } from "../core/scoring/context.js";
import { applyOutcome, emptyOutcome, Learning } from "../core/scoring/learning.js";
import { compileModel, DEFAULT_MODEL } from "../core/scoring/model.js";
import type { ScoringState } from "../core/scoring/scorer.js";
import type { InboundEvent } from "../core/types.js";
import { answerRun, finishStep } from "./automation.js";
import { configDirectory } from "./directory.js";
import { type DeliveryEnv, statusChanged } from "./escalation.js";
import { applyOverride, type Override } from "./handoff.js";
import { checkIn, watch } from "./heartbeats.js";
import { applyEvents, type BatchOutcome } from "./ingest.js";
import { type LinkClaims, LinkSigner } from "./links.js";
import type {
  Delivery,
  Feedback,
  IncidentFilter,
  RouteFit,
  Silence,
  Store,
  TimerKind,
  Tx,
  Verdict,
} from "./ports.js";
import { RoutingState } from "./routing.js";
import { routingLabels, type ScoringEnv } from "./scoring.js";
import { runTimer } from "./timers.js";
import type { ValidationResult } from "./validation.js";

export interface EngineObserver {
  timerRan?(kind: TimerKind, lagMs: number): void;
  timerFailed?(kind: TimerKind, err: unknown): void;
  validated?(result: ValidationResult, ms: number): void;
}

export interface EngineOptions {
  /** Name of this worker in timer leases. */
  owner: string;
  /** How long a claimed timer stays ours before another worker may take it. */
  leaseMs?: number;
  observer?: EngineObserver;
  /** The model and fast-learning state; the cold-start default when not given. */
  scoring?: Omit<ScoringState, "context">;
  /** Score every trigger (history runs, for alert-level metrics). */
  scoreTriggers?: boolean;
  /** Carry decisions out (escalations, outbox); false in history runs, which only measure. */
  deliver?: boolean;
  /** Every decision's input (tuning records them to re-decide later). */
  onDecide?: ScoringEnv["onDecide"];
  /** Hash-chain decision records (default true; history runs that only measure turn it off). */
  hashDecisions?: boolean;
}

/** Events one shared transaction takes at most (a larger single batch still goes, alone). */
const GROUP_EVENTS = 200;
/**
 * While messages are being sent: shorter transactions let the outbox claim and record between
 * them. At 10x32x10000 in bench/compare this took the first-notification p50 from 1.2 s to 0.13 s,
 * for a quarter fewer new alerts/s.
 */
const GROUP_EVENTS_WHILE_SENDING = 50;

interface Waiting {
  events: readonly InboundEvent[];
  resolve: (o: BatchOutcome) => void;
  reject: (err: unknown) => void;
}

/** What a signed link found: the action done now, or why it was not. */
export type LinkOutcome =
  | { kind: "done"; claims: LinkClaims; incident: Incident }
  | { kind: "already"; claims: LinkClaims; incident: Incident | undefined }
  | { kind: "refused"; reason: "tampered" | "expired" };

/** A link's action has nothing left to do: the incident is gone, resolved, or already acknowledged. */
function linkTaken(c: LinkClaims, incident: Incident | undefined): boolean {
  if (incident === undefined || incident.status === "resolved") return true;
  return c.action === "acknowledge" && incident.status === "acknowledged";
}

/** Corroboration looks back 10 minutes; re-sends older than that do not matter to the context. */
const RECENT_RESENDS = 10 * 60_000;

/** The pipeline: everything the HTTP server, the CLI and the workers ask of Pagewise. */
export class Engine {
  config: Config;
  readonly store: Store;
  readonly clock: Clock;
  private readonly owner: string;
  private readonly leaseMs: number;
  private readonly observer: EngineObserver;
  scoring: ScoringState;
  readonly routing: RoutingState;
  private readonly scoreTriggers: boolean;
  private readonly deliver: boolean;
  private readonly onDecide: ScoringEnv["onDecide"];
  /** Batches waiting for the next shared commit. */
  private waiting: Waiting[] = [];
  /** Whether the outbox is sending (set by the service); ingest then commits in smaller groups. */
  sending: () => boolean = () => false;
  private readonly hashDecisions: boolean;
  private links: LinkSigner;

  constructor(store: Store, clock: Clock, config: Config, opts: EngineOptions) {
    this.store = store;
    this.clock = clock;
    this.config = config;
    this.owner = opts.owner;
    this.leaseMs = opts.leaseMs ?? 30_000;
    this.observer = opts.observer ?? {};
    this.scoring = {
      model: opts.scoring?.model ?? compileModel(DEFAULT_MODEL),
      learning: opts.scoring?.learning ?? new Learning(),
      context: new ContextState(),
    };
    this.scoreTriggers = opts.scoreTriggers ?? false;
    this.deliver = opts.deliver ?? true;
    this.onDecide = opts.onDecide;
    this.hashDecisions = opts.hashDecisions ?? true;
    this.links = this.linkSigner(config);
    this.routing = new RoutingState(config.policy, (version) => this.storedPolicy(version));
  }

  /** An older policy version, for incidents that opened under it (pinned decisions). */
  private storedPolicy(version: string): Policy | null {
    const text = this.store.policyText(version);
    if (text === null) return null;
    const problems: Problem[] = [];
    const refs = {
      teams: new Set(this.config.teams.keys()),
      services: new Set(this.config.services.keys()),
      sources: new Set(this.config.sources.keys()),
    };
    const policy = compilePolicy(JSON.parse(text), problems, refs);
    // A policy that no longer fits the catalog (a team was removed) falls back to the current one.
    return problems.length === 0 ? policy : null;
  }

  /**
   * A new configuration, validated whole by the caller, swapped in at once. Incidents keep the
   * policy version they opened under; every version ever active is stored with its text.
   */
  reload(config: Config): void {
    this.config = config;
    this.links = this.linkSigner(config);
    this.store.recordPolicy(config.policy.version, config.policyText, this.clock.now());
    this.routing.setPolicy(config.policy, this.firingLabels());
    this.watchHeartbeats();
  }

  private watchHeartbeats(): void {
    const now = this.clock.now();
    this.store.transaction((tx) => {
      for (const hb of this.config.heartbeats.values()) watch(tx, hb, now);
    });
  }

  /** A heartbeat's ping (POST /api/v1/heartbeats/:name); says whether it ended a miss. */
  heartbeat(name: string, via: string): { restored: boolean } {
    const hb = this.config.heartbeats.get(name);
    if (hb === undefined) throw new PagewiseError("PW_NOT_FOUND", `heartbeat ${name} is not configured`);
    const now = this.clock.now();
    return this.store.transaction((tx) => ({ restored: checkIn(tx, this.env(now), hb, via) }));
  }

  /** A human's answer to a runbook's approval request. */
  answerRun(id: number, approve: boolean, by: string): Run {
    const env = this.deliveryEnv(this.clock.now());
    return this.store.transaction((tx) => answerRun(tx, env, id, approve, by));
  }

  /** The runner's report of one step; false when its lease was lost. */
  finishRunStep(id: number, leaseUntil: number, outcome: Parameters<typeof finishStep>[4]): boolean {
    const env = this.deliveryEnv(this.clock.now());
    return this.store.transaction((tx) => finishStep(tx, env, id, leaseUntil, outcome));
  }

  private firingLabels() {
    return this.store
      .allFiringAlerts()
      .map((a) => routingLabels(a, { team: a.team, service: a.incidentService }));
  }

  addSilence(s: Omit<Silence, "id" | "createdAt" | "expiredAt">): Silence {
    const now = this.clock.now();
    const id = this.store.insertSilence({ ...s, createdAt: now, expiredAt: null });
    this.routing.setSilences(this.store.silences(false));
    return { ...s, id, createdAt: now, expiredAt: null };
  }

  expireSilence(id: number): Silence {
    const s = this.store.expireSilence(id, this.clock.now());
    if (s === undefined) throw new PagewiseError("PW_NOT_FOUND", `silence ${id} does not exist`);
    this.routing.setSilences(this.store.silences(false));
    return s;
  }

  private env(now: number) {
    return {
      config: this.config,
      now,
      scoring: this.scoring,
      routing: this.routing,
      scoreTriggers: this.scoreTriggers,
      onValidated: (result: ValidationResult, ms: number) => this.observer.validated?.(result, ms),
      onDecide: this.onDecide,
      hashDecisions: this.hashDecisions,
      delivery: this.deliver ? this.deliveryEnv(now) : undefined,
    };
  }

  /** The configured secret, else one generated once and kept in the database. */
  private linkSigner(config: Config): LinkSigner {
    let secret = config.linkSecret;
    if (secret === null && this.deliver) {
      secret = this.store.meta("link_secret");
      if (secret === null) {
        secret = randomBytes(32).toString("base64url");
        this.store.setMeta("link_secret", secret);
      }
    }
    return new LinkSigner(secret ?? "history-run", config.linkTtlMs);
  }

  private deliveryEnv(now: number): DeliveryEnv {
    const base = this.config.publicUrl?.replace(/\/+$/, "") ?? null;
    return {
      now,
      directory: configDirectory(this.config),
      links: (incidentId, recipient) =>
        base === null
          ? { ack: null, resolve: null }
          : {
              ack: `${base}/l/${this.links.sign({ incidentId, action: "acknowledge", recipient }, now)}`,
              resolve: `${base}/l/${this.links.sign({ incidentId, action: "resolve", recipient }, now)}`,
            },
      decisionUrl: (id) => (base === null ? null : `${base}/api/v1/decisions/${id}`),
      apiUrl: (path) => `${base ?? ""}${path}`,
      paged: (team) => this.routing.page(team, now),
    };
  }

  /** Sends a dead letter again (after its channel was fixed), noted on the incident's timeline. */
  redeliver(id: number, by = "api"): Delivery {
    const now = this.clock.now();
    this.store.transaction((tx) => {
      const d = this.store.delivery(id);
      if (d === undefined) throw new PagewiseError("PW_NOT_FOUND", `delivery ${id} does not exist`);
      if (!tx.retryDelivery(id, now)) {
        throw new PagewiseError(
          "PW_ILLEGAL_TRANSITION",
          `delivery ${id} is ${d.status}; only a failed one is retried`,
        );
      }
      tx.addTimeline({
        incidentId: d.incidentId,
        at: now,
        kind: "delivery_retried",
        actor: by,
        detail: { delivery: id, channel: d.channel },
      });
    });
    return this.store.delivery(id) as Delivery;
  }

  feedKey(schedule: string): string {
    return this.links.feedKey(schedule);
  }

  /**
   * What a signed link would do, without doing it (the confirmation page). A link whose action
   * someone already took another way (the API, another link) says so now, not after the click.
   */
  async inspectLink(
    token: string,
  ): Promise<
    Exclude<LinkOutcome, { kind: "done" }> | { kind: "valid"; claims: LinkClaims; incident: Incident }
  > {
    const v = this.links.verify(token, this.clock.now());
    if (!v.ok) return { kind: "refused", reason: v.reason };
    const incident = await this.store.getIncident(v.claims.incidentId);
    if (this.store.linkUsed(token) || linkTaken(v.claims, incident))
      return { kind: "already", claims: v.claims, incident };
    return { kind: "valid", claims: v.claims, incident: incident as Incident };
  }

  /**
   * Uses a signed link once: the token is marked used in the same transaction as the action, so a
   * second use (or an incident someone else already moved on) answers that it was already taken.
   */
  useLink(token: string): LinkOutcome {
    const now = this.clock.now();
    const v = this.links.verify(token, now);
    if (!v.ok) return { kind: "refused", reason: v.reason };
    const c = v.claims;
    const by = c.recipient;
    try {
      return this.store.transaction((tx): LinkOutcome => {
        const incident = tx.incident(c.incidentId);
        if (!tx.useLink(token, c.incidentId, now) || incident === undefined || linkTaken(c, incident))
          return { kind: "already", claims: c, incident };
        return { kind: "done", claims: c, incident: this.humanIn(tx, incident, by, c.action, now, "link") };
      });
    } catch (err) {
      if (!(err instanceof PagewiseError)) this.rebuildContext();
      throw err;
    }
  }

  /** A handoff (reassign) or reroute by a responder; see handoff.ts. */
  override(id: number, o: Override): Incident {
    const now = this.clock.now();
    return this.store.transaction((tx) => {
      const incident = tx.incident(id);
      if (incident === undefined) throw new PagewiseError("PW_NOT_FOUND", `incident ${id} does not exist`);
      const next = applyOverride(tx, this.env(now), incident, o);
      tx.saveIncident(next);
      return next;
    });
  }

  /** Applies a validated batch; returns only after it committed (2xx means stored). */
  ingest(events: readonly InboundEvent[]): BatchOutcome {
    const now = this.clock.now();
    try {
      return this.store.transaction((tx) => applyEvents(tx, events, this.env(now)));
    } catch (err) {
      // The context observed signals of a batch that did not commit: rebuild it from the store.
      this.rebuildContext();
      throw err;
    }
  }

  /**
   * Group commit: batches that arrive in the same turn of the event loop share one transaction,
   * and each sender is answered only after it committed. A failed group is retried one batch at
   * a time, so one sender's failure is never another's. A group stops at GROUP_EVENTS events (fewer
   * while the outbox sends) and the rest waits a turn: one long transaction would hold up pages.
   */
  ingestShared(events: readonly InboundEvent[]): Promise<BatchOutcome> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ events, resolve, reject });
      if (this.waiting.length === 1) setImmediate(() => this.flushShared());
    });
  }

  private flushShared(): void {
    let take = 0;
    let events = 0;
    const cap = this.sending() ? GROUP_EVENTS_WHILE_SENDING : GROUP_EVENTS;
    for (; take < this.waiting.length; take++) {
      const n = (this.waiting[take] as Waiting).events.length;
      if (take > 0 && events + n > cap) break;
      events += n;
    }
    const group = this.waiting.slice(0, take);
    this.waiting = this.waiting.slice(take);
    if (this.waiting.length > 0) setImmediate(() => this.flushShared());
    const alone = (w: Waiting) => {
      try {
        w.resolve(this.ingest(w.events));
      } catch (err) {
        w.reject(err);
      }
    };
    if (group.length === 1) {
      alone(group[0] as Waiting);
      return;
    }
    const now = this.clock.now();
    let outcomes: BatchOutcome[];
    try {
      outcomes = this.store.transaction((tx) => group.map((w) => applyEvents(tx, w.events, this.env(now))));
    } catch {
      this.rebuildContext();
      for (const w of group) alone(w);
      return;
    }
    group.forEach((w, i) => {
      w.resolve(outcomes[i] as BatchOutcome);
    });
  }

  acknowledge(id: number, by: string): Incident {
    return this.humanTransition(id, by, "acknowledge");
  }

  resolve(id: number, by: string): Incident {
    return this.humanTransition(id, by, "resolve");
  }

  private humanTransition(id: number, by: string, kind: "acknowledge" | "resolve"): Incident {
    try {
      return this.applyHuman(id, by, kind);
    } catch (err) {
      // A failed commit may leave signals in the context that the store never kept.
      if (!(err instanceof PagewiseError) || err.code === "PW_STORE_UNAVAILABLE") this.rebuildContext();
      throw err;
    }
  }

  private applyHuman(id: number, by: string, kind: "acknowledge" | "resolve"): Incident {
    const now = this.clock.now();
    return this.store.transaction((tx) => {
      const incident = tx.incident(id);
      if (incident === undefined) throw new PagewiseError("PW_NOT_FOUND", `incident ${id} does not exist`);
      return this.humanIn(tx, incident, by, kind, now, "api");
    });
  }

  private humanIn(
    tx: Tx,
    incident: Incident,
    by: string,
    kind: "acknowledge" | "resolve",
    now: number,
    via: "api" | "link",
  ): Incident {
    const id = incident.id;
    {
      const t = transition(
        incident,
        kind === "acknowledge" ? { kind, by } : { kind, by, reason: "manual" },
        now,
      );
      if (!t.ok) throw new PagewiseError("PW_ILLEGAL_TRANSITION", t.error.message);
      let next: Incident = { ...incident, ...t.next };
      if (kind === "resolve") {
        for (const alert of tx.firingAlerts(id)) {
          tx.saveAlert({ ...alert, status: "resolved", resolvedAt: now });
          tx.cancelTimer("alert_expiry", alert.id);
          this.observeLive(tx, { kind: "resolve", at: now, source: alert.source, alertKey: alert.alertKey });
          this.routing.alertResolved(routingLabels(alert, incident));
        }
        tx.cancelTimer("incident_quiet", id);
        next = { ...next, openAlertCount: 0 };
        this.observeLive(tx, { kind: "incident_close", at: now, incidentId: id });
      }
      if (this.deliver) next = statusChanged(tx, this.deliveryEnv(now), next);
      tx.saveIncident(next);
      tx.addTimeline({
        incidentId: id,
        at: now,
        kind: kind === "acknowledge" ? "acknowledged" : "resolved",
        actor: by,
        detail: kind === "resolve" ? { reason: "manual", via } : { via },
      });
      return next;
    }
  }

  private observeLive(tx: Tx, signal: Signal): void {
    this.scoring.context.observe(signal);
    tx.insertSignal(signal);
  }

  /** Rebuilds the in-memory context from stored signals (at start, and after a failed batch). */
  rebuildContext(): void {
    const now = this.clock.now();
    const context = new ContextState();
    for (const s of this.store.loadSignals(now - CONTEXT_HORIZON, now - RECENT_RESENDS)) context.observe(s);
    this.scoring.context = context;
  }

  /**
   * A responder's verdict on an incident. It is stored, shown on the incident, and teaches fast
   * learning at once: every (source, alertname) of the incident gets the outcome. A changed
   * verdict takes the previous one back first, so opinions are not counted twice.
   */
  feedback(
    id: number,
    author: string,
    body: { verdict: Verdict; routeFit: RouteFit | null; note: string | null },
  ): Feedback {
    const now = this.clock.now();
    const { feedback, changes } = this.store.transaction((tx) => {
      const incident = tx.incident(id);
      if (incident === undefined) throw new PagewiseError("PW_NOT_FOUND", `incident ${id} does not exist`);
      const prev = tx.latestFeedback(id);
      const pairs = new Map<string, { source: string; alertname: string }>();
      for (const a of tx.alertsOf(id)) {
        const alertname = a.labels.alertname ?? "";
        pairs.set(`${a.source}\u0000${alertname}`, { source: a.source, alertname });
      }
      const changes: { source: string; alertname: string; genuine: boolean; weight: number }[] = [];
      if (prev?.verdict !== body.verdict) {
        for (const p of pairs.values()) {
          if (prev !== undefined) changes.push({ ...p, genuine: prev.verdict === "genuine", weight: -1 });
          changes.push({ ...p, genuine: body.verdict === "genuine", weight: 1 });
        }
      }
      for (const c of changes) {
        const cur = tx.outcome(c.source, c.alertname) ?? emptyOutcome(c.source, c.alertname);
        tx.saveOutcome(applyOutcome(cur, c.genuine, c.weight, now));
      }
      const feedback: Feedback = { incidentId: id, at: now, author, ...body };
      tx.insertFeedback(feedback);
      tx.addTimeline({
        incidentId: id,
        at: now,
        kind: "feedback",
        actor: author,
        detail: { verdict: body.verdict, route_fit: body.routeFit, note: body.note },
      });
      return { feedback, changes };
    });
    for (const c of changes) this.scoring.learning.record(c.source, c.alertname, c.genuine, c.weight, now);
    return feedback;
  }

  /** Loads the context and makes sure the recurring retention timer exists. */
  start(): void {
    const now = this.clock.now();
    this.rebuildContext();
    this.store.recordPolicy(this.config.policy.version, this.config.policyText, now);
    this.routing.setSilences(this.store.silences(false));
    for (const p of this.store.pagesSince(now - 3_600_000)) this.routing.page(p.team, p.at);
    this.routing.rebuildInhibitions(this.firingLabels());
    this.store.transaction((tx) => tx.armTimer("retention", 0, now, "earliest"));
    if (this.deliver) this.watchHeartbeats();
  }

  /**
   * Claims due timers under a lease and runs each in its own transaction. A timer whose run
   * throws stays claimed until its lease ends, then another pass retries it.
   */
  runDueTimers(limit = 200): number {
    const now = this.clock.now();
    const claimed = this.store.claimDueTimers(now, this.owner, this.leaseMs, limit);
    for (const timer of claimed) {
      try {
        this.store.transaction((tx) => {
          const next = runTimer(tx, timer, this.env(now));
          if (next.kind === "done") tx.finishTimer(timer, this.owner);
          else tx.rearmClaimed(timer, this.owner, next.dueAt);
        });
        this.observer.timerRan?.(timer.kind, now - timer.dueAt);
      } catch (err) {
        this.observer.timerFailed?.(timer.kind, err);
      }
    }
    return claimed.length;
  }

  /** Runs timers until none is due now (tests on a virtual clock call this after advancing). */
  drainTimers(): number {
    let total = 0;
    for (;;) {
      const n = this.runDueTimers();
      total += n;
      if (n === 0) return total;
    }
  }

  listIncidents(filter: IncidentFilter): Promise<Incident[]> {
    return this.store.listIncidents(filter);
  }
}
