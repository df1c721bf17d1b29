import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KEYS, post, promAlert, type TestService, testService } from "../helpers.js";

let svc: TestService;
beforeEach(async () => {
  svc = await testService();
});
afterEach(async () => {
  await svc.dispose();
});

describe("health and metrics", () => {
  it("answers /healthz and /readyz (database reachable, migrations applied)", async () => {
    expect((await svc.app.inject("/healthz")).json()).toEqual({ status: "ok" });
    expect((await svc.app.inject("/readyz")).json()).toEqual({ status: "ready" });
    svc.store.db.prepare("DELETE FROM kysely_migration").run();
    const notReady = await svc.app.inject("/readyz");
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json().reason).toContain("not applied");
  });

  it("exports ingest counts by source and outcome, and request latency histograms", async () => {
    const alerts = [
      promAlert({ alertname: "A", service: "search" }),
      promAlert({ alertname: "A", service: "search", i: "2" }),
    ];
    await post(svc.app, "/api/v2/alerts", alerts, { key: KEYS.prometheus });
    await post(svc.app, "/api/v2/alerts", alerts, { key: KEYS.prometheus });
    await post(svc.app, "/api/v2/alerts", [{ nope: 1 }], { key: KEYS.prometheus });
    await post(svc.app, "/api/v2/alerts", alerts, { key: "bad-key-123" });
    const res = await svc.app.inject("/metrics");
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toContain("text/plain");
    const text = res.body;
    const line = (prefix: string) => text.split("\n").find((l) => l.startsWith(prefix));
    expect(
      line('pagewise_ingest_events_total{source="prometheus",format="alertmanager_v2",outcome="opened"}'),
    ).toMatch(/ 1$/);
    expect(
      line('pagewise_ingest_events_total{source="prometheus",format="alertmanager_v2",outcome="joined"}'),
    ).toMatch(/ 1$/);
    expect(
      line('pagewise_ingest_events_total{source="prometheus",format="alertmanager_v2",outcome="resent"}'),
    ).toMatch(/ 2$/);
    expect(
      line('pagewise_ingest_requests_total{source="prometheus",format="alertmanager_v2",result="accepted"}'),
    ).toMatch(/ 2$/);
    expect(
      line('pagewise_ingest_requests_total{source="prometheus",format="alertmanager_v2",result="rejected"}'),
    ).toMatch(/ 1$/);
    expect(
      line('pagewise_ingest_requests_total{source="unknown",format="alertmanager_v2",result="unauthorized"}'),
    ).toMatch(/ 1$/);
    expect(
      line(
        'pagewise_http_request_duration_seconds_count{method="POST",route="/api/v2/alerts",status_code="200"}',
      ),
    ).toMatch(/ 2$/);
    expect(text).toContain("pagewise_timers_pending");
    expect(text).toContain("pagewise_process_resident_memory_bytes");
  });
});
