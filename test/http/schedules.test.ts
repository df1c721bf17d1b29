import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { DateTime } from "luxon";
import ical, { type VEvent } from "node-ical";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  EXAMPLE_CONFIG_PATH,
  EXAMPLE_CONFIG_TEXT,
  get,
  KEYS,
  type TestService,
  tempDir,
  testService,
} from "../helpers.js";

/**
 * Schedules over HTTP, on the demo config: who is on call at an instant (checked against the
 * `pagewise oncall` CLI, a separate process reading the same file, and against the concrete
 * person), and the iCal feed a calendar app subscribes to with the key in its URL.
 */

const CLI = new URL("../../dist/cli/main.js", import.meta.url).pathname;
const run = promisify(execFile);
const VIEWER = "viewer-token-0123456789";
/** The demo config plus a viewer token (the schedules are the demo's, unchanged). */
const ADMIN = "api_tokens:\n  - name: admin\n    token: demo-admin-token\n    role: admin\n";
const CONFIG = EXAMPLE_CONFIG_TEXT.replace(
  ADMIN,
  `${ADMIN}  - { name: vic, token: ${VIEWER}, role: viewer }\n`,
);

/**
 * The demo's payments-primary rotation starts on 2026-11-02, after both 2026 clock changes. This
 * copy starts it on Monday 2026-03-02 so the rotation runs through them (bob, alice, bob, ...).
 */
const ROTATION = 'participants: [bob, alice], rotation: weekly, handoff: "09:00", handoff_day: mon';
const EARLY_CONFIG = CONFIG.replace(`${ROTATION}, start: "2026-11-02"`, `${ROTATION}, start: "2026-03-02"`);

const SCHEDULE = "payments-primary";
let dir: ReturnType<typeof tempDir>;
let earlyPath: string;
let svc: TestService | undefined;

beforeAll(() => {
  expect(CONFIG).not.toBe(EXAMPLE_CONFIG_TEXT);
  expect(EARLY_CONFIG).not.toBe(CONFIG);
  dir = tempDir("pagewise-schedules-");
  earlyPath = join(dir.path, "early.yaml");
  writeFileSync(earlyPath, EARLY_CONFIG);
});
afterAll(() => dir.cleanup());
afterEach(async () => {
  await svc?.dispose();
  svc = undefined;
});

async function service(text = CONFIG, start = Date.parse("2026-11-29T03:00:00Z")): Promise<TestService> {
  svc = await testService(text, start);
  return svc;
}

/** What `pagewise oncall --json` prints for this instant. */
async function cli(config: string, at: string): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, [
    CLI,
    "oncall",
    "--config",
    config,
    "--schedule",
    SCHEDULE,
    "--at",
    at,
    "--json",
  ]);
  return JSON.parse(stdout);
}

interface Expected {
  at: string;
  user: string | null;
  override?: boolean;
  until: string | null;
  next: { user: string; start: string } | null;
}

/** Asks both the API and the CLI for every case; each must say the same, and what we expect. */
async function agree(s: TestService, config: string, cases: Expected[]): Promise<void> {
  const fromCli = await Promise.all(cases.map((c) => cli(config, c.at)));
  for (const [i, c] of cases.entries()) {
    const res = await get(s.app, `/api/v1/schedules/${SCHEDULE}/oncall?at=${encodeURIComponent(c.at)}`);
    expect(res.statusCode, c.at).toBe(200);
    const { contact, ...api } = res.json();
    expect(api, c.at).toEqual(fromCli[i]);
    expect(api, c.at).toEqual({
      schedule: SCHEDULE,
      at: new Date(c.at).toISOString(),
      user: c.user,
      layer: c.user === null || c.override === true ? null : "weekly",
      override: c.override ?? false,
      until: c.until,
      next: c.next,
    });
    if (c.user === null) expect(contact).toBeNull();
    else expect(contact).toEqual({ email: `${c.user}@example.com`, slack: expect.any(String), phone: null });
  }
}

const next = (user: string, start: string) => ({ user, start });

describe("GET /api/v1/schedules/:name/oncall answers as `pagewise oncall` does", () => {
  it("on the demo config: the start of the rotation, Christmas Eve's override and the 2027 clock changes", async () => {
    const s = await service();
    await agree(s, EXAMPLE_CONFIG_PATH, [
      // 2026's clock changes come before the rotation starts: nobody yet.
      { at: "2026-03-29T12:00:00Z", user: null, until: null, next: null },
      // The first handoff is Monday 09:00 in Berlin, which is CET again by then: 08:00Z, not 07:00Z.
      {
        at: "2026-10-25T12:00:00Z",
        user: null,
        until: null,
        next: next("bob", "2026-11-02T08:00:00.000Z"),
      },
      {
        at: "2026-11-02T07:59:59Z",
        user: null,
        until: null,
        next: next("bob", "2026-11-02T08:00:00.000Z"),
      },
      {
        at: "2026-11-02T08:00:00Z",
        user: "bob",
        until: "2026-11-09T08:00:00.000Z",
        next: next("alice", "2026-11-09T08:00:00.000Z"),
      },
      // Alice's week of December 21st is cut short by the override that gives bob Christmas Eve.
      {
        at: "2026-12-21T08:00:00Z",
        user: "alice",
        until: "2026-12-23T23:00:00.000Z",
        next: next("bob", "2026-12-23T23:00:00.000Z"),
      },
      {
        at: "2026-12-23T22:59:59Z",
        user: "alice",
        until: "2026-12-23T23:00:00.000Z",
        next: next("bob", "2026-12-23T23:00:00.000Z"),
      },
      {
        at: "2026-12-24T12:00:00Z",
        user: "bob",
        override: true,
        until: "2026-12-24T23:00:00.000Z",
        next: next("alice", "2026-12-24T23:00:00.000Z"),
      },
      // The same instant written with Berlin's offset (a "+" must be sent as %2B in a query).
      {
        at: "2026-12-24T13:00:00+01:00",
        user: "bob",
        override: true,
        until: "2026-12-24T23:00:00.000Z",
        next: next("alice", "2026-12-24T23:00:00.000Z"),
      },
      {
        at: "2026-12-24T23:00:00Z",
        user: "alice",
        until: "2026-12-28T08:00:00.000Z",
        next: next("bob", "2026-12-28T08:00:00.000Z"),
      },
      // Spring 2027 (clocks go forward on Sunday the 28th): Monday's handoff is at 07:00Z.
      {
        at: "2027-03-29T06:59:59Z",
        user: "bob",
        until: "2027-03-29T07:00:00.000Z",
        next: next("alice", "2027-03-29T07:00:00.000Z"),
      },
      {
        at: "2027-03-29T07:30:00Z",
        user: "alice",
        until: "2027-04-05T07:00:00.000Z",
        next: next("bob", "2027-04-05T07:00:00.000Z"),
      },
      // Autumn 2027 (clocks go back on Sunday the 31st): Monday's handoff is at 08:00Z.
      {
        at: "2027-11-01T07:30:00Z",
        user: "alice",
        until: "2027-11-01T08:00:00.000Z",
        next: next("bob", "2027-11-01T08:00:00.000Z"),
      },
      {
        at: "2027-11-01T08:00:00Z",
        user: "bob",
        until: "2027-11-08T08:00:00.000Z",
        next: next("alice", "2027-11-08T08:00:00.000Z"),
      },
    ]);
  });

  it("through both 2026 clock changes in Berlin (the rotation started on 2026-03-02)", async () => {
    const s = await service(EARLY_CONFIG);
    await agree(s, earlyPath, [
      // Before the spring change Monday 09:00 is 08:00Z.
      {
        at: "2026-03-23T07:59:59Z",
        user: "bob",
        until: "2026-03-23T08:00:00.000Z",
        next: next("alice", "2026-03-23T08:00:00.000Z"),
      },
      // Sunday 2026-03-29, after the clocks went forward: alice's week ends at 09:00 CEST = 07:00Z.
      {
        at: "2026-03-29T12:00:00Z",
        user: "alice",
        until: "2026-03-30T07:00:00.000Z",
        next: next("bob", "2026-03-30T07:00:00.000Z"),
      },
      {
        at: "2026-03-30T06:59:59Z",
        user: "alice",
        until: "2026-03-30T07:00:00.000Z",
        next: next("bob", "2026-03-30T07:00:00.000Z"),
      },
      // An hour-late handoff (08:00Z, the winter offset) would still say alice here.
      {
        at: "2026-03-30T07:30:00Z",
        user: "bob",
        until: "2026-04-06T07:00:00.000Z",
        next: next("alice", "2026-04-06T07:00:00.000Z"),
      },
      // Sunday 2026-10-25, after the clocks went back: the handoff is at 09:00 CET = 08:00Z.
      {
        at: "2026-10-25T12:00:00Z",
        user: "alice",
        until: "2026-10-26T08:00:00.000Z",
        next: next("bob", "2026-10-26T08:00:00.000Z"),
      },
      // An hour-early handoff (07:00Z, the summer offset) would already say bob here.
      {
        at: "2026-10-26T07:30:00Z",
        user: "alice",
        until: "2026-10-26T08:00:00.000Z",
        next: next("bob", "2026-10-26T08:00:00.000Z"),
      },
      {
        at: "2026-10-26T08:00:00Z",
        user: "bob",
        until: "2026-11-02T08:00:00.000Z",
        next: next("alice", "2026-11-02T08:00:00.000Z"),
      },
    ]);
  });

  it("without at, answers for the service's clock", async () => {
    const s = await service(CONFIG, Date.parse("2026-12-24T12:00:00Z"));
    const res = await get(s.app, `/api/v1/schedules/${SCHEDULE}/oncall`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ at: "2026-12-24T12:00:00.000Z", user: "bob", override: true });
    s.clock.advance(11 * 3_600_000);
    expect((await get(s.app, `/api/v1/schedules/${SCHEDULE}/oncall`)).json()).toMatchObject({
      at: "2026-12-24T23:00:00.000Z",
      user: "alice",
      override: false,
    });
  });

  it.each([
    ["a word", "tomorrow"],
    ["a date without a time", "2026-12-24"],
    ["a time without an offset", "2026-12-24T12:00:00"],
    ["an empty value", ""],
    ["a 13th month", "2026-13-01T00:00:00Z"],
    ["a day that does not exist", "2026-02-30T12:00:00Z"],
    ["the 31st of a 30-day month", "2026-04-31T12:00:00+02:00"],
  ])("refuses %s as at with 400 PW_INVALID_QUERY naming at", async (_what, raw) => {
    const s = await service();
    const at = encodeURIComponent(raw);
    const res = await get(s.app, `/api/v1/schedules/${SCHEDULE}/oncall?at=${at}`);
    expect(res.statusCode).toBe(400);
    const error = res.json().error;
    expect(error.code).toBe("PW_INVALID_QUERY");
    expect(error.message).toContain("at:");
    expect(error.errors).toHaveLength(1);
    expect(error.errors[0]).toMatchObject({ field: "at" });
    expect(error.errors[0].reason).toContain("not an RFC 3339 time");
  });

  it("answers 404 for an unknown schedule, and needs an API token", async () => {
    const s = await service();
    const url = `/api/v1/schedules/${SCHEDULE}/oncall?at=2026-12-24T12:00:00Z`;

    const unknown = await get(s.app, "/api/v1/schedules/payments-tertiary/oncall?at=2026-12-24T12:00:00Z");
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe("PW_NOT_FOUND");
    expect(unknown.json().error.message).toContain('"payments-tertiary"');

    const none = await s.app.inject({ method: "GET", url });
    expect(none.statusCode).toBe(401);
    expect(none.json().error.code).toBe("PW_UNAUTHORIZED");
    // Not even whether a schedule exists is told without a token.
    const noneUnknown = await s.app.inject({ method: "GET", url: "/api/v1/schedules/nope/oncall" });
    expect(noneUnknown.statusCode).toBe(401);
    const wrong = await get(s.app, url, "not-a-token-at-all");
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error.code).toBe("PW_UNAUTHORIZED");
    // A source's ingest key can only ingest.
    const ingest = await get(s.app, url, KEYS.generic);
    expect(ingest.statusCode).toBe(403);
    expect(ingest.json().error.code).toBe("PW_FORBIDDEN");
    // Reading is a viewer's right.
    const viewer = await get(s.app, url, VIEWER);
    expect(viewer.statusCode).toBe(200);
    expect(viewer.json().user).toBe("bob");
  });
});

function events(text: string): VEvent[] {
  return Object.values(ical.sync.parseICS(text))
    .filter((c): c is VEvent => c?.type === "VEVENT")
    .sort((a, b) => a.start.getTime() - b.start.getTime());
}
const iso = (d: Date | undefined) => (d === undefined ? null : d.toISOString());
const rows = (list: VEvent[]) => list.map((e) => [e.summary, iso(e.start), iso(e.end)]);
/** Monday 09:00 on Berlin's wall clock, as a UTC instant (luxon, independent of Pagewise). */
const berlinNine = (date: string) =>
  DateTime.fromISO(`${date}T09:00`, { zone: "Europe/Berlin" }).toUTC().toJSDate().toISOString();

/** The feed URL from the schedule listing, as a path the app can be asked for. */
async function feedPath(s: TestService, name = SCHEDULE): Promise<string> {
  const res = await get(s.app, "/api/v1/schedules");
  expect(res.statusCode).toBe(200);
  const entry = res.json().schedules.find((x: { name: string }) => x.name === name);
  const url = new URL(entry.ics_url);
  expect(url.origin).toBe("http://localhost:8080");
  expect(url.pathname).toBe(`/api/v1/schedules/${name}.ics`);
  expect(url.searchParams.get("key")).toMatch(/^[\w-]{32}$/);
  return `${url.pathname}${url.search}`;
}
const feed = (s: TestService, url: string, headers: Record<string, string> = {}) =>
  s.app.inject({ method: "GET", url, headers });

describe("the iCal feed GET /api/v1/schedules/:name.ics", () => {
  it("shows every shift from a week back to 60 days ahead, in UTC, override and clock change included", async () => {
    // Wednesday after the autumn clock change: the window is 2026-10-21T12:00Z .. 2026-12-27T12:00Z.
    const s = await service(CONFIG, Date.parse("2026-10-28T12:00:00Z"));
    const res = await feed(s, await feedPath(s));
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/calendar; charset=utf-8");
    expect(res.headers["content-disposition"]).toBe(`inline; filename="${SCHEDULE}.ics"`);
    expect(res.body).toMatch(/^BEGIN:VCALENDAR/);
    const list = events(res.body);
    const on = (user: string) => `On call: ${user} (${SCHEDULE})`;
    expect(rows(list)).toEqual([
      // Nobody before the rotation starts: no event for that gap.
      [on("bob"), "2026-11-02T08:00:00.000Z", "2026-11-09T08:00:00.000Z"],
      [on("alice"), "2026-11-09T08:00:00.000Z", "2026-11-16T08:00:00.000Z"],
      [on("bob"), "2026-11-16T08:00:00.000Z", "2026-11-23T08:00:00.000Z"],
      [on("alice"), "2026-11-23T08:00:00.000Z", "2026-11-30T08:00:00.000Z"],
      [on("bob"), "2026-11-30T08:00:00.000Z", "2026-12-07T08:00:00.000Z"],
      [on("alice"), "2026-12-07T08:00:00.000Z", "2026-12-14T08:00:00.000Z"],
      [on("bob"), "2026-12-14T08:00:00.000Z", "2026-12-21T08:00:00.000Z"],
      [on("alice"), "2026-12-21T08:00:00.000Z", "2026-12-23T23:00:00.000Z"],
      // Christmas Eve, midnight to midnight in Berlin.
      [on("bob"), "2026-12-23T23:00:00.000Z", "2026-12-24T23:00:00.000Z"],
      // Clipped at the end of the feed's window.
      [on("alice"), "2026-12-24T23:00:00.000Z", "2026-12-27T12:00:00.000Z"],
    ]);
    // The first shift starts at the Monday 09:00 handoff in Berlin, in UTC.
    expect(iso(list[0]?.start)).toBe(berlinNine("2026-11-02"));
    expect(res.body).toContain("DTSTART:20261102T080000Z");
    expect(res.body).not.toContain("TZID");
    expect(list[8]?.description).toBe(
      `bob is on call for ${SCHEDULE} (override). Contact: bob@example.com, Slack U0BOB0001.`,
    );
    expect(list[7]?.description).toBe(
      `alice is on call for ${SCHEDULE} (layer weekly). Contact: alice@example.com, Slack U0ALICE01.`,
    );
    expect(new Set(list.map((e) => e.uid)).size).toBe(list.length);

    // The same clock gives the same bytes; a day later a shift keeps its UID (calendars update in place).
    expect((await feed(s, await feedPath(s))).body).toBe(res.body);
    s.clock.advance(86_400_000);
    const later = events((await feed(s, await feedPath(s))).body);
    expect(later[0]?.uid).toBe(list[0]?.uid);
    // Alice's shift is no longer clipped: its end moved, its UID did not.
    expect(rows(later.slice(-2))).toEqual([
      [on("alice"), "2026-12-24T23:00:00.000Z", "2026-12-28T08:00:00.000Z"],
      [on("bob"), "2026-12-28T08:00:00.000Z", "2026-12-28T12:00:00.000Z"],
    ]);
    expect(later.at(-2)?.uid).toBe(list.at(-1)?.uid);
  });

  it("a shift across the spring clock change ends at 09:00 summer time, an hour shorter", async () => {
    // The window is 2027-03-17T12:00Z .. 2027-05-23T12:00Z; clocks go forward on 2027-03-28.
    const s = await service(CONFIG, Date.parse("2027-03-24T12:00:00Z"));
    const res = await feed(s, await feedPath(s));
    expect(res.statusCode).toBe(200);
    const list = events(res.body);
    expect(rows(list.slice(0, 3))).toEqual([
      [`On call: alice (${SCHEDULE})`, "2027-03-17T12:00:00.000Z", "2027-03-22T08:00:00.000Z"],
      [`On call: bob (${SCHEDULE})`, "2027-03-22T08:00:00.000Z", "2027-03-29T07:00:00.000Z"],
      [`On call: alice (${SCHEDULE})`, "2027-03-29T07:00:00.000Z", "2027-04-05T07:00:00.000Z"],
    ]);
    const across = list[1] as VEvent;
    expect(((across.end?.getTime() ?? 0) - across.start.getTime()) / 3_600_000).toBe(7 * 24 - 1);
    // Every handoff in the feed is Monday 09:00 in Berlin, before and after the change.
    const handoffs = list.slice(1).map((e) => iso(e.start));
    expect(handoffs).toHaveLength(9);
    for (const start of handoffs) {
      const monday = DateTime.fromISO(start as string, { zone: "Europe/Berlin" });
      expect(monday.weekday).toBe(1);
      expect(start).toBe(berlinNine(monday.toISODate() as string));
    }
    expect(handoffs.at(-1)).toBe("2027-05-17T07:00:00.000Z");
    expect(iso(list.at(-1)?.end)).toBe("2027-05-23T12:00:00.000Z");
  });

  it("is authorized by the schedule's key or a viewer token, and by nothing else", async () => {
    const s = await service();
    const path = await feedPath(s);
    const key = new URL(path, "http://x").searchParams.get("key") as string;
    const bare = `/api/v1/schedules/${SCHEDULE}.ics`;
    expect((await feed(s, path)).statusCode).toBe(200);

    const flip = (k: string) => (k[0] === "A" ? `B${k.slice(1)}` : `A${k.slice(1)}`);
    const secondary = new URL(await feedPath(s, "payments-secondary"), "http://x").searchParams.get("key");
    expect(secondary).not.toBe(key);
    const refused = [
      bare, // no key, no token
      `${bare}?key=`,
      `${bare}?key=${flip(key)}`,
      `${bare}?key=${key.slice(0, -1)}`,
      `${bare}?key=${key}x`,
      // Another schedule's key does not open this one.
      `${bare}?key=${secondary}`,
    ];
    for (const url of refused) {
      const res = await feed(s, url);
      expect(res.statusCode, url).toBe(401);
      expect(res.json().error.code, url).toBe("PW_UNAUTHORIZED");
      expect(res.body).not.toContain("BEGIN:VCALENDAR");
    }
    // A viewer token works instead of the key (for clients that can send one); an ingest key does not.
    const viewer = await feed(s, bare, { authorization: `Bearer ${VIEWER}` });
    expect(viewer.statusCode).toBe(200);
    expect(viewer.headers["content-type"]).toBe("text/calendar; charset=utf-8");
    const ingest = await feed(s, bare, { authorization: `Bearer ${KEYS.generic}` });
    expect(ingest.statusCode).toBe(403);
    expect(ingest.json().error.code).toBe("PW_FORBIDDEN");
  });

  it("answers 404 for an unknown schedule to someone allowed to know, 401 to anyone else", async () => {
    const s = await service();
    const key = new URL(await feedPath(s), "http://x").searchParams.get("key");
    const known = await feed(s, "/api/v1/schedules/payments-tertiary.ics", {
      authorization: `Bearer ${VIEWER}`,
    });
    expect(known.statusCode).toBe(404);
    expect(known.json().error.code).toBe("PW_NOT_FOUND");
    expect(known.json().error.message).toContain('"payments-tertiary"');
    // Without a credential, a missing schedule and a present one look the same.
    for (const url of ["/api/v1/schedules/payments-tertiary.ics", `/api/v1/schedules/nope.ics?key=${key}`]) {
      const res = await feed(s, url);
      expect(res.statusCode, url).toBe(401);
      expect(res.json().error.code).toBe("PW_UNAUTHORIZED");
    }
  });
});
