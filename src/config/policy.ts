import { createHash } from "node:crypto";
import { parseDuration } from "../core/duration.js";
import type { Problem } from "../core/errors.js";
import { type Matcher, parseMatcher } from "../core/policy/matchers.js";
import type {
  Band,
  Conditions,
  InhibitRule,
  MaintenanceWindow,
  Modifier,
  ModifierEffect,
  Policy,
  Route,
  Rule,
  Thresholds,
} from "../core/policy/types.js";
import { parseTimestamp } from "../core/time.js";
import { isSeverity, type Severity } from "../core/types.js";

/**
 * The `policy:` section: checked here, key by key, with every problem as `path: reason`, then
 * compiled (matchers, durations, routes) into the Policy that decide() trusts.
 */
export interface PolicyRefs {
  teams: ReadonlySet<string>;
  services: ReadonlySet<string>;
  sources: ReadonlySet<string>;
  /** When given, routes' chains and channels are checked against them. */
  chains?: ReadonlySet<string>;
  channels?: ReadonlySet<string>;
  playbooks?: ReadonlySet<string>;
}

type Obj = Record<string, unknown>;

const DAYS: Record<string, number> = { mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6, sun: 7 };
const BAND_NAMES = ["high", "medium", "low"];

/** Used when a config has no policy: high pages, medium opens a triage, low notifies. */
export const DEFAULT_POLICY_SOURCE: Obj = {
  bands: { default: { high: 0.7, medium: 0.3 } },
  rules: [
    {
      id: "high-confidence-pages",
      match: { band: "high" },
      route: { kind: "page" },
      rationale: "Likely real: wake someone.",
    },
    {
      id: "medium-confidence-triage",
      match: { band: "medium" },
      route: { kind: "triage" },
      rationale: "Maybe real: the owning team looks during work hours.",
    },
    {
      id: "default",
      route: { kind: "notify" },
      rationale: "Probably noise: record it and tell the secondary channel.",
    },
  ],
};

export function compilePolicy(raw: unknown, problems: Problem[], refs: PolicyRefs, at = "policy"): Policy {
  const c = new Checker(problems, refs);
  const p =
    c.object(raw, at, ["bands", "modifiers", "rules", "maintenance_windows", "inhibit_rules", "name"]) ?? {};
  const ids = new Set<string>();
  const bands = c.bands(p.bands, `${at}.bands`);
  const modifiers = c
    .list(p.modifiers, `${at}.modifiers`)
    .flatMap(([m, path]) => c.modifier(m, path, ids) ?? []);
  const rulesRaw = c.list(p.rules, `${at}.rules`);
  if (p.rules === undefined)
    problems.push({ path: `${at}.rules`, reason: "is required (at least a default rule)" });
  const rules = rulesRaw.flatMap(([r, path]) => c.rule(r, path, ids) ?? []);
  if (p.rules !== undefined && Array.isArray(p.rules) && rulesRaw.length === 0) {
    problems.push({ path: `${at}.rules`, reason: "must not be empty: at least a default rule is required" });
  }
  // Judged on the last rule as written, so another rule's problem does not blame it.
  const lastRaw = rulesRaw.at(-1)?.[0] as { match?: unknown } | undefined;
  const lastMatch = lastRaw !== null && typeof lastRaw === "object" ? lastRaw.match : undefined;
  if (
    lastRaw !== undefined &&
    lastMatch !== undefined &&
    lastMatch !== null &&
    Object.keys(lastMatch).length > 0
  ) {
    problems.push({
      path: `${at}.rules[${rulesRaw.length - 1}]`,
      reason: "the last rule must be a default rule without match conditions, so every incident is routed",
    });
  }
  const windows = c
    .list(p.maintenance_windows, `${at}.maintenance_windows`)
    .flatMap(([w, path]) => c.window(w, path, ids) ?? []);
  const inhibitRules = c
    .list(p.inhibit_rules, `${at}.inhibit_rules`)
    .flatMap(([r, path]) => c.inhibit(r, path, ids) ?? []);
  const version = createHash("sha256")
    .update(JSON.stringify(raw ?? null))
    .digest("hex")
    .slice(0, 12);
  return { version, bands, modifiers, rules, windows, inhibitRules };
}

/** One route in the policy's syntax (a human reroute over HTTP), checked the same way. */
export function compileRoute(
  raw: unknown,
  problems: Problem[],
  refs: PolicyRefs,
  at: string,
): Route | undefined {
  return new Checker(problems, refs).route(raw, at);
}

class Checker {
  constructor(
    private readonly problems: Problem[],
    private readonly refs: PolicyRefs,
  ) {}

  private bad(path: string, reason: string): undefined {
    this.problems.push({ path, reason });
    return undefined;
  }

  object(v: unknown, path: string, keys: readonly string[]): Obj | undefined {
    if (v === undefined) return undefined;
    if (v === null || typeof v !== "object" || Array.isArray(v)) return this.bad(path, "must be an object");
    for (const k of Object.keys(v)) if (!keys.includes(k)) this.bad(`${path}.${k}`, "unknown key");
    return v as Obj;
  }

  list(v: unknown, path: string): [unknown, string][] {
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      this.bad(path, "must be a list");
      return [];
    }
    return v.map((x, i) => [x, `${path}[${i}]`]);
  }

  private id(o: Obj, path: string, ids: Set<string>): string | undefined {
    const id = o.id;
    if (typeof id !== "string" || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(id)) {
      return this.bad(`${path}.id`, "is required: a name of letters, digits, - _ and .");
    }
    if (ids.has(id)) return this.bad(`${path}.id`, `duplicate id "${id}"`);
    ids.add(id);
    return id;
  }

  private rationale(o: Obj, path: string): string | undefined {
    const r = o.rationale;
    if (typeof r !== "string" || r.trim().length < 3)
      return this.bad(`${path}.rationale`, "is required: say why, in words");
    return r.trim();
  }

  private num01(v: unknown, path: string): number | undefined {
    if (typeof v !== "number" || !(v >= 0 && v <= 1)) return this.bad(path, "must be a number from 0 to 1");
    return v;
  }

  private thresholds(v: unknown, path: string): Thresholds | undefined {
    const o = this.object(v, path, ["high", "medium"]);
    if (o === undefined) return v === undefined ? undefined : undefined;
    const high = this.num01(o.high, `${path}.high`);
    const medium = this.num01(o.medium, `${path}.medium`);
    if (high === undefined || medium === undefined) return undefined;
    if (medium > high) return this.bad(path, "medium must not be above high");
    return { high, medium };
  }

  bands(v: unknown, path: string): Policy["bands"] {
    const o = this.object(v, path, ["default", "tiers", "regulated"]) ?? {};
    const def = this.thresholds(o.default, `${path}.default`) ?? { high: 0.7, medium: 0.3 };
    const tiers = new Map<number, Thresholds>();
    const t = this.object(o.tiers, `${path}.tiers`, ["0", "1", "2", "3"]);
    for (const [k, tv] of Object.entries(t ?? {})) {
      const th = this.thresholds(tv, `${path}.tiers.${k}`);
      if (th !== undefined) tiers.set(Number(k), th);
    }
    const regulated =
      o.regulated === undefined ? null : (this.thresholds(o.regulated, `${path}.regulated`) ?? null);
    return { default: def, tiers, regulated };
  }

  private duration(v: unknown, path: string): number | undefined {
    if (typeof v !== "string") return this.bad(path, "must be a duration such as 10m");
    const ms = parseDuration(v);
    if (ms === null || ms <= 0) return this.bad(path, `"${v}" is not a duration (e.g. 30s, 10m, 1h)`);
    return ms;
  }

  private strings(v: unknown, path: string): string[] | undefined {
    const arr = typeof v === "string" ? [v] : v;
    if (!Array.isArray(arr) || arr.some((s) => typeof s !== "string") || arr.length === 0) {
      return this.bad(path, "must be a name or a non-empty list of names");
    }
    return arr as string[];
  }

  private matchers(v: unknown, path: string): Matcher[] | undefined {
    const list = this.strings(v, path);
    if (list === undefined) return undefined;
    const out: Matcher[] = [];
    list.forEach((text, i) => {
      const m = parseMatcher(text);
      if (typeof m === "string") this.bad(`${path}[${i}]`, m);
      else out.push(m);
    });
    return out;
  }

  private refList(v: unknown, path: string, known: ReadonlySet<string>, what: string): string[] | undefined {
    const list = this.strings(v, path);
    for (const [i, name] of (list ?? []).entries()) {
      if (!known.has(name))
        this.bad(
          `${path}${list?.length === 1 && typeof v === "string" ? "" : `[${i}]`}`,
          `unknown ${what} "${name}"`,
        );
    }
    return list;
  }

  private atLeast(v: unknown, path: string): number | undefined {
    const o = this.object(v, path, ["at_least"]);
    if (o === undefined) return undefined;
    if (typeof o.at_least !== "number" || !Number.isInteger(o.at_least) || o.at_least < 0) {
      return this.bad(`${path}.at_least`, "must be a whole number >= 0");
    }
    return o.at_least;
  }

  conditions(v: unknown, path: string): Conditions {
    const keys = [
      "band",
      "severity",
      "tier",
      "team",
      "service",
      "source",
      "regulated",
      "labels",
      "business_hours",
      "in_maintenance",
      "recent_deploy",
      "team_load",
      "team_pages_1h",
      "count",
    ];
    const o = this.object(v, path, keys);
    const c: Conditions = {};
    if (o === undefined) return c;
    if (o.band !== undefined) {
      const b = this.strings(o.band, `${path}.band`);
      if (b?.every((x) => BAND_NAMES.includes(x))) c.bands = b as Band[];
      else if (b !== undefined) this.bad(`${path}.band`, "must be high, medium or low (or a list of them)");
    }
    if (o.severity !== undefined) {
      const s = this.strings(o.severity, `${path}.severity`);
      if (s?.every(isSeverity)) c.severities = s as Severity[];
      else if (s !== undefined)
        this.bad(`${path}.severity`, "must be critical, error, warning or info (or a list)");
    }
    if (o.tier !== undefined) {
      const t = Array.isArray(o.tier) ? o.tier : [o.tier];
      if (t.length > 0 && t.every((x) => Number.isInteger(x) && x >= 0 && x <= 3)) c.tiers = t as number[];
      else this.bad(`${path}.tier`, "must be a tier 0-3 or a list of them");
    }
    if (o.team !== undefined) c.teams = this.refList(o.team, `${path}.team`, this.refs.teams, "team");
    if (o.service !== undefined)
      c.services = this.refList(o.service, `${path}.service`, this.refs.services, "service");
    if (o.source !== undefined)
      c.sources = this.refList(o.source, `${path}.source`, this.refs.sources, "source");
    if (o.regulated !== undefined) {
      if (typeof o.regulated === "boolean") c.regulated = o.regulated;
      else this.bad(`${path}.regulated`, "must be true or false");
    }
    if (o.labels !== undefined) c.labels = this.matchers(o.labels, `${path}.labels`);
    const ctx: NonNullable<Conditions["context"]> = {};
    if (o.business_hours !== undefined) {
      if (typeof o.business_hours === "boolean") ctx.businessHours = o.business_hours;
      else this.bad(`${path}.business_hours`, "must be true or false");
    }
    if (o.in_maintenance !== undefined) {
      if (typeof o.in_maintenance === "boolean") ctx.inMaintenance = o.in_maintenance;
      else this.bad(`${path}.in_maintenance`, "must be true or false");
    }
    if (o.recent_deploy !== undefined)
      ctx.recentDeployMs = this.duration(o.recent_deploy, `${path}.recent_deploy`);
    if (o.team_load !== undefined) ctx.teamLoadAtLeast = this.atLeast(o.team_load, `${path}.team_load`);
    if (o.team_pages_1h !== undefined)
      ctx.teamPages1hAtLeast = this.atLeast(o.team_pages_1h, `${path}.team_pages_1h`);
    for (const k of Object.keys(ctx) as (keyof typeof ctx)[]) if (ctx[k] === undefined) delete ctx[k];
    if (Object.keys(ctx).length > 0) c.context = ctx;
    if (o.count !== undefined) {
      const cnt = this.object(o.count, `${path}.count`, ["alerts", "within"]);
      const alerts = cnt?.alerts;
      const within = cnt === undefined ? undefined : this.duration(cnt.within, `${path}.count.within`);
      if (typeof alerts !== "number" || !Number.isInteger(alerts) || alerts < 1) {
        this.bad(`${path}.count.alerts`, "must be a whole number >= 1");
      } else if (within !== undefined) c.count = { alerts, withinMs: within };
    }
    for (const k of Object.keys(c) as (keyof Conditions)[]) if (c[k] === undefined) delete c[k];
    return c;
  }

  route(v: unknown, path: string, depth = 0): Route | undefined {
    const o = this.object(v, path, [
      "kind",
      "chain",
      "two_person",
      "playbook",
      "on_failure",
      "team",
      "channel",
      "for",
      "after",
      "confirm_above",
    ]);
    if (o === undefined) {
      // object() already said why when there is something there that is not an object.
      return v === undefined
        ? this.bad(path, "is required: { kind: page | runbook | triage | validate | notify | suppress, ... }")
        : undefined;
    }
    const allowed: Record<string, string[]> = {
      page: ["kind", "chain", "two_person"],
      runbook: ["kind", "playbook", "on_failure"],
      triage: ["kind", "team", "channel"],
      validate: ["kind", "for", "after", "confirm_above"],
      notify: ["kind", "channel"],
      suppress: ["kind"],
    };
    const kind = o.kind;
    if (typeof kind !== "string" || !(kind in allowed)) {
      return this.bad(`${path}.kind`, "must be page, runbook, triage, validate, notify or suppress");
    }
    const known = Object.values(allowed).flat();
    for (const k of Object.keys(o)) {
      // Unknown keys were reported by object(); here only keys of another route kind.
      if (known.includes(k) && !(allowed[kind] as string[]).includes(k)) {
        this.bad(`${path}.${k}`, `does not apply to a ${kind} route`);
      }
    }
    const optName = (k: string): string | null | undefined => {
      const x = o[k];
      if (x === undefined) return null;
      if (typeof x !== "string" || x === "") return this.bad(`${path}.${k}`, "must be a name");
      return x;
    };
    switch (kind) {
      case "page": {
        const chain = optName("chain");
        if (typeof chain === "string" && this.refs.chains !== undefined && !this.refs.chains.has(chain)) {
          this.bad(`${path}.chain`, `unknown chain "${chain}"`);
        }
        if (o.two_person !== undefined && typeof o.two_person !== "boolean")
          this.bad(`${path}.two_person`, "must be true or false");
        return chain === undefined ? undefined : { kind, chain, twoPerson: o.two_person === true };
      }
      case "runbook": {
        const playbook = optName("playbook");
        if (playbook === null) return this.bad(`${path}.playbook`, "is required for a runbook route");
        if (
          typeof playbook === "string" &&
          this.refs.playbooks !== undefined &&
          !this.refs.playbooks.has(playbook)
        )
          this.bad(`${path}.playbook`, `unknown playbook "${playbook}"`);
        const onFailure =
          o.on_failure === undefined
            ? ({ kind: "page", chain: null, twoPerson: false } as Route)
            : this.route(o.on_failure, `${path}.on_failure`, depth + 1);
        if (onFailure?.kind === "runbook")
          return this.bad(`${path}.on_failure`, "must not be another runbook");
        return playbook === undefined || onFailure === undefined ? undefined : { kind, playbook, onFailure };
      }
      case "triage": {
        const team = optName("team");
        if (typeof team === "string" && !this.refs.teams.has(team))
          this.bad(`${path}.team`, `unknown team "${team}"`);
        const channel = this.channelRef(optName("channel"), path);
        return team === undefined || channel === undefined ? undefined : { kind, team, channel };
      }
      case "validate": {
        const forMs = this.duration(o.for, `${path}.for`);
        const after =
          o.after === undefined
            ? ({ kind: "page", chain: null, twoPerson: false } as Route)
            : this.route(o.after, `${path}.after`, depth + 1);
        if (after?.kind === "validate") return this.bad(`${path}.after`, "must not be another validate");
        const c = o.confirm_above;
        if (c !== undefined && (typeof c !== "number" || c < 0 || c > 1))
          this.bad(`${path}.confirm_above`, "must be a probability between 0 and 1");
        const confirmAbove = typeof c === "number" ? c : null;
        return forMs === undefined || after === undefined ? undefined : { kind, forMs, after, confirmAbove };
      }
      case "notify": {
        const channel = this.channelRef(optName("channel"), path);
        return channel === undefined ? undefined : { kind, channel };
      }
      default:
        return { kind: "suppress" };
    }
  }

  private channelRef(channel: string | null | undefined, path: string): string | null | undefined {
    if (typeof channel === "string" && this.refs.channels !== undefined && !this.refs.channels.has(channel)) {
      this.bad(`${path}.channel`, `unknown channel "${channel}"`);
    }
    return channel;
  }

  rule(v: unknown, path: string, ids: Set<string>): Rule | undefined {
    const o = this.object(v, path, ["id", "rationale", "match", "route", "continue"]);
    if (o === undefined) return v === undefined ? this.bad(path, "must be an object") : undefined;
    const id = this.id(o, path, ids);
    const rationale = this.rationale(o, path);
    const match = this.conditions(o.match, `${path}.match`);
    const route = this.route(o.route, `${path}.route`);
    if (o.continue !== undefined && typeof o.continue !== "boolean")
      this.bad(`${path}.continue`, "must be true or false");
    if (id === undefined || rationale === undefined || route === undefined) return undefined;
    return { id, rationale, match, route, continue: o.continue === true };
  }

  modifier(v: unknown, path: string, ids: Set<string>): Modifier | undefined {
    const o = this.object(v, path, ["id", "rationale", "when", "shift", "cap", "route"]);
    if (o === undefined) return v === undefined ? this.bad(path, "must be an object") : undefined;
    const id = this.id(o, path, ids);
    const rationale = this.rationale(o, path);
    const when = this.conditions(o.when, `${path}.when`);
    const given = ["shift", "cap", "route"].filter((k) => o[k] !== undefined);
    if (given.length !== 1) return this.bad(path, "needs exactly one effect: shift, cap or route");
    let effect: ModifierEffect | undefined;
    if (o.shift !== undefined) {
      const s = this.object(o.shift, `${path}.shift`, ["high", "medium"]);
      const d = (k: "high" | "medium") => {
        const x = s?.[k] ?? 0;
        if (typeof x !== "number" || Math.abs(x) > 1)
          return this.bad(`${path}.shift.${k}`, "must be a number from -1 to 1");
        return x;
      };
      const high = d("high");
      const medium = d("medium");
      if (high !== undefined && medium !== undefined) effect = { kind: "shift", high, medium };
      if (when.bands !== undefined)
        this.bad(`${path}.when.band`, "a shift cannot depend on the band it moves");
    } else if (o.cap !== undefined) {
      const c = this.object(o.cap, `${path}.cap`, ["bands", "route"]);
      const bands = this.strings(c?.bands, `${path}.cap.bands`);
      if (bands !== undefined && !bands.every((b) => BAND_NAMES.includes(b)))
        this.bad(`${path}.cap.bands`, "must be high, medium or low");
      const route = this.route(c?.route, `${path}.cap.route`);
      if (bands !== undefined && route !== undefined) effect = { kind: "cap", bands: bands as Band[], route };
    } else {
      const route = this.route(o.route, `${path}.route`);
      if (route !== undefined) effect = { kind: "route", route };
    }
    if (id === undefined || rationale === undefined || effect === undefined) return undefined;
    return { id, rationale, when, effect };
  }

  window(v: unknown, path: string, ids: Set<string>): MaintenanceWindow | undefined {
    const o = this.object(v, path, ["id", "rationale", "services", "matchers", "weekly", "once", "mute"]);
    if (o === undefined) return v === undefined ? this.bad(path, "must be an object") : undefined;
    const id = this.id(o, path, ids);
    const rationale = this.rationale(o, path);
    const services =
      o.services === undefined
        ? []
        : (this.refList(o.services, `${path}.services`, this.refs.services, "service") ?? []);
    const matchers = o.matchers === undefined ? [] : (this.matchers(o.matchers, `${path}.matchers`) ?? []);
    let recurring: MaintenanceWindow["recurring"] = null;
    if (o.weekly !== undefined) {
      const w = this.object(o.weekly, `${path}.weekly`, ["days", "start", "duration", "timezone"]);
      const days = this.strings(w?.days, `${path}.weekly.days`)?.map(
        (d) => DAYS[d.toLowerCase().slice(0, 3)],
      );
      if (days?.some((d) => d === undefined))
        this.bad(`${path}.weekly.days`, "must be day names such as mon, tue, sun");
      const start = typeof w?.start === "string" ? /^([01]\d|2[0-3]):([0-5]\d)$/.exec(w.start) : null;
      if (start === null) this.bad(`${path}.weekly.start`, 'must be a local time such as "02:00"');
      const durationMs = this.duration(w?.duration, `${path}.weekly.duration`);
      const timezone = typeof w?.timezone === "string" ? w.timezone : "UTC";
      try {
        new Intl.DateTimeFormat("en-US", { timeZone: timezone });
      } catch {
        this.bad(`${path}.weekly.timezone`, `unknown time zone "${timezone}"`);
      }
      if (days !== undefined && start !== null && durationMs !== undefined) {
        recurring = {
          days: days as number[],
          startMinute: Number(start[1]) * 60 + Number(start[2]),
          durationMs,
          timezone,
        };
      }
    }
    let once: MaintenanceWindow["once"] = null;
    if (o.once !== undefined) {
      const w = this.object(o.once, `${path}.once`, ["start", "end"]);
      const start = typeof w?.start === "string" ? parseTimestamp(w.start) : null;
      const end = typeof w?.end === "string" ? parseTimestamp(w.end) : null;
      if (start === null) this.bad(`${path}.once.start`, "must be an RFC 3339 time");
      if (end === null) this.bad(`${path}.once.end`, "must be an RFC 3339 time");
      if (start !== null && end !== null) {
        if (end <= start) this.bad(`${path}.once.end`, "must be after start");
        else once = { start, end };
      }
    }
    if (o.weekly === undefined && o.once === undefined) this.bad(path, "needs weekly or once (or both)");
    if (o.mute !== undefined && typeof o.mute !== "boolean")
      this.bad(`${path}.mute`, "must be true or false");
    if (id === undefined || rationale === undefined) return undefined;
    return { id, rationale, services, matchers, recurring, once, mute: o.mute === true };
  }

  inhibit(v: unknown, path: string, ids: Set<string>): InhibitRule | undefined {
    const o = this.object(v, path, ["id", "rationale", "source_matchers", "target_matchers", "equal"]);
    if (o === undefined) return v === undefined ? this.bad(path, "must be an object") : undefined;
    const id = this.id(o, path, ids);
    const rationale = this.rationale(o, path);
    const source = this.matchers(o.source_matchers, `${path}.source_matchers`);
    const target = this.matchers(o.target_matchers, `${path}.target_matchers`);
    const equal = o.equal === undefined ? [] : this.strings(o.equal, `${path}.equal`);
    if (
      id === undefined ||
      rationale === undefined ||
      source === undefined ||
      target === undefined ||
      equal === undefined
    ) {
      return undefined;
    }
    return { id, rationale, source, target, equal };
  }
}
