import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { VirtualClock } from "../../src/core/clock.js";
import type { DelivererOptions } from "../../src/engine/delivery.js";
import type { Delivery, OutboxEntry } from "../../src/engine/ports.js";
import { createService, type Service } from "../../src/service.js";
import { post, tempDir } from "../helpers.js";
import { type HttpPeer, httpPeer, type Recorded, type Reply } from "../notify/peers.js";

/**
 * The outbox under crashes and outages, on a real SQLite file and a real HTTP peer. A "crash" is
 * a fault thrown at a controlled point of a delivery; the "restart" is a new service on the same
 * database file, as after a process kill.
 */

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const START = Date.parse("2026-11-30T14:00:00Z");
const GEN_KEY = "gen-key-0123456789";
const LEASE = 60 * SEC;
/** The engine's default timer lease. */
const TIMER_LEASE = 30 * SEC;

function configText(base: string, maxAttempts = 8): string {
  return `
server:
  public_url: http://pagewise.test
  link_secret: a-test-link-secret-0123456789
  delivery_max_attempts: ${maxAttempts}
users:
  - { name: bob, webhook: "${base}/bob" }
chains:
  - name: main
    steps:
      - { targets: [{ channel: hook }], delay: 5m }
      - { targets: [{ user: bob }], delay: 5m }
channels:
  - { name: hook, kind: webhook, url: "${base}/hook" }
teams:
  - { name: ops, chain: main, channel: hook }
services:
  - { name: api, team: ops, tier: 1 }
sources:
  - { name: gen, kind: generic, key: ${GEN_KEY}, auto_resolve_after: never }
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

type Svc = Service & { clock: VirtualClock };

let dir: ReturnType<typeof tempDir>;
let peer: HttpPeer;
let reply: (req: Recorded, n: number) => Reply;
const open: Svc[] = [];

beforeEach(async () => {
  dir = tempDir();
  reply = () => ({ status: 200 });
  let n = 0;
  peer = await httpPeer((req) => reply(req, ++n));
});
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  await peer.close();
  dir.cleanup();
});

/** A service on this test's database file; a second call is a restart on the same file. */
async function start(
  at: number,
  delivery: DelivererOptions = {},
  text = configText(peer.url.replace(/\/hook$/, "")),
): Promise<Svc> {
  const clock = new VirtualClock(at);
  const s = await createService({
    config: parseConfig(text, {}),
    dbPath: join(dir.path, "pagewise.db"),
    durability: "normal",
    clock,
    worker: false,
    delivery: { leaseMs: LEASE, ...delivery },
  });
  const svc = Object.assign(s, { clock });
  open.push(svc);
  return svc;
}

/** Stops a service as a killed process would leave its database (nothing more is written). */
async function kill(svc: Svc): Promise<void> {
  open.splice(open.indexOf(svc), 1);
  await svc.close();
}

async function ingest(svc: Svc, labels: Record<string, string> = {}, dedup = "q"): Promise<number> {
  const res = await post(
    svc.app,
    "/ingest/events",
    { summary: "Queue backlog", service: "api", severity: "error", dedup_key: dedup, labels },
    { key: GEN_KEY },
  );
  expect(res.statusCode).toBe(200);
  return res.json().results[0].incident_id as number;
}

function only(svc: Svc): Delivery {
  const rows = svc.store.deliveries({ limit: 100 });
  expect(rows).toHaveLength(1);
  return rows[0] as Delivery;
}

const to = (path: string) => peer.requests.filter((r) => r.url === path);

/** Throws on the first call only: one crash, then the code runs normally. */
function once(what: string): () => void {
  let fired = false;
  return () => {
    if (fired) return;
    fired = true;
    throw new Error(what);
  };
}

describe("crash and restart", () => {
  it("killed after the claim, before the send: the restart sends it at once, exactly once", async () => {
    const a = await start(START, { faults: { afterClaim: once("killed after claim") } });
    await ingest(a);
    await expect(a.deliverer.runOnce()).rejects.toThrow("killed after claim");
    expect(peer.requests).toHaveLength(0);
    expect(only(a)).toMatchObject({ status: "sending", attempts: 1, leaseUntil: START + LEASE });
    await kill(a);

    // Restarted 5 s later, well inside the dead sender's lease: the new owner of the file takes
    // the row back at start, so the page does not wait for the lease.
    const b = await start(START + 5 * SEC);
    expect(only(b)).toMatchObject({ status: "pending", leaseUntil: null, nextAttemptAt: START });
    expect(await b.deliverer.drain()).toBe(1);
    expect(peer.requests).toHaveLength(1);
    const row = only(b);
    expect(row).toMatchObject({ status: "sent", attempts: 2, sentAt: START + 5 * SEC, leaseUntil: null });
    expect(peer.requests[0]?.headers["idempotency-key"]).toBe(row.idempotencyKey);

    // Sent is final: more passes, more restarts, more time send nothing again.
    await kill(b);
    const c = await start(START + HOUR);
    await c.deliverer.drain();
    c.clock.advance(HOUR);
    await c.deliverer.drain();
    expect(peer.requests).toHaveLength(1);
  });

  it("killed after the send, before the mark: sent again at restart, at most twice, same key", async () => {
    const a = await start(START, { faults: { afterSend: once("killed after send") } });
    await ingest(a);
    await expect(a.deliverer.runOnce()).rejects.toThrow("killed after send");
    expect(peer.requests).toHaveLength(1);
    expect(only(a)).toMatchObject({ status: "sending", attempts: 1 });
    await kill(a);

    const b = await start(START + 10 * SEC);
    expect(await b.deliverer.drain()).toBe(1);
    expect(peer.requests).toHaveLength(2);
    const [first, second] = peer.requests as [Recorded, Recorded];
    expect(first.headers["idempotency-key"]).toBeTruthy();
    expect(second.headers["idempotency-key"]).toBe(first.headers["idempotency-key"]);
    // The very same notification, byte for byte: the receiver can tell it is a repeat.
    expect(second.body).toBe(first.body);
    expect(only(b)).toMatchObject({ status: "sent", attempts: 2 });
    b.clock.advance(HOUR);
    await b.deliverer.drain();
    expect(peer.requests).toHaveLength(2);
  });

  it("a crashed sender's row goes out on the first pass after restart, beside new ones, oldest first", async () => {
    const a = await start(START, { faults: { afterClaim: once("killed after claim") } });
    await ingest(a, {}, "first");
    await expect(a.deliverer.runOnce()).rejects.toThrow("killed after claim");
    const stuck = only(a);
    await kill(a);

    const b = await start(START + SEC);
    await ingest(b, {}, "second");
    expect(await b.deliverer.drain()).toBe(2);
    expect(peer.requests[0]?.headers["idempotency-key"]).toBe(stuck.idempotencyKey);
    expect(b.store.deliveries({ status: "sent", limit: 10 })).toHaveLength(2);
    expect(peer.requests).toHaveLength(2);
    b.clock.set(START + LEASE);
    expect(await b.deliverer.drain()).toBe(0);
  });

  it("a second service on the same file is refused while the first runs", async () => {
    const a = await start(START);
    await expect(start(START)).rejects.toThrow(/already served by another process/);
    await kill(a);
    const b = await start(START);
    expect(b.store.deliveries({ limit: 10 })).toHaveLength(0);
  });

  it("an escalation step that fell due while the process was down fires on the first pass after restart", async () => {
    const a = await start(START);
    const id = await ingest(a, { page: "yes" });
    await a.deliverer.drain();
    expect(to("/hook")).toHaveLength(1);
    a.clock.advance(MIN);
    await kill(a);

    // Down from +1m to +20m; step 2 was due at +5m.
    const b = await start(START + 20 * MIN);
    expect(to("/bob")).toHaveLength(0);
    b.engine.drainTimers();
    await b.deliverer.drain();
    expect(to("/bob")).toHaveLength(1);
    const bob = b.store.deliveries({ incidentId: id, limit: 10 }).find((d) => d.recipient === "bob");
    expect(bob).toMatchObject({ status: "sent", createdAt: START + 20 * MIN });
    // The chain is exhausted after step 2's own delay from now, not from the missed due time.
    b.clock.advance(5 * MIN - 1);
    b.engine.drainTimers();
    expect((await b.store.getIncident(id))?.escalation?.state).toBe("running");
    b.clock.advance(1);
    b.engine.drainTimers();
    expect((await b.store.getIncident(id))?.escalation?.state).toBe("exhausted");
  });

  it("a step timer claimed by a worker that died mid-run fires on the first pass after restart", async () => {
    const a = await start(START);
    const id = await ingest(a, { page: "yes" });
    await a.deliverer.drain();
    const due = START + 5 * MIN;
    a.clock.set(due);
    // The timer run's transaction dies (the process is killed mid-run): the claim stays behind.
    const store = a.store as unknown as { transaction: unknown };
    const real = store.transaction;
    store.transaction = () => {
      throw new Error("killed mid-run");
    };
    const claimed = a.engine.runDueTimers();
    store.transaction = real;
    expect(claimed).toBeGreaterThanOrEqual(1);
    const row = a.store.db
      .prepare("SELECT lease_owner, lease_until FROM timers WHERE kind = 'escalation_step' AND ref = ?")
      .get(id) as { lease_owner: string | null; lease_until: number };
    expect(row.lease_owner).not.toBeNull();
    expect(Number(row.lease_until)).toBe(due + TIMER_LEASE);
    expect(await a.metrics.registry.metrics()).toMatch(
      /^pagewise_timer_failures_total\{kind="escalation_step"\} 1$/m,
    );
    await kill(a);

    // Restarted a second later, inside the dead worker's lease: the step runs at once.
    const b = await start(due + SEC);
    b.engine.drainTimers();
    await b.deliverer.drain();
    expect(to("/bob")).toHaveLength(1);
    const bob = b.store.deliveries({ incidentId: id, limit: 10 }).find((d) => d.recipient === "bob");
    expect(bob?.createdAt).toBe(due + SEC);
    // Exactly once: the re-run did not leave a second step behind.
    b.clock.advance(HOUR);
    b.engine.drainTimers();
    await b.deliverer.drain();
    expect(to("/bob")).toHaveLength(1);
  });
});

/** Fixed jitter draws, recorded, so the expected waits can be computed from the same values. */
function draws(values: number[]): { random: () => number; used: number[] } {
  const used: number[] = [];
  return {
    used,
    random: () => {
      const v = values[used.length % values.length] as number;
      used.push(v);
      return v;
    },
  };
}
/** The documented backoff: 5s doubling, at most 10 minutes, times a jitter in [0.8, 1.2). */
const backoff = (attempt: number, r: number) =>
  Math.min(10 * MIN, 5 * SEC * 2 ** (attempt - 1)) * (0.8 + 0.4 * r);

describe("outage", () => {
  it("503s (with and without Retry-After) are retried with growing backoff, then delivered", async () => {
    const jitter = draws([0.25, 0.5, 0]);
    const svc = await start(START, { random: jitter.random });
    reply = (_req, n) =>
      n === 1
        ? { status: 503, body: "down" }
        : n === 2
          ? { status: 503, headers: { "Retry-After": "120" } }
          : n === 3
            ? { status: 503, headers: { "Retry-After": "1" } }
            : { status: 200 };
    await ingest(svc);

    const waits: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      await svc.deliverer.drain();
      expect(peer.requests).toHaveLength(attempt);
      const row = only(svc);
      expect(row).toMatchObject({ status: "pending", attempts: attempt, leaseUntil: null });
      expect(row.lastError).toMatch(/^HTTP 503/);
      waits.push(row.nextAttemptAt - svc.clock.now());
      // Not a moment early.
      svc.clock.set(row.nextAttemptAt - 1);
      expect(await svc.deliverer.drain()).toBe(0);
      svc.clock.set(row.nextAttemptAt);
    }
    expect(jitter.used).toEqual([0.25, 0.5, 0]);
    expect(waits).toEqual([
      backoff(1, 0.25),
      120 * SEC, // Retry-After asked for longer than the backoff: honoured
      backoff(3, 0), // Retry-After asked for less: the backoff still applies
    ]);
    expect(backoff(1, 0.25)).toBe(4500);
    expect(backoff(3, 0)).toBe(16_000);

    await svc.deliverer.drain();
    expect(peer.requests).toHaveLength(4);
    expect(only(svc)).toMatchObject({
      status: "sent",
      attempts: 4,
      lastError: null,
      sentAt: svc.clock.now(),
    });
    expect(new Set(peer.requests.map((r) => r.headers["idempotency-key"])).size).toBe(1);
    const text = await svc.metrics.registry.metrics();
    expect(text).toMatch(/^pagewise_deliveries_total\{channel="hook",outcome="retried"\} 3$/m);
    expect(text).toMatch(/^pagewise_deliveries_total\{channel="hook",outcome="delivered"\} 1$/m);
    expect(text).toMatch(/^pagewise_outbox_dead_letters 0$/m);
  });

  it("a page acknowledged while on the wire is not tried again when its attempt fails", async () => {
    let id = 0;
    let acked = false;
    const svc: Svc = await start(START, {
      faults: {
        afterClaim: () => {
          if (acked || id === 0) return;
          acked = true;
          svc.engine.acknowledge(id, "alice");
        },
      },
    });
    reply = () => ({ status: 503 });
    const pages = () => to("/hook").filter((r) => JSON.parse(r.body).kind === "page").length;
    id = await ingest(svc, { page: "yes" });
    await svc.deliverer.drain();
    expect(acked).toBe(true);
    expect(pages()).toBe(1);
    const page = svc.store.deliveries({ limit: 100 }).find((d) => d.message.kind === "page");
    expect(page).toMatchObject({
      status: "cancelled",
      lastError: "incident acknowledged while it was being sent",
    });
    svc.clock.advance(HOUR);
    await svc.deliverer.drain();
    expect(pages()).toBe(1);
  });

  it("always 503: the backoff doubles up to its cap, then the message is dead-lettered, visibly", async () => {
    const jitter = draws([0.1, 0.9, 0.3, 0.7, 0.5, 0.99, 0, 0.6, 0.2]);
    const svc = await start(
      START,
      { random: jitter.random },
      configText(peer.url.replace(/\/hook$/, ""), 10),
    );
    reply = () => ({ status: 503, body: "maintenance" });
    const id = await ingest(svc);

    const waits: number[] = [];
    for (let attempt = 1; attempt < 10; attempt++) {
      await svc.deliverer.drain();
      const row = only(svc);
      expect(row).toMatchObject({ status: "pending", attempts: attempt });
      waits.push(row.nextAttemptAt - svc.clock.now());
      svc.clock.set(row.nextAttemptAt);
    }
    expect(jitter.used).toHaveLength(9);
    // Within a millisecond: the due time is an epoch millisecond plus a fractional wait.
    jitter.used.forEach((r, i) => {
      expect(waits[i]).toBeCloseTo(backoff(i + 1, r), 0);
    });
    // Doubling (jitter cannot undo a doubling) until the ten-minute cap.
    for (let i = 1; i < 7; i++) expect(waits[i]).toBeGreaterThan(waits[i - 1] as number);
    expect(Math.max(...waits)).toBeLessThan(1.2 * 10 * MIN);
    expect(waits.slice(7).every((w) => w >= 0.8 * 10 * MIN)).toBe(true);

    await svc.deliverer.drain();
    expect(peer.requests).toHaveLength(10);
    const failed = svc.store.deliveries({ status: "failed", limit: 10 });
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ attempts: 10, leaseUntil: null, sentAt: null });
    expect(failed[0]?.lastError).toMatch(/^HTTP 503: maintenance/);
    const events = (await svc.store.incidentTimeline(id)).filter((t) => t.kind === "delivery_failed");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      actor: "pagewise",
      at: svc.clock.now(),
      detail: { delivery: failed[0]?.id, channel: "hook", attempts: 10 },
    });
    expect(String(events[0]?.detail.reason)).toMatch(/^HTTP 503/);
    const text = await svc.metrics.registry.metrics();
    expect(text).toMatch(/^pagewise_outbox_dead_letters 1$/m);
    expect(text).toMatch(/^pagewise_deliveries_total\{channel="hook",outcome="dead_lettered"\} 1$/m);
    expect(text).toMatch(/^pagewise_outbox_backlog\{status="pending"\} 0$/m);

    // A dead letter stays dead.
    svc.clock.advance(24 * HOUR);
    expect(await svc.deliverer.drain()).toBe(0);
    expect(peer.requests).toHaveLength(10);
  });

  it("a 400 fails at once, without a retry", async () => {
    const svc = await start(START);
    reply = () => ({ status: 400, body: '{"error":"bad payload"}' });
    const id = await ingest(svc);
    await svc.deliverer.drain();
    expect(peer.requests).toHaveLength(1);
    expect(only(svc)).toMatchObject({ status: "failed", attempts: 1 });
    expect(only(svc).lastError).toContain("HTTP 400");
    const events = (await svc.store.incidentTimeline(id)).filter((t) => t.kind === "delivery_failed");
    expect(events).toHaveLength(1);
    expect(events[0]?.detail).toMatchObject({ attempts: 1, channel: "hook" });
    svc.clock.advance(HOUR);
    await svc.deliverer.drain();
    expect(peer.requests).toHaveLength(1);
    expect(await svc.metrics.registry.metrics()).toMatch(/^pagewise_outbox_dead_letters 1$/m);
  });
});

describe("idempotency", () => {
  const entry = (over: Partial<OutboxEntry> = {}): OutboxEntry => ({
    incidentId: 1,
    channel: "hook",
    recipient: null,
    adhocUrl: null,
    idempotencyKey: "1:test:key",
    createdAt: START,
    nextAttemptAt: START,
    message: {
      kind: "test",
      incidentId: 1,
      idempotencyKey: "1:test:key",
      title: "first",
      summary: "first",
      status: "triggered",
      service: null,
      team: null,
      severity: "info",
      score: null,
      band: null,
      rule: null,
      rationale: null,
      reasons: [],
      links: [],
      ackUrl: null,
      resolveUrl: null,
      recipient: null,
      note: null,
    },
    ...over,
  });

  it("enqueueing twice with the same key stores one row, the first, and sends it once", async () => {
    const svc = await start(START);
    svc.store.transaction((tx) => {
      tx.enqueue(entry());
      tx.enqueue(entry({ message: { ...entry().message, title: "second" } }));
    });
    svc.store.transaction((tx) => tx.enqueue(entry({ nextAttemptAt: START + HOUR })));
    const row = only(svc);
    expect(row.message.title).toBe("first");
    expect(row.nextAttemptAt).toBe(START);
    await svc.deliverer.drain();
    // Once sent, the same key queued again is still the one sent row.
    svc.store.transaction((tx) => tx.enqueue(entry()));
    svc.clock.advance(HOUR);
    await svc.deliverer.drain();
    expect(peer.requests).toHaveLength(1);
    expect(only(svc).status).toBe("sent");
    // Another key is another row.
    svc.store.transaction((tx) => tx.enqueue(entry({ idempotencyKey: "1:test:other" })));
    expect(svc.store.deliveries({ limit: 10 })).toHaveLength(2);
  });
});

describe("a drain keeps sends in flight", () => {
  it("a slow endpoint holds only its own message: one committed later is sent and marked first", async () => {
    reply = (_req, n) => (n === 1 ? { status: 200, delayMs: 1500 } : { status: 200 });
    const svc = await start(START);
    const first = await ingest(svc, {}, "slow");
    const draining = svc.deliverer.drain();
    await until(() => peer.requests.length === 1);
    const second = await ingest(svc, {}, "fast");
    svc.deliverer.nudge(); // what the worker's wake() does on a commit that queued messages
    const status = (incident: number) =>
      svc.store.deliveries({ limit: 10 }).find((d) => d.incidentId === incident)?.status;
    await until(() => status(second) === "sent");
    // The first send is still waiting for its answer while the second is done and recorded.
    expect(status(first)).toBe("sending");
    expect(await draining).toBe(2);
    expect(status(first)).toBe("sent");
  });
});

async function until(ok: () => boolean, ms = 1000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("recording outcomes", () => {
  it("a batch of outcomes whose transaction fails is recorded one by one: no delivered page is sent again", async () => {
    const svc = await start(START);
    for (const key of ["a", "b", "c"]) await ingest(svc, {}, key);
    const store = svc.store as unknown as { transaction: (fn: unknown) => unknown };
    const real = store.transaction.bind(svc.store);
    let failed = 0;
    store.transaction = (fn: unknown) => {
      if (failed++ === 0) throw new Error("injected: SQLITE_BUSY on the batch");
      return real(fn);
    };
    // runOnce records the whole claimed batch together.
    expect(await svc.deliverer.runOnce()).toBe(3);
    store.transaction = real;
    expect(failed).toBe(1 + 3);
    expect(peer.requests).toHaveLength(3);
    expect(svc.store.deliveries({ limit: 10 }).map((d) => d.status)).toEqual(["sent", "sent", "sent"]);
    svc.clock.advance(HOUR);
    expect(await svc.deliverer.drain()).toBe(0);
    expect(peer.requests).toHaveLength(3);
  });

  it("a send that outlives its lease is refused by construction", async () => {
    await expect(start(START, { leaseMs: 15 * SEC, timeoutMs: 10 * SEC })).rejects.toThrow(
      /at least twice the send timeout/,
    );
  });
});
