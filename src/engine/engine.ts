import type { Config } from "../config/types.js";
import type { Clock } from "../core/clock.js";
import { PagewiseError } from "../core/errors.js";
import { type Incident, transition } from "../core/incident.js";
import type { InboundEvent } from "../core/types.js";
import { applyEvents, type BatchOutcome } from "./ingest.js";
import type { IncidentFilter, Store, TimerKind } from "./ports.js";
import { runTimer } from "./timers.js";

export interface EngineObserver {
  timerRan?(kind: TimerKind, lagMs: number): void;
  timerFailed?(kind: TimerKind, err: unknown): void;
}

export interface EngineOptions {
  /** Name of this worker in timer leases. */
  owner: string;
  /** How long a claimed timer stays ours before another worker may take it. */
  leaseMs?: number;
  observer?: EngineObserver;
}

/** The pipeline: everything the HTTP server, the CLI and the workers ask of Pagewise. */
export class Engine {
  config: Config;
  readonly store: Store;
  readonly clock: Clock;
  private readonly owner: string;
  private readonly leaseMs: number;
  private readonly observer: EngineObserver;

  constructor(store: Store, clock: Clock, config: Config, opts: EngineOptions) {
    this.store = store;
    this.clock = clock;
    this.config = config;
    this.owner = opts.owner;
    this.leaseMs = opts.leaseMs ?? 30_000;
    this.observer = opts.observer ?? {};
  }

  /** Applies a validated batch; returns only after it committed (2xx means stored). */
  ingest(events: readonly InboundEvent[]): BatchOutcome {
    const now = this.clock.now();
    return this.store.transaction((tx) => applyEvents(tx, events, { config: this.config, now }));
  }

  acknowledge(id: number, by: string): Incident {
    return this.humanTransition(id, by, "acknowledge");
  }

  resolve(id: number, by: string): Incident {
    return this.humanTransition(id, by, "resolve");
  }

  private humanTransition(id: number, by: string, kind: "acknowledge" | "resolve"): Incident {
    const now = this.clock.now();
    return this.store.transaction((tx) => {
      const incident = tx.incident(id);
      if (incident === undefined) throw new PagewiseError("PW_NOT_FOUND", `incident ${id} does not exist`);
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
        }
        tx.cancelTimer("incident_quiet", id);
        next = { ...next, openAlertCount: 0 };
      }
      tx.saveIncident(next);
      tx.addTimeline({
        incidentId: id,
        at: now,
        kind: kind === "acknowledge" ? "acknowledged" : "resolved",
        actor: by,
        detail: kind === "resolve" ? { reason: "manual" } : {},
      });
      return next;
    });
  }

  /** Makes sure the recurring retention timer exists. */
  start(): void {
    const now = this.clock.now();
    this.store.transaction((tx) => tx.armTimer("retention", 0, now, "earliest"));
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
          const next = runTimer(tx, timer, { config: this.config, now });
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
