import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { modelFileJson, parseModelFile } from "../../src/config/model-file.js";
import { VirtualClock } from "../../src/core/clock.js";
import { DEFAULT_MODEL } from "../../src/core/scoring/model.js";
import { createService } from "../../src/service.js";
import {
  EXAMPLE_CONFIG_TEXT,
  get,
  KEYS,
  post,
  T0,
  type TestService,
  tempDir,
  testService,
} from "../helpers.js";

let svc: TestService;
beforeEach(async () => {
  svc = await testService(`${EXAMPLE_CONFIG_TEXT}
  - name: alice
    token: responder-token-123
    role: responder
  - name: bob
    token: viewer-token-1234
    role: viewer
`);
});
afterEach(async () => {
  await svc.dispose();
});

const feedback = (id: number, body: unknown, token = "responder-token-123") =>
  svc.app.inject({
    method: "POST",
    url: `/api/v1/incidents/${id}/feedback`,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    payload: JSON.stringify(body),
  });

async function openOne(alertname: string, service = "search") {
  const r = await post(
    svc.app,
    "/ingest/events",
    { summary: alertname, service, labels: { alertname } },
    { key: KEYS.generic },
  );
  return r.json().results[0].incident_id as number;
}

describe("scores on live incidents", () => {
  it("scores an incident when it opens, with model version and contributions that explain it", async () => {
    const id = await openOne("QueueBacklog");
    const inc = (await get(svc.app, `/api/v1/incidents/${id}`)).json().incident;
    expect(inc.score).toMatchObject({ value: expect.any(Number), model_version: DEFAULT_MODEL.version });
    expect(inc.score.value).toBeGreaterThan(0);
    expect(inc.score.value).toBeLessThan(1);
    expect(inc.scores).toHaveLength(1);
    const s = inc.scores[0];
    expect(s).toMatchObject({ reason: "opened", model_version: DEFAULT_MODEL.version });
    expect(s.contributions.length).toBeGreaterThan(0);
    for (const c of s.contributions) expect(c.text).toMatch(/^[+-]\d+\.\d\d /);
    // The source's inventory prior (reliability low) is the largest push here.
    expect(s.contributions[0].feature).toBe("prior");
  });

  it("re-scores when a new alert joins and when corroborating evidence arrives, not on re-sends", async () => {
    const ev = { summary: "x", service: "checkout", labels: { alertname: "Latency" } };
    const first = await post(
      svc.app,
      "/api/v2/alerts",
      [{ labels: { alertname: "Latency", service: "checkout", i: "1" } }],
      {
        key: KEYS.prometheus,
      },
    );
    expect(first.statusCode).toBe(200);
    await post(
      svc.app,
      "/api/v2/alerts",
      [{ labels: { alertname: "Latency", service: "checkout", i: "1" } }],
      {
        key: KEYS.prometheus,
      },
    );
    await post(
      svc.app,
      "/api/v2/alerts",
      [{ labels: { alertname: "Latency", service: "checkout", i: "2" } }],
      {
        key: KEYS.prometheus,
      },
    );
    await post(svc.app, "/ingest/events", ev, { key: KEYS.generic });
    const inc = (await get(svc.app, "/api/v1/incidents/1")).json().incident;
    expect(inc.scores.map((s: { reason: string }) => s.reason)).toEqual([
      "opened",
      "new_alert",
      "corroborated",
    ]);
    const corroborated = inc.scores[2];
    expect(corroborated.features.corr_sources).toBeGreaterThan(0);
    expect(corroborated.value).toBeGreaterThan(inc.scores[1].value);
  });
});

describe("responder feedback", () => {
  it("is stored, shown on the incident, and moves the next score of the same alert at once", async () => {
    const first = await openOne("DiskFull");
    const before = (await get(svc.app, `/api/v1/incidents/${first}`)).json().incident.score.value;
    const r = await feedback(first, {
      verdict: "false_alarm",
      route_fit: "too_high",
      note: "cron job fills /tmp nightly",
    });
    expect(r.statusCode).toBe(201);
    expect(r.json().feedback).toMatchObject({
      author: "alice",
      verdict: "false_alarm",
      route_fit: "too_high",
    });
    const shown = (await get(svc.app, `/api/v1/incidents/${first}`)).json().incident;
    expect(shown.feedback).toEqual([
      expect.objectContaining({ verdict: "false_alarm", note: "cron job fills /tmp nightly" }),
    ]);
    expect(shown.timeline.map((t: { kind: string }) => t.kind)).toContain("feedback");

    await post(
      svc.app,
      "/ingest/events",
      { action: "resolve", service: "search", labels: { alertname: "DiskFull" } },
      { key: KEYS.generic },
    );
    const second = await openOne("DiskFull");
    expect(second).not.toBe(first);
    const after = (await get(svc.app, `/api/v1/incidents/${second}`)).json().incident.score.value;
    expect(after).toBeLessThan(before);

    // A changed verdict replaces the old one: counts are not doubled.
    await feedback(first, { verdict: "genuine" });
    const counts = svc.store.outcomes().find((c) => c.alertname === "DiskFull");
    expect(counts).toMatchObject({ source: "generic", genuine: 1, falseAlarms: 0 });
  });

  it("validates the body, needs a responder token, and 404s for unknown incidents", async () => {
    const id = await openOne("X");
    const bad = await feedback(id, { verdict: "maybe", extra: 1 });
    expect(bad.statusCode).toBe(400);
    expect(
      bad
        .json()
        .error.errors.map((e: { field: string }) => e.field)
        .sort(),
    ).toEqual(["extra", "verdict"]);
    expect((await feedback(id, { verdict: "genuine" }, "viewer-token-1234")).statusCode).toBe(403);
    expect((await feedback(id, { verdict: "genuine" }, KEYS.generic)).statusCode).toBe(403);
    expect((await feedback(9999, { verdict: "genuine" })).statusCode).toBe(404);
    expect(svc.store.outcomes()).toEqual([]);
  });
});

describe("fast learning across restarts", () => {
  it("keeps all-time and recent outcome state exactly", async () => {
    const id = await openOne("Flaky");
    await feedback(id, { verdict: "genuine" });
    const at = svc.clock.now() + 3_600_000;
    const before = svc.engine.scoring.learning;
    const rate = before.rate("generic", "Flaky", 0.1, DEFAULT_MODEL.priors);
    const recent = before.recentRate("generic", "Flaky", rate, at);
    expect(recent).toBeGreaterThan(rate);
    await svc.close();
    const again = await createService({
      config: parseConfig(EXAMPLE_CONFIG_TEXT, {}),
      dbPath: svc.dbPath,
      durability: "normal",
      clock: svc.clock,
      worker: false,
    });
    try {
      const l = again.engine.scoring.learning;
      expect(l.rate("generic", "Flaky", 0.1, DEFAULT_MODEL.priors)).toBe(rate);
      expect(l.recentRate("generic", "Flaky", rate, at)).toBe(recent);
    } finally {
      await again.close();
    }
  });
});

describe("models", () => {
  it("imports a model file as the active model, keeps it across restarts, and exports it with its counts", async () => {
    const dir = tempDir();
    try {
      const model = { ...DEFAULT_MODEL, version: "test-model-7", bias: -1.5 };
      const file = parseModelFile(modelFileJson(model, null));
      const config = parseConfig(EXAMPLE_CONFIG_TEXT, {});
      const dbPath = `${dir.path}/m.db`;
      const clock = new VirtualClock(T0);
      const a = await createService({
        config,
        dbPath,
        durability: "normal",
        clock,
        worker: false,
        modelFile: file,
      });
      expect(a.engine.scoring.model.model.version).toBe("test-model-7");
      await post(
        a.app,
        "/ingest/events",
        { summary: "x", labels: { alertname: "A" } },
        { key: KEYS.generic },
      );
      const inc = (await get(a.app, "/api/v1/incidents/1")).json().incident;
      expect(inc.score.model_version).toBe("test-model-7");
      await a.close();
      const b = await createService({ config, dbPath, durability: "normal", clock, worker: false });
      expect(b.engine.scoring.model.model.version).toBe("test-model-7");
      await b.close();
    } finally {
      dir.cleanup();
    }
  });

  it("refuses a model file that does not fit this build, naming the problem", () => {
    const json = modelFileJson(DEFAULT_MODEL, null) as Record<string, unknown>;
    expect(() => parseModelFile({ ...json, weights: [1, 2, 3] })).toThrow(/does not fit/);
    expect(() => parseModelFile({ ...json, format: "other" })).toThrow(/not a valid model file/);
  });
});
