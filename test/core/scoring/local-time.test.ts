import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type LocalClock, localClock } from "../../../src/core/scoring/local-time.js";

const MIN = 60_000;
const HOUR = 60 * MIN;

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/** The reference: Intl asked directly, with no caching and no offset arithmetic. */
function intlClock(at: number, zone: string): LocalClock {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    weekday: "short",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
  }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return {
    year: Number(get("year")),
    month: Number(get("month")),
    day: Number(get("day")),
    hour: Number(get("hour")),
    minute: Number(get("minute")),
    weekday: WEEKDAYS[get("weekday")] ?? 0,
  };
}

const utc = (iso: string) => Date.parse(iso);

/** Every quarter hour from 3 h before to 3 h after `around`, including odd minutes. */
function instantsAround(around: number): number[] {
  const out: number[] = [];
  for (let t = around - 3 * HOUR; t <= around + 3 * HOUR; t += 15 * MIN) out.push(t, t + 7 * MIN + 13_000);
  out.push(around - 1, around, around + 1);
  return out;
}

describe("localClock across daylight-saving changes", () => {
  const transitions: [string, string, string][] = [
    ["Europe/Berlin", "2026-03-29T01:00:00Z", "spring forward: 02:00 CET -> 03:00 CEST"],
    ["Europe/Berlin", "2026-10-25T01:00:00Z", "fall back: 03:00 CEST -> 02:00 CET"],
    ["America/New_York", "2026-03-08T07:00:00Z", "spring forward: 02:00 EST -> 03:00 EDT"],
    ["America/New_York", "2026-11-01T06:00:00Z", "fall back: 02:00 EDT -> 01:00 EST"],
  ];

  for (const [zone, instant, what] of transitions) {
    it(`${zone} ${instant.slice(0, 10)} (${what}) matches Intl minute by minute`, () => {
      for (const at of instantsAround(utc(instant))) {
        expect(localClock(at, zone), new Date(at).toISOString()).toEqual(intlClock(at, zone));
      }
    });
  }

  it("known answers on both sides of each change", () => {
    // Berlin springs forward at 01:00 UTC: 01:59 CET is followed by 03:00 CEST.
    expect(localClock(utc("2026-03-29T00:59:00Z"), "Europe/Berlin")).toMatchObject({
      hour: 1,
      minute: 59,
      weekday: 7,
    });
    expect(localClock(utc("2026-03-29T01:00:00Z"), "Europe/Berlin")).toMatchObject({
      hour: 3,
      minute: 0,
      weekday: 7,
    });
    // Berlin falls back at 01:00 UTC: 02:59 CEST is followed by 02:00 CET.
    expect(localClock(utc("2026-10-25T00:59:00Z"), "Europe/Berlin")).toMatchObject({
      hour: 2,
      minute: 59,
      weekday: 7,
    });
    expect(localClock(utc("2026-10-25T01:00:00Z"), "Europe/Berlin")).toMatchObject({
      hour: 2,
      minute: 0,
      weekday: 7,
    });
    // New York springs forward at 07:00 UTC and falls back at 06:00 UTC.
    expect(localClock(utc("2026-03-08T06:59:00Z"), "America/New_York")).toMatchObject({
      hour: 1,
      minute: 59,
      weekday: 7,
    });
    expect(localClock(utc("2026-03-08T07:00:00Z"), "America/New_York")).toMatchObject({
      hour: 3,
      minute: 0,
      weekday: 7,
    });
    expect(localClock(utc("2026-11-01T05:59:00Z"), "America/New_York")).toMatchObject({
      hour: 1,
      minute: 59,
      weekday: 7,
    });
    expect(localClock(utc("2026-11-01T06:00:00Z"), "America/New_York")).toMatchObject({
      hour: 1,
      minute: 0,
      weekday: 7,
    });
  });

  it("the local weekday can differ from the UTC weekday", () => {
    // Sunday 23:30 UTC is already Monday in Tokyo, and still Sunday afternoon in New York.
    const at = utc("2026-11-29T23:30:00Z");
    expect(localClock(at, "UTC")).toMatchObject({ hour: 23, minute: 30, weekday: 7 });
    expect(localClock(at, "Asia/Tokyo")).toMatchObject({ hour: 8, minute: 30, weekday: 1 });
    expect(localClock(at, "America/New_York")).toMatchObject({ hour: 18, minute: 30, weekday: 7 });
    // A zone at a half-hour offset keeps its minutes.
    expect(localClock(at, "Asia/Kolkata")).toMatchObject({ hour: 5, minute: 0, weekday: 1 });
  });

  it("property: equals Intl at any instant of 2026-2027 in zones that change on whole UTC hours", () => {
    const zones = [
      "UTC",
      "Europe/Berlin",
      "America/New_York",
      "Europe/London",
      "Australia/Sydney",
      "Asia/Kolkata",
      "America/Los_Angeles",
    ];
    fc.assert(
      fc.property(
        fc.integer({ min: utc("2026-01-01T00:00:00Z"), max: utc("2028-01-01T00:00:00Z") }),
        fc.constantFrom(...zones),
        (at, zone) => {
          expect(localClock(at, zone)).toEqual(intlClock(at, zone));
        },
      ),
      { numRuns: 300 },
    );
  });

  // Newfoundland changes at 02:00 local = 05:30 UTC, Lord Howe by 30 minutes at 15:30 UTC: an
  // offset cached per UTC hour (taken at the hour's start) is wrong for the half hour after.
  for (const [zone, instant] of [
    ["America/St_Johns", "2026-03-08T05:30:00Z"],
    ["America/St_Johns", "2026-11-01T04:30:00Z"],
    ["Australia/Lord_Howe", "2026-10-03T15:30:00Z"],
  ] as const) {
    it(`${zone} changes its offset at ${instant.slice(11, 16)} UTC on ${instant.slice(0, 10)}: matches Intl`, () => {
      for (const at of instantsAround(utc(instant))) {
        expect(localClock(at, zone), `${zone} ${new Date(at).toISOString()}`).toEqual(intlClock(at, zone));
      }
    });
  }
});
