import { INCIDENT_STATUSES } from "../core/incident.js";
import type { RouteKind } from "../core/policy/types.js";
import type { Checker, Obj } from "./check.js";
import {
  type Expectation,
  type ExpectationKind,
  type IncidentRef,
  MESSAGE_KINDS,
  type MessageFilter,
  type MessageKind,
  NOTIFYING,
  RUNBOOK_STATUSES,
  type Who,
} from "./scenario.js";

/** The `expect:` list: each item is one kind of expectation, checked against the config's names. */

const KINDS = ["notified", "not_notified", "route", "runbook", "incident", "pages", "messages"] as const;
const ROUTE_KINDS: readonly RouteKind[] = ["page", "runbook", "triage", "validate", "notify", "suppress"];
const CHANNEL_KINDS = ["webhook", "slack", "teams", "email", "pagerduty", "ticket"];
const WHO_KINDS: readonly Who["kind"][] = ["user", "schedule", "team", "channel"];

export function parseExpectation(c: Checker, v: unknown, path: string): Expectation | undefined {
  const o = c.object(v, path, KINDS);
  if (o === undefined) return undefined;
  const kinds = KINDS.filter((k) => o[k] !== undefined);
  if (kinds.length !== 1)
    return c.bad(path, `needs exactly one of: ${KINDS.join(", ")} (found ${kinds.length})`);
  const kind = kinds[0] as ExpectationKind;
  return body(c, kind, o[kind], `${path}.${kind}`, path);
}

function body(
  c: Checker,
  kind: ExpectationKind,
  v: unknown,
  at: string,
  path: string,
): Expectation | undefined {
  switch (kind) {
    case "notified": {
      const o = c.object(v, at, ["who", "channel", "kind", "incident", "within"]);
      if (o === undefined) return undefined;
      const who = parseWho(c, o.who, `${at}.who`);
      const f = filter(c, o, at);
      const withinMs = o.within === undefined ? null : c.duration(o.within, `${at}.within`);
      if (who === undefined || f === undefined || withinMs === undefined) return undefined;
      return { path, kind, ...f, who, withinMs };
    }
    case "not_notified": {
      const o = c.object(v, at, ["who", "team", "channel", "kind", "incident"]);
      if (o === undefined) return undefined;
      if ((o.who === undefined) === (o.team === undefined))
        return c.bad(at, "needs who or team (one of them)");
      const who =
        o.team !== undefined
          ? parseWho(c, `team:${String(o.team)}`, `${at}.team`)
          : parseWho(c, o.who, `${at}.who`);
      const f = filter(c, o, at);
      if (who === undefined || f === undefined) return undefined;
      return { path, kind, ...f, who };
    }
    case "route": {
      const o = c.object(v, at, ["incident", "is", "was"]);
      if (o === undefined) return undefined;
      const incident = incidentRef(c, o.incident, `${at}.incident`);
      if (o.is === undefined && o.was === undefined) return c.bad(at, "needs is or was (or both)");
      const is = o.is === undefined ? null : c.oneOf(o.is, `${at}.is`, ROUTE_KINDS);
      const was = o.was === undefined ? null : c.oneOf(o.was, `${at}.was`, ROUTE_KINDS);
      if (incident === undefined || is === undefined || was === undefined) return undefined;
      return { path, kind, incident, is, was };
    }
    case "runbook": {
      const o = c.object(v, at, ["name", "status", "incident"]);
      if (o === undefined) return undefined;
      const playbook = c.text(o.name, `${at}.name`);
      const status = c.oneOf(o.status, `${at}.status`, RUNBOOK_STATUSES);
      const incident = o.incident === undefined ? null : incidentRef(c, o.incident, `${at}.incident`);
      if (playbook === undefined || status === undefined || incident === undefined) return undefined;
      return { path, kind, playbook, status, incident };
    }
    case "incident": {
      const o = c.object(v, at, ["ref", "status", "by"]);
      if (o === undefined) return undefined;
      const incident = incidentRef(c, o.ref, `${at}.ref`);
      const status = c.oneOf(o.status, `${at}.status`, INCIDENT_STATUSES);
      const byMs = c.offset(o.by, `${at}.by`);
      if (incident === undefined || status === undefined || byMs === undefined) return undefined;
      return { path, kind, incident, status, byMs };
    }
    case "pages": {
      const o = c.object(v, at, ["team", "count", "at_least", "at_most"]);
      if (o === undefined) return undefined;
      let team: string | null | undefined = null;
      if (o.team !== undefined) {
        team = c.text(o.team, `${at}.team`);
        if (team !== undefined && !c.config.teams.has(team))
          team = c.bad(`${at}.team`, `unknown team "${team}"`);
      }
      const b = bounds(c, o, at);
      if (team === undefined || b === undefined) return undefined;
      return { path, kind, team, ...b };
    }
    case "messages": {
      const o = c.object(v, at, [
        "who",
        "channel",
        "kind",
        "incident",
        "count",
        "at_least",
        "at_most",
        "from",
        "until",
      ]);
      if (o === undefined) return undefined;
      const who = o.who === undefined ? null : parseWho(c, o.who, `${at}.who`);
      const f = filter(c, o, at, MESSAGE_KINDS);
      const b = bounds(c, o, at);
      const fromMs = o.from === undefined ? null : c.offset(o.from, `${at}.from`);
      const untilMs = o.until === undefined ? null : c.offset(o.until, `${at}.until`);
      if (
        who === undefined ||
        f === undefined ||
        b === undefined ||
        fromMs === undefined ||
        untilMs === undefined
      )
        return undefined;
      return { path, kind, ...f, who, ...b, fromMs, untilMs };
    }
    default: {
      const never: never = kind;
      return never;
    }
  }
}

/** `count: N`, or `at_least` and/or `at_most`. */
function bounds(
  c: Checker,
  o: Obj,
  at: string,
): { atLeast: number | null; atMost: number | null } | undefined {
  if (o.count !== undefined && (o.at_least !== undefined || o.at_most !== undefined))
    return c.bad(`${at}.count`, "give count, or at_least / at_most, not both");
  const count = c.count(o.count, `${at}.count`);
  const atLeast = c.count(o.at_least, `${at}.at_least`);
  const atMost = c.count(o.at_most, `${at}.at_most`);
  if (count === undefined || atLeast === undefined || atMost === undefined) return undefined;
  if (count !== null) return { atLeast: count, atMost: count };
  if (atLeast === null && atMost === null) return c.bad(at, "needs count, at_least or at_most");
  return { atLeast, atMost };
}

function filter(
  c: Checker,
  o: Obj,
  at: string,
  defaults: readonly MessageKind[] = NOTIFYING,
): Omit<MessageFilter, "who"> | undefined {
  let via: string | null | undefined = null;
  if (o.channel !== undefined) {
    via = c.text(o.channel, `${at}.channel`);
    if (
      via !== undefined &&
      !(c.config.channels.has(via) || CHANNEL_KINDS.includes(via) || via === "user-webhook")
    )
      via = c.bad(`${at}.channel`, `"${via}" is not a channel name, a channel kind or user-webhook`);
  }
  let kinds: readonly MessageKind[] | undefined = defaults;
  if (o.kind !== undefined) {
    const list = Array.isArray(o.kind) ? o.kind : [o.kind];
    kinds = list.length === 0 ? c.bad(`${at}.kind`, "must not be empty") : [];
    for (const k of list) {
      const m = c.oneOf(k, `${at}.kind`, MESSAGE_KINDS);
      if (m === undefined || kinds === undefined) kinds = undefined;
      else kinds = [...kinds, m];
    }
  }
  const incident = o.incident === undefined ? null : incidentRef(c, o.incident, `${at}.incident`);
  if (via === undefined || kinds === undefined || incident === undefined) return undefined;
  return { via, kinds, incident };
}

/** `ref` (its latest incident) or `ref#2` (the second incident its alert was in). */
function incidentRef(c: Checker, v: unknown, path: string): IncidentRef | undefined {
  const text = c.text(v, path);
  if (text === undefined) return undefined;
  const m = /^(.*)#(\d+)$/.exec(text);
  const ref = c.ref(m === null ? text : m[1], path);
  const nth = m === null ? null : Number(m[2]);
  if (nth === 0) return c.bad(path, "incidents are counted from 1 (ref#1 is the first)");
  return ref === undefined ? undefined : { ref, nth };
}

/** A bare name is looked up as a user, schedule, team and channel; `kind:name` says which. */
function parseWho(c: Checker, v: unknown, path: string): Who | undefined {
  const text = c.text(v, path);
  if (text === undefined) return undefined;
  const colon = text.indexOf(":");
  const prefix = colon > 0 ? text.slice(0, colon) : null;
  const explicit = prefix !== null && (WHO_KINDS as readonly string[]).includes(prefix);
  const name = explicit ? text.slice(colon + 1) : text;
  const cfg = c.config;
  const found = WHO_KINDS.filter((k) => {
    if (explicit && k !== prefix) return false;
    switch (k) {
      case "user":
        return cfg.users.has(name);
      case "schedule":
        return cfg.schedules.has(name);
      case "team":
        return cfg.teams.has(name);
      case "channel":
        return cfg.channels.has(name) || name === "user-webhook";
      default: {
        const never: never = k;
        return never;
      }
    }
  });
  if (found.length === 0) {
    const what = explicit ? prefix : "user, schedule, team or channel";
    return c.bad(path, `unknown ${what} "${name}"`);
  }
  if (found.length > 1) {
    return c.bad(
      path,
      `"${name}" is a ${found.join(" and a ")}: write ${found.map((k) => `${k}:${name}`).join(" or ")}`,
    );
  }
  return { kind: found[0] as Who["kind"], name };
}
