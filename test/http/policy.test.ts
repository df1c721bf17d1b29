import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { VirtualClock } from "../../src/core/clock.js";
import { verifyChain } from "../../src/engine/audit.js";
import { createService, type Service } from "../../src/service.js";
import { EXAMPLE_CONFIG_TEXT, get, KEYS, post, tempDir } from "../helpers.js";

const MONDAY_AFTERNOON = Date.parse("2026-11-30T14:00:00Z");
let dir: ReturnType<typeof tempDir>;
let svc: Service & { clock: VirtualClock };
let configPath: string;

async function open(text = EXAMPLE_CONFIG_TEXT) {
  configPath = join(dir.path, "pagewise.yaml");
  writeFileSync(configPath, text);
  const clock = new VirtualClock(MONDAY_AFTERNOON);
  const s = await createService({
    config: parseConfig(text, {}),
    dbPath: join(dir.path, "p.db"),
    durability: "normal",
    clock,
    worker: false,
    configPath,
  });
  return Object.assign(s, { clock });
}

beforeEach(async () => {
  dir = tempDir();
  svc = await open();
});
afterEach(async () => {
  await svc.close();
  dir.cleanup();
});

const prom = (labels: Record<string, string>) =>
  post(svc.app, "/api/v2/alerts", [{ labels, annotations: { summary: labels.alertname ?? "x" } }], {
    key: KEYS.prometheus,
  });
const incident = async (id: number) => (await get(svc.app, `/api/v1/incidents/${id}`)).json().incident;
const call = (method: "POST" | "DELETE", url: string, body?: unknown, token: string = KEYS.admin) =>
  svc.app.inject({
    method,
    url,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });

describe("live decisions", () => {
  it("records a decision per decision point, with route, rationale, thresholds and an explanation", async () => {
    await prom({ alertname: "HighLatency", service: "checkout", severity: "page" });
    const inc = await incident(1);
    expect(inc.route).toMatchObject({ kind: "page" });
    expect(inc.policy_version).toMatch(/^[0-9a-f]{12}$/);
    expect(inc.decisions).toHaveLength(1);
    const d = inc.decisions[0];
    expect(d).toMatchObject({ reason: "opened", route: "page", policy_version: inc.policy_version });
    expect(d.decision.rule.id).toBe("high-confidence-page");
    expect(d.decision.thresholds).toEqual({ high: 0.5, medium: 0.2 });
    expect(d.decision.rules_tried.length).toBeGreaterThan(0);
    expect(d.actions).toEqual([{ kind: "page", chain: null, two_person: false }]);
    const one = (await get(svc.app, `/api/v1/decisions/${d.id}`)).json().decision;
    expect(one.explanation).toContain("rule high-confidence-page");
    expect(one.explanation).toContain("Confidence");
    expect((await get(svc.app, "/api/v1/decisions/999")).statusCode).toBe(404);
  });

  it("holds a low-confidence severe alert for validation and suppresses record-only routes", async () => {
    await post(
      svc.app,
      "/ingest/events",
      { summary: "5xx", service: "recommendations", severity: "info", labels: { alertname: "Blip" } },
      { key: KEYS.generic },
    );
    expect((await incident(1)).status).toBe("suppressed");
    await post(
      svc.app,
      "/ingest/events",
      { summary: "5xx", service: "recommendations", severity: "error", labels: { alertname: "ErrSpike" } },
      { key: KEYS.generic },
    );
    const inc = await incident(2);
    expect(inc.route.kind).toBe("validate");
    expect(inc.status).toBe("validating");
  });

  it("never lowers an active route by itself (a downgrade needs a human)", async () => {
    await svc.close();
    svc = await open(`
services:
  - name: shop
    tier: 2
sources:
  - name: gen
    kind: generic
    key: gen-key-123
api_tokens:
  - name: admin
    token: demo-admin-token
    role: admin
policy:
  rules:
    - id: deploy-page
      match: { recent_deploy: 30m }
      route: { kind: page }
      rationale: Right after a deploy anything on the service pages.
    - id: default
      route: { kind: notify }
      rationale: Otherwise the feed.
`);
    const ev = (body: Record<string, unknown>) =>
      post(svc.app, "/ingest/events", body, { key: "gen-key-123" });
    await ev({ action: "change", summary: "deploy v7", service: "shop" });
    svc.clock.advance(60_000);
    await ev({ summary: "errors", service: "shop", labels: { alertname: "Errors" } });
    expect((await incident(1)).route.kind).toBe("page");
    // 45 minutes later the deploy is no longer recent; new evidence re-decides the incident.
    svc.clock.advance(45 * 60_000);
    await ev({ summary: "latency", service: "shop", labels: { alertname: "Latency" } });
    const inc = await incident(1);
    const last = inc.decisions.at(-1);
    expect(last.reason).toBe("corroborated");
    expect(last.decision.rule.id).toBe("default");
    expect(last.decision.route.kind).toBe("notify");
    expect(last.effective_route.kind).toBe("page");
    expect(last.held_by).toContain("no-downgrade");
    expect(inc.route.kind).toBe("page");
    // The new incident itself is decided on its own merits.
    expect((await incident(2)).route.kind).toBe("notify");
  });
});

describe("silences", () => {
  it("mutes matching incidents (decided, recorded, status suppressed) until expired", async () => {
    const bad = await call("POST", "/api/v1/silences", { matchers: ["service=checkout"], comment: "" });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.errors.map((e: { field: string }) => e.field)).toEqual(
      expect.arrayContaining(["comment"]),
    );
    const noEnd = await call("POST", "/api/v1/silences", {
      matchers: ['service="checkout"'],
      comment: "load test",
    });
    expect(noEnd.statusCode).toBe(400);
    const r = await call("POST", "/api/v1/silences", {
      matchers: ['service="checkout"', 'alertname=~"High.*"'],
      comment: "load test until 16:00",
      duration: "2h",
    });
    expect(r.statusCode).toBe(201);
    const silence = r.json().silence;
    expect(silence).toMatchObject({ author: "admin", state: "active", ends_at: "2026-11-30T16:00:00.000Z" });

    await prom({ alertname: "HighLatency", service: "checkout", severity: "page" });
    let inc = await incident(1);
    expect(inc.status).toBe("suppressed");
    expect(inc.decisions[0].decision.muted_by).toEqual({
      kind: "silence",
      id: String(silence.id),
      reason: "load test until 16:00",
    });
    expect(inc.decisions[0].actions).toEqual([]);

    const list = (await get(svc.app, "/api/v1/silences")).json().silences;
    expect(list.map((s: { id: number }) => s.id)).toEqual([silence.id]);
    expect((await call("DELETE", `/api/v1/silences/${silence.id}`, undefined, KEYS.generic)).statusCode).toBe(
      403,
    );
    expect((await call("DELETE", `/api/v1/silences/${silence.id}`)).json().silence.state).toBe("expired");
    expect((await get(svc.app, "/api/v1/silences")).json().silences).toEqual([]);

    // Unmuted: the next decision routes it and lifts the suppression.
    await prom({ alertname: "HighLatency", service: "checkout", severity: "page", instance: "b" });
    inc = await incident(1);
    expect(inc.decisions.at(-1).decision.muted_by).toBeNull();
    expect(inc.status).toBe("triggered");
  });
});

describe("inhibition", () => {
  it("a firing NodeDown mutes other alerts of the same host, and stops when it resolves", async () => {
    await prom({ alertname: "NodeDown", service: "kubernetes", host: "node-7", severity: "page" });
    await prom({ alertname: "ErrorSpike", service: "checkout", host: "node-7", severity: "page" });
    await prom({ alertname: "ErrorSpike", service: "search", host: "node-8", severity: "page" });
    const symptom = await incident(2);
    expect(symptom.decisions[0].decision.muted_by).toMatchObject({
      kind: "inhibition",
      id: "node-down-inhibits-its-symptoms",
    });
    expect((await incident(3)).decisions[0].decision.muted_by).toBeNull();
    expect((await incident(1)).decisions[0].decision.muted_by).toBeNull();

    // NodeDown resolves (endsAt in the past): a new symptom on node-7 is no longer inhibited.
    const past = new Date(MONDAY_AFTERNOON - 1000).toISOString();
    await post(
      svc.app,
      "/api/v2/alerts",
      [
        {
          labels: { alertname: "NodeDown", service: "kubernetes", host: "node-7", severity: "page" },
          endsAt: past,
        },
      ],
      { key: KEYS.prometheus },
    );
    await prom({ alertname: "DiskLatency", service: "postgres", host: "node-7", severity: "page" });
    expect((await incident(4)).decisions[0].decision.muted_by).toBeNull();
  });
});

describe("reload and policy versions", () => {
  it("swaps a valid config at once, refuses a bad one, and keeps open incidents on their version", async () => {
    await prom({ alertname: "HighLatency", service: "checkout", severity: "page" });
    const v1 = (await incident(1)).policy_version;
    const changed = EXAMPLE_CONFIG_TEXT.replace(
      '"0": { high: 0.5, medium: 0.2 }',
      '"0": { high: 0.95, medium: 0.9 }',
    );
    writeFileSync(configPath, changed);
    const ok = await call("POST", "/-/reload");
    expect(ok.statusCode).toBe(200);
    const v2 = ok.json().policy_version;
    expect(v2).not.toBe(v1);

    // The open incident keeps v1 (a new alert joins it); a new incident opens under v2.
    await prom({ alertname: "HighLatency", service: "checkout", severity: "page", instance: "b" });
    await prom({ alertname: "Saturation", service: "checkout", severity: "page" });
    const old = await incident(1);
    expect(old.decisions.at(-1).policy_version).toBe(v1);
    const fresh = await incident(2);
    expect(fresh.policy_version).toBe(v2);
    expect(fresh.decisions[0].decision.thresholds).toEqual({ high: 0.95, medium: 0.9 });

    writeFileSync(configPath, changed.replace("team: payments\n    tier: 0", "team: paymnts\n    tier: 0"));
    const bad = await call("POST", "/-/reload");
    expect(bad.statusCode).toBe(400);
    expect(
      bad
        .json()
        .error.errors.map((e: { text: string }) => e.text)
        .join("\n"),
    ).toContain('unknown team "paymnts"');
    expect(svc.engine.config.policy.version).toBe(v2);
    expect((await call("POST", "/-/reload", undefined, KEYS.generic)).statusCode).toBe(403);
    const versions = svc.store.db.prepare("SELECT version FROM policies ORDER BY loaded_at").pluck().all();
    expect(versions).toEqual([v1, v2]);
  });
});

describe("audit chain", () => {
  it("verifies, and finds a row edited directly in SQLite", async () => {
    for (let i = 0; i < 5; i++) await prom({ alertname: `A${i}`, service: "checkout", severity: "page" });
    const total = svc.store.db.prepare("SELECT COUNT(*) FROM decisions").pluck().get() as number;
    expect(total).toBeGreaterThanOrEqual(5);
    expect(verifyChain(svc.store)).toMatchObject({ ok: true, checked: total });
    svc.store.db.prepare("UPDATE decisions SET route = 'suppress' WHERE id = 3").run();
    expect(verifyChain(svc.store)).toMatchObject({ ok: false, brokenAt: 3, checked: 2 });
    svc.store.db.prepare("UPDATE decisions SET route = 'page' WHERE id = 3").run();
    expect(verifyChain(svc.store)).toMatchObject({ ok: true });
    svc.store.db.prepare("DELETE FROM decisions WHERE id = 2").run();
    expect(verifyChain(svc.store)).toMatchObject({ ok: false, brokenAt: 3 });

    // The CLI says so too, with exit code 1 (it opens the same file).
    const dbPath = join(dir.path, "p.db");
    const bin = new URL("../../bin/pagewise.js", import.meta.url).pathname;
    const r = spawnSync(process.execPath, [bin, "audit", "verify", "--db", dbPath], { encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("BROKEN at decision 3");
  });
});
