import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { get, post, type TestService, testService } from "../helpers.js";
import { type HttpPeer, httpPeer } from "../notify/peers.js";

/** Heartbeats on a virtual clock: pings and Watchdog alerts keep them alive; silence opens an incident. */

const MIN = 60_000;
const START = Date.parse("2026-11-30T14:00:00Z");
const JOB_KEY = "job-key-0123456789";
const AM_KEY = "am-key-0123456789";

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
teams:
  - { name: ops, chain: main }
services:
  - { name: monitoring, team: ops, tier: 1 }
  - { name: backups, team: ops, tier: 2 }
sources:
  - { name: jobs, kind: generic, key: ${JOB_KEY} }
  - { name: am, kind: alertmanager, key: ${AM_KEY} }
heartbeats:
  - { name: nightly-backup, every: 5m, grace: 1m, service: backups, severity: error }
  - { name: am-watchdog, source: am, alertname: Watchdog, every: 5m, grace: 5m, service: monitoring }
policy:
  rules:
    - id: missed-heartbeat-pages
      match: { labels: ['alertname="HeartbeatMissed"'] }
      route: { kind: page }
      rationale: The monitoring itself is down; a person must look.
    - id: default
      route: { kind: suppress }
      rationale: Nothing else matters in this test.
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

async function tick(ms: number): Promise<void> {
  svc.clock.advance(ms);
  svc.engine.drainTimers();
  await svc.deliverer.drain();
}

const ping = (name: string, key = JOB_KEY) => post(svc.app, `/api/v1/heartbeats/${name}`, {}, { key });

function watchdog(): Promise<{ statusCode: number; json(): { results?: { outcome: string }[] } }> {
  const alert = {
    status: "firing",
    labels: { alertname: "Watchdog", severity: "none" },
    annotations: { summary: "The alerting pipeline is alive" },
    startsAt: new Date(START).toISOString(),
    endsAt: "0001-01-01T00:00:00Z",
    generatorURL: "http://prometheus:9090/graph",
    fingerprint: "1f2e3d4c5b6a7988",
  };
  return post(
    svc.app,
    "/ingest/alertmanager",
    {
      version: "4",
      status: "firing",
      receiver: "pagewise",
      groupKey: '{}:{alertname="Watchdog"}',
      groupLabels: { alertname: "Watchdog" },
      commonLabels: alert.labels,
      commonAnnotations: alert.annotations,
      externalURL: "http://alertmanager:9093",
      alerts: [alert],
    },
    { key: AM_KEY },
  );
}

async function missed(heartbeat: string) {
  const all = await svc.store.listIncidents({ limit: 100 });
  return all.filter((i) => i.source === "pagewise" && i.summary.includes(heartbeat));
}

describe("heartbeats", () => {
  it("a missed ping opens an incident the policy pages; the next ping resolves it", async () => {
    expect((await ping("nightly-backup")).statusCode).toBe(202);
    await tick(6 * MIN - 1);
    expect(await missed("nightly-backup")).toEqual([]);
    await tick(1);
    const [incident] = await missed("nightly-backup");
    expect(incident).toMatchObject({
      status: "triggered",
      service: "backups",
      severity: "error",
      team: "ops",
    });
    expect(incident?.summary).toMatch(
      /Heartbeat nightly-backup missed: no check-in since 2026-11-30T14:00:00/,
    );
    expect(peer.requests.map((r) => r.url)).toEqual(["/alice"]);
    const timeline = (await svc.store.incidentTimeline(incident?.id ?? 0)).map((t) => t.kind);
    expect(timeline).toContain("heartbeat_missed");

    // Still silent: one incident, not one per minute.
    await tick(30 * MIN);
    expect(await missed("nightly-backup")).toHaveLength(1);

    const back = await ping("nightly-backup");
    expect(back.json()).toMatchObject({ restored: true });
    expect((await svc.store.getIncident(incident?.id ?? 0))?.status).toBe("resolved");
    const list = await get(svc.app, "/api/v1/heartbeats");
    expect(list.json().heartbeats.find((h: { name: string }) => h.name === "nightly-backup")).toMatchObject({
      status: "ok",
      missed_since: null,
    });
  });

  it("counts from start when a heartbeat never checked in", async () => {
    await tick(6 * MIN);
    expect(await missed("nightly-backup")).toHaveLength(1);
    expect((await missed("nightly-backup"))[0]?.summary).toMatch(/since Pagewise started/);
  });

  it("Alertmanager's Watchdog keeps its heartbeat alive and is never an incident itself", async () => {
    for (let i = 0; i < 6; i++) {
      const res = await watchdog();
      expect(res.statusCode).toBe(200);
      await ping("nightly-backup");
      await tick(4 * MIN);
    }
    const all = await svc.store.listIncidents({ limit: 100 });
    expect(all).toEqual([]);
    // The Watchdog stops (Alertmanager or Prometheus died): missed after every + grace.
    await tick(6 * MIN - 1);
    await ping("nightly-backup");
    expect(await missed("am-watchdog")).toEqual([]);
    await tick(1);
    const [incident] = await missed("am-watchdog");
    expect(incident).toMatchObject({ service: "monitoring", severity: "critical" });
    await watchdog();
    expect((await svc.store.getIncident(incident?.id ?? 0))?.status).toBe("resolved");
  });

  it("answers 404 for an unknown heartbeat and 401 without a key, and stores nothing", async () => {
    const unknown = await ping("nope");
    expect(unknown.statusCode).toBe(404);
    const anon = await post(svc.app, "/api/v1/heartbeats/nightly-backup", {});
    expect(anon.statusCode).toBe(401);
    expect(svc.store.heartbeats().find((h) => h.name === "nightly-backup")?.lastSeen).toBeNull();
  });

  it("survives a restart: a pending miss is not pushed later by starting again", async () => {
    await ping("nightly-backup");
    await tick(3 * MIN);
    svc.engine.start();
    await tick(3 * MIN);
    expect(await missed("nightly-backup")).toHaveLength(1);
  });
});
