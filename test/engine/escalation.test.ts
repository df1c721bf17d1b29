import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Incident } from "../../src/core/incident.js";
import type { Escalation } from "../../src/core/oncall/chain.js";
import { verifyChain } from "../../src/engine/audit.js";
import { NO_FACTS } from "../../src/engine/escalation.js";
import type { Timer } from "../../src/engine/ports.js";
import { runTimer, type TimerEnv } from "../../src/engine/timers.js";
import { post, type TestService, testService } from "../helpers.js";
import { type HttpPeer, httpPeer } from "../notify/peers.js";

/**
 * Escalation end to end on a virtual clock: a real service on a real SQLite file, its outbox
 * delivered over real HTTP to a local server that records who got what.
 */

const MIN = 60_000;
const HOUR = 60 * MIN;
/** A Monday afternoon: alice has the primary schedule's daily shift (09:00 UTC to 09:00 UTC). */
const START = Date.parse("2026-11-30T14:00:00Z");
const GEN_KEY = "gen-key-0123456789";
/** A source whose alerts of one service group into one incident (so later alerts are re-decided). */
const GROUPED_KEY = "grouped-key-0123456789";

function configText(base: string): string {
  return `
server:
  public_url: http://pagewise.test
  link_secret: a-test-link-secret-0123456789
users:
  - { name: alice, webhook: "${base}/alice" }
  - { name: bob, webhook: "${base}/bob" }
  - { name: carol, webhook: "${base}/carol" }
  - { name: dave, webhook: "${base}/dave" }
schedules:
  - name: primary
    timezone: UTC
    layers:
      - { name: daily, participants: [alice, dave], rotation: daily, handoff: "09:00", start: "2026-11-30" }
chains:
  - name: main
    steps:
      - { targets: [{ schedule: primary }], delay: 5m }
      - { targets: [{ user: bob }], delay: 5m }
      - { targets: [{ channel: team-chat }], delay: 5m }
    repeat: 1
    ack_timeout: 30m
  - name: quiet
    steps:
      - { targets: [{ user: carol }], delay: 5m }
      - { targets: [{ user: bob }], delay: 5m }
channels:
  - { name: team-chat, kind: webhook, url: "${base}/team-chat" }
teams:
  - { name: ops, chain: main, channel: team-chat }
services:
  - { name: api, team: ops, tier: 1 }
sources:
  - { name: gen, kind: generic, key: ${GEN_KEY}, auto_resolve_after: never }
  - { name: grouped, kind: generic, key: ${GROUPED_KEY}, auto_resolve_after: never, group_by: [service] }
policy:
  rules:
    - id: two-person
      match: { labels: ['pair="yes"'] }
      route: { kind: page, two_person: true }
      rationale: Paired alerts wake two people at once.
    - id: quiet-chain
      match: { labels: ['chain="quiet"'] }
      route: { kind: page, chain: quiet }
      rationale: The quiet chain has no ack timeout.
    - id: page-all
      route: { kind: page }
      rationale: In this test everything pages the owning team.
`;
}

let peer: HttpPeer;
let svc: TestService;
let seen = 0;

beforeEach(async () => {
  peer = await httpPeer({ status: 200 });
  svc = await testService(configText(peer.url.replace(/\/hook$/, "")), START);
  seen = 0;
});
afterEach(async () => {
  await svc.dispose();
  await peer.close();
});

interface Got {
  to: string;
  key: string;
  body: Record<string, unknown>;
}

/** What arrived over the wire since the last call, sorted by recipient (a batch is sent in parallel). */
function arrived(): Got[] {
  const out = peer.requests.slice(seen).map((r) => ({
    to: r.url.replace(/^\//, ""),
    key: String(r.headers["idempotency-key"]),
    body: JSON.parse(r.body) as Record<string, unknown>,
  }));
  seen = peer.requests.length;
  return out.sort((a, b) => a.to.localeCompare(b.to));
}
const recipients = () => arrived().map((g) => g.to);

/** Moves the clock, runs what fell due, delivers what that queued. */
async function tick(ms: number): Promise<void> {
  svc.clock.advance(ms);
  svc.engine.drainTimers();
  await svc.deliverer.drain();
}

async function page(
  labels: Record<string, string> = {},
  dedup = "cpu",
  key = GEN_KEY,
  action: "trigger" | "resolve" = "trigger",
): Promise<number> {
  const res = await post(
    svc.app,
    "/ingest/events",
    {
      action,
      summary: "API error rate above 5%",
      service: "api",
      severity: "critical",
      dedup_key: dedup,
      labels,
    },
    { key },
  );
  expect(res.statusCode).toBe(200);
  const id = res.json().results[0].incident_id as number;
  await svc.deliverer.drain();
  return id;
}

async function incident(id: number): Promise<Incident> {
  const i = await svc.store.getIncident(id);
  if (i === undefined) throw new Error(`no incident ${id}`);
  return i;
}
const escalation = async (id: number) => (await incident(id)).escalation as Escalation;

function timers(id: number): { kind: string; dueAt: number; fence: number }[] {
  const rows = svc.store.db
    .prepare(
      "SELECT kind, due_at, payload FROM timers WHERE ref = ? AND kind IN ('escalation_step', 'ack_timeout') ORDER BY kind",
    )
    .all(id) as { kind: string; due_at: number; payload: string }[];
  return rows.map((r) => ({ kind: r.kind, dueAt: Number(r.due_at), fence: JSON.parse(r.payload).fence }));
}

const timeline = async (id: number) => (await svc.store.incidentTimeline(id)).map((t) => t.kind);
const outboxRows = (id: number) => svc.store.deliveries({ incidentId: id, limit: 1000 }).length;

/** The engine's timer environment, as its own worker builds it (private; a race needs it here). */
function timerEnv(): TimerEnv {
  return (svc.engine as unknown as { env(now: number): TimerEnv }).env(svc.clock.now());
}

describe("escalation over the wire", () => {
  it("pages step 1 at once, nothing before the delay, then step 2 and 3 with their own keys", async () => {
    const id = await page();
    const first = arrived();
    expect(first.map((g) => g.to)).toEqual(["alice"]);
    expect(first[0]?.key).toBe(`${id}:1:0:0:schedule:primary:alice:webhook`);
    expect(first[0]?.body).toMatchObject({
      kind: "page",
      idempotency_key: first[0]?.key,
      incident_id: id,
      status: "triggered",
      service: "api",
      team: "ops",
      rule: "page-all",
      rationale: "In this test everything pages the owning team.",
      recipient: { user: "alice" },
      note: "step 1 of chain main",
    });
    const ackUrl = String(first[0]?.body.ack_url);
    expect(ackUrl).toMatch(/^http:\/\/pagewise\.test\/l\/./);
    expect(timers(id)).toEqual([{ kind: "escalation_step", dueAt: START + 5 * MIN, fence: 1 }]);

    // Just before the delay: nothing more, however often the workers run.
    for (let i = 0; i < 4; i++) await tick(MIN);
    await tick(MIN - 1);
    expect(arrived()).toEqual([]);

    await tick(1);
    const second = arrived();
    expect(second.map((g) => g.to)).toEqual(["bob"]);
    expect(second[0]?.key).toBe(`${id}:1:0:1:user:bob:webhook`);
    // The first decision's facts ride along with the timer: step 2 says what step 1 said.
    expect(second[0]?.body).toMatchObject({
      rule: "page-all",
      score: first[0]?.body.score,
      band: first[0]?.body.band,
      links: first[0]?.body.links,
      recipient: { user: "bob" },
      note: "step 2 of chain main",
    });
    // Every recipient gets a link signed for them.
    expect(second[0]?.body.ack_url).not.toBe(ackUrl);

    await tick(5 * MIN);
    const third = arrived();
    expect(third.map((g) => [g.to, g.key])).toEqual([["team-chat", `${id}:1:0:2:channel:team-chat`]]);
    expect(third[0]?.body.recipient).toBeNull();
    expect(await escalation(id)).toMatchObject({ step: 2, round: 0, state: "running", fence: 1 });
  });

  it("an acknowledgement stops the chain until the ack timeout, which re-escalates from the top", async () => {
    const id = await page();
    expect(recipients()).toEqual(["alice"]);
    await tick(5 * MIN);
    const bobs = arrived();
    expect(bobs.map((g) => g.to)).toEqual(["bob"]);

    // Bob acknowledges from his message's signed link.
    const bobAck = String(bobs[0]?.body.ack_url);
    await tick(MIN);
    const used = svc.engine.useLink(bobAck.slice(bobAck.indexOf("/l/") + 3));
    expect(used.kind).toBe("done");
    expect(await incident(id)).toMatchObject({ status: "acknowledged", acknowledgedBy: "bob" });
    expect(await escalation(id)).toMatchObject({ state: "acknowledged", fence: 2 });
    expect(timers(id)).toEqual([{ kind: "ack_timeout", dueAt: START + 36 * MIN, fence: 2 }]);

    // Minute by minute up to the ack timeout: the chain's later steps never fire.
    for (let i = 0; i < 29; i++) await tick(MIN);
    expect(arrived()).toEqual([]);
    expect((await incident(id)).status).toBe("acknowledged");

    // Acknowledged but not resolved for 30 minutes: triggered again, the chain restarts at step 1.
    await tick(MIN);
    const again = arrived();
    expect(again.map((g) => [g.to, g.key])).toEqual([
      ["alice", `${id}:3:0:0:schedule:primary:alice:webhook`],
    ]);
    expect(again[0]?.body.status).toBe("triggered");
    expect(await incident(id)).toMatchObject({
      status: "triggered",
      acknowledgedAt: null,
      acknowledgedBy: null,
    });
    expect(await escalation(id)).toMatchObject({ state: "running", step: 0, round: 0, fence: 3 });
    expect(await timeline(id)).toContain("reopened");
    expect(timers(id)).toEqual([{ kind: "escalation_step", dueAt: START + 41 * MIN, fence: 3 }]);
    await tick(5 * MIN);
    expect(recipients()).toEqual(["bob"]);
  });

  it("on a chain without an ack timeout an acknowledgement is the end: hours pass, nobody is paged", async () => {
    const id = await page({ chain: "quiet" });
    expect(recipients()).toEqual(["carol"]);
    await tick(2 * MIN);
    svc.engine.acknowledge(id, "carol");
    expect(timers(id)).toEqual([]);
    for (let i = 0; i < 12; i++) await tick(30 * MIN);
    expect(arrived()).toEqual([]);
    expect(outboxRows(id)).toBe(1);
    expect(await incident(id)).toMatchObject({ status: "acknowledged" });
  });

  it("a two_person route pages the first two steps at once", async () => {
    const id = await page({ pair: "yes" });
    const got = arrived();
    expect(got.map((g) => [g.to, g.key])).toEqual([
      ["alice", `${id}:1:0:0:schedule:primary:alice:webhook`],
      ["bob", `${id}:1:0:1:user:bob:webhook`],
    ]);
    // The next wait is the second step's, then the third step follows.
    expect(timers(id)).toEqual([{ kind: "escalation_step", dueAt: START + 5 * MIN, fence: 1 }]);
    await tick(5 * MIN);
    expect(recipients()).toEqual(["team-chat"]);
  });

  it("repeats the chain once after the last step, then records escalation_exhausted and stops", async () => {
    const id = await page();
    const order: string[][] = [recipients()];
    for (let i = 0; i < 6; i++) {
      await tick(5 * MIN);
      order.push(recipients());
    }
    // Once told, the team channel also hears each later escalation (an update, not a page).
    expect(order).toEqual([
      ["alice"],
      ["bob"],
      ["team-chat"],
      ["alice", "team-chat"],
      ["bob", "team-chat"],
      ["team-chat"],
      [],
    ]);
    const updates = svc.store
      .deliveries({ incidentId: id, limit: 100 })
      .filter((d) => d.message.kind === "update")
      .map((d) => d.message.note);
    expect(updates.sort()).toEqual(["escalated to step 1: alice", "escalated to step 2: bob"]);
    // The second round has keys of its own: the idempotency keys do not swallow the repeat.
    const keys = svc.store
      .deliveries({ incidentId: id, limit: 100 })
      .filter((d) => d.message.kind === "page")
      .map((d) => d.idempotencyKey)
      .sort();
    expect(keys).toEqual(
      [
        `${id}:1:0:0:schedule:primary:alice:webhook`,
        `${id}:1:0:1:user:bob:webhook`,
        `${id}:1:0:2:channel:team-chat`,
        `${id}:1:1:0:schedule:primary:alice:webhook`,
        `${id}:1:1:1:user:bob:webhook`,
        `${id}:1:1:2:channel:team-chat`,
      ].sort(),
    );
    const rows = await svc.store.incidentTimeline(id);
    const exhausted = rows.filter((r) => r.kind === "escalation_exhausted");
    expect(exhausted).toHaveLength(1);
    expect(exhausted[0]).toMatchObject({ at: START + 30 * MIN, detail: { chain: "main", rounds: 2 } });
    expect(await escalation(id)).toMatchObject({ state: "exhausted" });
    expect(timers(id)).toEqual([]);
    await tick(3 * HOUR);
    expect(arrived()).toEqual([]);
  });

  it("a resolve stops everything: no timer is left and hours pass in silence", async () => {
    const id = await page();
    await tick(5 * MIN);
    expect(recipients()).toEqual(["alice", "bob"]);
    svc.engine.acknowledge(id, "bob");
    expect(timers(id)).toHaveLength(1);
    await tick(MIN);
    svc.engine.resolve(id, "bob");
    expect(timers(id)).toEqual([]);
    expect(await escalation(id)).toMatchObject({ state: "stopped" });
    const before = outboxRows(id);
    for (let i = 0; i < 8; i++) await tick(HOUR);
    expect(arrived()).toEqual([]);
    expect(outboxRows(id)).toBe(before);
    expect(
      svc.store.db.prepare("SELECT COUNT(*) AS n FROM timers WHERE ref = ? AND kind != 'retention'").get(id),
    ).toEqual({ n: 0 });
  });

  it("a resolve of a running (unacknowledged) escalation cancels its step timer", async () => {
    const id = await page();
    arrived();
    svc.engine.resolve(id, "alice");
    expect(timers(id)).toEqual([]);
    await tick(HOUR);
    expect(arrived()).toEqual([]);
  });

  it("a stale escalation_step timer (armed before an ack) does nothing when it fires", async () => {
    const id = await page();
    arrived();
    const before = await escalation(id);
    await tick(2 * MIN);
    svc.engine.acknowledge(id, "alice");
    const acked = await escalation(id);
    expect(acked.fence).toBeGreaterThan(before.fence);
    // A step timer with the old fence, as one left behind by a worker that claimed it before the ack.
    svc.store.transaction((tx) =>
      tx.armTimer("escalation_step", id, START + 5 * MIN, "set", { fence: before.fence, facts: NO_FACTS }),
    );
    const rows = outboxRows(id);
    await tick(3 * MIN);
    expect(arrived()).toEqual([]);
    expect(outboxRows(id)).toBe(rows);
    expect(await escalation(id)).toEqual(acked);
    expect((await incident(id)).status).toBe("acknowledged");
    // The stale timer is gone; the ack timeout it did not touch still fires in time.
    expect(timers(id)).toEqual([{ kind: "ack_timeout", dueAt: START + 32 * MIN, fence: acked.fence }]);
    await tick(27 * MIN);
    expect(recipients()).toEqual(["alice"]);
  });
});

describe("escalation and the incident's other ways out", () => {
  it("a sender's resolve stops the escalation like a person's", async () => {
    const id = await page();
    expect(recipients()).toEqual(["alice"]);
    await tick(2 * MIN);
    expect(await page({}, "cpu", GEN_KEY, "resolve")).toBe(id);
    expect(await incident(id)).toMatchObject({ status: "resolved", resolveReason: "alerts_resolved" });
    expect(await escalation(id)).toMatchObject({ state: "stopped" });
    expect(timers(id)).toEqual([]);
    for (let i = 0; i < 4; i++) await tick(HOUR);
    expect(arrived()).toEqual([]);
  });

  it("a muted incident pages no one at its next step; lifting the mute pages again from the top", async () => {
    const id = await page({}, "one", GROUPED_KEY);
    expect(recipients()).toEqual(["alice"]);
    const silence = svc.engine.addSilence({
      matchers: ['service="api"'],
      startsAt: svc.clock.now(),
      endsAt: svc.clock.now() + 2 * HOUR,
      author: "carol",
      comment: "load test",
    });
    await tick(MIN);
    expect(await page({}, "two", GROUPED_KEY)).toBe(id);
    expect((await incident(id)).status).toBe("suppressed");

    // Step 2 falls due while the incident is muted: bob is not paged, the escalation stops.
    await tick(4 * MIN);
    expect(arrived()).toEqual([]);
    expect(await escalation(id)).toMatchObject({ state: "stopped" });
    expect(timers(id)).toEqual([]);
    await tick(HOUR);
    expect(arrived()).toEqual([]);

    // The silence ends and a new alert is decided unmuted: the page starts over at step 1.
    svc.engine.expireSilence(silence.id);
    expect(await page({}, "three", GROUPED_KEY)).toBe(id);
    expect((await incident(id)).status).toBe("triggered");
    const again = arrived();
    expect(again.map((g) => g.to)).toEqual(["alice"]);
    expect(again[0]?.key).toBe(`${id}:3:0:0:schedule:primary:alice:webhook`);
    await tick(5 * MIN);
    expect(recipients()).toEqual(["bob"]);
  });
});

describe("handoff", () => {
  it("a reassign to bob restarts escalation at bob, is a chained decision record, and stales the old timer", async () => {
    const id = await page();
    expect(recipients()).toEqual(["alice"]);
    await tick(2 * MIN);
    const old = await escalation(id);
    const oldTimerRow = svc.store.db
      .prepare("SELECT * FROM timers WHERE kind = 'escalation_step' AND ref = ?")
      .get(id) as { id: number; due_at: number; payload: string };
    expect(JSON.parse(oldTimerRow.payload).fence).toBe(old.fence);

    const next = svc.engine.override(id, {
      kind: "reassign",
      to: { user: "bob" },
      author: "carol",
      reason: "alice is on a plane",
    });
    expect(next.assignee).toBe("bob");
    await svc.deliverer.drain();
    const got = arrived();
    expect(got.map((g) => [g.to, g.key])).toEqual([["bob", `${id}:3:0:0:user:bob:webhook`]]);
    expect(got[0]?.body).toMatchObject({ note: "step 1 of chain handoff:bob", recipient: { user: "bob" } });
    expect(String(got[0]?.body.rationale)).toContain("alice is on a plane");

    const e = await escalation(id);
    expect(e).toMatchObject({ state: "running", step: 0, round: 0, chain: { name: "handoff:bob" } });
    expect(e.fence).toBeGreaterThan(old.fence);
    // Bob first, then the team's chain from its top.
    expect(e.chain.steps.map((s) => s.targets)).toEqual([
      [{ kind: "user", user: "bob" }],
      [{ kind: "schedule", schedule: "primary" }],
      [{ kind: "user", user: "bob" }],
      [{ kind: "channel", channel: "team-chat" }],
    ]);

    // The override is a decision record chained to the one before it, and the chain verifies.
    const decisions = await svc.store.incidentDecisions(id);
    expect(decisions.map((d) => d.reason)).toEqual(["opened", "override"]);
    const [opened, override] = decisions as [(typeof decisions)[0], (typeof decisions)[0]];
    expect(override.prevHash).toBe(opened.hash);
    expect(override.body).toMatchObject({
      reason: "override",
      override: {
        action: "reassign",
        author: "carol",
        reason: "alice is on a plane",
        from: { assignee: null },
        to: { assignee: "bob", team: "ops" },
      },
    });
    expect(verifyChain(svc.store)).toEqual({ ok: true, checked: 2, head: override.hash });
    const reassigned = (await svc.store.incidentTimeline(id)).find((t) => t.kind === "reassigned");
    expect(reassigned).toMatchObject({ actor: "carol", detail: { decision: override.id } });

    // The pending step timer now carries the new fence and the handoff's delay.
    expect(timers(id)).toEqual([{ kind: "escalation_step", dueAt: START + 7 * MIN, fence: e.fence }]);

    // A worker that claimed the old step timer before the handoff runs it now: it is stale.
    const stale: Timer = {
      id: oldTimerRow.id,
      kind: "escalation_step",
      ref: id,
      dueAt: Number(oldTimerRow.due_at),
      attempts: 1,
      leaseOwner: "another-worker",
      leaseUntil: START + 10 * MIN,
      payload: JSON.parse(oldTimerRow.payload),
    };
    svc.clock.set(START + 5 * MIN);
    const rows = outboxRows(id);
    expect(svc.store.transaction((tx) => runTimer(tx, stale, timerEnv()))).toEqual({ kind: "done" });
    expect(outboxRows(id)).toBe(rows);
    expect(await escalation(id)).toEqual(e);
    // At the old chain's step 2 time nothing is sent; the handoff chain's step 2 comes at +5m.
    svc.engine.drainTimers();
    await svc.deliverer.drain();
    expect(arrived()).toEqual([]);
    await tick(2 * MIN);
    expect(arrived().map((g) => [g.to, g.key])).toEqual([
      ["alice", `${id}:3:0:1:schedule:primary:alice:webhook`],
    ]);
  });

  it("a handoff of an acknowledged page triggers it again for the new owner", async () => {
    const id = await page();
    arrived();
    svc.engine.acknowledge(id, "alice");
    expect(timers(id).map((t) => t.kind)).toEqual(["ack_timeout"]);
    svc.engine.override(id, {
      kind: "reassign",
      to: { user: "bob" },
      author: "alice",
      reason: "end of shift",
    });
    await svc.deliverer.drain();
    expect(recipients()).toEqual(["bob"]);
    expect(await incident(id)).toMatchObject({ status: "triggered", assignee: "bob" });
    // The ack timeout of the old escalation is gone with it.
    expect(timers(id).map((t) => t.kind)).toEqual(["escalation_step"]);
  });
});
