import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EXAMPLE_CONFIG_TEXT, get, KEYS, post, type TestService, testService } from "../helpers.js";

let svc: TestService;
const CONFIG = `${EXAMPLE_CONFIG_TEXT}
  - name: night-viewer
    token: viewer-token-123
    role: viewer
  - name: alice
    token: responder-token-123
    role: responder
`;
beforeEach(async () => {
  svc = await testService(CONFIG);
  for (const [service, n] of [
    ["checkout", 3],
    ["search", 2],
  ] as const) {
    for (let i = 0; i < n; i++) {
      await post(
        svc.app,
        "/ingest/events",
        { summary: `${service} ${i}`, service, dedup_key: `${service}-${i}` },
        { key: KEYS.generic },
      );
    }
  }
});
afterEach(async () => {
  await svc.dispose();
});

const act = (id: number, action: string, token: string) =>
  svc.app.inject({
    method: "POST",
    url: `/api/v1/incidents/${id}/${action}`,
    headers: { authorization: `Bearer ${token}` },
  });

describe("incident API", () => {
  it("lists newest first, filters by status, service and source, and pages with a cursor", async () => {
    const all = (await get(svc.app, "/api/v1/incidents")).json();
    expect(all.incidents.map((i: { id: number }) => i.id)).toEqual([5, 4, 3, 2, 1]);
    expect(all.next_cursor).toBeNull();

    const search = (await get(svc.app, "/api/v1/incidents?service=search")).json();
    expect(search.incidents.map((i: { service: string }) => i.service)).toEqual(["search", "search"]);
    expect((await get(svc.app, "/api/v1/incidents?source=pagerduty")).json().incidents).toEqual([]);

    const page1 = (await get(svc.app, "/api/v1/incidents?limit=2")).json();
    expect(page1.incidents.map((i: { id: number }) => i.id)).toEqual([5, 4]);
    const page2 = (await get(svc.app, `/api/v1/incidents?limit=2&cursor=${page1.next_cursor}`)).json();
    expect(page2.incidents.map((i: { id: number }) => i.id)).toEqual([3, 2]);
    const page3 = (await get(svc.app, `/api/v1/incidents?limit=2&cursor=${page2.next_cursor}`)).json();
    expect(page3.incidents.map((i: { id: number }) => i.id)).toEqual([1]);
    expect(page3.next_cursor).toBeNull();

    expect((await act(2, "acknowledge", KEYS.admin)).statusCode).toBe(200);
    expect((await act(3, "resolve", KEYS.admin)).statusCode).toBe(200);
    const acked = (await get(svc.app, "/api/v1/incidents?status=acknowledged")).json();
    expect(acked.incidents.map((i: { id: number }) => i.id)).toEqual([2]);
    const open = (await get(svc.app, "/api/v1/incidents?status=open")).json();
    expect(open.incidents.map((i: { id: number }) => i.id)).toEqual([5, 4, 2, 1]);
  });

  it("shows one incident with its alerts and timeline", async () => {
    await act(1, "acknowledge", "responder-token-123");
    const res = await get(svc.app, "/api/v1/incidents/1");
    expect(res.statusCode).toBe(200);
    const inc = res.json().incident;
    expect(inc).toMatchObject({
      id: 1,
      status: "acknowledged",
      acknowledged_by: "alice",
      service: "checkout",
    });
    expect(inc.alerts).toEqual([
      expect.objectContaining({ alert_key: "checkout-0", status: "firing", raw: expect.any(Object) }),
    ]);
    expect(inc.timeline.map((t: { kind: string; actor: string }) => [t.kind, t.actor])).toEqual([
      ["opened", "generic"],
      ["acknowledged", "alice"],
    ]);
  });

  it("resolving resolves its alerts; an illegal change is a 409 with a typed error", async () => {
    const r = await act(1, "resolve", KEYS.admin);
    expect(r.json().incident).toMatchObject({
      status: "resolved",
      resolve_reason: "manual",
      open_alert_count: 0,
    });
    const inc = (await get(svc.app, "/api/v1/incidents/1")).json().incident;
    expect(inc.alerts[0].status).toBe("resolved");
    const again = await act(1, "acknowledge", KEYS.admin);
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toEqual({
      code: "PW_ILLEGAL_TRANSITION",
      message: "cannot acknowledge an incident that is resolved",
    });
    // A new trigger for the same key opens a new incident (the old one stays resolved).
    await post(
      svc.app,
      "/ingest/events",
      { summary: "again", service: "checkout", dedup_key: "checkout-0" },
      { key: KEYS.generic },
    );
    expect((await get(svc.app, "/api/v1/incidents?limit=1")).json().incidents[0]).toMatchObject({
      id: 6,
      status: "triggered",
    });
  });

  it("answers 404 for unknown incidents and 400 for bad query parameters", async () => {
    expect((await get(svc.app, "/api/v1/incidents/999")).statusCode).toBe(404);
    expect((await get(svc.app, "/api/v1/incidents/abc")).statusCode).toBe(404);
    expect((await act(999, "resolve", KEYS.admin)).statusCode).toBe(404);
    for (const q of ["status=bogus", "limit=0", "limit=100000", "limit=x", "cursor=-1"]) {
      const res = await get(svc.app, `/api/v1/incidents?${q}`);
      expect(res.statusCode, q).toBe(400);
      expect(res.json().error.code).toBe("PW_INVALID_QUERY");
    }
  });

  it("needs an API token: ingest keys cannot read, viewers cannot act", async () => {
    const none = await svc.app.inject({ method: "GET", url: "/api/v1/incidents" });
    expect(none.statusCode).toBe(401);
    expect(none.headers["www-authenticate"]).toContain("Bearer");
    expect((await get(svc.app, "/api/v1/incidents", "wrong-token")).statusCode).toBe(401);
    const ingestKey = await get(svc.app, "/api/v1/incidents", KEYS.generic);
    expect(ingestKey.statusCode).toBe(403);
    expect(ingestKey.json().error.message).toContain("ingest key");
    expect((await get(svc.app, "/api/v1/incidents", "viewer-token-123")).statusCode).toBe(200);
    const viewerAck = await act(1, "acknowledge", "viewer-token-123");
    expect(viewerAck.statusCode).toBe(403);
    expect((await get(svc.app, "/api/v1/incidents/1")).json().incident.status).toBe("triggered");
    expect((await act(1, "acknowledge", KEYS.generic)).statusCode).toBe(403);
  });
});
