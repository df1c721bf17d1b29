import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { get, post, snapshot, type TestService, testService } from "../helpers.js";
import { type HttpPeer, httpPeer } from "../notify/peers.js";

/**
 * Signed ack/resolve links end to end: the URL is taken from a message that really went out over
 * HTTP, then used the way a phone would: GET shows a page, the page's button POSTs.
 */

const MIN = 60_000;
const START = Date.parse("2026-11-30T14:00:00Z");
const GEN_KEY = "gen-key-0123456789";
const RESPONDER = "responder-token-0123";

function configText(base: string): string {
  return `
server:
  public_url: http://pagewise.test
  link_secret: links-test-secret-0123456789
  link_ttl: 1h
users:
  - { name: alice, webhook: "${base}/alice" }
  - { name: bob, webhook: "${base}/bob" }
chains:
  - name: main
    steps:
      - { targets: [{ user: alice }], delay: 5m }
      - { targets: [{ user: bob }], delay: 5m }
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
  - { name: admin, token: demo-admin-token, role: admin }
  - { name: rita, token: ${RESPONDER}, role: responder }
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

/** Opens an incident that pages alice; returns its id and the links of alice's message. */
async function page(dedup = "cpu"): Promise<{ id: number; ack: string; resolve: string }> {
  const res = await post(
    svc.app,
    "/ingest/events",
    { summary: "API error rate above 5%", service: "api", severity: "critical", dedup_key: dedup },
    { key: GEN_KEY },
  );
  expect(res.statusCode).toBe(200);
  const id = res.json().results[0].incident_id as number;
  const before = peer.requests.length;
  await svc.deliverer.drain();
  const mine = peer.requests.slice(before).filter((r) => r.url === "/alice");
  expect(mine).toHaveLength(1);
  const body = JSON.parse(mine[0]?.body ?? "{}");
  expect(body.incident_id).toBe(id);
  return { id, ack: body.ack_url, resolve: body.resolve_url };
}

/** The path of a link (the app is reached by inject, not by the public host). */
const path = (url: string) => {
  const u = new URL(url);
  expect(u.origin).toBe("http://pagewise.test");
  return u.pathname;
};
const open = (url: string) => svc.app.inject({ method: "GET", url: path(url) });
const act = (url: string, form = false) =>
  svc.app.inject({
    method: "POST",
    url: path(url),
    // What a browser sends for the page's bare button: a form, empty.
    ...(form ? { headers: { "content-type": "application/x-www-form-urlencoded" }, payload: "" } : {}),
  });
const incident = async (id: number) => (await get(svc.app, `/api/v1/incidents/${id}`)).json().incident;
const bobPages = () => peer.requests.filter((r) => r.url === "/bob").length;

async function tick(ms: number): Promise<void> {
  svc.clock.advance(ms);
  svc.engine.drainTimers();
  await svc.deliverer.drain();
}

describe("signed ack link", () => {
  it("GET shows a confirmation page and changes nothing; POST acknowledges once and stops the chain", async () => {
    const { id, ack } = await page();

    const before = snapshot(svc);
    const shown = await open(ack);
    expect(shown.statusCode).toBe(200);
    expect(shown.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(shown.headers["cache-control"]).toBe("no-store");
    expect(shown.body).toContain(`Acknowledge incident #${id}?`);
    expect(shown.body).toContain("API error rate above 5%");
    expect(shown.body).toContain('<form method="post">');
    expect(shown.body).toContain("Acknowledge as alice");
    // A mail scanner fetching the link twice does nothing either.
    await open(ack);
    expect(snapshot(svc)).toBe(before);
    expect((await incident(id)).status).toBe("triggered");

    const done = await act(ack);
    expect(done.statusCode).toBe(200);
    expect(done.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(done.body).toContain(`Acknowledged #${id}`);
    expect(done.body).toContain("Acknowledged by alice.");
    const inc = await incident(id);
    expect(inc).toMatchObject({ status: "acknowledged", acknowledged_by: "alice" });
    expect(inc.escalation.state).toBe("acknowledged");
    const acked = inc.timeline.find((t: { kind: string }) => t.kind === "acknowledged");
    expect(acked).toMatchObject({ actor: "alice", detail: { via: "link" } });

    // The chain stopped: bob's step never comes, however long we wait.
    await tick(5 * MIN);
    await tick(30 * MIN);
    expect(bobPages()).toBe(0);
    expect(svc.store.deliveries({ incidentId: id, limit: 100 }).map((d) => d.recipient)).toEqual(["alice"]);

    // The link works once: a second use, and the page, say so.
    const again = await act(ack);
    expect(again.statusCode).toBe(409);
    expect(again.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(again.body).toContain("Already taken");
    expect(again.body).toContain("This action was already taken: the link works once.");
    expect(again.body).toContain("It is acknowledged.");
    const reopened = await open(ack);
    expect(reopened.statusCode).toBe(409);
    expect(reopened.body).toContain("Already taken");
  });

  it("without the ack, the chain goes on to bob after the delay (the stop above is the link's doing)", async () => {
    const { id } = await page();
    await tick(5 * MIN - 1);
    expect(bobPages()).toBe(0);
    await tick(1);
    expect(bobPages()).toBe(1);
    expect((await incident(id)).status).toBe("triggered");
  });

  it("a browser's form post (the page's button) works", async () => {
    const { id, ack } = await page();
    const res = await act(ack, true);
    expect(res.statusCode).toBe(200);
    expect((await incident(id)).acknowledged_by).toBe("alice");
  });

  it("JSON endpoints still refuse a form body with 415", async () => {
    const { id } = await page();
    const before = snapshot(svc);
    for (const url of [`/api/v1/incidents/${id}/acknowledge`, `/api/v1/incidents/${id}/reassign`]) {
      const res = await svc.app.inject({
        method: "POST",
        url,
        headers: {
          authorization: `Bearer ${RESPONDER}`,
          "content-type": "application/x-www-form-urlencoded",
        },
        payload: "reason=x&to_user=bob",
      });
      expect(res.statusCode).toBe(415);
      expect(res.json().error.code).toBe("PW_UNSUPPORTED_MEDIA_TYPE");
    }
    expect(snapshot(svc)).toBe(before);
  });

  it("refuses a tampered link with 403 and changes nothing", async () => {
    const { id, ack, resolve } = await page();
    const token = path(ack).slice("/l/".length);
    const [body, mac] = token.split(".") as [string, string];
    // Another incident, another action or another recipient under the same signature.
    const forged = (claims: unknown[]) =>
      `/l/${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${mac}`;
    const claims = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as unknown[];
    expect(claims.slice(0, 3)).toEqual([id, "acknowledge", "alice"]);
    const flip = (s: string) => (s[0] === "A" ? `B${s.slice(1)}` : `A${s.slice(1)}`);
    const bad = [
      `/l/${body}.${flip(mac)}`,
      `/l/${body}.${mac.slice(0, -2)}`,
      `/l/${body}`,
      `/l/.${mac}`,
      `/l/${body}x.${mac}`,
      forged([id + 1, ...claims.slice(1)]),
      forged([claims[0], "resolve", ...claims.slice(2)]),
      forged([claims[0], claims[1], "mallory", claims[3]]),
      forged([...claims.slice(0, 3), (claims[3] as number) + 86_400_000]),
      // The resolve link's signature on the ack link's claims.
      `/l/${body}.${path(resolve).split(".")[1]}`,
    ];
    const before = snapshot(svc);
    for (const url of bad) {
      for (const method of ["GET", "POST"] as const) {
        const res = await svc.app.inject({ method, url });
        expect(res.statusCode, `${method} ${url}`).toBe(403);
        expect(res.body).toContain("This link is not valid");
      }
    }
    expect(snapshot(svc)).toBe(before);
    // The real one still works afterwards.
    expect((await act(ack)).statusCode).toBe(200);
  });

  it("refuses an expired link with 410 (link_ttl: 1h), even one never used", async () => {
    const { id, ack } = await page();
    svc.clock.advance(60 * MIN - 1);
    expect((await open(ack)).statusCode).toBe(200);
    svc.clock.advance(1);
    const before = snapshot(svc);
    const shown = await open(ack);
    expect(shown.statusCode).toBe(410);
    expect(shown.body).toContain("This link has expired");
    const res = await act(ack);
    expect(res.statusCode).toBe(410);
    expect(res.body).toContain("Link expired");
    expect(snapshot(svc)).toBe(before);
    expect((await incident(id)).status).toBe("triggered");
  });

  it("answers already taken when someone acknowledged through the API first", async () => {
    const { id, ack } = await page();
    const api = await post(svc.app, `/api/v1/incidents/${id}/acknowledge`, {}, { key: RESPONDER });
    expect(api.statusCode).toBe(200);
    const shown = await open(ack);
    expect(shown.statusCode).toBe(409);
    expect(shown.body).toContain("Already taken");
    const res = await act(ack);
    expect(res.statusCode).toBe(409);
    expect(res.body).toContain("Already taken");
    expect(res.body).toContain("It is acknowledged.");
    // The API's acknowledgement stands: it is still rita's, not alice's.
    expect((await incident(id)).acknowledged_by).toBe("rita");
  });
});

describe("signed links for a client that asks for JSON", () => {
  it("answers with the catalog's codes instead of pages", async () => {
    const { id, ack } = await page();
    const call = (method: "GET" | "POST", url: string) =>
      svc.app.inject({ method, url, headers: { accept: "application/json" } });
    const shown = await call("GET", path(ack));
    expect(shown.statusCode).toBe(200);
    expect(shown.json()).toMatchObject({ action: "acknowledge", recipient: "alice", incident: { id } });
    expect((await incident(id)).status).toBe("triggered");

    const done = await call("POST", path(ack));
    expect(done.statusCode).toBe(200);
    expect(done.json()).toMatchObject({
      action: "acknowledge",
      recipient: "alice",
      incident: { id, status: "acknowledged", acknowledged_by: "alice" },
    });
    const again = await call("POST", path(ack));
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({ code: "PW_LINK_USED" });
    expect(again.json().error.message).toContain("already taken");

    const tampered = await call("POST", `${path(ack)}x`);
    expect(tampered.statusCode).toBe(403);
    expect(tampered.json().error.code).toBe("PW_LINK_INVALID");
    const other = await page("mem");
    svc.clock.advance(60 * MIN);
    const expired = await call("POST", path(other.ack));
    expect(expired.statusCode).toBe(410);
    expect(expired.json().error.code).toBe("PW_LINK_EXPIRED");
  });
});

describe("signed resolve link", () => {
  it("resolves the incident once, stops everything, and then answers already taken", async () => {
    const { id, ack, resolve } = await page();
    const shown = await open(resolve);
    expect(shown.statusCode).toBe(200);
    expect(shown.body).toContain(`Resolve incident #${id}?`);
    expect(shown.body).toContain("Resolve as alice");

    const res = await act(resolve, true);
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain("Resolved by alice.");
    const inc = await incident(id);
    expect(inc).toMatchObject({ status: "resolved", resolved_by: "alice", resolve_reason: "manual" });
    expect(inc.escalation.state).not.toBe("running");
    await tick(30 * MIN);
    expect(bobPages()).toBe(0);

    expect((await act(resolve)).statusCode).toBe(409);
    // The unused ack link of a resolved incident is moot too.
    const late = await act(ack);
    expect(late.statusCode).toBe(409);
    expect(late.body).toContain("It is resolved.");
    expect((await incident(id)).acknowledged_by).toBeNull();
  });

  it("a resolve after an ack by link works (a different action is a different link)", async () => {
    const { id, ack, resolve } = await page();
    expect((await act(ack)).statusCode).toBe(200);
    expect((await act(resolve)).statusCode).toBe(200);
    expect(await incident(id)).toMatchObject({ status: "resolved", acknowledged_by: "alice" });
  });
});
