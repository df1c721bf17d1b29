import type { Config } from "../config/types.js";
import type { Attempt } from "./channels.js";
import type { IncidentFacts } from "./facts.js";
import { durationText, offsetText, plural, refText, whoText } from "./format.js";
import type { GameDay } from "./run.js";
import {
  type Expectation,
  type IncidentRef,
  MESSAGE_KINDS,
  type MessageFilter,
  NOTIFYING,
  type Who,
} from "./scenario.js";

/** What the expectations read: the recorded run (a test may build one by hand). */
export type Facts = Pick<GameDay, "scenario" | "attempts" | "incidents" | "refs" | "statusAt">;

export interface Verdict {
  expectation: Expectation;
  /** The expectation in words. */
  text: string;
  passed: boolean;
  /** What happened: the evidence for a pass, what happened instead for a failure. */
  detail: string;
}

export function evaluate(facts: Facts, config: Config): Verdict[] {
  const ctx = new Context(facts, config);
  return facts.scenario.expect.map((e) => {
    const r = check(ctx, e);
    return { expectation: e, text: describe(e), ...r };
  });
}

type Outcome = { passed: boolean; detail: string };

class Context {
  readonly delivered: Attempt[];
  private readonly byId: Map<number, IncidentFacts>;
  private readonly members = new Map<string, Set<string>>();

  constructor(
    readonly facts: Facts,
    readonly config: Config,
  ) {
    this.delivered = facts.attempts
      .filter((a) => a.outcome === "delivered")
      .sort((a, b) => a.at - b.at || a.seq - b.seq);
    this.byId = new Map(facts.incidents.map((i) => [i.id, i]));
  }

  rel(at: number): string {
    return offsetText(at - this.facts.scenario.start);
  }

  incident(id: number): IncidentFacts | undefined {
    return this.byId.get(id);
  }

  /** The incident a ref names: its latest (as of `asOf`, when given) or its n-th. */
  resolve(r: IncidentRef, asOf?: number): number | null {
    const ids = this.facts.refs.get(r.ref) ?? [];
    if (r.nth !== null) return ids[r.nth - 1] ?? null;
    const open = asOf === undefined ? ids : ids.filter((id) => (this.incident(id)?.openedAt ?? 0) <= asOf);
    return open.at(-1) ?? null;
  }

  matches(who: Who, a: Attempt): boolean {
    switch (who.kind) {
      case "user":
        return a.recipient === who.name;
      case "schedule":
        // The escalation names the schedule a page reached its on-call through in the message key.
        return a.message.idempotencyKey.includes(`:schedule:${who.name}:`);
      case "team":
        return (
          a.channel === this.config.teams.get(who.name)?.channel ||
          (a.recipient !== null && this.team(who.name).has(a.recipient))
        );
      case "channel":
        return a.channel === who.name;
      default: {
        const never: never = who;
        return never;
      }
    }
  }

  /** A team's people: whoever is in its schedules or in its chain's steps. */
  private team(name: string): Set<string> {
    let users = this.members.get(name);
    if (users !== undefined) return users;
    users = new Set();
    const schedules = new Set(
      [...this.config.schedules.values()].filter((s) => s.team === name).map((s) => s.name),
    );
    const chainName = this.config.teams.get(name)?.chain;
    const chain =
      chainName === null || chainName === undefined ? undefined : this.config.chains.get(chainName);
    for (const step of chain?.steps ?? []) {
      for (const t of step.targets) {
        if (t.kind === "schedule") schedules.add(t.schedule);
        if (t.kind === "user") users.add(t.user);
      }
    }
    for (const s of schedules) {
      const schedule = this.config.schedules.get(s);
      for (const layer of schedule?.layers ?? []) for (const p of layer.participants) users.add(p);
      for (const o of schedule?.overrides ?? []) users.add(o.user);
    }
    this.members.set(name, users);
    return users;
  }

  /** Delivered messages that pass a filter (`who` aside). */
  messages(f: Omit<MessageFilter, "who">, who: Who | null): Attempt[] {
    const incident = f.incident === null ? null : this.resolve(f.incident);
    return this.delivered.filter(
      (a) =>
        f.kinds.includes(a.message.kind) &&
        (f.via === null || a.channel === f.via || a.channelKind === f.via) &&
        (f.incident === null || a.message.incidentId === incident) &&
        (who === null || this.matches(who, a)),
    );
  }

  describe(a: Attempt): string {
    const to = a.recipient === null ? a.channel : `${a.recipient} via ${a.channel}`;
    return `${to} at ${this.rel(a.at)} (${a.message.kind}, incident #${a.message.incidentId})`;
  }
}

function check(ctx: Context, e: Expectation): Outcome {
  switch (e.kind) {
    case "notified":
      return notified(ctx, e);
    case "not_notified": {
      const got = ctx.messages(e, e.who);
      if (got.length === 0)
        return { passed: true, detail: `${whoText(e.who)} got no ${e.kinds.join("/")} message` };
      return { passed: false, detail: `${list(ctx, got)} was delivered` };
    }
    case "route":
      return route(ctx, e);
    case "runbook":
      return runbook(ctx, e);
    case "incident": {
      const at = ctx.facts.scenario.start + e.byMs;
      const id = ctx.resolve(e.incident, at);
      const when = offsetText(e.byMs);
      if (id === null)
        return { passed: false, detail: `${refText(e.incident)} had opened no incident by ${when}` };
      const status = ctx.facts.statusAt.get(e.byMs)?.get(id);
      if (status === undefined)
        return { passed: false, detail: `no status was recorded for #${id} at ${when}` };
      return { passed: status === e.status, detail: `#${id} was ${status} at ${when}` };
    }
    case "pages":
      return pages(ctx, e);
    case "messages": {
      const start = ctx.facts.scenario.start;
      const got = ctx
        .messages(e, e.who)
        .filter(
          (a) =>
            (e.fromMs === null || a.at >= start + e.fromMs) &&
            (e.untilMs === null || a.at <= start + e.untilMs),
        );
      const ok =
        (e.atLeast === null || got.length >= e.atLeast) && (e.atMost === null || got.length <= e.atMost);
      return {
        passed: ok,
        detail:
          got.length === 0
            ? "none was delivered"
            : `${plural(got.length, "was", "were")} delivered: ${list(ctx, got)}`,
      };
    }
    default: {
      const never: never = e;
      return never;
    }
  }
}

function notified(ctx: Context, e: Extract<Expectation, { kind: "notified" }>): Outcome {
  const got = ctx.messages(e, e.who);
  const from = (a: Attempt) =>
    e.incident === null ? ctx.facts.scenario.start : (ctx.incident(a.message.incidentId)?.openedAt ?? a.at);
  const hit = got.find((a) => e.withinMs === null || a.at - from(a) <= e.withinMs);
  if (hit !== undefined) return { passed: true, detail: `first: ${ctx.describe(hit)}` };
  // What happened instead: when this target was reached at all (any channel), else who was.
  const who = whoText(e.who);
  const anyVia = ctx.messages({ ...e, via: null }, e.who);
  const first = got[0] ?? anyVia[0];
  if (first !== undefined) {
    return {
      passed: false,
      detail: `${who} was first notified at ${ctx.rel(first.at)} via ${first.channel}`,
    };
  }
  const failed = ctx.facts.attempts.filter((a) => a.outcome !== "delivered" && ctx.matches(e.who, a));
  const tried =
    failed.length === 0
      ? ""
      : ` (${plural(failed.length, "attempt")} failed, last: ${failed.at(-1)?.reason})`;
  const others = ctx.messages({ ...e, via: null, incident: null }, null);
  const rest = others.length === 0 ? "nobody was notified" : `notified instead: ${list(ctx, others)}`;
  return { passed: false, detail: `${who} was never notified${tried}; ${rest}` };
}

/** `is`: where the incident ended up (a runbook's fallback included); `was`: any route it had. */
function route(ctx: Context, e: Extract<Expectation, { kind: "route" }>): Outcome {
  const id = ctx.resolve(e.incident);
  if (id === null) return { passed: false, detail: `${refText(e.incident)} opened no incident` };
  const incident = ctx.incident(id);
  const last = incident?.decisions.filter((d) => d.reason !== "runbook").at(-1);
  const final = incident?.route ?? last?.route;
  if (incident === undefined || last === undefined || final === undefined)
    return { passed: false, detail: `#${id} has no decision` };
  const routes = [...new Set([...incident.decisions.map((d) => d.route), final])];
  const passed = (e.is === null || final === e.is) && (e.was === null || routes.includes(e.was));
  const how = `rule ${last.rule ?? "-"}, score ${last.score?.toFixed(2) ?? "-"} ${last.band ?? ""}`.trim();
  const fell = final === last.route ? "" : `; then ${final} (a runbook's fallback)`;
  return {
    passed,
    detail: `#${id} was routed ${routes.join(" -> ")}; latest decision: ${last.route} (${how})${fell}`,
  };
}

function runbook(ctx: Context, e: Extract<Expectation, { kind: "runbook" }>): Outcome {
  const only = e.incident === null ? null : ctx.resolve(e.incident);
  const entries = ctx.facts.incidents
    .filter((i) => only === null || i.id === only)
    .flatMap((i) => i.timeline)
    .filter((t) => t.kind === "runbook" && t.detail.playbook === e.playbook)
    .sort((a, b) => a.at - b.at || a.id - b.id);
  const last = entries.at(-1);
  if (last === undefined) return { passed: false, detail: `runbook ${e.playbook} never ran` };
  const status = String(last.detail.status);
  const run = last.detail.run === undefined ? "" : `run ${String(last.detail.run)}, `;
  return {
    passed: status === e.status,
    detail: `runbook ${e.playbook} ended ${status} (${run}incident #${last.incidentId}, at ${ctx.rel(last.at)})`,
  };
}

function pages(ctx: Context, e: Extract<Expectation, { kind: "pages" }>): Outcome {
  const counts = new Map<string, number[]>();
  if (e.team !== null) counts.set(e.team, []);
  for (const i of ctx.facts.incidents) {
    // An incident counts once, however many people and steps its page reached.
    const paged = i.decisions.some((d) => d.route === "page" && d.mutedBy === null);
    const team = i.team ?? "(no team)";
    if (!paged || (e.team !== null && team !== e.team)) continue;
    counts.set(team, [...(counts.get(team) ?? []), i.id]);
  }
  const over: string[] = [];
  const parts: string[] = [];
  for (const [team, ids] of counts) {
    const ok =
      (e.atLeast === null || ids.length >= e.atLeast) && (e.atMost === null || ids.length <= e.atMost);
    const text = `${team} ${plural(ids.length, "page")}${ids.length > 0 ? ` (#${ids.join(", #")})` : ""}`;
    parts.push(text);
    if (!ok) over.push(text);
  }
  if (e.team === null && e.atLeast !== null && e.atLeast > 0 && counts.size === 0)
    over.push("no team was paged");
  return { passed: over.length === 0, detail: parts.length === 0 ? "no team was paged" : parts.join("; ") };
}

function list(ctx: Context, got: Attempt[]): string {
  const shown = got.slice(0, 5).map((a) => ctx.describe(a));
  return got.length > 5 ? `${shown.join(", ")} and ${got.length - 5} more` : shown.join(", ");
}

/** An expectation in words, as the report prints it. */
export function describe(e: Expectation): string {
  const kinds = (k: readonly string[], d: readonly string[] = NOTIFYING) =>
    k.length === d.length && k.every((x) => d.includes(x)) ? "" : ` (${k.join("/")})`;
  const via = (v: string | null) => (v === null ? "" : ` via ${v}`);
  const of = (r: IncidentRef | null) => (r === null ? "" : ` for ${refText(r)}`);
  const bounds = (lo: number | null, hi: number | null) =>
    lo !== null && lo === hi
      ? `exactly ${lo}`
      : lo !== null && hi !== null
        ? `${lo} to ${hi}`
        : lo !== null
          ? `at least ${lo}`
          : `at most ${hi}`;
  switch (e.kind) {
    case "notified": {
      const within = e.withinMs === null ? "" : ` within ${durationText(e.withinMs)}`;
      return `${whoText(e.who)} notified${via(e.via)}${within}${of(e.incident)}${kinds(e.kinds)}`;
    }
    case "not_notified":
      return `${whoText(e.who)} not notified${via(e.via)}${of(e.incident)}${kinds(e.kinds)}`;
    case "route": {
      const is = e.is === null ? [] : [`routed to ${e.is}`];
      const was = e.was === null ? [] : [`routed to ${e.was} at some point`];
      return `${refText(e.incident)} ${[...is, ...was].join(" and ")}`;
    }
    case "runbook":
      return `runbook ${e.playbook} ${e.status}${of(e.incident)}`;
    case "incident":
      return `${refText(e.incident)} ${e.status} at ${offsetText(e.byMs)}`;
    case "pages":
      return `${e.team === null ? "each team" : `team ${e.team}`} paged ${bounds(e.atLeast, e.atMost)} time(s)`;
    case "messages": {
      const to = e.who === null ? "" : ` to ${whoText(e.who)}`;
      const from = e.fromMs === null ? "" : ` from ${offsetText(e.fromMs)}`;
      const until = e.untilMs === null ? "" : ` until ${offsetText(e.untilMs)}`;
      return `${bounds(e.atLeast, e.atMost)} message(s)${to}${via(e.via)}${of(e.incident)}${kinds(e.kinds, MESSAGE_KINDS)}${from}${until}`;
    }
    default: {
      const never: never = e;
      return never;
    }
  }
}
