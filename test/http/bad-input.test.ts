import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KEYS, post, promAlert, snapshot, type TestService, testService } from "../helpers.js";

/**
 * Bad input of every kind gets a clear JSON 4xx, never a 5xx, and nothing already stored changes.
 * One service is shared: each case compares a digest of every table before and after.
 */
let svc: TestService;
beforeAll(async () => {
  svc = await testService();
  // Something stored already, so "unchanged" means something.
  await post(svc.app, "/api/v2/alerts", [promAlert({ alertname: "Seed", service: "checkout" })], {
    key: KEYS.prometheus,
  });
  await post(svc.app, "/ingest/events", { summary: "seed", dedup_key: "seed" }, { key: KEYS.generic });
});
afterAll(async () => {
  await svc.dispose();
});

const ENDPOINTS = [
  { url: "/api/v2/alerts", key: KEYS.prometheus, good: [promAlert({ alertname: "X" })] },
  {
    url: "/ingest/alertmanager",
    key: KEYS.alertmanager,
    good: { groupKey: "g", alerts: [{ status: "firing", labels: { a: "b" } }] },
  },
  { url: "/ingest/events", key: KEYS.generic, good: { summary: "x" } },
  {
    url: "/v2/enqueue",
    key: undefined,
    good: {
      routing_key: KEYS.pagerduty,
      event_action: "trigger",
      payload: { summary: "s", source: "h", severity: "info" },
    },
  },
] as const;

async function expectRejected(
  res: { statusCode: number; json: () => unknown; headers: Record<string, unknown> },
  status: number,
  before: string,
) {
  expect(res.statusCode).toBe(status);
  expect(String(res.headers["content-type"])).toContain("application/json");
  const body = res.json() as { error?: { code: string; message: string }; status?: string; message?: string };
  // Ours: {error: {code, message}}; PagerDuty's endpoints: {status, message, errors}.
  expect(body.error?.message ?? body.message).toEqual(expect.any(String));
  expect(snapshot(svc)).toBe(before);
}

describe.each(ENDPOINTS)("$url", ({ url, key, good }) => {
  it("accepts the good body (the control case)", async () => {
    const res = await post(svc.app, url, good, key === undefined ? {} : { key });
    expect(res.statusCode).toBeLessThan(300);
  });

  const cases: [string, { raw?: string | Buffer; contentType?: string; body?: unknown }, number][] = [
    ["malformed JSON", { raw: '{"labels": ' }, 400],
    ["empty body", { raw: "" }, 400],
    ["wrong type at the top", { body: "just a string" }, 400],
    ["wrong content type", { raw: "a=1", contentType: "application/x-www-form-urlencoded" }, 415],
    ["text/plain", { raw: JSON.stringify(good), contentType: "text/plain" }, 415],
    ["deeply nested JSON", { raw: `${"[".repeat(100_000)}${"]".repeat(100_000)}` }, 400],
    [
      "non-UTF-8 bytes",
      { raw: Buffer.concat([Buffer.from('{"summary":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]) },
      400,
    ],
    ["oversized body", { raw: JSON.stringify({ summary: "x".repeat(2 * 1024 * 1024) }) }, 413],
  ];
  for (const [name, c, status] of cases) {
    it(`rejects ${name} with ${status} and changes nothing`, async () => {
      const before = snapshot(svc);
      const opts: { key?: string; raw?: string | Buffer; contentType?: string } = {};
      if (key !== undefined) opts.key = key;
      if (c.raw !== undefined) opts.raw = c.raw;
      if (c.contentType !== undefined) opts.contentType = c.contentType;
      const res = await post(svc.app, url, c.body, opts);
      await expectRejected(res, status, before);
    });
  }

  if (key !== undefined) {
    it("rejects a missing key and an unknown key with 401, and an API token is not an ingest key", async () => {
      const before = snapshot(svc);
      await expectRejected(await post(svc.app, url, good), 401, before);
      await expectRejected(await post(svc.app, url, good, { key: "not-a-real-key" }), 401, before);
      await expectRejected(await post(svc.app, url, good, { key: KEYS.admin }), 401, before);
    });
  }
});

describe("PagerDuty limits", () => {
  it("refuses bodies over 512 KB, as PagerDuty does", async () => {
    const before = snapshot(svc);
    const body = {
      routing_key: KEYS.pagerduty,
      event_action: "trigger",
      payload: {
        summary: "s",
        source: "h",
        severity: "info",
        custom_details: { blob: "x".repeat(600 * 1024) },
      },
    };
    await expectRejected(await post(svc.app, "/v2/enqueue", body), 413, before);
  });
});

describe("fuzzed bodies (property)", () => {
  it("answers 2xx or a JSON 4xx, never 5xx, and a 4xx changes nothing", async () => {
    const near = fc.oneof(
      fc.anything(),
      fc.array(
        fc.record({
          labels: fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer())),
          endsAt: fc.string(),
        }),
        {
          maxLength: 3,
        },
      ),
      fc.record(
        {
          summary: fc.oneof(fc.string({ maxLength: 1100 }), fc.integer()),
          action: fc.oneof(fc.constantFrom("trigger", "resolve", "acknowledge", "change"), fc.string()),
          severity: fc.oneof(fc.constantFrom("critical", "info"), fc.string()),
          upstream_score: fc.oneof(fc.double(), fc.constant(0.5)),
          at: fc.oneof(
            fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
            fc.string(),
          ),
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ENDPOINTS), near, async (ep, body) => {
        const before = snapshot(svc);
        const res = await post(svc.app, ep.url, body, ep.key === undefined ? {} : { key: ep.key });
        expect(res.statusCode).toBeLessThan(500);
        expect(String(res.headers["content-type"])).toContain("application/json");
        if (res.statusCode >= 400) expect(snapshot(svc)).toBe(before);
      }),
      { numRuns: 300 },
    );
  });
});
