import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { verifyChain } from "../../src/engine/audit.js";
import { get, KEYS, post, snapshot, type TestService, testService } from "../helpers.js";
import { type HttpPeer, httpPeer } from "../notify/peers.js";

/**
 * Handoffs and reroutes over HTTP: a human override is a decision record of its own (author and
 * reason, in the hash chain), and the escalation continues from the new owner's chain, which is
 * checked by what really arrives at a local webhook server on a virtual clock.
 */

const MIN = 60_000;
/** Monday afternoon: alice holds the primary schedule. */
const START = Date.parse("2026-11-30T14:00:00Z");
const GEN_KEY = "gen-key-0123456789";
const RESPONDER = "responder-token-0123";
const VIEWER = "viewer-token-012345";

function configText(base: string): string {
  return `
server:
  public_url: http://pagewise.test
  link_secret: handoff-test-secret-0123456789
users:
  - { name: alice, webhook: "${base}/alice" }
  - { name: bob, webhook: "${base}/bob" }
  - { name: carol, webhook: "${base}/carol" }
  - { name: dave, webhook: "${base}/dave" }
schedules:
  - name: primary
    timezone: UTC
    layers:
      - { name: weekly, participants: [alice], rotation: weekly, handoff: "09:00", handoff_day: mon, start: "2026-11-02" }
chains:
  - name: main
    steps:
      - { targets: [{ schedule: primary }], delay: 5m }
      - { targets: [{ user: bob }], delay: 5m }
  - name: db-chain
    steps:
      - { targets: [{ user: dave }], delay: 10m }
      - { targets: [{ channel: db-chat }], delay: 10m }
  - name: special
    steps:
      - { targets: [{ user: carol }], delay: 3m }
channels:
  - { name: ops-chat, kind: webhook, url: "${base}/ops-chat" }
  - { name: db-chat, kind: webhook, url: "${base}/db-chat" }
teams:
  - { name: ops, chain: main, channel: ops-chat }
  - { name: db, chain: db-chain, channel: db-chat }
services:
  - { name: api, team: ops, tier: 1 }
sources:
  - { name: gen, kind: generic, key: ${GEN_KEY}, auto_resolve_after: never }
policy:
  rules:
    - id: page-all
      route: { kind: page }
      rationale: In this test everything pages the owning team.
api_tokens:
  - { name: admin, token: ${KEYS.admin}, role: admin }
  - { name: rita, token: ${RESPONDER}, role: responder }
  - { name: vic, token: ${VIEWER}, role: viewer }
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
  body: Record<string, unknown>;
}

/** What arrived since the last call, by recipient path. */
function arrived(): Got[] {
  const out = peer.requests.slice(seen).map((r) => ({ to: r.url.slice(1), body: JSON.parse(r.body) }));
  seen = peer.requests.length;
  return out.sort((a, b) => a.to.localeCompare(b.to));
}
const who = () => arrived().map((g) => g.to);

async function tick(ms: number): Promise<void> {
  svc.clock.advance(ms);
  svc.engine.drainTimers();
  await svc.deliverer.drain();
}

async function page(): Promise<number> {
  const res = await post(
    svc.app,
    "/ingest/events",
    { summary: "API error rate above 5%", service: "api", severity: "critical", dedup_key: "cpu" },
    { key: GEN_KEY },
  );
  expect(res.statusCode).toBe(200);
  await svc.deliverer.drain();
  expect(who()).toEqual(["alice"]);
  return res.json().results[0].incident_id as number;
}

const act = (id: number | string, what: "reassign" | "reroute", body: unknown, key = RESPONDER) =>
  post(svc.app, `/api/v1/incidents/${id}/${what}`, body, { key });
const incident = async (id: number) => (await get(svc.app, `/api/v1/incidents/${id}`)).json().incident;

/** Every row that matters, outbox and decisions included: a refused request must change none. */
function everything(): string {
  const rows = (t: string) => JSON.stringify(svc.store.db.prepare(`SELECT * FROM ${t} ORDER BY id`).all());
  return [snapshot(svc), rows("outbox"), rows("decisions")].join("\n");
}

interface Override {
  reason: string;
  route: string;
  override: { action: string; author: string; reason: string; from: unknown; to: unknown };
  explanation: string;
  prev_hash: string;
  hash: string;
}

describe("reassign to a person", () => {
  it("records a decision, pages the new owner first, then the team chain; the old steps are dead", async () => {
    const id = await page();
    await tick(2 * MIN);
    expect(who()).toEqual([]);

    const res = await act(id, "reassign", { to_user: "carol", reason: "carol owns the cart service" });
    expect(res.statusCode).toBe(200);
    expect(res.json().incident).toMatchObject({
      id,
      assignee: "carol",
      team: "ops",
      status: "triggered",
      escalation: { chain: "handoff:carol", state: "running", step: 1, steps: 3 },
    });

    const inc = await incident(id);
    expect(inc.decisions).toHaveLength(2);
    const d = inc.decisions[1] as Override;
    expect(d).toMatchObject({
      reason: "override",
      route: "page",
      override: {
        action: "reassign",
        author: "rita",
        reason: "carol owns the cart service",
        from: { team: "ops", assignee: null },
        to: { team: "ops", assignee: "carol" },
      },
    });
    expect(d.explanation).toBe(
      "Handed over to carol by rita (a human override, not the policy): carol owns the cart service",
    );
    expect(d.prev_hash).toBe(inc.decisions[0].hash);
    const t = inc.timeline.find((x: { kind: string }) => x.kind === "reassigned");
    expect(t).toMatchObject({
      actor: "rita",
      detail: { action: "reassign", decision: (d as { id?: number }).id },
    });
    expect(verifyChain(svc.store)).toMatchObject({ ok: true, checked: 2 });

    // The new owner first, at once, with the handoff's reason as the message's rationale.
    await svc.deliverer.drain();
    const first = arrived();
    expect(first.map((g) => g.to)).toEqual(["carol"]);
    expect(first[0]?.body).toMatchObject({
      kind: "page",
      incident_id: id,
      recipient: { user: "carol" },
      rationale: "Handed over by rita: carol owns the cart service",
      note: "step 1 of chain handoff:carol",
    });
    expect(first[0]?.body.ack_url).toMatch(/^http:\/\/pagewise\.test\/l\//);

    // The old chain's step 2 (bob at START+5m) was fenced off by the handoff.
    await tick(3 * MIN);
    expect(who()).toEqual([]);
    // Then the team chain behind carol: its step 1 (the on-call, alice), then bob.
    await tick(2 * MIN - 1);
    expect(who()).toEqual([]);
    await tick(1);
    expect(who()).toEqual(["alice"]);
    await tick(5 * MIN);
    expect(who()).toEqual(["bob"]);
  });

  it("hands an acknowledged incident over as triggered: the new owner acknowledges for themselves", async () => {
    const id = await page();
    expect(
      (await post(svc.app, `/api/v1/incidents/${id}/acknowledge`, {}, { key: RESPONDER })).statusCode,
    ).toBe(200);
    const res = await act(id, "reassign", { to_user: "dave", reason: "end of my shift" });
    expect(res.statusCode).toBe(200);
    expect(res.json().incident).toMatchObject({
      status: "triggered",
      acknowledged_by: null,
      assignee: "dave",
    });
    await svc.deliverer.drain();
    expect(who()).toEqual(["dave"]);
  });
});

describe("reassign to a team", () => {
  it("makes the team the owner and starts its chain", async () => {
    const id = await page();
    const res = await act(id, "reassign", { to_team: "db", reason: "it is the database" });
    expect(res.statusCode).toBe(200);
    expect(res.json().incident).toMatchObject({
      team: "db",
      assignee: null,
      escalation: { chain: "db-chain", step: 1, state: "running" },
    });
    const d = (await incident(id)).decisions.at(-1) as Override;
    expect(d.override).toMatchObject({
      action: "reassign",
      author: "rita",
      from: { team: "ops" },
      to: { team: "db", assignee: null },
    });
    expect(d.explanation).toBe(
      "Handed over to team db by rita (a human override, not the policy): it is the database",
    );
    await svc.deliverer.drain();
    expect(who()).toEqual(["dave"]);
    // Not ops' step 2 at +5m; db's step 2 at +10m.
    await tick(5 * MIN);
    expect(who()).toEqual([]);
    await tick(5 * MIN);
    expect(who()).toEqual(["db-chat"]);
    expect(verifyChain(svc.store).ok).toBe(true);
  });
});

describe("reroute", () => {
  it("onto another chain: that chain's first step is paged, the admin's name is the author", async () => {
    const id = await page();
    const res = await act(
      id,
      "reroute",
      { route: { kind: "page", chain: "special" }, reason: "the cart expert first" },
      KEYS.admin,
    );
    expect(res.statusCode).toBe(200);
    expect(res.json().incident).toMatchObject({
      route: { kind: "page", chain: "special" },
      escalation: { chain: "special", step: 1 },
    });
    const inc = await incident(id);
    const d = inc.decisions.at(-1) as Override;
    expect(d).toMatchObject({
      reason: "override",
      route: "page",
      override: { action: "reroute", author: "admin", reason: "the cart expert first" },
    });
    expect(d.explanation).toContain("Rerouted to ");
    expect(d.explanation).toContain("special");
    expect(d.explanation).toContain("by admin (a human override, not the policy): the cart expert first");
    expect(
      inc.timeline.some((x: { kind: string; actor: string }) => x.kind === "rerouted" && x.actor === "admin"),
    ).toBe(true);
    await svc.deliverer.drain();
    expect(who()).toEqual(["carol"]);
    await tick(5 * MIN);
    expect(who()).not.toContain("bob");
    expect(verifyChain(svc.store)).toMatchObject({ ok: true, checked: 2 });
  });

  it("down to a notify: the escalation stops and the channel hears it once", async () => {
    const id = await page();
    const res = await act(id, "reroute", {
      route: { kind: "notify", channel: "db-chat" },
      reason: "known noise",
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().incident.escalation.state).toBe("stopped");
    await svc.deliverer.drain();
    const got = arrived();
    expect(got.map((g) => g.to)).toEqual(["db-chat"]);
    expect(got[0]?.body).toMatchObject({ kind: "notify", rationale: expect.stringContaining("known noise") });
    await tick(30 * MIN);
    expect(who()).toEqual([]);
  });
});

describe("refused overrides change nothing", () => {
  const cases: { name: string; what: "reassign" | "reroute"; body: unknown; errors: [string, string][] }[] = [
    {
      name: "missing reason",
      what: "reassign",
      body: { to_user: "carol" },
      errors: [["reason", "is required"]],
    },
    {
      name: "blank reason",
      what: "reassign",
      body: { to_user: "carol", reason: "  \t " },
      errors: [["reason", "must not be blank"]],
    },
    {
      name: "empty reason",
      what: "reroute",
      body: { route: { kind: "page" }, reason: "" },
      errors: [["reason", "must not be blank"]],
    },
    {
      name: "a blank reason and no target (both reported)",
      what: "reassign",
      body: { reason: " " },
      errors: [
        ["reason", "must not be blank"],
        ["", "give exactly one of to_user and to_team"],
      ],
    },
    {
      name: "a reason too long",
      what: "reassign",
      body: { to_user: "carol", reason: "x".repeat(2001) },
      errors: [["reason", "at most 2000 characters"]],
    },
    {
      name: "both targets",
      what: "reassign",
      body: { to_user: "carol", to_team: "db", reason: "x" },
      errors: [["", "give exactly one of to_user and to_team"]],
    },
    {
      name: "neither target",
      what: "reassign",
      body: { reason: "x" },
      errors: [["", "give exactly one of to_user and to_team"]],
    },
    {
      name: "unknown user",
      what: "reassign",
      body: { to_user: "mallory", reason: "x" },
      errors: [["to_user", 'unknown user "mallory"']],
    },
    {
      name: "unknown team",
      what: "reassign",
      body: { to_team: "nobody", reason: "x" },
      errors: [["to_team", 'unknown team "nobody"']],
    },
    {
      name: "unknown key",
      what: "reassign",
      body: { to_user: "carol", reason: "x", urgent: true },
      errors: [["urgent", "unknown key"]],
    },
    {
      name: "unknown chain",
      what: "reroute",
      body: { route: { kind: "page", chain: "nope" }, reason: "x" },
      errors: [["route.chain", 'unknown chain "nope"']],
    },
    {
      name: "unknown channel",
      what: "reroute",
      body: { route: { kind: "notify", channel: "nope" }, reason: "x" },
      errors: [["route.channel", "nope"]],
    },
    {
      name: "runbook",
      what: "reroute",
      body: { route: { kind: "runbook", playbook: "disk-cleanup" }, reason: "x" },
      errors: [["route.kind", "a human reroute takes page, triage, notify or suppress"]],
    },
    {
      name: "validate",
      what: "reroute",
      body: { route: { kind: "validate", for: "10m" }, reason: "x" },
      errors: [["route.kind", "a human reroute takes page, triage, notify or suppress"]],
    },
    {
      name: "missing route",
      what: "reroute",
      body: { reason: "x" },
      errors: [["route", "is required"]],
    },
    {
      name: "route of the wrong shape",
      what: "reroute",
      body: { route: { kind: "page", channel: "ops-chat" }, reason: "x" },
      errors: [["route.channel", "does not apply to a page route"]],
    },
  ];

  for (const c of cases) {
    it(`400 for ${c.name}, with the exact path`, async () => {
      const id = await page();
      const before = everything();
      const res = await act(id, c.what, c.body);
      expect(res.statusCode).toBe(400);
      const error = res.json().error;
      expect(error.code).toBe("PW_INVALID_BODY");
      expect(error.message).toContain("nothing changed");
      const got = (error.errors as { field: string; reason: string }[]).map((e) => [e.field, e.reason]);
      for (const [field, reason] of c.errors) {
        expect(got, JSON.stringify(got)).toContainEqual([field, expect.stringContaining(reason)]);
      }
      expect(got).toHaveLength(c.errors.length);
      expect(everything()).toBe(before);
      await svc.deliverer.drain();
      expect(who()).toEqual([]);
    });
  }

  it("404 for an unknown incident, 409 for a resolved one, 403 for a viewer or an ingest key, 401 without a token", async () => {
    const id = await page();
    const body = { to_user: "carol", reason: "x" };
    const before = everything();
    const missing = await act(999, "reassign", body);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe("PW_NOT_FOUND");
    expect((await act("abc", "reroute", { route: { kind: "page" }, reason: "x" })).statusCode).toBe(404);
    const viewer = await act(id, "reassign", body, VIEWER);
    expect(viewer.statusCode).toBe(403);
    expect(viewer.json().error.message).toContain("responder");
    expect((await act(id, "reroute", { route: { kind: "page" }, reason: "x" }, VIEWER)).statusCode).toBe(403);
    expect((await act(id, "reassign", body, GEN_KEY)).statusCode).toBe(403);
    const anonymous = await svc.app.inject({
      method: "POST",
      url: `/api/v1/incidents/${id}/reassign`,
      headers: { "content-type": "application/json" },
      payload: JSON.stringify(body),
    });
    expect(anonymous.statusCode).toBe(401);
    expect(everything()).toBe(before);

    expect((await post(svc.app, `/api/v1/incidents/${id}/resolve`, {}, { key: RESPONDER })).statusCode).toBe(
      200,
    );
    const resolved = everything();
    const late = await act(id, "reassign", body);
    expect(late.statusCode).toBe(409);
    expect(late.json().error.code).toBe("PW_ILLEGAL_TRANSITION");
    const lateRoute = await act(id, "reroute", { route: { kind: "page", chain: "special" }, reason: "x" });
    expect(lateRoute.statusCode).toBe(409);
    expect(everything()).toBe(resolved);
  });
});
