import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { compileOnCall } from "../../src/config/oncall.js";
import { formatProblem, type Problem } from "../../src/core/errors.js";
import { onCallAt } from "../../src/core/oncall/schedule.js";

const REFS = { teams: new Set(["payments", "platform"]) };

const EXAMPLE = `
users:
  - name: alice
    email: alice@example.com
    slack: U012ABCDEF
    phone: "+49 30 1234567"
    webhook: https://hooks.example.com/alice
    timezone: Europe/Berlin
  - { name: bob, email: bob@example.com }
  - { name: carol }
  - { name: dave, timezone: America/New_York }
schedules:
  - name: payments-primary
    timezone: Europe/Berlin
    team: payments
    layers:
      - name: weekly
        participants: [alice, bob, carol]
        rotation: weekly
        handoff: "09:00"
        handoff_day: mon
        start: "2026-11-02"
      - name: business-hours-backup
        participants: [dave]
        rotation: daily
        handoff: "09:00"
        start: "2026-11-02"
        restrictions: [{ days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00" }]
    overrides:
      - user: bob
        start: "2026-12-24T00:00:00+01:00"
        end: "2026-12-25T00:00:00+01:00"
        replaces: alice
  - name: platform-follow-the-sun
    timezone: UTC
    layers:
      - name: halves
        participants: [carol, dave]
        rotation: { every: 12h }
        handoff: "08:00"
        start: "2026-11-01"
        timezone: America/New_York
      - name: three-days
        participants: [alice]
        rotation: { every: 3d }
        handoff: "00:00"
        start: "2026-11-01"
        restrictions: [{ days: [sat], start: "22:00", end: "06:00" }, { days: [sun], start: "00:00", end: "24:00" }]
`;

type Obj = Record<string, unknown>;
const example = (): Obj => parse(EXAMPLE) as Obj;

function compile(raw: Obj) {
  const problems: Problem[] = [];
  const out = compileOnCall(raw, problems, REFS);
  return { ...out, problems: problems.map(formatProblem) };
}

describe("compileOnCall: the example", () => {
  it("compiles users and schedules without problems", () => {
    const { users, schedules, problems } = compile(example());
    expect(problems).toEqual([]);
    expect(users.get("alice")).toEqual({
      name: "alice",
      email: "alice@example.com",
      slack: "U012ABCDEF",
      phone: "+49 30 1234567",
      webhook: "https://hooks.example.com/alice",
      timezone: "Europe/Berlin",
    });
    expect(users.get("carol")).toEqual({
      name: "carol",
      email: null,
      slack: null,
      phone: null,
      webhook: null,
      timezone: "UTC",
    });
    const s = schedules.get("payments-primary");
    expect(s?.team).toBe("payments");
    expect(s?.layers[0]).toEqual({
      name: "weekly",
      participants: ["alice", "bob", "carol"],
      rotation: { kind: "weekly", handoffDay: 1 },
      handoffMinute: 540,
      startDate: "2026-11-02",
      timezone: null,
      restrictions: [],
    });
    expect(s?.layers[1]?.restrictions).toEqual([
      { days: [1, 2, 3, 4, 5], startMinute: 540, endMinute: 1020 },
    ]);
    expect(s?.overrides).toEqual([
      {
        user: "bob",
        start: Date.parse("2026-12-23T23:00:00Z"),
        end: Date.parse("2026-12-24T23:00:00Z"),
        replaces: "alice",
      },
    ]);
    const f = schedules.get("platform-follow-the-sun");
    expect(f?.layers.map((l) => l.rotation)).toEqual([
      { kind: "hours", every: 12 },
      { kind: "days", every: 3 },
    ]);
    expect(f?.layers[1]?.restrictions[1]).toEqual({ days: [7], startMinute: 0, endMinute: 1440 });
  });

  it("the compiled schedules answer who is on call", () => {
    const { schedules } = compile(example());
    const s = schedules.get("payments-primary");
    if (s === undefined) throw new Error("missing");
    expect(onCallAt(s, Date.parse("2026-11-02T10:00:00+01:00")).user).toBe("dave");
    expect(onCallAt(s, Date.parse("2026-11-02T18:00:00+01:00")).user).toBe("alice");
    // The week of 2026-12-21 is bob's own, so the override for alice does not apply.
    expect(onCallAt(s, Date.parse("2026-12-24T03:00:00+01:00"))).toEqual({
      user: "bob",
      layer: "weekly",
      override: false,
    });
    const f = schedules.get("platform-follow-the-sun");
    if (f === undefined) throw new Error("missing");
    expect(onCallAt(f, Date.parse("2026-11-02T07:59:00-05:00")).user).toBe("dave"); // a Monday
    expect(onCallAt(f, Date.parse("2026-11-02T08:00:00-05:00")).user).toBe("carol");
    expect(onCallAt(f, Date.parse("2026-11-08T12:00:00Z")).user).toBe("alice"); // Sunday
  });

  it("accepts no users and no schedules", () => {
    expect(compile({}).problems).toEqual([]);
  });
});

/** The example with one change made by `edit`, and the problems it causes. */
function problemsAfter(edit: (raw: Obj & { users: Obj[]; schedules: Obj[] }) => void): string[] {
  const raw = example() as Obj & { users: Obj[]; schedules: Obj[] };
  edit(raw);
  return compile(raw).problems;
}
const S0 = "schedules[0]";
const L0 = `${S0}.layers[0]`;
const L1 = `${S0}.layers[1]`;
const O0 = `${S0}.overrides[0]`;
type Raw = Obj & { users: Obj[]; schedules: Obj[] };
const sched = (r: Raw) => r.schedules[0] as Obj & { layers: Obj[]; overrides: Obj[] };
const layer0 = (r: Raw) => sched(r).layers[0] as Obj;
const layer1 = (r: Raw) => sched(r).layers[1] as Obj & { restrictions: Obj[] };
const override0 = (r: Raw) => sched(r).overrides[0] as Obj;

describe("compileOnCall: every problem has a path and a reason", () => {
  const cases: [string, (r: Raw) => void, string[]][] = [
    [
      "users not a list",
      (r) => (r.users = { alice: {} } as unknown as Obj[]),
      [
        "users: must be a list",
        `${L0}.participants[0]: unknown user "alice"`,
        `${L0}.participants[1]: unknown user "bob"`,
        `${L0}.participants[2]: unknown user "carol"`,
        `${L1}.participants[0]: unknown user "dave"`,
        `${O0}.user: unknown user "bob"`,
        `${O0}.replaces: unknown user "alice"`,
        'schedules[1].layers[0].participants[0]: unknown user "carol"',
        'schedules[1].layers[0].participants[1]: unknown user "dave"',
        'schedules[1].layers[1].participants[0]: unknown user "alice"',
      ],
    ],
    ["unknown user key", (r) => ((r.users[0] as Obj).pager = "x"), ["users[0].pager: unknown key"]],
    ["duplicate user", (r) => r.users.push({ name: "alice" }), ['users[4].name: duplicate user "alice"']],
    [
      "bad user name",
      (r) => ((r.users[2] as Obj).name = "carol smith"),
      [
        "users[2].name: is required: a name of letters, digits, - _ and .",
        `${L0}.participants[2]: unknown user "carol"`,
        'schedules[1].layers[0].participants[0]: unknown user "carol"',
      ],
    ],
    ["bad email", (r) => ((r.users[0] as Obj).email = "alice"), ["users[0].email: must be an email address"]],
    [
      "bad slack",
      (r) => ((r.users[0] as Obj).slack = "@alice"),
      ["users[0].slack: must be a Slack member ID such as U012ABCDEF"],
    ],
    [
      "bad phone",
      (r) => ((r.users[0] as Obj).phone = 4930),
      ['users[0].phone: must be a phone number such as "+49 30 1234567"'],
    ],
    [
      "bad webhook",
      (r) => ((r.users[0] as Obj).webhook = "ftp://x"),
      ["users[0].webhook: must be an http(s) URL"],
    ],
    [
      "bad user zone (user kept)",
      (r) => ((r.users[0] as Obj).timezone = "Mars/Olympus"),
      ['users[0].timezone: unknown time zone "Mars/Olympus"'],
    ],
    ["unknown schedule key", (r) => (sched(r).owner = "x"), [`${S0}.owner: unknown key`]],
    [
      "duplicate schedule",
      (r) => ((r.schedules[1] as Obj).name = "payments-primary"),
      ['schedules[1].name: duplicate schedule "payments-primary"'],
    ],
    [
      "bad schedule zone",
      (r) => (sched(r).timezone = "Europe/Berln"),
      [`${S0}.timezone: unknown time zone "Europe/Berln"`],
    ],
    [
      "missing schedule zone",
      (r) => delete sched(r).timezone,
      [`${S0}.timezone: must be an IANA time zone such as Europe/Berlin`],
    ],
    ["unknown team", (r) => (sched(r).team = "paymnts"), [`${S0}.team: unknown team "paymnts"`]],
    [
      "no layers",
      (r) => (sched(r).layers = []),
      [
        `${S0}.layers: is required: at least one rotation layer`,
        `${O0}.replaces: "alice" is in no layer of this schedule, so this would never apply`,
      ],
    ],
    ["schedule not an object", (r) => (r.schedules[0] = "x" as unknown as Obj), [`${S0}: must be an object`]],
    ["unknown layer key", (r) => (layer0(r).length = "1w"), [`${L0}.length: unknown key`]],
    ["duplicate layer", (r) => (layer1(r).name = "weekly"), [`${L1}.name: duplicate layer "weekly"`]],
    [
      "empty participants",
      (r) => (layer1(r).participants = []),
      [`${L1}.participants: must name at least one user`],
    ],
    [
      "participants not a list",
      (r) => (layer1(r).participants = "dave"),
      [`${L1}.participants: must be a list`],
    ],
    [
      "unknown participant",
      (r) => (layer0(r).participants = ["alice", "bobby"]),
      [`${L0}.participants[1]: unknown user "bobby"`],
    ],
    [
      "bad rotation",
      (r) => (layer1(r).rotation = "monthly"),
      [`${L1}.rotation: must be daily, weekly or { every: <n>d | <n>h }`],
    ],
    [
      "zero days",
      (r) => (layer1(r).rotation = { every: "0d" }),
      [`${L1}.rotation.every: must be a number of days or hours such as "3d" or "12h"`],
    ],
    [
      "bad unit",
      (r) => (layer1(r).rotation = { every: "3w" }),
      [`${L1}.rotation.every: must be a number of days or hours such as "3d" or "12h"`],
    ],
    [
      "unknown rotation key",
      (r) => (layer1(r).rotation = { every: "3d", at: 1 }),
      [`${L1}.rotation.at: unknown key`],
    ],
    [
      "handoff not quoted (YAML 1.1 read it as 540)",
      (r) => (layer0(r).handoff = 540),
      [`${L0}.handoff: must be a quoted local time such as "09:00"`],
    ],
    [
      "handoff 9:00",
      (r) => (layer0(r).handoff = "9:00"),
      [`${L0}.handoff: must be a quoted local time such as "09:00"`],
    ],
    [
      "handoff 24:00",
      (r) => (layer0(r).handoff = "24:00"),
      [`${L0}.handoff: must be a quoted local time such as "09:00"`],
    ],
    [
      "weekly without handoff_day",
      (r) => delete layer0(r).handoff_day,
      [`${L0}.handoff_day: is required for a weekly rotation`],
    ],
    [
      "bad handoff_day",
      (r) => (layer0(r).handoff_day = "funday"),
      [`${L0}.handoff_day: must be a day: mon, tue, wed, thu, fri, sat or sun`],
    ],
    [
      "handoff_day on daily",
      (r) => (layer1(r).handoff_day = "mon"),
      [`${L1}.handoff_day: only applies to a weekly rotation`],
    ],
    [
      "impossible start date",
      (r) => (layer0(r).start = "2026-02-30"),
      [`${L0}.start: must be a quoted local date such as "2026-11-02"`],
    ],
    [
      "start date in another format",
      (r) => (layer0(r).start = "02.11.2026"),
      [`${L0}.start: must be a quoted local date such as "2026-11-02"`],
    ],
    ["bad layer zone", (r) => (layer0(r).timezone = "CEST"), [`${L0}.timezone: unknown time zone "CEST"`]],
    [
      "restriction: no days",
      (r) => ((layer1(r).restrictions[0] as Obj).days = []),
      [`${L1}.restrictions[0].days: must list at least one day`],
    ],
    [
      "restriction: bad day",
      (r) => ((layer1(r).restrictions[0] as Obj).days = ["mon", "xyz"]),
      [`${L1}.restrictions[0].days[1]: must be a day: mon, tue, wed, thu, fri, sat or sun`],
    ],
    [
      "restriction: bad start",
      (r) => ((layer1(r).restrictions[0] as Obj).start = "25:00"),
      [`${L1}.restrictions[0].start: must be a quoted local time such as "09:00"`],
    ],
    [
      "restriction: empty window",
      (r) => ((layer1(r).restrictions[0] as Obj).end = "09:00"),
      [`${L1}.restrictions[0].end: must differ from start (a whole day is "00:00" to "24:00")`],
    ],
    [
      "restriction: unknown key",
      (r) => ((layer1(r).restrictions[0] as Obj).tz = "UTC"),
      [`${L1}.restrictions[0].tz: unknown key`],
    ],
    ["override: unknown user", (r) => (override0(r).user = "zed"), [`${O0}.user: unknown user "zed"`]],
    [
      "override: unknown replaces",
      (r) => (override0(r).replaces = "zed"),
      [`${O0}.replaces: unknown user "zed"`],
    ],
    [
      "override: replaces itself",
      (r) => (override0(r).replaces = "bob"),
      [`${O0}.replaces: must be another user`],
    ],
    [
      "override: replaces someone in no layer",
      (r) => {
        override0(r).replaces = "dave";
        layer1(r).participants = ["carol"];
      },
      [`${O0}.replaces: "dave" is in no layer of this schedule, so this would never apply`],
    ],
    [
      "override: bad start",
      (r) => (override0(r).start = "2026-12-24"),
      [`${O0}.start: must be an RFC 3339 time such as 2026-12-24T00:00:00+01:00`],
    ],
    [
      "override: end before start",
      (r) => (override0(r).end = "2026-12-23T00:00:00+01:00"),
      [`${O0}.end: must be after start`],
    ],
    [
      "override: empty span",
      (r) => (override0(r).end = override0(r).start),
      [`${O0}.end: must be after start`],
    ],
    ["override: unknown key", (r) => (override0(r).reason = "xmas"), [`${O0}.reason: unknown key`]],
  ];

  it.each(cases)("%s", (_, edit, expected) => {
    expect(problemsAfter(edit)).toEqual(expected);
  });

  it("a schedule with a problem is left out; the others still compile", () => {
    const raw = example() as Raw;
    layer0(raw).handoff = "9am";
    const { schedules } = compile(raw);
    expect([...schedules.keys()]).toEqual(["platform-follow-the-sun"]);
  });
});
