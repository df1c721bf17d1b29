import type { Problem } from "../core/errors.js";
import type { Layer, Override, Restriction, Rotation, Schedule, Weekday } from "../core/oncall/types.js";
import { isZone } from "../core/oncall/zone.js";
import { parseTimestamp } from "../core/time.js";

/**
 * The `users:` and `schedules:` sections: checked key by key, every problem as path + reason,
 * cross-references resolved, then compiled into what onCallAt() and shifts() trust.
 */
export interface User {
  name: string;
  email: string | null;
  /** Slack member ID, e.g. U012ABCDEF. */
  slack: string | null;
  /** A plain field for now: nothing dials it yet. */
  phone: string | null;
  webhook: string | null;
  timezone: string;
}

export interface OnCallRefs {
  teams: ReadonlySet<string>;
}

type Obj = Record<string, unknown>;

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const CLOCK = /^([01]\d|2[0-3]):([0-5]\d)$/;
const DAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const FULL_DAY_NAMES = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

export function compileOnCall(
  raw: { users?: unknown; schedules?: unknown },
  problems: Problem[],
  refs: OnCallRefs,
): { users: Map<string, User>; schedules: Map<string, Schedule> } {
  const c = new Checker(problems);
  const users = new Map<string, User>();
  for (const [v, path] of c.list(raw.users, "users")) {
    const u = c.user(v, path, users);
    if (u !== undefined) users.set(u.name, u);
  }
  const schedules = new Map<string, Schedule>();
  // Names are claimed even by broken entries, so a duplicate is reported once, at the second.
  const names = new Set<string>();
  for (const [v, path] of c.list(raw.schedules, "schedules")) {
    const s = c.schedule(v, path, names, users, refs);
    if (s !== undefined) schedules.set(s.name, s);
  }
  return { users, schedules };
}

class Checker {
  constructor(private readonly problems: Problem[]) {}

  private bad(path: string, reason: string): undefined {
    this.problems.push({ path, reason });
    return undefined;
  }

  object(v: unknown, path: string, keys: readonly string[]): Obj | undefined {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return this.bad(path, "must be an object");
    for (const k of Object.keys(v)) if (!keys.includes(k)) this.bad(`${path}.${k}`, "unknown key");
    return v as Obj;
  }

  list(v: unknown, path: string): [unknown, string][] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.bad(path, "must be a list");
      return [];
    }
    return v.map((x, i) => [x, `${path}[${i}]`]);
  }

  private name(v: unknown, path: string, seen: Set<string>, what: string): string | undefined {
    if (typeof v !== "string" || !NAME.test(v))
      return this.bad(path, "is required: a name of letters, digits, - _ and .");
    if (seen.has(v)) return this.bad(path, `duplicate ${what} "${v}"`);
    seen.add(v);
    return v;
  }

  private optString(v: unknown, path: string, ok: (s: string) => boolean, want: string): string | null {
    if (v === undefined || v === null) return null;
    if (typeof v !== "string" || !ok(v)) {
      this.bad(path, `must be ${want}`);
      return null;
    }
    return v;
  }

  private zone(v: unknown, path: string): string | undefined {
    if (typeof v !== "string") return this.bad(path, "must be an IANA time zone such as Europe/Berlin");
    return isZone(v) ? v : this.bad(path, `unknown time zone "${v}"`);
  }

  private userRef(v: unknown, path: string, users: ReadonlyMap<string, User>): string | undefined {
    if (typeof v !== "string") return this.bad(path, "must be a user name");
    return users.has(v) ? v : this.bad(path, `unknown user "${v}"`);
  }

  /** Minutes after midnight; "24:00" only where an end of day makes sense. */
  private clock(v: unknown, path: string, endOfDay = false): number | undefined {
    if (endOfDay && v === "24:00") return 1440;
    const m = typeof v === "string" ? CLOCK.exec(v) : null;
    if (m === null) return this.bad(path, 'must be a quoted local time such as "09:00"');
    return Number(m[1]) * 60 + Number(m[2]);
  }

  private weekday(v: unknown, path: string): Weekday | undefined {
    const s = typeof v === "string" ? v.toLowerCase() : "";
    const i = Math.max(DAY_NAMES.indexOf(s), FULL_DAY_NAMES.indexOf(s));
    return i < 0
      ? this.bad(path, "must be a day: mon, tue, wed, thu, fri, sat or sun")
      : ((i + 1) as Weekday);
  }

  user(v: unknown, path: string, users: ReadonlyMap<string, User>): User | undefined {
    const o = this.object(v, path, ["name", "email", "slack", "phone", "webhook", "timezone"]);
    if (o === undefined) return undefined;
    const name = this.name(o.name, `${path}.name`, new Set(users.keys()), "user");
    const email = this.optString(
      o.email,
      `${path}.email`,
      (s) => /^[^\s@]+@[^\s@]+$/.test(s),
      "an email address",
    );
    const slack = this.optString(
      o.slack,
      `${path}.slack`,
      (s) => /^[UW][A-Z0-9]{2,}$/.test(s),
      "a Slack member ID such as U012ABCDEF",
    );
    const phone = this.optString(
      o.phone,
      `${path}.phone`,
      (s) => /^\+?[0-9][0-9 ().-]{2,}$/.test(s),
      'a phone number such as "+49 30 1234567"',
    );
    const webhook = this.optString(o.webhook, `${path}.webhook`, isHttpUrl, "an http(s) URL");
    // A bad zone is reported but the user is kept, so references to it are not reported too.
    const timezone = o.timezone === undefined ? "UTC" : (this.zone(o.timezone, `${path}.timezone`) ?? "UTC");
    if (name === undefined) return undefined;
    return { name, email, slack, phone, webhook, timezone };
  }

  schedule(
    v: unknown,
    path: string,
    names: Set<string>,
    users: ReadonlyMap<string, User>,
    refs: OnCallRefs,
  ): Schedule | undefined {
    const o = this.object(v, path, ["name", "timezone", "team", "layers", "overrides"]);
    if (o === undefined) return undefined;
    const name = this.name(o.name, `${path}.name`, names, "schedule");
    const timezone = this.zone(o.timezone, `${path}.timezone`);
    let team: string | null = null;
    if (o.team !== undefined) {
      if (typeof o.team === "string" && refs.teams.has(o.team)) team = o.team;
      else this.bad(`${path}.team`, `unknown team "${String(o.team)}"`);
    }
    const layerNames = new Set<string>();
    const layersRaw = this.list(o.layers, `${path}.layers`);
    if (layersRaw.length === 0 && (o.layers === undefined || Array.isArray(o.layers)))
      this.bad(`${path}.layers`, "is required: at least one rotation layer");
    const layers = layersRaw.map(([l, p]) => this.layer(l, p, layerNames, users));
    // From the raw layers, so a broken layer does not make its users look absent.
    const participants = new Set(layersRaw.flatMap(([l]) => rawParticipants(l)));
    const overrides = this.list(o.overrides, `${path}.overrides`).map(([x, p]) =>
      this.override(x, p, users, participants),
    );
    if (name === undefined || timezone === undefined) return undefined;
    if (layers.some((l) => l === undefined) || overrides.some((x) => x === undefined)) return undefined;
    return { name, timezone, team, layers: layers as Layer[], overrides: overrides as Override[] };
  }

  private layer(
    v: unknown,
    path: string,
    names: Set<string>,
    users: ReadonlyMap<string, User>,
  ): Layer | undefined {
    const keys = [
      "name",
      "participants",
      "rotation",
      "handoff",
      "handoff_day",
      "start",
      "timezone",
      "restrictions",
    ];
    const o = this.object(v, path, keys);
    if (o === undefined) return undefined;
    const name = this.name(o.name, `${path}.name`, names, "layer");
    const list = this.list(o.participants, `${path}.participants`);
    if (list.length === 0 && (o.participants === undefined || Array.isArray(o.participants)))
      this.bad(`${path}.participants`, "must name at least one user");
    const participants = list.map(([u, p]) => this.userRef(u, p, users));
    const rotation = this.rotation(o, path);
    const handoffMinute = this.clock(o.handoff, `${path}.handoff`);
    const startDate = this.date(o.start, `${path}.start`);
    const timezone = o.timezone === undefined ? null : this.zone(o.timezone, `${path}.timezone`);
    const restrictions = this.list(o.restrictions, `${path}.restrictions`).map(([r, p]) =>
      this.restriction(r, p),
    );
    if (
      name === undefined ||
      list.length === 0 ||
      participants.some((u) => u === undefined) ||
      rotation === undefined ||
      handoffMinute === undefined ||
      startDate === undefined ||
      timezone === undefined ||
      restrictions.some((r) => r === undefined)
    ) {
      return undefined;
    }
    return {
      name,
      participants: participants as string[],
      rotation,
      handoffMinute,
      startDate,
      timezone,
      restrictions: restrictions as Restriction[],
    };
  }

  private rotation(o: Obj, path: string): Rotation | undefined {
    const r = o.rotation;
    const weekly = r === "weekly";
    if (!weekly && o.handoff_day !== undefined)
      this.bad(`${path}.handoff_day`, "only applies to a weekly rotation");
    if (r === "daily") return { kind: "daily" };
    if (weekly) {
      if (o.handoff_day === undefined)
        return this.bad(`${path}.handoff_day`, "is required for a weekly rotation");
      const handoffDay = this.weekday(o.handoff_day, `${path}.handoff_day`);
      return handoffDay === undefined ? undefined : { kind: "weekly", handoffDay };
    }
    const want = "must be daily, weekly or { every: <n>d | <n>h }";
    if (r === null || typeof r !== "object" || Array.isArray(r)) return this.bad(`${path}.rotation`, want);
    const every = this.object(r, `${path}.rotation`, ["every"])?.every;
    const m = typeof every === "string" ? /^([1-9]\d{0,3})([dh])$/.exec(every) : null;
    if (m === null)
      return this.bad(`${path}.rotation.every`, 'must be a number of days or hours such as "3d" or "12h"');
    return { kind: m[2] === "d" ? "days" : "hours", every: Number(m[1]) };
  }

  private date(v: unknown, path: string): string | undefined {
    const m = typeof v === "string" ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(v) : null;
    const d = m === null ? null : new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    // Date.UTC rolls 2026-02-30 over into March: a real date reads back the same.
    if (typeof v !== "string" || d === null || d.toISOString().slice(0, 10) !== v)
      return this.bad(path, 'must be a quoted local date such as "2026-11-02"');
    return v;
  }

  private restriction(v: unknown, path: string): Restriction | undefined {
    const o = this.object(v, path, ["days", "start", "end"]);
    if (o === undefined) return undefined;
    const list = this.list(o.days, `${path}.days`);
    if (list.length === 0 && (o.days === undefined || Array.isArray(o.days)))
      this.bad(`${path}.days`, "must list at least one day");
    const days = list.map(([d, p]) => this.weekday(d, p));
    const startMinute = this.clock(o.start, `${path}.start`);
    const endMinute = this.clock(o.end, `${path}.end`, true);
    if (startMinute !== undefined && endMinute !== undefined && endMinute === startMinute)
      return this.bad(`${path}.end`, 'must differ from start (a whole day is "00:00" to "24:00")');
    if (
      list.length === 0 ||
      days.some((d) => d === undefined) ||
      startMinute === undefined ||
      endMinute === undefined
    )
      return undefined;
    return { days: [...new Set(days as Weekday[])], startMinute, endMinute };
  }

  private override(
    v: unknown,
    path: string,
    users: ReadonlyMap<string, User>,
    participants: ReadonlySet<string>,
  ): Override | undefined {
    const o = this.object(v, path, ["user", "start", "end", "replaces"]);
    if (o === undefined) return undefined;
    const user = this.userRef(o.user, `${path}.user`, users);
    let replaces: string | null | undefined = null;
    if (o.replaces !== undefined) {
      replaces = this.userRef(o.replaces, `${path}.replaces`, users);
      if (replaces !== undefined && replaces === user)
        replaces = this.bad(`${path}.replaces`, "must be another user");
      else if (replaces !== undefined && !participants.has(replaces))
        replaces = this.bad(
          `${path}.replaces`,
          `"${replaces}" is in no layer of this schedule, so this would never apply`,
        );
    }
    const start = typeof o.start === "string" ? parseTimestamp(o.start) : null;
    const end = typeof o.end === "string" ? parseTimestamp(o.end) : null;
    if (start === null)
      this.bad(`${path}.start`, "must be an RFC 3339 time such as 2026-12-24T00:00:00+01:00");
    if (end === null) this.bad(`${path}.end`, "must be an RFC 3339 time such as 2026-12-25T00:00:00+01:00");
    if (start !== null && end !== null && end <= start) return this.bad(`${path}.end`, "must be after start");
    if (user === undefined || replaces === undefined || start === null || end === null) return undefined;
    return { user, start, end, replaces };
  }
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === "https:" || u.protocol === "http:";
  } catch {
    return false;
  }
}

function rawParticipants(layer: unknown): string[] {
  const p = (layer as { participants?: unknown } | null)?.participants;
  return Array.isArray(p) ? p.filter((u): u is string => typeof u === "string") : [];
}
