import ical, { type VEvent } from "node-ical";
import { describe, expect, it } from "vitest";
import type { User } from "../src/config/oncall.js";
import { shifts } from "../src/core/oncall/schedule.js";
import type { Schedule } from "../src/core/oncall/types.js";
import { scheduleCalendar } from "../src/oncall-ical.js";

const at = (text: string) => Date.parse(text);
const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");

const SCHEDULE: Schedule = {
  name: "payments-primary",
  timezone: "Europe/Berlin",
  team: "payments",
  layers: [
    {
      name: "daily",
      participants: ["alice", "bob"],
      rotation: { kind: "daily" },
      handoffMinute: 9 * 60,
      startDate: "2026-03-27",
      timezone: null,
      restrictions: [],
    },
  ],
  overrides: [
    {
      user: "carol",
      replaces: "bob",
      start: at("2026-03-28T12:00:00+01:00"),
      end: at("2026-03-28T18:00:00+01:00"),
    },
  ],
};
const user = (name: string, email: string | null): User => ({
  name,
  email,
  slack: null,
  phone: null,
  webhook: null,
  timezone: "Europe/Berlin",
});
const USERS = new Map([
  ["alice", user("alice", "alice@example.com")],
  ["bob", user("bob", null)],
  ["carol", user("carol", "carol@example.com")],
]);
// Around the spring-forward change of 2026-03-29 in Berlin.
const FROM = at("2026-03-27T00:00:00+01:00");
const TO = at("2026-03-31T00:00:00+02:00");

function events(text: string): VEvent[] {
  return Object.values(ical.sync.parseICS(text))
    .filter((c): c is VEvent => c?.type === "VEVENT")
    .sort((a, b) => a.start.getTime() - b.start.getTime());
}
const rows = (list: VEvent[]) =>
  list.map((e) => [e.summary, iso(e.start.getTime()), e.end === undefined ? null : iso(e.end.getTime())]);

describe("scheduleCalendar", () => {
  const text = scheduleCalendar(SCHEDULE, USERS, FROM, TO, {
    url: "https://pagewise.example.com/api/v1/schedules/payments-primary.ics",
  });

  it("parses with node-ical and shows every shift, across the daylight-saving change", () => {
    expect(rows(events(text))).toEqual([
      ["On call: alice (payments-primary)", "2026-03-27T08:00:00Z", "2026-03-28T08:00:00Z"],
      ["On call: bob (payments-primary)", "2026-03-28T08:00:00Z", "2026-03-28T11:00:00Z"],
      ["On call: carol (payments-primary)", "2026-03-28T11:00:00Z", "2026-03-28T17:00:00Z"],
      ["On call: bob (payments-primary)", "2026-03-28T17:00:00Z", "2026-03-29T07:00:00Z"], // 09:00 CEST
      ["On call: alice (payments-primary)", "2026-03-29T07:00:00Z", "2026-03-30T07:00:00Z"],
      ["On call: bob (payments-primary)", "2026-03-30T07:00:00Z", "2026-03-30T22:00:00Z"], // clipped at TO
    ]);
    const want = shifts(SCHEDULE, FROM, TO).map((s) => [s.start, s.end]);
    expect(events(text).map((e) => [e.start.getTime(), e.end?.getTime()])).toEqual(want);
  });

  it("writes times in UTC, names the calendar, and describes each shift", () => {
    expect(text).toContain("DTSTART:20260329T070000Z");
    expect(text).toContain("DTEND:20260330T070000Z");
    expect(text).not.toContain("TZID");
    expect(text).toContain("X-WR-CALNAME:On call: payments-primary");
    expect(text).toContain("URL:https://pagewise.example.com/api/v1/schedules/payments-primary.ics");
    const carol = events(text)[2];
    expect(carol?.description).toBe(
      "carol is on call for payments-primary (override). Contact: carol@example.com.",
    );
    expect(events(text)[0]?.description).toBe(
      "alice is on call for payments-primary (layer daily). Contact: alice@example.com.",
    );
  });

  it("keeps UIDs unique and stable, and the output the same for the same inputs", () => {
    const uids = events(text).map((e) => e.uid);
    expect(new Set(uids).size).toBe(uids.length);
    expect(
      scheduleCalendar(SCHEDULE, USERS, FROM, TO, {
        url: "https://pagewise.example.com/api/v1/schedules/payments-primary.ics",
      }),
    ).toBe(text);
    // A later window end moves the last shift's end, not its UID.
    const longer = events(scheduleCalendar(SCHEDULE, USERS, FROM, at("2026-04-02T00:00:00+02:00"), {}));
    expect(longer.slice(0, uids.length).map((e) => e.uid)).toEqual(uids);
    expect(iso(longer[5]?.end?.getTime() ?? 0)).toBe("2026-03-31T07:00:00Z");
  });

  it("is an empty but valid calendar when nobody is on call", () => {
    const empty = scheduleCalendar(
      SCHEDULE,
      USERS,
      at("2026-01-01T00:00:00Z"),
      at("2026-01-02T00:00:00Z"),
      {},
    );
    expect(events(empty)).toEqual([]);
    expect(empty).toContain("BEGIN:VCALENDAR");
  });
});
