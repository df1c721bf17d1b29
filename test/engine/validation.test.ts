import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { get, post, type TestService, testService } from "../helpers.js";
import { type HttpPeer, httpPeer } from "../notify/peers.js";

/**
 * Validation holds on a virtual clock: a transient alert closes quietly, a lasting one is decided
 * at the end of its window, and new evidence (on the incident or on its service) ends the hold
 * at once. Pages go over real HTTP to a local server.
 */

const MIN = 60_000;
const START = Date.parse("2026-11-30T14:00:00Z");
const KEY = "grouped-key-0123456789";
const OTHER_KEY = "other-key-0123456789";

function configText(base: string): string {
  return `
users:
  - { name: alice, webhook: "${base}/alice" }
schedules:
  - name: primary
    timezone: UTC
    layers: [{ name: all, participants: [alice], rotation: daily, handoff: "09:00", start: "2026-11-30" }]
chains:
  - { name: main, steps: [{ targets: [{ schedule: primary }], delay: 5m }] }
channels:
  - { name: team-chat, kind: webhook, url: "${base}/team-chat" }
teams:
  - { name: ops, chain: main, channel: team-chat }
services:
  - { name: api, team: ops, tier: 1 }
sources:
  - { name: grouped, kind: generic, key: ${KEY}, auto_resolve_after: never, group_by: [service] }
  - { name: other, kind: generic, key: ${OTHER_KEY}, auto_resolve_after: never }
policy:
  rules:
    - id: second-alert-pages
      match: { labels: ['hold="yes"'], count: { alerts: 2, within: 10m } }
      route: { kind: page }
      rationale: Two alerts on a held incident are evidence enough.
    - id: busy-team-pages
      match: { labels: ['hold="yes"'], team_load: { at_least: 1 } }
      route: { kind: page }
      rationale: Another open incident on the team corroborates the held one.
    - id: strict-hold
      match: { labels: ['hold="yes"', 'confirm="never"'] }
      route: { kind: validate, for: 10m, after: { kind: page }, confirm_above: 0.999 }
      rationale: Hold; confirm only on overwhelming evidence.
    - id: lenient-hold
      match: { labels: ['hold="yes"'] }
      route: { kind: validate, for: 10m, after: { kind: page }, confirm_above: 0 }
      rationale: Hold; confirm when it is still firing at the end.
    - id: default
      route: { kind: notify, channel: team-chat }
      rationale: Everything else is told to the channel.
`;
}

let peer: HttpPeer;
let svc: TestService;

beforeEach(async () => {
  peer = await httpPeer({ status: 200 });
  svc = await testService(configText(peer.url.replace(/\/hook$/, "")), START);
});
afterEach(async () => {
  await svc.dispose();
  await peer.close();
});

async function send(
  dedup: string,
  labels: Record<string, string>,
  action: "trigger" | "resolve" = "trigger",
  key = KEY,
): Promise<number> {
  const res = await post(
    svc.app,
    "/ingest/events",
    { action, summary: `alert ${dedup}`, service: "api", severity: "critical", dedup_key: dedup, labels },
    { key },
  );
  expect(res.statusCode).toBe(200);
  await svc.deliverer.drain();
  return res.json().results[0].incident_id as number;
}

async function tick(ms: number): Promise<void> {
  svc.clock.advance(ms);
  svc.engine.drainTimers();
  await svc.deliverer.drain();
}

const delivered = () =>
  peer.requests.map((r) => {
    const body = JSON.parse(r.body);
    return { to: r.url.replace(/^\//, ""), incident: body.incident_id as number, kind: body.kind as string };
  });

async function validations(id: number): Promise<Record<string, unknown>[]> {
  return (await svc.store.incidentTimeline(id)).filter((t) => t.kind === "validated").map((t) => t.detail);
}
const status = async (id: number) => (await svc.store.getIncident(id))?.status;

async function metric(result: string): Promise<number> {
  const text = (await get(svc.app, "/metrics")).body;
  const m = text.match(
    new RegExp(`pagewise_time_to_validation_seconds_count\\{result="${result}"\\} (\\d+)`),
  );
  return m === null ? 0 : Number(m[1]);
}

describe("validation holds", () => {
  it("closes a transient alert quietly: nobody hears of it, and the result is recorded", async () => {
    const id = await send("blip", { hold: "yes", confirm: "never" });
    expect(await status(id)).toBe("validating");
    await tick(3 * MIN);
    await send("blip", { hold: "yes", confirm: "never" }, "resolve");
    expect(await status(id)).toBe("resolved");
    await tick(7 * MIN);
    expect(delivered()).toEqual([]);
    const [v] = await validations(id);
    expect(v).toMatchObject({ result: "not_confirmed", time_to_validation_s: 180 });
    expect(String(v?.reason)).toMatch(/resolved during the hold/);
    expect(await metric("not_confirmed")).toBe(1);
  });

  it("closes a lasting alert whose score stayed below the threshold, as not confirmed", async () => {
    const id = await send("steady", { hold: "yes", confirm: "never" });
    await tick(10 * MIN - 1);
    expect(await status(id)).toBe("validating");
    await tick(1);
    const incident = await svc.store.getIncident(id);
    expect(incident).toMatchObject({ status: "resolved", resolveReason: "not_confirmed" });
    const alerts = await svc.store.incidentAlerts(id);
    expect(alerts.map((a) => a.status)).toEqual(["resolved"]);
    const [v] = await validations(id);
    expect(v).toMatchObject({ result: "not_confirmed", time_to_validation_s: 600 });
    expect(String(v?.reason)).toMatch(/stayed below 1\.00|stayed below 0\.999|stayed below/);
    expect(delivered()).toEqual([]);
    // The window-end decision is a record of its own.
    const reasons = (await svc.store.incidentDecisions(id)).map((d) => d.reason);
    expect(reasons).toEqual(["opened", "validation_end"]);
  });

  it("confirms at the end of the window when the score reached the threshold, then pages", async () => {
    const id = await send("real", { hold: "yes" });
    await tick(10 * MIN - 1);
    expect(delivered()).toEqual([]);
    await tick(1);
    expect(await status(id)).toBe("triggered");
    expect(delivered()).toEqual([{ to: "alice", incident: id, kind: "page" }]);
    expect(await validations(id)).toMatchObject([{ result: "confirmed", time_to_validation_s: 600 }]);
    // The window's decision, then the confirmation that routed it on: both in the chain.
    const records = await svc.store.incidentDecisions(id);
    expect(records.map((d) => [d.reason, d.route])).toEqual([
      ["opened", "validate"],
      ["validation_end", "validate"],
      ["validation_end", "page"],
    ]);
    expect(await metric("confirmed")).toBe(1);
  });

  it("a new alert on the held incident escalates it at once, and the window's end does nothing more", async () => {
    const id = await send("first", { hold: "yes", confirm: "never" });
    await tick(2 * MIN);
    const same = await send("second", { hold: "yes", confirm: "never" });
    expect(same).toBe(id);
    expect(await status(id)).toBe("triggered");
    expect(delivered()).toEqual([{ to: "alice", incident: id, kind: "page" }]);
    const v = await validations(id);
    expect(v).toMatchObject([{ result: "confirmed", time_to_validation_s: 120 }]);
    expect(String(v[0]?.reason)).toMatch(/new_alert/);
    await tick(10 * MIN);
    expect(await validations(id)).toHaveLength(1);
    expect(await status(id)).toBe("triggered");
  });

  it("a corroborating alert on the service re-decides the held incident at once", async () => {
    const held = await send("held", { hold: "yes", confirm: "never" });
    expect(await status(held)).toBe("validating");
    await tick(MIN);
    const other = await send("elsewhere", { alertname: "Latency" }, "trigger", OTHER_KEY);
    expect(other).not.toBe(held);
    expect(await status(held)).toBe("triggered");
    expect(delivered()).toContainEqual({ to: "alice", incident: held, kind: "page" });
    const [v] = await validations(held);
    expect(v).toMatchObject({ result: "confirmed", time_to_validation_s: 60 });
    expect(String(v?.reason)).toMatch(/corroborated/);
  });
});
