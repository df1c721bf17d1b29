import type { Config } from "../config/types.js";
import type { Clock } from "../core/clock.js";
import { makeChannel } from "../notify/index.js";
import type { Channel, ChannelConfig, DeliveryResult } from "../notify/types.js";
import type { Delivery, Store, Tx } from "./ports.js";

type Outcome = [Delivery, DeliveryResult];

/**
 * The outbox worker. Rows move pending -> sending (leased until a deadline) -> sent | failed.
 * Delivery is at least once: a worker that dies after sending but before marking the row sent
 * leaves it leased; it is sent again, with the same idempotency key, when the lease lapses or
 * when the next `serve` starts (SqliteStore.releaseLeases), whichever comes first.
 */
export interface DelivererOptions {
  /** How long a claimed row is ours: a crashed sender's rows come back after this. */
  leaseMs?: number;
  /** Rows claimed at a time. */
  batch?: number;
  /** Sends in flight at once during a drain. */
  maxInFlight?: number;
  timeoutMs?: number;
  /** Seeded in tests; Math.random otherwise (jitter only). */
  random?: () => number;
  observer?: {
    delivered?(channel: string, attempts: number): void;
    retried?(channel: string): void;
    deadLettered?(channel: string): void;
  };
  /** Fault injection for the crash tests: throws at a controlled point. */
  faults?: { afterClaim?: (d: Delivery) => void; afterSend?: (d: Delivery) => void };
  /**
   * Supplies the channel for a name instead of making the configured one (a game day captures
   * messages in memory, or wraps the real channel to stage an outage); undefined: the real one.
   */
  channelFor?: (name: string, config: ChannelConfig) => Channel | undefined;
}

const BASE_BACKOFF = 5_000;
const MAX_BACKOFF = 10 * 60_000;

export class Deliverer {
  private channels = new Map<string, Channel>();
  private readonly leaseMs: number;
  private readonly batch: number;
  private readonly maxInFlight: number;
  private readonly timeoutMs: number;
  private nudged: (() => void) | null = null;
  private readonly random: () => number;
  lastRunAt: number | null = null;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly config: () => Config,
    private readonly opts: DelivererOptions = {},
  ) {
    this.leaseMs = opts.leaseMs ?? 60_000;
    // Large claims keep up with a storm: each claim is a transaction, and pages must not queue.
    this.batch = opts.batch ?? 100;
    this.maxInFlight = Math.max(this.batch, opts.maxInFlight ?? 128);
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.random = opts.random ?? Math.random;
    // A drain claims while its sends run: a send outliving its lease would be claimed again.
    if (this.timeoutMs * 2 > this.leaseMs)
      throw new Error(
        `delivery lease ${this.leaseMs} ms must be at least twice the send timeout ${this.timeoutMs} ms`,
      );
  }

  /** Claims one batch and sends it, in parallel; resolves when every outcome is recorded. */
  async runOnce(): Promise<number> {
    const claimed = this.store.claimDeliveries(this.clock.now(), this.leaseMs, this.batch);
    const settled = await Promise.allSettled(claimed.map((d) => this.attempt(d)));
    const done: Outcome[] = [];
    let failure: PromiseRejectedResult | undefined;
    settled.forEach((s, i) => {
      if (s.status === "fulfilled") done.push([claimed[i] as Delivery, s.value]);
      else failure ??= s;
    });
    this.recordAll(done);
    this.lastRunAt = this.clock.now();
    if (failure !== undefined) throw failure.reason;
    return claimed.length;
  }

  /**
   * Sends until nothing is due and nothing is in flight, keeping up to `maxInFlight` sends going:
   * a slow endpoint holds only its own messages, and new pages are claimed as soon as they are
   * committed (`nudge`). Outcomes that finish together are recorded in one transaction.
   */
  async drain(): Promise<number> {
    const inFlight = new Set<Promise<void>>();
    const done: Outcome[] = [];
    let failure: { reason: unknown } | undefined;
    const fail = (err: unknown) => {
      failure ??= { reason: err };
    };
    // After a failure nothing new is claimed, but every send already on the wire is waited for
    // and recorded: a page that was delivered must not be sent again.
    const record = () => {
      try {
        this.recordAll(done.splice(0));
      } catch (err) {
        fail(err);
      }
      this.lastRunAt = this.clock.now();
    };
    let total = 0;
    for (;;) {
      const room = failure === undefined ? this.maxInFlight - inFlight.size : 0;
      let claimed: Delivery[] = [];
      if (room > 0) {
        try {
          claimed = this.store.claimDeliveries(this.clock.now(), this.leaseMs, Math.min(room, this.batch));
        } catch (err) {
          fail(err);
        }
      }
      total += claimed.length;
      for (const d of claimed) {
        const send: Promise<void> = this.attempt(d)
          .then(
            (r) => {
              done.push([d, r]);
            },
            (err) => fail(err),
          )
          .finally(() => inFlight.delete(send));
        inFlight.add(send);
      }
      if (inFlight.size === 0) break;
      // Wait for a send to finish or for new work, then let other finished sends join the batch.
      const woken = new Promise<void>((resolve) => (this.nudged = resolve));
      await Promise.race([...inFlight, woken]);
      this.nudged = null;
      await new Promise<void>((resolve) => setImmediate(resolve));
      record();
    }
    record();
    if (failure !== undefined) throw failure.reason;
    return total;
  }

  /** New messages were committed while a drain runs: claim them now. */
  nudge(): void {
    this.nudged?.();
  }

  private async attempt(d: Delivery): Promise<DeliveryResult> {
    this.opts.faults?.afterClaim?.(d);
    const channel = this.channelFor(d);
    const result: DeliveryResult =
      channel === undefined
        ? { kind: "failed", reason: `channel ${d.channel} is not configured` }
        : await channel.send(d.message, this.timeoutMs);
    this.opts.faults?.afterSend?.(d);
    return result;
  }

  /**
   * One transaction for outcomes that finished together. If it fails, each is tried alone, so
   * one bad row does not cost the others their outcome (an unrecorded one is sent again later).
   * Metrics are counted after the commit.
   */
  private recordAll(done: readonly Outcome[]): void {
    if (done.length === 0) return;
    const now = this.clock.now();
    const max = this.config().deliveryMaxAttempts;
    const commit = (outcomes: readonly Outcome[]) => {
      const counted: (() => void)[] = [];
      this.store.transaction((tx) => {
        for (const [d, result] of outcomes) this.record(tx, d, result, now, max, counted);
      });
      for (const count of counted) count();
    };
    try {
      commit(done);
    } catch (err) {
      if (done.length === 1) throw err;
      let first: unknown;
      for (const outcome of done) {
        try {
          commit([outcome]);
        } catch (e) {
          first ??= e;
        }
      }
      if (first !== undefined) throw first;
    }
  }

  private record(
    tx: Tx,
    d: Delivery,
    result: DeliveryResult,
    now: number,
    max: number,
    counted: (() => void)[],
  ): void {
    const lease = d.leaseUntil as number;
    const obs = this.opts.observer;
    if (result.kind === "delivered") {
      if (tx.finishDelivery(d.id, lease, { status: "sent", at: now }))
        counted.push(() => obs?.delivered?.(d.channel, d.attempts));
      return;
    }
    const reason = result.reason;
    if (result.kind === "failed" || d.attempts >= max) {
      if (!tx.finishDelivery(d.id, lease, { status: "failed", nextAttemptAt: now, error: reason })) return;
      counted.push(() => obs?.deadLettered?.(d.channel));
      tx.addTimeline({
        incidentId: d.incidentId,
        at: now,
        kind: "delivery_failed",
        actor: "pagewise",
        detail: {
          delivery: d.id,
          channel: d.channel,
          recipient: d.recipient,
          attempts: d.attempts,
          reason,
        },
      });
      return;
    }
    // Exponential backoff with jitter, and never sooner than the channel asked (Retry-After).
    const backoff = Math.min(MAX_BACKOFF, BASE_BACKOFF * 2 ** (d.attempts - 1)) * (0.8 + 0.4 * this.random());
    const wait = Math.round(Math.max(backoff, result.afterMs ?? 0));
    if (!tx.finishDelivery(d.id, lease, { status: "pending", nextAttemptAt: now + wait, error: reason }))
      return;
    counted.push(() => obs?.retried?.(d.channel));
    // Acknowledged or resolved while this page was on the wire: do not try it again.
    const status = tx.incident(d.incidentId)?.status;
    if (status === "acknowledged" || status === "resolved")
      tx.cancelPending(d.incidentId, `incident ${status} while it was being sent`);
  }

  private channelFor(d: Delivery): Channel | undefined {
    const key = d.adhocUrl === null ? d.channel : `adhoc:${d.adhocUrl}`;
    let ch = this.channels.get(key);
    if (ch !== undefined) return ch;
    const config: ChannelConfig | undefined =
      d.adhocUrl === null
        ? this.config().channels.get(d.channel)
        : { kind: "webhook", name: d.channel, url: d.adhocUrl, headers: {} };
    if (config === undefined) return undefined;
    ch = this.opts.channelFor?.(d.channel, config) ?? makeChannel(config);
    this.channels.set(key, ch);
    return ch;
  }

  /** After a config reload: channels are made again from the new settings. */
  async reset(): Promise<void> {
    const old = [...this.channels.values()];
    this.channels = new Map();
    await Promise.all(old.map((c) => c.close?.()));
  }
}

/** The wall-clock loop around a Deliverer. */
export class DeliveryWorker {
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;
  private running: Promise<void> = Promise.resolve();
  private busy = false;
  /** Woken while a pass ran: run again as soon as it ends. */
  private again = false;

  constructor(
    /** The outbox's Deliverer, or anything else drained on a poll (the runbook runner). */
    private readonly deliverer: { drain(): Promise<number>; nudge?(): void },
    private readonly pollMs = 250,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    await this.running;
  }

  /** A pass is running: messages are being claimed, sent or recorded. */
  get sending(): boolean {
    return this.busy;
  }

  /** New work was committed: run a pass now rather than at the next poll (a page waits for nobody). */
  wake(): void {
    if (this.stopped) return;
    if (this.busy) {
      this.again = true;
      this.deliverer.nudge?.();
      return;
    }
    this.schedule(0);
  }

  private schedule(delayMs = this.pollMs): void {
    if (this.stopped) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.busy = true;
      this.again = false;
      this.running = this.deliverer
        .drain()
        .then(
          () => undefined,
          (err) => this.onError(err),
        )
        .finally(() => {
          this.busy = false;
          this.schedule(this.again ? 0 : this.pollMs);
        });
    }, delayMs);
    this.timer.unref();
  }
}
