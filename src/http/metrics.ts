import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { DelivererOptions } from "../engine/delivery.js";
import type { EngineObserver } from "../engine/engine.js";
import type { Store } from "../engine/ports.js";

/** Pagewise's own metrics, so operators can alert on the alert router. One registry per server. */
export class Metrics {
  readonly registry = new Registry();
  readonly ingestEvents: Counter<"source" | "format" | "outcome">;
  readonly ingestRequests: Counter<"source" | "format" | "result">;
  readonly httpDuration: Histogram<"method" | "route" | "status_code">;
  readonly timerRuns: Counter<"kind">;
  readonly timerFailures: Counter<"kind">;
  readonly timerLag: Histogram<"kind">;
  readonly deliveries: Counter<"channel" | "outcome">;
  readonly runbookSteps: Counter<"playbook" | "outcome">;
  readonly validation: Histogram<"result">;
  private workers: () => Record<string, number | null> = () => ({});

  constructor(store: Store, clockNow: () => number) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: "pagewise_" });
    this.ingestEvents = new Counter({
      name: "pagewise_ingest_events_total",
      help: "Events received, by source, wire format and what happened to them",
      labelNames: ["source", "format", "outcome"],
      registers,
    });
    this.ingestRequests = new Counter({
      name: "pagewise_ingest_requests_total",
      help: "Ingest requests, by source, wire format and result (accepted, rejected, unauthorized, unavailable)",
      labelNames: ["source", "format", "result"],
      registers,
    });
    this.httpDuration = new Histogram({
      name: "pagewise_http_request_duration_seconds",
      help: "HTTP request latency",
      labelNames: ["method", "route", "status_code"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.timerRuns = new Counter({
      name: "pagewise_timer_runs_total",
      help: "Durable timers run, by kind",
      labelNames: ["kind"],
      registers,
    });
    this.timerFailures = new Counter({
      name: "pagewise_timer_failures_total",
      help: "Durable timer runs that failed and will be retried after their lease",
      labelNames: ["kind"],
      registers,
    });
    this.timerLag = new Histogram({
      name: "pagewise_timer_lag_seconds",
      help: "How late a timer ran after its due time",
      labelNames: ["kind"],
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    new Gauge({
      name: "pagewise_timers_pending",
      help: "Durable timers waiting to run",
      registers,
      collect() {
        this.set(store.stats(clockNow()).timers);
      },
    });
    new Gauge({
      name: "pagewise_timer_oldest_overdue_seconds",
      help: "Timer lag: now minus the due time of the oldest timer no live lease holds (0 when none is overdue)",
      registers,
      collect() {
        const now = clockNow();
        const oldest = store.stats(now).oldestDueTimer;
        this.set(oldest === null ? 0 : Math.max(0, (now - oldest) / 1000));
      },
    });
    this.deliveries = new Counter({
      name: "pagewise_deliveries_total",
      help: "Delivery attempts' outcomes, by channel: delivered, retried, dead_lettered",
      labelNames: ["channel", "outcome"],
      registers,
    });
    this.runbookSteps = new Counter({
      name: "pagewise_runbook_steps_total",
      help: "Runbook steps (and rollback steps) carried out, by playbook and outcome: ok, failed",
      labelNames: ["playbook", "outcome"],
      registers,
    });
    this.validation = new Histogram({
      name: "pagewise_time_to_validation_seconds",
      help: "Time from an incident's first alert to its validation result (confirmed, not_confirmed)",
      labelNames: ["result"],
      buckets: [30, 60, 120, 300, 600, 900, 1800, 3600, 7200],
      registers,
    });
    new Gauge({
      name: "pagewise_heartbeats_missed",
      help: "Heartbeats currently missed (their incident is open until the next check-in)",
      registers,
      collect() {
        this.set(store.heartbeats().filter((h) => h.missedAt !== null).length);
      },
    });
    const outbox = () => store.outboxStats();
    new Gauge({
      name: "pagewise_outbox_backlog",
      help: "Notifications waiting to be sent (pending) or being sent (sending)",
      labelNames: ["status"],
      registers,
      collect() {
        const s = outbox();
        this.set({ status: "pending" }, s.pending);
        this.set({ status: "sending" }, s.sending);
      },
    });
    new Gauge({
      name: "pagewise_outbox_oldest_pending_age_seconds",
      help: "Age of the oldest notification not yet sent (0 when none waits)",
      registers,
      collect() {
        const at = outbox().oldestPendingAt;
        this.set(at === null ? 0 : Math.max(0, (clockNow() - at) / 1000));
      },
    });
    new Gauge({
      name: "pagewise_outbox_dead_letters",
      help: "Notifications that failed for good (see GET /api/v1/deliveries?status=failed)",
      registers,
      collect() {
        this.set(outbox().failed);
      },
    });
    const workers = () => this.workers();
    new Gauge({
      name: "pagewise_worker_last_run_age_seconds",
      help: "Seconds since each background worker (timers, delivery) finished a pass; absent before the first",
      labelNames: ["worker"],
      registers,
      collect() {
        this.reset();
        const now = clockNow();
        for (const [worker, at] of Object.entries(workers())) {
          if (at !== null) this.set({ worker }, Math.max(0, (now - at) / 1000));
        }
      },
    });
  }

  /** Liveness: when each worker last finished a pass (the service wires this once). */
  watchWorkers(workers: () => Record<string, number | null>): void {
    this.workers = workers;
  }

  deliveryObserver(): NonNullable<DelivererOptions["observer"]> {
    return {
      delivered: (channel) => this.deliveries.inc({ channel, outcome: "delivered" }),
      retried: (channel) => this.deliveries.inc({ channel, outcome: "retried" }),
      deadLettered: (channel) => this.deliveries.inc({ channel, outcome: "dead_lettered" }),
    };
  }

  observer(): EngineObserver {
    return {
      timerRan: (kind, lagMs) => {
        this.timerRuns.inc({ kind });
        this.timerLag.observe({ kind }, Math.max(0, lagMs) / 1000);
      },
      timerFailed: (kind) => this.timerFailures.inc({ kind }),
      validated: (result, ms) => this.validation.observe({ result }, ms / 1000),
    };
  }

  runbookObserver(): { step(playbook: string, ok: boolean): void } {
    return { step: (playbook, ok) => this.runbookSteps.inc({ playbook, outcome: ok ? "ok" : "failed" }) };
  }
}
