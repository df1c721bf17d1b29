import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { post, type TestService, testService } from "../helpers.js";
import { type HttpPeer, httpPeer } from "../notify/peers.js";

/** A muted incident that still fires is decided again when its mute ends, and pages then. */

const MIN = 60_000;
const START = Date.parse("2026-11-30T14:00:00Z");
const KEY = "gen-key-0123456789";

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
  - { name: ops-feed, kind: webhook, url: "${base}/ops-feed" }
teams:
  - { name: ops, chain: main }
services:
  - { name: api, team: ops, tier: 1 }
  - { name: db, team: ops, tier: 1 }
  - { name: batch, team: ops, tier: 3 }
sources:
  - { name: gen, kind: generic, key: ${KEY}, auto_resolve_after: never }
policy:
  rules:
    - id: batch-feed
      match: { service: batch }
      route: { kind: notify, channel: ops-feed }
      rationale: Batch jobs only tell the feed.
    - id: page-all
      route: { kind: page }
      rationale: Everything pages in this test.
  maintenance_windows:
    - id: db-upgrade
      services: [db, batch]
      once: { start: "2026-11-30T14:00:00Z", end: "2026-11-30T15:00:00Z" }
      mute: true
      rationale: Planned upgrade.
api_tokens:
  - { name: admin, token: demo-admin-token, role: admin }
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

async function fire(
  service: string,
  dedup: string,
  action: "trigger" | "resolve" = "trigger",
): Promise<number> {
  const res = await post(
    svc.app,
    "/ingest/events",
    { action, summary: `${service} down`, service, severity: "critical", dedup_key: dedup },
    { key: KEY },
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

const pages = () => peer.requests.length;
const reasons = async (id: number) => (await svc.store.incidentDecisions(id)).map((d) => d.reason);

describe("when a mute ends", () => {
  it("a silence that expires while the alert still fires: decided again at its end, and paged", async () => {
    const s = await post(
      svc.app,
      "/api/v1/silences",
      { matchers: ['service="api"'], duration: "30m", comment: "deploying" },
      { key: "demo-admin-token" },
    );
    expect(s.statusCode).toBe(201);
    const id = await fire("api", "api-down");
    expect((await svc.store.getIncident(id))?.status).toBe("suppressed");
    await tick(30 * MIN - 1);
    expect(pages()).toBe(0);
    await tick(1);
    expect((await svc.store.getIncident(id))?.status).toBe("triggered");
    expect(pages()).toBe(1);
    expect(await reasons(id)).toEqual(["opened", "unmuted"]);
  });

  it("a maintenance window that closes: looked at again within five minutes, no record while it lasts", async () => {
    const id = await fire("db", "db-down");
    expect((await svc.store.getIncident(id))?.status).toBe("suppressed");
    await tick(60 * MIN - 1);
    expect(pages()).toBe(0);
    await tick(5 * MIN);
    expect(pages()).toBe(1);
    // Checked every five minutes during the hour, but only the end wrote a decision.
    expect(await reasons(id)).toEqual(["opened", "unmuted"]);
  });

  it("a notify decided while muted is told when the mute ends (a muted route was never carried out)", async () => {
    const id = await fire("batch", "batch-late");
    expect((await svc.store.getIncident(id))?.route).toBeNull();
    await tick(60 * MIN - 1);
    expect(peer.requests.map((r) => r.url)).toEqual([]);
    await tick(5 * MIN);
    expect(peer.requests.map((r) => r.url)).toEqual(["/ops-feed"]);
    expect((await svc.store.getIncident(id))?.route).toMatchObject({ kind: "notify" });
  });

  it("an alert that resolved during the mute pages nobody afterwards", async () => {
    const id = await fire("db", "db-down");
    await tick(10 * MIN);
    await fire("db", "db-down", "resolve");
    await tick(60 * MIN);
    expect(pages()).toBe(0);
    expect((await svc.store.getIncident(id))?.status).toBe("resolved");
  });
});
