import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { get, KEYS, post, promAlert, T0, type TestService, tableCounts, testService } from "../helpers.js";

let svc: TestService;
beforeEach(async () => {
  svc = await testService();
});
afterEach(async () => {
  await svc.dispose();
});

const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

async function incidents(query = "") {
  const res = await get(svc.app, `/api/v1/incidents${query}`);
  expect(res.statusCode).toBe(200);
  return res.json().incidents as Array<Record<string, unknown>>;
}
async function incident(id: unknown) {
  const res = await get(svc.app, `/api/v1/incidents/${id}`);
  expect(res.statusCode).toBe(200);
  return res.json().incident as Record<string, unknown> & {
    alerts: Array<Record<string, unknown>>;
    timeline: Array<Record<string, unknown>>;
  };
}

describe("Alertmanager API v2 (Prometheus)", () => {
  const firing = (labels: Record<string, string>, endsIn = 4 * MIN) =>
    promAlert(labels, { startsAt: iso(T0 - MIN), endsAt: iso(svc.clock.now() + endsIn) });

  it("opens one incident, and a re-send updates the alert without writing new rows", async () => {
    const a = firing({ alertname: "HighLatency", service: "checkout", severity: "page" });
    const first = await post(svc.app, "/api/v2/alerts", [a], { key: KEYS.prometheus });
    expect(first.statusCode).toBe(200);
    const before = tableCounts(svc);
    expect(before).toMatchObject({ incidents: 1, alerts: 1, events: 1 });

    for (let i = 1; i <= 5; i++) {
      svc.clock.advance(MIN);
      const again = await post(svc.app, "/api/v2/alerts", [firing(a.labels)], { key: KEYS.prometheus });
      expect(again.statusCode).toBe(200);
    }
    // Timers: the retention timer, plus this alert's expiry (re-armed lazily, not per re-send).
    expect(tableCounts(svc)).toEqual(before);
    const [inc] = await incidents();
    expect(inc).toMatchObject({
      status: "triggered",
      service: "checkout",
      team: "payments",
      tier: 0,
      severity: "critical",
    });
    const detail = await incident(inc?.id);
    expect(detail.alerts).toHaveLength(1);
    expect(detail.alerts[0]).toMatchObject({ event_count: 6, last_seen: iso(svc.clock.now()) });
    // A page starts the payments chain at once; the re-sends add nothing.
    expect(detail.timeline.map((t) => t.kind)).toEqual(["opened", "escalated"]);
  });

  it("groups alerts by alertname and service; a new series joins the open incident", async () => {
    await post(svc.app, "/api/v2/alerts", [firing({ alertname: "Down", service: "search", instance: "a" })], {
      key: KEYS.prometheus,
    });
    const r = await post(
      svc.app,
      "/api/v2/alerts",
      [
        firing({ alertname: "Down", service: "search", instance: "b" }),
        firing({ alertname: "Down", service: "ledger" }),
      ],
      { key: KEYS.prometheus },
    );
    expect(r.statusCode).toBe(200);
    const list = await incidents();
    expect(list.map((i) => [i.service, i.alert_count])).toEqual([
      ["ledger", 1],
      ["search", 2],
    ]);
    const search = await incident(list[1]?.id);
    expect(search.timeline.map((t) => t.kind)).toEqual(["opened", "alert_added"]);
  });

  it("resolves an alert whose endsAt is in the past, and the incident with its last alert", async () => {
    const labels = { alertname: "Down", service: "search" };
    await post(svc.app, "/api/v2/alerts", [firing(labels)], { key: KEYS.prometheus });
    svc.clock.advance(MIN);
    const resolved = promAlert(labels, { startsAt: iso(T0 - MIN), endsAt: iso(svc.clock.now() - 1000) });
    expect((await post(svc.app, "/api/v2/alerts", [resolved], { key: KEYS.prometheus })).statusCode).toBe(
      200,
    );
    const [inc] = await incidents();
    expect(inc).toMatchObject({ status: "resolved", resolve_reason: "alerts_resolved", open_alert_count: 0 });
    // Prometheus keeps re-sending resolved alerts for a while: they change nothing.
    const counts = tableCounts(svc);
    await post(svc.app, "/api/v2/alerts", [resolved], { key: KEYS.prometheus });
    expect(tableCounts(svc)).toEqual(counts);
  });

  it("resolves an alert that is not refreshed before its endsAt (durable timer on a virtual clock)", async () => {
    const labels = { alertname: "Down", service: "search" };
    await post(svc.app, "/api/v2/alerts", [firing(labels, 4 * MIN)], { key: KEYS.prometheus });
    svc.clock.advance(3 * MIN);
    await post(svc.app, "/api/v2/alerts", [firing(labels, 4 * MIN)], { key: KEYS.prometheus }); // now ends at 7m
    svc.clock.advance(2 * MIN); // 5m: past the first endsAt, before the refreshed one
    svc.engine.drainTimers();
    expect((await incidents())[0]?.status).toBe("triggered");
    svc.clock.advance(2 * MIN + 1); // 7m + 1 ms
    svc.engine.drainTimers();
    const [inc] = await incidents();
    expect(inc).toMatchObject({ status: "resolved", resolve_reason: "alerts_resolved" });
    const detail = await incident(inc?.id);
    expect(detail.alerts[0]).toMatchObject({ status: "resolved", resolved_at: iso(T0 + 7 * MIN) });
    expect(detail.timeline.map((t) => t.kind)).toEqual(["opened", "alert_expired", "resolved"]);
    // A new firing after resolution opens a new incident.
    await post(svc.app, "/api/v2/alerts", [firing(labels)], { key: KEYS.prometheus });
    expect((await incidents()).map((i) => i.status)).toEqual(["triggered", "resolved"]);
  });

  it("a re-send with an earlier endsAt moves the expiry earlier", async () => {
    const labels = { alertname: "Down", service: "search" };
    await post(svc.app, "/api/v2/alerts", [firing(labels, 60 * MIN)], { key: KEYS.prometheus });
    await post(svc.app, "/api/v2/alerts", [firing(labels, 2 * MIN)], { key: KEYS.prometheus });
    svc.clock.advance(3 * MIN);
    svc.engine.drainTimers();
    expect((await incidents())[0]?.status).toBe("resolved");
  });
});

describe("Alertmanager webhook", () => {
  const payload = (status: "firing" | "resolved", fp = "fp1") => ({
    version: "4",
    groupKey: '{}:{alertname="DiskFull"}',
    status,
    receiver: "pagewise",
    groupLabels: { alertname: "DiskFull" },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: "http://am:9093",
    truncatedAlerts: 0,
    alerts: [
      {
        status,
        labels: { alertname: "DiskFull", job: "postgres", instance: fp },
        annotations: { summary: "disk full" },
        startsAt: iso(T0),
        endsAt: status === "resolved" ? iso(T0 + MIN) : "0001-01-01T00:00:00Z",
        fingerprint: fp,
      },
    ],
  });

  it("opens on firing and resolves on resolved, keyed by Alertmanager's groupKey", async () => {
    const r1 = await post(svc.app, "/ingest/alertmanager", payload("firing"), { key: KEYS.alertmanager });
    expect(r1.statusCode).toBe(200);
    expect(r1.json()).toMatchObject({ status: "success", accepted: 1 });
    await post(svc.app, "/ingest/alertmanager", payload("firing", "fp2"), { key: KEYS.alertmanager });
    let [inc] = await incidents();
    expect(inc).toMatchObject({
      group_key: '{}:{alertname="DiskFull"}',
      alert_count: 2,
      service: "postgres",
    });
    await post(svc.app, "/ingest/alertmanager", payload("resolved"), { key: KEYS.alertmanager });
    [inc] = await incidents();
    expect(inc).toMatchObject({ status: "triggered", open_alert_count: 1 });
    await post(svc.app, "/ingest/alertmanager", payload("resolved", "fp2"), { key: KEYS.alertmanager });
    [inc] = await incidents();
    expect(inc?.status).toBe("resolved");
  });
});

describe("PagerDuty Events v2", () => {
  const pd = (action: string, extra: Record<string, unknown> = {}) => ({
    routing_key: KEYS.pagerduty,
    event_action: action,
    ...extra,
  });
  const payload = { summary: "Disk full on db1", source: "db1", severity: "error", component: "postgres" };

  it("answers like PagerDuty and follows its dedup_key rules", async () => {
    const t = await post(svc.app, "/v2/enqueue", pd("trigger", { payload }));
    expect(t.statusCode).toBe(202);
    const key = t.json().dedup_key as string;
    expect(t.json()).toEqual({ status: "success", message: "Event processed", dedup_key: key });
    expect(key).toMatch(/^[0-9a-f-]{36}$/);

    const ack = await post(svc.app, "/v2/enqueue", pd("acknowledge", { dedup_key: key }));
    expect(ack.statusCode).toBe(202);
    expect((await incidents())[0]).toMatchObject({ status: "acknowledged", acknowledged_by: "pagerduty" });

    // A repeated trigger with the key updates the same alert.
    await post(svc.app, "/v2/enqueue", pd("trigger", { dedup_key: key, payload }));
    expect(await incidents()).toHaveLength(1);

    await post(svc.app, "/v2/enqueue", pd("resolve", { dedup_key: key }));
    expect((await incidents())[0]).toMatchObject({ status: "resolved" });

    // After resolve: acknowledge/resolve are dropped, a trigger opens a new incident.
    const counts = tableCounts(svc);
    expect((await post(svc.app, "/v2/enqueue", pd("resolve", { dedup_key: key }))).statusCode).toBe(202);
    expect((await post(svc.app, "/v2/enqueue", pd("acknowledge", { dedup_key: key }))).statusCode).toBe(202);
    expect(tableCounts(svc)).toEqual(counts);
    await post(svc.app, "/v2/enqueue", pd("trigger", { dedup_key: key, payload }));
    expect((await incidents()).map((i) => i.status)).toEqual(["triggered", "resolved"]);
  });

  it("scopes keys by source: the same dedup_key from another source is another alert", async () => {
    await post(svc.app, "/v2/enqueue", pd("trigger", { dedup_key: "shared", payload }));
    await post(svc.app, "/ingest/events", { summary: "x", dedup_key: "shared" }, { key: KEYS.generic });
    expect((await incidents()).map((i) => i.source).sort()).toEqual(["generic", "pagerduty"]);
    // Resolving through the generic source leaves PagerDuty's incident open.
    await post(svc.app, "/ingest/events", { action: "resolve", dedup_key: "shared" }, { key: KEYS.generic });
    const bySource = Object.fromEntries((await incidents()).map((i) => [i.source, i.status]));
    expect(bySource).toEqual({ generic: "resolved", pagerduty: "triggered" });
  });

  it("stores change events for later context, without opening incidents", async () => {
    const r = await post(svc.app, "/v2/change/enqueue", {
      routing_key: KEYS.pagerduty,
      payload: { summary: "Deploy v42", source: "ci", custom_details: { service: "checkout" } },
    });
    expect(r.statusCode).toBe(202);
    expect(r.json()).toEqual({ status: "success", message: "Change event processed" });
    const row = svc.store.db.prepare("SELECT action, service, summary FROM events").get();
    expect(row).toEqual({ action: "change", service: "checkout", summary: "Deploy v42" });
    expect(await incidents()).toHaveLength(0);
  });

  it("rejects invalid events with PagerDuty's error shape, and unknown routing keys with 401", async () => {
    const bad = await post(svc.app, "/v2/enqueue", pd("trigger", { payload: { summary: "x", source: "y" } }));
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({
      status: "invalid event",
      message: "Event object is invalid",
      errors: ["payload.severity: is required"],
    });
    const unknown = await post(svc.app, "/v2/enqueue", {
      ...pd("trigger", { payload }),
      routing_key: "x".repeat(32),
    });
    expect(unknown.statusCode).toBe(401);
    expect(tableCounts(svc)).toMatchObject({ incidents: 0, events: 0 });
  });
});

describe("generic events", () => {
  it("accepts one object, an array or JSON Lines, and answers each event's key and incident", async () => {
    const one = await post(
      svc.app,
      "/ingest/events",
      { summary: "Queue backlog", service: "search", labels: { alertname: "Backlog" } },
      { key: KEYS.generic },
    );
    expect(one.statusCode).toBe(200);
    expect(one.json().results).toEqual([
      { dedup_key: expect.any(String), outcome: "opened", incident_id: 1 },
    ]);
    const lines = [
      { summary: "Queue backlog", service: "search", labels: { alertname: "Backlog", queue: "b" } },
      { action: "change", summary: "deploy", service: "search" },
      { action: "resolve", dedup_key: "never-seen" },
    ]
      .map((e) => JSON.stringify(e))
      .join("\n");
    const nd = await post(svc.app, "/ingest/events", null, {
      key: KEYS.generic,
      contentType: "application/x-ndjson",
      raw: `${lines}\n`,
    });
    expect(nd.statusCode).toBe(200);
    expect(nd.json().results.map((r: { outcome: string }) => r.outcome)).toEqual([
      "opened",
      "change",
      "ignored",
    ]);
  });

  it("auto-resolves after the source's auto_resolve_after without triggers; re-sends keep it open", async () => {
    const ev = { summary: "Backlog", service: "search", labels: { alertname: "Backlog" } };
    await post(svc.app, "/ingest/events", ev, { key: KEYS.generic });
    svc.clock.advance(40 * MIN);
    await post(svc.app, "/ingest/events", ev, { key: KEYS.generic }); // a re-send
    svc.clock.advance(40 * MIN); // 80 min after open, 40 after the re-send
    svc.engine.drainTimers();
    expect((await incidents())[0]?.status).toBe("triggered");
    svc.clock.advance(21 * MIN); // 61 min after the re-send
    svc.engine.drainTimers();
    const [inc] = await incidents();
    expect(inc).toMatchObject({
      status: "resolved",
      resolve_reason: "auto_resolved",
      resolved_by: "pagewise",
    });
    expect((await incident(inc?.id)).alerts[0]?.status).toBe("resolved");
  });

  it("is all-or-nothing: one bad item rejects the batch and stores nothing", async () => {
    const r = await post(
      svc.app,
      "/ingest/events",
      [
        { summary: "good" },
        { summary: "good too" },
        { severity: "urgent", summary: "bad" },
        { labels: { a: 1 } },
      ],
      { key: KEYS.generic },
    );
    expect(r.statusCode).toBe(400);
    const body = r.json();
    expect(body.error.code).toBe("PW_INVALID_EVENT");
    expect(body.error.errors).toEqual([
      { index: 3, field: "labels.a", reason: "must be a string", text: "[3].labels.a: must be a string" },
    ]);
    expect(tableCounts(svc)).toMatchObject({ incidents: 0, alerts: 0, events: 0, timeline: 0 });
  });

  it("marks incidents of unknown services with the documented defaults", async () => {
    await post(svc.app, "/ingest/events", { summary: "x", service: "billing-v2" }, { key: KEYS.generic });
    const [inc] = await incidents();
    expect(inc).toMatchObject({ service: "billing-v2", service_known: false, tier: 3, team: null });
    const detail = await incident(inc?.id);
    expect(detail.timeline[0]?.detail).toMatchObject({ note: expect.stringContaining("not in the catalog") });
  });
});
