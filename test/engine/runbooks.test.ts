import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fetchAction } from "../../src/automation/action-http.js";
import { RunbookRunner } from "../../src/automation/runner.js";
import { verifyChain } from "../../src/engine/audit.js";
import { get, post, type TestService, testService } from "../helpers.js";
import { type HttpPeer, httpPeer, type Recorded } from "../notify/peers.js";

/**
 * Runbooks end to end on a virtual clock: a real service on SQLite, its steps made over real
 * HTTP to a local "remediation API", its pages and approval requests delivered to another.
 */

const MIN = 60_000;
const START = Date.parse("2026-11-30T14:00:00Z");
const GEN_KEY = "gen-key-0123456789";

function configText(people: string, api: string, allowedHost: string): string {
  return `
server: { public_url: "http://pagewise.test" }
users:
  - { name: alice, webhook: "${people}/alice" }
schedules:
  - name: primary
    timezone: UTC
    layers: [{ name: all, participants: [alice], rotation: daily, handoff: "09:00", start: "2026-11-30" }]
chains:
  - { name: main, steps: [{ targets: [{ schedule: primary }], delay: 5m }] }
channels:
  - { name: team-chat, kind: webhook, url: "${people}/team-chat" }
teams:
  - { name: ops, chain: main, channel: team-chat }
services:
  - { name: api, team: ops, tier: 1 }
sources:
  - { name: gen, kind: generic, key: ${GEN_KEY}, auto_resolve_after: never }
automation:
  allowed_hosts: ["${allowedHost}"]
playbooks:
  - name: restart
    auto_above: 0
    steps:
      - name: drain
        url: "${api}/drain?host={{labels.instance}}"
        headers: { authorization: "Bearer remediation-token" }
        body: { host: "{{labels.instance}}", incident: "{{incident.id}}", service: "{{incident.service}}" }
      - { name: restart, url: "${api}/restart", timeout: 2s }
    rollback:
      - { name: undrain, url: "${api}/undrain", body: "undrain {{labels.instance}}" }
  - name: ask-first
    auto_above: 1
    approval_timeout: 15m
    steps: [{ name: fix, url: "${api}/fix" }]
  - name: no-rollback
    auto_above: 0
    steps: [{ name: fix, url: "${api}/fail" }]
  - name: anywhere
    auto_above: 0
    steps: [{ name: steal, url: "http://{{labels.target}}/steal" }]
policy:
  rules:
    - id: by-label
      match: { labels: ['runbook="restart"'] }
      route: { kind: runbook, playbook: restart, on_failure: { kind: page } }
      rationale: Restarts fix this; page only when they do not.
    - id: ask
      match: { labels: ['runbook="ask"'] }
      route: { kind: runbook, playbook: ask-first, on_failure: { kind: page } }
      rationale: Risky fix; a human approves it.
    - id: plain-fail
      match: { labels: ['runbook="plain"'] }
      route: { kind: runbook, playbook: no-rollback, on_failure: { kind: page } }
      rationale: Nothing to undo.
    - id: anywhere
      match: { labels: ['runbook="anywhere"'] }
      route: { kind: runbook, playbook: anywhere, on_failure: { kind: page } }
      rationale: The host comes from a label; the allowlist decides.
    - id: default
      route: { kind: page }
      rationale: Everything else pages.
api_tokens:
  - { name: rita, token: responder-token-0123456789, role: responder }
  - { name: vic, token: viewer-token-0123456789, role: viewer }
`;
}

let people: HttpPeer;
let api: HttpPeer;
let other: HttpPeer;
let svc: TestService;
/** Paths the remediation API fails with 500. */
let failing: Set<string>;

beforeEach(async () => {
  failing = new Set();
  people = await httpPeer({ status: 200 });
  api = await httpPeer((r: Recorded) => ({
    status: failing.has(r.url.split("?")[0] ?? "") ? 500 : 200,
    body: "done",
  }));
  other = await httpPeer({ status: 200 });
  const apiBase = api.url.replace(/\/hook$/, "");
  svc = await testService(
    configText(people.url.replace(/\/hook$/, ""), apiBase, new URL(apiBase).host),
    START,
  );
});
afterEach(async () => {
  await svc.dispose();
  await Promise.all([people.close(), api.close(), other.close()]);
});

async function alert(labels: Record<string, string>, dedup = "disk"): Promise<number> {
  const res = await post(
    svc.app,
    "/ingest/events",
    { summary: "Disk almost full", service: "api", severity: "critical", dedup_key: dedup, labels },
    { key: GEN_KEY },
  );
  expect(res.statusCode).toBe(200);
  return res.json().results[0].incident_id as number;
}

/** Runs the runner and the outbox until both are idle. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    const n = (await svc.runner.drain()) + (await svc.deliverer.drain());
    if (n === 0) return;
  }
}

async function tick(ms: number): Promise<void> {
  svc.clock.advance(ms);
  svc.engine.drainTimers();
  await settle();
}

const paths = () => api.requests.map((r) => r.url.split("?")[0]);
const pagedTo = () => people.requests.map((r) => r.url.replace(/^\//, ""));
const runsOf = (id: number) => svc.store.runs({ incidentId: id, limit: 10 });
async function runbookEvents(id: number): Promise<Record<string, unknown>[]> {
  return (await svc.store.incidentTimeline(id)).filter((t) => t.kind === "runbook").map((t) => t.detail);
}

describe("runbooks", () => {
  it("runs at once at a score >= auto_above: steps in order, templates filled, nobody paged", async () => {
    const id = await alert({ runbook: "restart", instance: "db-1:9100" });
    const [run] = runsOf(id);
    expect(run).toMatchObject({ status: "running", decidedBy: "pagewise", step: 0 });
    await settle();
    expect(paths()).toEqual(["/drain", "/restart"]);
    const drain = api.requests[0] as Recorded;
    // The label's ":" is percent-encoded in the URL (a value cannot add to the query or the host).
    expect(drain.url).toBe("/drain?host=db-1%3A9100");
    expect(JSON.parse(drain.body)).toEqual({ host: "db-1:9100", incident: String(id), service: "api" });
    expect(drain.headers.authorization).toBe("Bearer remediation-token");
    expect(drain.headers["content-type"]).toBe("application/json");
    expect(drain.headers["idempotency-key"]).toBe(`pagewise-run-${run?.id}-step-0`);
    expect(api.requests[1]?.headers["idempotency-key"]).toBe(`pagewise-run-${run?.id}-step-1`);
    expect(runsOf(id)[0]).toMatchObject({ status: "succeeded", step: 2, failedStep: null });
    expect(pagedTo()).toEqual([]);
    const events = await runbookEvents(id);
    expect(events.map((e) => e.event)).toEqual(["started", "step_succeeded", "step_succeeded"]);
    expect(events[0]?.reason).toMatch(/>= auto_above 0/);
    // Each run event is a link of the audit chain, and the chain verifies.
    const records = (await svc.store.incidentDecisions(id)).filter((d) => d.reason === "runbook");
    expect(records).toHaveLength(3);
    expect(verifyChain(svc.store)).toMatchObject({ ok: true });
  });

  it("a failing step rolls back, then the route's on_failure pages", async () => {
    failing.add("/restart");
    const id = await alert({ runbook: "restart", instance: "db-1" });
    await settle();
    expect(paths()).toEqual(["/drain", "/restart", "/undrain"]);
    expect(api.requests[2]?.body).toBe("undrain db-1");
    expect(runsOf(id)[0]).toMatchObject({ status: "rolled_back", failedStep: "restart" });
    expect(runsOf(id)[0]?.lastError).toMatch(/HTTP 500/);
    expect(pagedTo()).toEqual(["alice"]);
    const page = JSON.parse(people.requests[0]?.body ?? "{}");
    expect(page.rationale).toMatch(
      /^Playbook restart: runbook rolled back after step restart failed \(HTTP 500: done\)\. Falling back to: page/,
    );
    const events = await runbookEvents(id);
    expect(events.map((e) => `${e.event}:${e.status}`)).toEqual([
      "started:running",
      "step_succeeded:running",
      "step_failed:rolling_back",
      "rollback_succeeded:rolled_back",
      "fallback:rolled_back",
    ]);
    // The fallback is the incident's last decision record: the chain and the incident agree.
    const last = (await svc.store.incidentDecisions(id)).at(-1);
    expect(last).toMatchObject({ reason: "runbook", route: "page" });
    expect((await svc.store.getIncident(id))?.route).toMatchObject({ kind: "page" });
    expect(verifyChain(svc.store)).toMatchObject({ ok: true });
    // The incident shows its run, and each run event is explained in words.
    const shown = (await get(svc.app, `/api/v1/incidents/${id}`, "viewer-token-0123456789")).json().incident;
    expect(shown.runbooks).toMatchObject([
      { playbook: "restart", status: "rolled_back", failed_step: "restart" },
    ]);
    const words = shown.decisions
      .filter((d: { reason: string }) => d.reason === "runbook")
      .map((d: { explanation: string }) => d.explanation);
    expect(words[2]).toMatch(
      /^Runbook restart run \d+: step failed \(step restart\): HTTP 500: done; now rolling back\.$/,
    );
  });

  it("without rollback steps a failure goes straight to the fallback", async () => {
    failing.add("/fail");
    const id = await alert({ runbook: "plain" });
    await settle();
    expect(runsOf(id)[0]).toMatchObject({ status: "failed", failedStep: "fix" });
    expect(pagedTo()).toEqual(["alice"]);
  });

  it("below auto_above it asks the team channel first and runs only once approved", async () => {
    const id = await alert({ runbook: "ask" });
    await settle();
    const [run] = runsOf(id);
    expect(run).toMatchObject({ status: "awaiting_approval", decidedBy: null });
    expect(paths()).toEqual([]);
    expect(pagedTo()).toEqual(["team-chat"]);
    const request = JSON.parse(people.requests[0]?.body ?? "{}");
    expect(request.kind).toBe("approval");
    expect(request.note).toContain(`POST http://pagewise.test/api/v1/runbooks/${run?.id}/approve`);

    const url = `/api/v1/runbooks/${run?.id}/approve`;
    expect((await post(svc.app, url, {}, { key: "viewer-token-0123456789" })).statusCode).toBe(403);
    expect((await post(svc.app, url, {})).statusCode).toBe(401);
    await settle();
    expect(paths()).toEqual([]);

    const ok = await post(svc.app, url, {}, { key: "responder-token-0123456789" });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().run).toMatchObject({ status: "running", decided_by: "rita" });
    await settle();
    expect(paths()).toEqual(["/fix"]);
    expect(runsOf(id)[0]?.status).toBe("succeeded");
    // The team channel that was asked hears the result.
    const update = JSON.parse(people.requests.at(-1)?.body ?? "{}");
    expect(update).toMatchObject({ kind: "update", note: "runbook ask-first succeeded" });
    const again = await post(svc.app, url, {}, { key: "responder-token-0123456789" });
    expect(again.statusCode).toBe(409);
    const events = (await runbookEvents(id)).map((e) => e.event);
    expect(events).toEqual(["approval_requested", "approved", "step_succeeded"]);
  });

  it("a rejection never runs a step and hands the incident to the fallback", async () => {
    const id = await alert({ runbook: "ask" });
    await settle();
    const runId = runsOf(id)[0]?.id;
    const res = await post(
      svc.app,
      `/api/v1/runbooks/${runId}/reject`,
      {},
      {
        key: "responder-token-0123456789",
      },
    );
    expect(res.json().run.status).toBe("rejected");
    await tick(30 * MIN);
    expect(paths()).toEqual([]);
    expect(pagedTo()).toContain("alice");
  });

  it("nobody answering within approval_timeout pages, not waits forever", async () => {
    const id = await alert({ runbook: "ask" });
    await settle();
    await tick(15 * MIN - 1);
    expect(pagedTo()).toEqual(["team-chat"]);
    await tick(1);
    expect(runsOf(id)[0]?.status).toBe("expired");
    expect(pagedTo()).toContain("alice");
    expect(paths()).toEqual([]);
  });

  it("refuses a host outside the allowlist, sends nothing there, and pages", async () => {
    const target = new URL(other.url).host;
    const id = await alert({ runbook: "anywhere", target });
    await settle();
    expect(other.requests).toEqual([]);
    expect(runsOf(id)[0]).toMatchObject({ status: "failed", failedStep: "steal" });
    expect(runsOf(id)[0]?.lastError).toMatch(/not in automation\.allowed_hosts; not sent/);
    expect(pagedTo()).toEqual(["alice"]);
  });

  it("a runner that dies after a request, before recording it: the step is made again after the lease, same key", async () => {
    const id = await alert({ runbook: "plain" });
    const dying = new RunbookRunner(svc.engine, svc.clock, () => svc.engine.config, {
      leaseMs: MIN,
      http: async (req) => {
        await fetchAction(req);
        throw new Error("killed after the request");
      },
    });
    await expect(dying.runOnce()).rejects.toThrow("killed after the request");
    expect(paths()).toEqual(["/fail"]);
    // Leased: nobody else takes the step before the lease lapses.
    await tick(MIN - 1);
    expect(paths()).toEqual(["/fail"]);
    await tick(1);
    expect(paths()).toEqual(["/fail", "/fail"]);
    const keys = api.requests.map((r) => r.headers["idempotency-key"]);
    expect(new Set(keys).size).toBe(1);
    expect(runsOf(id)[0]?.status).toBe("succeeded");
  });

  it("lists and shows runs over HTTP, with the catalog's errors for bad input", async () => {
    const id = await alert({ runbook: "ask" });
    const key = "viewer-token-0123456789";
    const list = await get(svc.app, `/api/v1/runbooks?incident=${id}`, key);
    expect(list.statusCode).toBe(200);
    expect(list.json().runs).toHaveLength(1);
    expect(list.json().runs[0]).toMatchObject({
      playbook: "ask-first",
      status: "awaiting_approval",
      steps: ["fix"],
    });
    const bad = await get(svc.app, "/api/v1/runbooks?status=sleeping", key);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe("PW_INVALID_QUERY");
    expect((await get(svc.app, "/api/v1/runbooks/999", key)).statusCode).toBe(404);
    const missing = await post(
      svc.app,
      "/api/v1/runbooks/999/approve",
      {},
      {
        key: "responder-token-0123456789",
      },
    );
    expect(missing.statusCode).toBe(404);
  });
});
