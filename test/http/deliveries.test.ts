import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { VirtualClock } from "../../src/core/clock.js";
import { createService, type Service } from "../../src/service.js";
import { get, KEYS, post, tempDir } from "../helpers.js";
import { expectNoSockets, type HttpPeer, httpPeer, type Recorded, type Reply } from "../notify/peers.js";

/**
 * The outbox as an operator sees it over HTTP: dead letters (GET /api/v1/deliveries, the incident
 * timeline, /metrics), an admin's retry, backoff while a peer is down, and a page cancelled because
 * its incident was acknowledged while it waited. Every message goes to a real loopback webhook
 * server; time is a virtual clock, and the jitter is fixed at its midpoint so waits are exact.
 */

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
/** Monday afternoon. */
const START = Date.parse("2026-11-30T14:00:00Z");
const GEN_KEY = "gen-key-0123456789";
const RESPONDER = "responder-token-0123";
const VIEWER = "viewer-token-012345";
/** A send that takes longer than this times out (and is retried). */
const TIMEOUT = 250;

function configText(base: string): string {
  return `
server:
  public_url: http://pagewise.test
  link_secret: deliveries-test-secret-0123456789
users:
  - { name: bob, webhook: "${base}/bob" }
chains:
  - name: main
    steps:
      - { targets: [{ channel: hook }], delay: 5m }
      - { targets: [{ user: bob }], delay: 5m }
channels:
  - { name: hook, kind: webhook, url: "${base}/hook" }
teams:
  - { name: ops, chain: main }
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

type Svc = Service & { clock: VirtualClock };

let dir: ReturnType<typeof tempDir>;
let peer: HttpPeer;
let reply: (req: Recorded) => Reply;
let svc: Svc;

beforeEach(async () => {
  dir = tempDir("pagewise-deliveries-");
  reply = () => ({ status: 200 });
  peer = await httpPeer((req) => reply(req));
  const clock = new VirtualClock(START);
  const s = await createService({
    config: parseConfig(configText(peer.url.replace(/\/hook$/, "")), {}),
    dbPath: join(dir.path, "pagewise.db"),
    durability: "normal",
    clock,
    worker: false,
    // Jitter at its midpoint: the backoff is exactly 5 s, 10 s, 20 s, ...
    delivery: { random: () => 0.5, timeoutMs: TIMEOUT },
  });
  svc = Object.assign(s, { clock });
});
afterEach(async () => {
  await svc.close();
  await peer.close();
  dir.cleanup();
  await expectNoSockets();
});

/** Opens an incident whose chain pages the hook channel at once; the page is in the outbox. */
async function page(): Promise<number> {
  const res = await post(
    svc.app,
    "/ingest/events",
    { summary: "API error rate above 5%", service: "api", severity: "critical", dedup_key: "cpu" },
    { key: GEN_KEY },
  );
  expect(res.statusCode).toBe(200);
  return res.json().results[0].incident_id as number;
}

interface Row {
  id: number;
  incident_id: number;
  channel: string;
  recipient: string | null;
  kind: string;
  status: string;
  attempts: number;
  idempotency_key: string;
  next_attempt_at: string | null;
  sent_at: string | null;
  last_error: string | null;
}

async function list(query = "", key: string = KEYS.admin): Promise<Row[]> {
  const res = await get(svc.app, `/api/v1/deliveries${query}`, key);
  expect(res.statusCode, query).toBe(200);
  return res.json().deliveries;
}
async function only(query: string): Promise<Row> {
  const rows = await list(query);
  expect(rows, query).toHaveLength(1);
  return rows[0] as Row;
}
const retry = (id: number | string, key: string = KEYS.admin) =>
  post(svc.app, `/api/v1/deliveries/${id}/retry`, {}, { key });
const timeline = async (id: number) =>
  (await get(svc.app, `/api/v1/incidents/${id}`)).json().incident.timeline as {
    kind: string;
    actor: string;
    at: string;
    detail: Record<string, unknown>;
  }[];
const iso = (ms: number) => new Date(ms).toISOString();

/** One sample of /metrics, by its exact series name and labels. */
async function metric(series: string): Promise<number | undefined> {
  const res = await svc.app.inject("/metrics");
  expect(res.statusCode).toBe(200);
  const line = res.body.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
const DEAD = "pagewise_outbox_dead_letters";
const PENDING = 'pagewise_outbox_backlog{status="pending"}';
const AGE = "pagewise_outbox_oldest_pending_age_seconds";
const total = (outcome: string, channel = "hook") =>
  `pagewise_deliveries_total{channel="${channel}",outcome="${outcome}"}`;

async function tick(ms: number): Promise<void> {
  svc.clock.advance(ms);
  svc.engine.drainTimers();
  await svc.deliverer.drain();
}

describe("a dead letter", () => {
  it("a 400 from the webhook fails at once: listed as failed, on the incident's timeline, counted in /metrics", async () => {
    reply = () => ({ status: 400, body: '{"error":"bad payload"}' });
    const id = await page();
    expect(await metric(DEAD)).toBe(0);
    await svc.deliverer.drain();
    expect(peer.requests.map((r) => r.url)).toEqual(["/hook"]);

    const row = await only("?status=failed");
    expect(row).toMatchObject({
      incident_id: id,
      channel: "hook",
      recipient: null,
      kind: "page",
      status: "failed",
      attempts: 1,
      next_attempt_at: null,
      sent_at: null,
    });
    expect(row.last_error).toMatch(/^HTTP 400/);
    expect(row.last_error).toContain("bad payload");
    expect(row.idempotency_key).toBe(peer.requests[0]?.headers["idempotency-key"]);
    expect(await list("?status=pending")).toEqual([]);
    expect(await list("?status=sent")).toEqual([]);
    // Filters combine; another incident has none.
    expect((await list(`?status=failed&incident=${id}`)).map((r) => r.id)).toEqual([row.id]);
    expect(await list(`?incident=${id + 1}`)).toEqual([]);
    // A viewer may look.
    expect((await list("?status=failed", VIEWER)).map((r) => r.id)).toEqual([row.id]);

    const failed = (await timeline(id)).filter((t) => t.kind === "delivery_failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      actor: "pagewise",
      at: iso(START),
      detail: { delivery: row.id, channel: "hook", recipient: null, attempts: 1 },
    });
    expect(String(failed[0]?.detail.reason)).toMatch(/^HTTP 400/);

    expect(await metric(DEAD)).toBe(1);
    expect(await metric(total("dead_lettered"))).toBe(1);
    expect(await metric(total("retried"))).toBeUndefined();
    expect(await metric(total("delivered"))).toBeUndefined();
    expect(await metric(PENDING)).toBe(0);

    // 4xx is permanent: an hour later it has not been tried again.
    svc.clock.advance(HOUR);
    expect(await svc.deliverer.drain()).toBe(0);
    expect(peer.requests).toHaveLength(1);
    expect((await only("?status=failed")).attempts).toBe(1);
  });

  it("refuses a bad query with 400 and a retry of a delivery that does not exist with 404", async () => {
    for (const [query, field] of [
      ["?status=dead", "status"],
      ["?status=FAILED", "status"],
      ["?status=", "status"],
      ["?limit=0", "limit"],
      ["?limit=1001", "limit"],
      ["?incident=abc", "incident"],
    ] as const) {
      const res = await get(svc.app, `/api/v1/deliveries${query}`);
      expect(res.statusCode, query).toBe(400);
      const error = res.json().error;
      expect(error.code, query).toBe("PW_INVALID_QUERY");
      expect(error.errors, query).toEqual([expect.objectContaining({ field })]);
    }
    const bad = (await get(svc.app, "/api/v1/deliveries?status=dead")).json().error;
    expect(bad.message).toBe("status: must be one of pending, sending, sent, failed, cancelled");

    const missing = await retry(999);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toMatchObject({
      code: "PW_NOT_FOUND",
      message: "delivery 999 does not exist",
    });
    const notNumber = await retry("abc");
    expect(notNumber.statusCode).toBe(400);
    expect(notNumber.json().error.errors).toEqual([expect.objectContaining({ field: "id" })]);

    const anonymous = await svc.app.inject({ method: "GET", url: "/api/v1/deliveries" });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().error.code).toBe("PW_UNAUTHORIZED");
  });
});

describe("retrying a dead letter", () => {
  it("an admin sends it again once the channel is fixed, with the same idempotency key; only an admin may", async () => {
    reply = () => ({ status: 400, body: "no" });
    const id = await page();
    await svc.deliverer.drain();
    const dead = await only("?status=failed");

    // Responders and viewers may not retry; nothing changes.
    for (const key of [RESPONDER, VIEWER]) {
      const res = await retry(dead.id, key);
      expect(res.statusCode, key).toBe(403);
      expect(res.json().error.code).toBe("PW_FORBIDDEN");
    }
    const anonymous = await svc.app.inject({ method: "POST", url: `/api/v1/deliveries/${dead.id}/retry` });
    expect(anonymous.statusCode).toBe(401);
    expect(await only("?status=failed")).toEqual(dead);

    // The channel is fixed; an admin retries a minute later.
    reply = () => ({ status: 200 });
    svc.clock.advance(MIN);
    const res = await retry(dead.id);
    expect(res.statusCode).toBe(200);
    expect(res.json().delivery).toMatchObject({
      id: dead.id,
      status: "pending",
      attempts: 0,
      next_attempt_at: iso(START + MIN),
      idempotency_key: dead.idempotency_key,
    });
    expect(await list("?status=failed")).toEqual([]);
    expect((await only("?status=pending")).id).toBe(dead.id);
    expect(await metric(DEAD)).toBe(0);
    expect(await metric(PENDING)).toBe(1);
    const retried = (await timeline(id)).filter((t) => t.kind === "delivery_retried");
    expect(retried).toHaveLength(1);
    expect(retried[0]).toMatchObject({
      at: iso(START + MIN),
      detail: { delivery: dead.id, channel: "hook" },
    });

    expect(await svc.deliverer.drain()).toBe(1);
    expect(peer.requests).toHaveLength(2);
    const [first, second] = peer.requests as [Recorded, Recorded];
    expect(second.url).toBe("/hook");
    expect(second.headers["idempotency-key"]).toBe(dead.idempotency_key);
    expect(first.headers["idempotency-key"]).toBe(dead.idempotency_key);
    expect(JSON.parse(second.body)).toMatchObject({ incident_id: id, idempotency_key: dead.idempotency_key });
    expect(second.body).toBe(first.body);

    const sent = await only("?status=sent");
    expect(sent).toMatchObject({
      id: dead.id,
      status: "sent",
      attempts: 1,
      sent_at: iso(START + MIN),
      last_error: null,
      next_attempt_at: null,
    });
    expect(await metric(total("delivered"))).toBe(1);
    expect(await metric(total("dead_lettered"))).toBe(1);
    expect(await metric(PENDING)).toBe(0);

    // A sent message is not sent again.
    const again = await retry(dead.id);
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe("PW_ILLEGAL_TRANSITION");
    expect(again.json().error.message).toContain("is sent");
    svc.clock.advance(HOUR);
    expect(await svc.deliverer.drain()).toBe(0);
    expect(peer.requests).toHaveLength(2);
    expect((await only("?status=sent")).sent_at).toBe(iso(START + MIN));
  });
});

describe("a peer that is down", () => {
  it("a 503 keeps the row pending with doubling backoff; the backlog gauges follow the virtual clock", async () => {
    reply = () => ({ status: 503, body: "down for maintenance" });
    const id = await page();
    // Queued, not yet tried: the backlog shows it at once.
    expect(await metric(PENDING)).toBe(1);
    expect(await metric(AGE)).toBe(0);

    await svc.deliverer.drain();
    let row = await only("?status=pending");
    expect(row).toMatchObject({ incident_id: id, attempts: 1, next_attempt_at: iso(START + 5 * SEC) });
    expect(row.last_error).toMatch(/^HTTP 503: down for maintenance/);
    expect(await metric(total("retried"))).toBe(1);
    expect(await metric(DEAD)).toBe(0);
    // Only a dead letter can be retried by hand.
    const early = await retry(row.id);
    expect(early.statusCode).toBe(409);
    expect(early.json().error.message).toContain("is pending");

    // Not a moment early.
    svc.clock.advance(5 * SEC - 1);
    expect(await svc.deliverer.drain()).toBe(0);
    expect(peer.requests).toHaveLength(1);
    expect(await metric(AGE)).toBe(4.999);

    svc.clock.advance(1);
    expect(await svc.deliverer.drain()).toBe(1);
    row = await only("?status=pending");
    expect(row).toMatchObject({ attempts: 2, next_attempt_at: iso(START + 15 * SEC) });

    svc.clock.advance(10 * SEC);
    expect(await svc.deliverer.drain()).toBe(1);
    row = await only("?status=pending");
    expect(row).toMatchObject({ attempts: 3, next_attempt_at: iso(START + 35 * SEC) });
    expect(await metric(PENDING)).toBe(1);
    // The age counts from when the message was queued, not from its last attempt.
    expect(await metric(AGE)).toBe(15);
    expect(await metric(total("retried"))).toBe(3);
    expect(new Set(peer.requests.map((r) => r.headers["idempotency-key"]))).toEqual(
      new Set([row.idempotency_key]),
    );

    // The peer recovers: the next attempt delivers, and the gauges drop to zero.
    reply = () => ({ status: 200 });
    svc.clock.advance(20 * SEC);
    expect(await svc.deliverer.drain()).toBe(1);
    expect(await only("?status=sent")).toMatchObject({
      id: row.id,
      attempts: 4,
      sent_at: iso(START + 35 * SEC),
      last_error: null,
    });
    expect(await metric(PENDING)).toBe(0);
    expect(await metric(AGE)).toBe(0);
    expect(await metric(total("delivered"))).toBe(1);
    expect(await metric(DEAD)).toBe(0);
    expect(peer.requests).toHaveLength(4);
  });

  it("a peer that does not answer in time is retried with the same backoff and the same key", async () => {
    reply = () => ({ status: 200, delayMs: 20 * TIMEOUT });
    await page();
    await svc.deliverer.drain();
    const row = await only("?status=pending");
    expect(row).toMatchObject({
      attempts: 1,
      next_attempt_at: iso(START + 5 * SEC),
      last_error: "timed out",
    });
    expect(await metric(total("retried"))).toBe(1);

    reply = () => ({ status: 200 });
    svc.clock.advance(5 * SEC);
    await svc.deliverer.drain();
    expect(await only("?status=sent")).toMatchObject({ id: row.id, attempts: 2 });
    expect(peer.requests).toHaveLength(2);
    expect(peer.requests.map((r) => r.headers["idempotency-key"])).toEqual([
      row.idempotency_key,
      row.idempotency_key,
    ]);
  });
});

describe("a page waiting for a retry when its incident is acknowledged", () => {
  it("is cancelled and never sent, and the channel it never reached hears nothing", async () => {
    reply = () => ({ status: 503 });
    const id = await page();
    await svc.deliverer.drain();
    const waiting = await only("?status=pending");
    expect(waiting.next_attempt_at).toBe(iso(START + 5 * SEC));

    svc.clock.advance(2 * SEC);
    const ack = await post(svc.app, `/api/v1/incidents/${id}/acknowledge`, {}, { key: RESPONDER });
    expect(ack.statusCode).toBe(200);

    const cancelled = await only("?status=cancelled");
    expect(cancelled).toMatchObject({
      id: waiting.id,
      status: "cancelled",
      attempts: 1,
      next_attempt_at: null,
      sent_at: null,
      last_error: "incident acknowledged before it was sent",
    });
    expect(await list("?status=pending")).toEqual([]);
    expect(await list("?status=failed")).toEqual([]);
    expect(await metric(PENDING)).toBe(0);
    expect(await metric(AGE)).toBe(0);
    expect(await metric(DEAD)).toBe(0);

    // The peer is back and time passes well beyond the retry and the chain's next step: nothing
    // more goes out, neither the page nor a status update to a channel that never had the page,
    // nor bob's step 2.
    reply = () => ({ status: 200 });
    await tick(5 * SEC);
    await tick(10 * MIN);
    expect(peer.requests).toHaveLength(1);
    expect(await svc.store.deliveries({ incidentId: id, limit: 100 })).toHaveLength(1);
    expect((await only(`?incident=${id}`)).status).toBe("cancelled");

    // A cancelled page is not a dead letter: it cannot be retried.
    const res = await retry(waiting.id);
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe("PW_ILLEGAL_TRANSITION");
  });

  it("a page that was delivered stays sent, and its channel hears of the acknowledgement", async () => {
    const id = await page();
    await svc.deliverer.drain();
    const sent = await only("?status=sent");

    const ack = await post(svc.app, `/api/v1/incidents/${id}/acknowledge`, {}, { key: RESPONDER });
    expect(ack.statusCode).toBe(200);
    await svc.deliverer.drain();
    expect(await list("?status=cancelled")).toEqual([]);
    const rows = await list(`?incident=${id}`);
    expect(rows.map((r) => [r.id === sent.id ? "page" : r.kind, r.status])).toEqual([
      ["update", "sent"],
      ["page", "sent"],
    ]);
    expect(peer.requests.map((r) => r.url)).toEqual(["/hook", "/hook"]);
    expect(JSON.parse(peer.requests[1]?.body ?? "{}")).toMatchObject({
      kind: "update",
      incident_id: id,
      status: "acknowledged",
      note: "acknowledged by rita",
    });
  });
});
