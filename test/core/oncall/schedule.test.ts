import fc from "fast-check";
import { DateTime } from "luxon";
import { describe, expect, it } from "vitest";
import { onCallAt, shifts } from "../../../src/core/oncall/schedule.js";
import type { Layer, Override, Schedule, Shift } from "../../../src/core/oncall/types.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const QUARTER = HOUR / 4;

function at(text: string): number {
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) throw new Error(`bad time ${text}`);
  return ms;
}
const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");
const hm = (text: string) => Number(text.slice(0, 2)) * 60 + Number(text.slice(3, 5));

const layer = (over: Partial<Layer> = {}): Layer => ({
  name: "primary",
  participants: ["alice", "bob"],
  rotation: { kind: "daily" },
  handoffMinute: hm("09:00"),
  startDate: "2026-01-01",
  timezone: null,
  restrictions: [],
  ...over,
});
const schedule = (layers: Layer[], overrides: Override[] = [], timezone = "Europe/Berlin"): Schedule => ({
  name: "payments-primary",
  timezone,
  team: null,
  layers,
  overrides,
});
const who = (s: Schedule, time: string) => onCallAt(s, at(time)).user;

const WEEKLY = layer({
  name: "weekly",
  participants: ["alice", "bob", "carol"],
  rotation: { kind: "weekly", handoffDay: 1 },
  startDate: "2026-11-02",
});
const BACKUP = layer({
  name: "business-hours-backup",
  participants: ["dave"],
  startDate: "2026-11-02",
  restrictions: [{ days: [1, 2, 3, 4, 5], startMinute: hm("09:00"), endMinute: hm("17:00") }],
});

describe("rotations", () => {
  it("weekly: nobody before the first handoff, then each participant for a week, wrapping", () => {
    const s = schedule([WEEKLY]);
    expect(onCallAt(s, at("2026-11-02T08:59:59.999+01:00"))).toEqual({
      user: null,
      layer: null,
      override: false,
    });
    expect(onCallAt(s, at("2026-11-02T09:00:00+01:00"))).toEqual({
      user: "alice",
      layer: "weekly",
      override: false,
    });
    expect(who(s, "2026-11-09T08:59:59.999+01:00")).toBe("alice");
    expect(who(s, "2026-11-09T09:00:00+01:00")).toBe("bob");
    expect(who(s, "2026-11-16T09:00:00+01:00")).toBe("carol");
    expect(who(s, "2026-11-23T09:00:00+01:00")).toBe("alice");
    expect(who(s, "2026-12-24T12:00:00+01:00")).toBe("bob");
  });

  it("weekly: a start date that is not the handoff day starts at the next handoff day", () => {
    const s = schedule([{ ...WEEKLY, startDate: "2026-11-04" }]);
    expect(who(s, "2026-11-08T12:00:00+01:00")).toBeNull();
    expect(who(s, "2026-11-09T09:00:00+01:00")).toBe("alice");
    expect(who(s, "2026-11-16T09:00:00+01:00")).toBe("bob");
  });

  it("daily, every 3 days and every 12 hours count from the start date's handoff", () => {
    const daily = schedule([layer({ startDate: "2026-11-02" })]);
    expect(who(daily, "2026-11-02T09:00:00+01:00")).toBe("alice");
    expect(who(daily, "2026-11-03T08:59:00+01:00")).toBe("alice");
    expect(who(daily, "2026-11-03T09:00:00+01:00")).toBe("bob");
    const threeDays = schedule([layer({ rotation: { kind: "days", every: 3 }, startDate: "2026-11-02" })]);
    expect(who(threeDays, "2026-11-05T08:59:00+01:00")).toBe("alice");
    expect(who(threeDays, "2026-11-05T09:00:00+01:00")).toBe("bob");
    expect(who(threeDays, "2026-11-08T09:00:00+01:00")).toBe("alice");
    const halfDays = schedule([layer({ rotation: { kind: "hours", every: 12 }, startDate: "2026-11-02" })]);
    expect(who(halfDays, "2026-11-02T20:59:00+01:00")).toBe("alice");
    expect(who(halfDays, "2026-11-02T21:00:00+01:00")).toBe("bob");
    expect(who(halfDays, "2026-11-03T09:00:00+01:00")).toBe("alice");
  });

  it("a participant listed twice takes two turns", () => {
    const s = schedule([layer({ participants: ["alice", "alice", "bob"], startDate: "2026-11-02" })]);
    const list = shifts(s, at("2026-11-02T00:00:00+01:00"), at("2026-11-06T00:00:00+01:00"));
    expect(list.map((x) => [x.user, iso(x.start), iso(x.end)])).toEqual([
      ["alice", "2026-11-02T08:00:00Z", "2026-11-04T08:00:00Z"],
      ["bob", "2026-11-04T08:00:00Z", "2026-11-05T08:00:00Z"],
      ["alice", "2026-11-05T08:00:00Z", "2026-11-05T23:00:00Z"],
    ]);
  });

  it("a layer's own time zone sets its handoff", () => {
    const s = schedule([layer({ timezone: "America/New_York", startDate: "2026-11-02" })]);
    expect(who(s, "2026-11-02T08:59:00-05:00")).toBeNull();
    expect(who(s, "2026-11-02T09:00:00-05:00")).toBe("alice");
    expect(who(s, "2026-11-03T09:00:00-05:00")).toBe("bob");
  });
});

describe("restrictions and layer precedence", () => {
  const s = schedule([WEEKLY, BACKUP]);

  it("a later layer wins while it has someone; the earlier one shows outside its windows", () => {
    expect(onCallAt(s, at("2026-11-02T10:00:00+01:00"))).toEqual({
      user: "dave",
      layer: "business-hours-backup",
      override: false,
    });
    expect(who(s, "2026-11-02T08:59:00+01:00")).toBeNull(); // before both layers start
    expect(who(s, "2026-11-03T08:59:00+01:00")).toBe("alice");
    expect(who(s, "2026-11-03T17:00:00+01:00")).toBe("alice");
    expect(who(s, "2026-11-06T16:59:00+01:00")).toBe("dave");
    expect(who(s, "2026-11-07T12:00:00+01:00")).toBe("alice"); // Saturday
    expect(who(s, "2026-11-09T10:00:00+01:00")).toBe("dave");
    expect(onCallAt(s, at("2026-11-09T08:00:00+01:00")).layer).toBe("weekly");
  });

  it("the earlier of two layers with someone loses", () => {
    const both = schedule([BACKUP, WEEKLY]);
    expect(who(both, "2026-11-03T10:00:00+01:00")).toBe("alice");
  });

  it("a window ending at or before its start runs past midnight into the next day", () => {
    const night = schedule([
      layer({
        participants: ["nina"],
        restrictions: [{ days: [5], startMinute: hm("22:00"), endMinute: hm("06:00") }],
      }),
    ]);
    expect(who(night, "2026-11-06T21:59:00+01:00")).toBeNull(); // Friday
    expect(who(night, "2026-11-06T22:00:00+01:00")).toBe("nina");
    expect(who(night, "2026-11-07T05:59:00+01:00")).toBe("nina"); // Saturday morning
    expect(who(night, "2026-11-07T06:00:00+01:00")).toBeNull();
    expect(who(night, "2026-11-06T03:00:00+01:00")).toBeNull(); // Friday morning: Thursday not listed
    const allDay = schedule([
      layer({ participants: ["nina"], restrictions: [{ days: [6], startMinute: 0, endMinute: 1440 }] }),
    ]);
    expect(who(allDay, "2026-11-07T23:59:59+01:00")).toBe("nina");
    expect(who(allDay, "2026-11-08T00:00:00+01:00")).toBeNull();
  });
});

describe("overrides", () => {
  const base = schedule([WEEKLY]);
  const DEC24 = { start: at("2026-12-24T00:00:00+01:00"), end: at("2026-12-25T00:00:00+01:00") };

  it("without replaces, the override covers whoever is on call, only inside its span", () => {
    const s = { ...base, overrides: [{ user: "erin", replaces: null, ...DEC24 }] };
    expect(who(base, "2026-12-24T12:00:00+01:00")).toBe("bob");
    expect(onCallAt(s, at("2026-12-24T12:00:00+01:00"))).toEqual({
      user: "erin",
      layer: null,
      override: true,
    });
    expect(who(s, "2026-12-23T23:59:59+01:00")).toBe("bob");
    expect(who(s, "2026-12-25T00:00:00+01:00")).toBe("bob");
  });

  it("an override also covers a time when no layer has anyone", () => {
    const s = {
      ...base,
      overrides: [{ user: "erin", replaces: null, start: 0, end: at("2026-11-02T09:00:00+01:00") }],
    };
    expect(who(s, "2026-11-01T12:00:00+01:00")).toBe("erin");
  });

  it("with replaces, it applies only while the replaced user is on call", () => {
    const s = {
      ...base,
      overrides: [
        {
          user: "carol",
          replaces: "alice",
          start: at("2026-12-10T00:00:00+01:00"),
          end: at("2026-12-20T00:00:00+01:00"),
        },
      ],
    };
    expect(who(s, "2026-12-12T12:00:00+01:00")).toBe("carol"); // carol's own week: layer
    expect(onCallAt(s, at("2026-12-12T12:00:00+01:00")).override).toBe(false);
    expect(onCallAt(s, at("2026-12-15T12:00:00+01:00"))).toEqual({
      user: "carol",
      layer: null,
      override: true,
    });
    const notAlice = { ...base, overrides: [{ user: "erin", replaces: "alice", ...DEC24 }] };
    expect(who(notAlice, "2026-12-24T12:00:00+01:00")).toBe("bob");
  });

  it("overrides apply in order: a later one wins, and replaces sees the earlier one's user", () => {
    const s = {
      ...base,
      overrides: [
        { user: "erin", replaces: null, ...DEC24 },
        { user: "frank", replaces: "erin", start: at("2026-12-24T12:00:00+01:00"), end: DEC24.end },
      ],
    };
    expect(who(s, "2026-12-24T11:00:00+01:00")).toBe("erin");
    expect(who(s, "2026-12-24T13:00:00+01:00")).toBe("frank");
  });
});

/** A daily rotation in `zone` with its handoff at `handoff`, shifts from `from` to `to`. */
function handoffs(zone: string, handoff: string, from: string, to: string): Shift[] {
  const s = schedule([layer({ handoffMinute: hm(handoff) })], [], zone);
  const list = shifts(s, at(from), at(to));
  for (const x of list.slice(1)) {
    expect(onCallAt(s, x.start - 1).user).not.toBe(x.user);
    expect(onCallAt(s, x.start).user).toBe(x.user);
  }
  return list;
}
const starts = (list: Shift[]) => list.slice(1).map((x) => iso(x.start));
const hours = (list: Shift[]) => list.slice(1, -1).map((x) => (x.end - x.start) / HOUR);

describe("daylight-saving changes: handoffs stay at local wall time", () => {
  it("Europe/Berlin spring forward (2026-03-29): 09:00 stays 09:00, that day is 23 hours", () => {
    const list = handoffs("Europe/Berlin", "09:00", "2026-03-28T00:00:00+01:00", "2026-03-30T23:00:00+02:00");
    expect(starts(list)).toEqual(["2026-03-28T08:00:00Z", "2026-03-29T07:00:00Z", "2026-03-30T07:00:00Z"]);
    expect(hours(list)).toEqual([23, 24]);
  });

  it("Europe/Berlin fall back (2026-10-25): that day is 25 hours", () => {
    const list = handoffs("Europe/Berlin", "09:00", "2026-10-24T00:00:00+02:00", "2026-10-26T23:00:00+01:00");
    expect(starts(list)).toEqual(["2026-10-24T07:00:00Z", "2026-10-25T08:00:00Z", "2026-10-26T08:00:00Z"]);
    expect(hours(list)).toEqual([25, 24]);
  });

  it("America/New_York spring forward (2026-03-08) and fall back (2026-11-01)", () => {
    const spring = handoffs(
      "America/New_York",
      "09:00",
      "2026-03-07T00:00:00-05:00",
      "2026-03-09T23:00:00-04:00",
    );
    expect(starts(spring)).toEqual(["2026-03-07T14:00:00Z", "2026-03-08T13:00:00Z", "2026-03-09T13:00:00Z"]);
    expect(hours(spring)).toEqual([23, 24]);
    const fall = handoffs(
      "America/New_York",
      "09:00",
      "2026-10-31T00:00:00-04:00",
      "2026-11-02T23:00:00-05:00",
    );
    expect(starts(fall)).toEqual(["2026-10-31T13:00:00Z", "2026-11-01T14:00:00Z", "2026-11-02T14:00:00Z"]);
    expect(hours(fall)).toEqual([25, 24]);
  });

  it("a handoff in the skipped hour happens when the clock jumps past it (03:00)", () => {
    const berlin = handoffs(
      "Europe/Berlin",
      "02:30",
      "2026-03-28T00:00:00+01:00",
      "2026-03-30T23:00:00+02:00",
    );
    expect(starts(berlin)).toEqual(["2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"]);
    expect(hours(berlin)).toEqual([23.5, 23.5]);
    const ny = handoffs(
      "America/New_York",
      "02:30",
      "2026-03-07T00:00:00-05:00",
      "2026-03-09T23:00:00-04:00",
    );
    expect(starts(ny)).toEqual(["2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"]);
  });

  it("a handoff in the repeated hour happens once, the first time the clock shows it", () => {
    const berlin = handoffs(
      "Europe/Berlin",
      "02:30",
      "2026-10-24T00:00:00+02:00",
      "2026-10-26T23:00:00+01:00",
    );
    expect(starts(berlin)).toEqual(["2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"]);
    expect(hours(berlin)).toEqual([24, 25]);
    const ny = handoffs(
      "America/New_York",
      "01:30",
      "2026-10-31T00:00:00-04:00",
      "2026-11-02T23:00:00-05:00",
    );
    expect(starts(ny)).toEqual(["2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"]);
    // 01:30 EST, the second reading, is no handoff.
    const s = schedule([layer({ handoffMinute: hm("01:30") })], [], "America/New_York");
    expect(onCallAt(s, at("2026-11-01T01:30:00-05:00")).user).toBe(
      onCallAt(s, at("2026-11-01T01:30:00-04:00")).user,
    );
  });

  it("weekly and 12-hour rotations keep their wall times across the change", () => {
    const weekly = schedule([{ ...WEEKLY, startDate: "2026-03-16" }]);
    const week = shifts(weekly, at("2026-03-23T09:00:00+01:00"), at("2026-04-06T09:00:00+02:00"));
    expect(week.map((x) => [x.user, iso(x.start), (x.end - x.start) / HOUR])).toEqual([
      ["bob", "2026-03-23T08:00:00Z", 167],
      ["carol", "2026-03-30T07:00:00Z", 168],
    ]);
    const half = schedule([layer({ rotation: { kind: "hours", every: 12 } })]);
    const list = shifts(half, at("2026-10-24T21:00:00+02:00"), at("2026-10-25T21:00:00+01:00"));
    expect(list.map((x) => (x.end - x.start) / HOUR)).toEqual([13, 12]);
  });

  it("restriction windows follow the wall clock: shorter or longer on the change nights", () => {
    const nightly = (days: Layer["restrictions"]) =>
      schedule([layer({ participants: ["nina"], restrictions: days })]);
    const s = nightly([{ days: [7], startMinute: hm("01:00"), endMinute: hm("04:00") }]);
    const spring = shifts(s, at("2026-03-28T00:00:00Z"), at("2026-03-30T00:00:00Z"));
    expect(spring.map((x) => [iso(x.start), iso(x.end)])).toEqual([
      ["2026-03-29T00:00:00Z", "2026-03-29T02:00:00Z"],
    ]);
    const fall = shifts(s, at("2026-10-24T00:00:00Z"), at("2026-10-26T00:00:00Z"));
    expect(fall.map((x) => [iso(x.start), iso(x.end)])).toEqual([
      ["2026-10-24T23:00:00Z", "2026-10-25T03:00:00Z"],
    ]);
    // A window inside the repeated hour is open both times the clock shows it.
    const twice = nightly([{ days: [7], startMinute: hm("02:15"), endMinute: hm("02:45") }]);
    const both = shifts(twice, at("2026-10-24T00:00:00Z"), at("2026-10-26T00:00:00Z"));
    expect(both.map((x) => [iso(x.start), iso(x.end)])).toEqual([
      ["2026-10-25T00:15:00Z", "2026-10-25T00:45:00Z"],
      ["2026-10-25T01:15:00Z", "2026-10-25T01:45:00Z"],
    ]);
    // And closed in the skipped hour.
    expect(shifts(twice, at("2026-03-28T00:00:00Z"), at("2026-03-30T00:00:00Z"))).toEqual([]);
  });
});

describe("shifts()", () => {
  it("lists the weekly layer with the backup cut in, gaps left out", () => {
    const s = schedule(
      [WEEKLY, BACKUP],
      [
        {
          user: "erin",
          replaces: null,
          start: at("2026-11-03T20:00:00+01:00"),
          end: at("2026-11-03T22:00:00+01:00"),
        },
      ],
    );
    const list = shifts(s, at("2026-11-02T00:00:00+01:00"), at("2026-11-04T00:00:00+01:00"));
    expect(list.map((x) => [x.user, iso(x.start), iso(x.end), x.layer, x.override])).toEqual([
      ["dave", "2026-11-02T08:00:00Z", "2026-11-02T16:00:00Z", "business-hours-backup", false],
      ["alice", "2026-11-02T16:00:00Z", "2026-11-03T08:00:00Z", "weekly", false],
      ["dave", "2026-11-03T08:00:00Z", "2026-11-03T16:00:00Z", "business-hours-backup", false],
      ["alice", "2026-11-03T16:00:00Z", "2026-11-03T19:00:00Z", "weekly", false],
      ["erin", "2026-11-03T19:00:00Z", "2026-11-03T21:00:00Z", null, true],
      ["alice", "2026-11-03T21:00:00Z", "2026-11-03T23:00:00Z", "weekly", false],
    ]);
    expect(shifts(s, 10, 10)).toEqual([]);
  });
});

describe("property: shifts() agree with onCallAt()", () => {
  const ZONES = ["Europe/Berlin", "America/New_York", "UTC", "Australia/Lord_Howe", "Asia/Kolkata"];
  const USERS = ["alice", "bob", "carol", "dave"];
  const DAYS = [1, 2, 3, 4, 5, 6, 7] as const;
  // Often on the hours the clocks skip or repeat (01:00-04:00 local), where bugs would hide.
  const minute = fc.oneof(
    fc.integer({ min: 0, max: 1439 }),
    fc.integer({ min: 4, max: 16 }).map((q) => q * 15),
  );
  const rotation = fc.oneof(
    fc.constant({ kind: "daily" as const }),
    fc.constantFrom(...DAYS).map((handoffDay) => ({ kind: "weekly" as const, handoffDay })),
    fc.integer({ min: 1, max: 5 }).map((every) => ({ kind: "days" as const, every })),
    fc.integer({ min: 1, max: 30 }).map((every) => ({ kind: "hours" as const, every })),
  );
  const restriction = fc
    .record({
      // The changes fall on Sundays.
      days: fc.oneof(fc.constant([7 as const]), fc.uniqueArray(fc.constantFrom(...DAYS), { minLength: 1 })),
      startMinute: minute,
      endMinute: fc.oneof(minute, fc.constant(1440)).map((m) => m || 1440),
    })
    .filter((r) => r.endMinute % 1440 !== r.startMinute);
  const genLayer = fc.record({
    name: fc.constantFrom("a", "b", "c"),
    participants: fc.array(fc.constantFrom(...USERS), { minLength: 1, maxLength: 4 }),
    rotation,
    // Half-hour steps so handoffs land in skipped and repeated hours often.
    handoffMinute: fc.oneof(
      minute,
      fc.integer({ min: 0, max: 47 }).map((h) => h * 30),
    ),
    startDate: fc.constantFrom("2026-02-20", "2026-03-06", "2026-03-28", "2026-10-20", "2026-10-31"),
    timezone: fc.option(fc.constantFrom(...ZONES), { nil: null }),
    restrictions: fc.array(restriction, { maxLength: 2 }),
  });
  // Windows around the 2026 changes in both hemispheres' zones.
  const windowStart = fc
    .constantFrom("2026-03-06", "2026-03-27", "2026-04-03", "2026-10-23", "2026-10-30")
    .chain((d) => fc.integer({ min: 0, max: 4 * DAY }).map((off) => at(`${d}T00:00:00Z`) + off));
  const arb = fc
    .record({
      zone: fc.constantFrom(...ZONES),
      layers: fc.array(genLayer, { minLength: 1, maxLength: 3 }),
      from: windowStart,
      length: fc.integer({ min: HOUR, max: 6 * DAY }),
      overrides: fc.array(
        fc.record({
          user: fc.constantFrom(...USERS),
          replaces: fc.option(fc.constantFrom(...USERS), { nil: null }),
          offset: fc.integer({ min: -DAY, max: 6 * DAY }),
          length: fc.integer({ min: 1, max: 2 * DAY }),
        }),
        { maxLength: 3 },
      ),
      samples: fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), {
        minLength: 1,
        maxLength: 30,
      }),
    })
    .map((g) => ({
      ...g,
      schedule: schedule(
        g.layers,
        g.overrides.map((o) => ({
          user: o.user,
          replaces: o.replaces,
          start: g.from + o.offset,
          end: g.from + o.offset + o.length,
        })),
        g.zone,
      ),
    }));

  it("contiguous, ordered, maximal, and onCallAt(t) is the user of the shift holding t", () => {
    fc.assert(
      fc.property(arb, ({ schedule: s, from, length, samples }) => {
        const to = from + length;
        const list = shifts(s, from, to);
        list.forEach((x, i) => {
          expect(x.start).toBeLessThan(x.end);
          expect(x.start).toBeGreaterThanOrEqual(from);
          expect(x.end).toBeLessThanOrEqual(to);
          const next = list[i + 1];
          if (next === undefined) return;
          expect(next.start).toBeGreaterThanOrEqual(x.end);
          const same = next.user === x.user && next.layer === x.layer && next.override === x.override;
          expect(same && next.start === x.end).toBe(false);
        });
        const probes = [
          ...samples.map((u) => from + Math.floor(u * length)),
          ...list.flatMap((x) => [x.start, x.end - 1]),
          // Every quarter hour too: a missed change inside a shift lasts at least that long.
          ...Array.from({ length: Math.ceil(length / QUARTER) }, (_, i) => from + i * QUARTER),
        ];
        for (const t of probes) {
          const held = list.find((x) => x.start <= t && t < x.end);
          const now = onCallAt(s, t);
          expect(now.user).toBe(held?.user ?? null);
          if (held !== undefined) expect([now.layer, now.override]).toEqual([held.layer, held.override]);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe("property: daily handoffs read the handoff time on the local clock (checked with luxon)", () => {
  it("each handoff is at HH:MM local on consecutive days, or at the jump when HH:MM is skipped", () => {
    const arb = fc.record({
      zone: fc.constantFrom("Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/St_Johns"),
      handoffMinute: fc.oneof(
        fc.integer({ min: 0, max: 1439 }),
        fc.integer({ min: 0, max: 95 }).map((q) => q * 15),
      ),
      from: fc
        .constantFrom("2026-03-05", "2026-03-26", "2026-04-02", "2026-10-22", "2026-10-29")
        .map((d) => at(`${d}T00:00:00Z`)),
    });
    fc.assert(
      fc.property(arb, ({ zone, handoffMinute, from }) => {
        const s = schedule([layer({ handoffMinute })], [], zone);
        const list = shifts(s, from, from + 6 * DAY);
        let lastDate: DateTime | null = null;
        for (const x of list.slice(1)) {
          const local = DateTime.fromMillis(x.start, { zone });
          const before = DateTime.fromMillis(x.start - 1, { zone });
          const reads = local.hour * 60 + local.minute;
          if (reads !== handoffMinute) {
            // Skipped: the clock jumped from before the handoff time to after it.
            expect(before.offset).not.toBe(local.offset);
            expect(before.hour * 60 + before.minute).toBeLessThan(handoffMinute);
            expect(reads).toBeGreaterThan(handoffMinute);
          }
          const date = local.startOf("day");
          if (lastDate !== null) expect(date.diff(lastDate, "days").days).toBe(1);
          lastDate = date;
        }
      }),
      { numRuns: 300 },
    );
  });
});
