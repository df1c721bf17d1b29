import { parseDuration } from "../core/duration.js";
import type { Problem } from "../core/errors.js";
import type { Chain, ChainStep, Target } from "../core/oncall/chain.js";
import { checkTicketTemplates } from "../notify/ticket.js";
import type { ChannelConfig } from "../notify/types.js";

/**
 * `chains:` and `channels:`, checked key by key (every problem as path + reason) and compiled.
 * Channel secrets usually come from ${ENV_VAR}s, substituted before this runs.
 */
export interface EscalationRefs {
  users: ReadonlySet<string>;
  schedules: ReadonlySet<string>;
  channels: ReadonlySet<string>;
}

type Obj = Record<string, unknown>;

/** A step's delay and an ack timeout: shorter would page in a tight loop on a chain that repeats. */
const MIN_WAIT = 60_000;

export class Check {
  constructor(private readonly problems: Problem[]) {}

  bad(path: string, reason: string): undefined {
    this.problems.push({ path, reason });
    return undefined;
  }

  obj(v: unknown, path: string, keys: readonly string[]): Obj | undefined {
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

  name(v: unknown, path: string): string | undefined {
    if (typeof v !== "string" || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(v)) {
      return this.bad(path, "is required: a name of letters, digits, - _ and .");
    }
    return v;
  }

  duration(v: unknown, path: string, min = 0): number | undefined {
    const ms = typeof v === "string" ? parseDuration(v) : null;
    if (ms === null) return this.bad(path, "must be a duration such as 5m");
    if (ms < min) return this.bad(path, `must be at least ${min / 60_000}m`);
    return ms;
  }

  url(v: unknown, path: string): string | undefined {
    if (typeof v !== "string") return this.bad(path, "is required: an http(s) URL");
    try {
      const u = new URL(v);
      if (u.protocol !== "http:" && u.protocol !== "https:") return this.bad(path, "must be an http(s) URL");
    } catch {
      return this.bad(path, `"${v}" is not a URL`);
    }
    return v;
  }

  str(v: unknown, path: string, required = true): string | undefined {
    if (v === undefined && !required) return undefined;
    if (typeof v !== "string" || v === "") return this.bad(path, "must be a non-empty string");
    return v;
  }

  headers(v: unknown, path: string): Record<string, string> {
    if (v === undefined) return {};
    const o = this.obj(v, path, Object.keys((v as Obj) ?? {}));
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(o ?? {})) {
      if (typeof x === "string") out[k] = x;
      else this.bad(`${path}.${k}`, "must be a string");
    }
    return out;
  }
}

export function compileChannels(
  raw: unknown,
  problems: Problem[],
  declared = new Set<string>(),
): Map<string, ChannelConfig> {
  const c = new Check(problems);
  const out = new Map<string, ChannelConfig>();
  for (const [v, path] of c.list(raw, "channels")) {
    const o = c.obj(v, path, [
      "name",
      "kind",
      "url",
      "headers",
      "host",
      "port",
      "secure",
      "user",
      "pass",
      "from",
      "to",
      "routing_key",
      "method",
      "body",
      "update",
    ]);
    if (o === undefined) continue;
    const name = c.name(o.name, `${path}.name`);
    if (name !== undefined && declared.has(name)) c.bad(`${path}.name`, `duplicate channel "${name}"`);
    // Claimed even when broken, so chains that name it are not blamed for its problem.
    if (name !== undefined) declared.add(name);
    const allowed: Record<string, string[]> = {
      webhook: ["url", "headers"],
      slack: ["url"],
      teams: ["url"],
      email: ["host", "port", "secure", "user", "pass", "from", "to"],
      pagerduty: ["url", "routing_key"],
      ticket: ["url", "method", "headers", "body", "update"],
    };
    const kind = o.kind;
    if (typeof kind !== "string" || !(kind in allowed)) {
      c.bad(`${path}.kind`, "must be webhook, slack, teams, email, pagerduty or ticket");
      continue;
    }
    for (const k of Object.keys(o)) {
      if (k !== "name" && k !== "kind" && !(allowed[kind] as string[]).includes(k)) {
        c.bad(`${path}.${k}`, `does not apply to a ${kind} channel`);
      }
    }
    const ch = channel(c, kind, o, path, name ?? "");
    if (name !== undefined && ch !== undefined) out.set(name, ch);
  }
  return out;
}

function channel(c: Check, kind: string, o: Obj, path: string, name: string): ChannelConfig | undefined {
  switch (kind) {
    case "webhook": {
      const url = c.url(o.url, `${path}.url`);
      return url === undefined
        ? undefined
        : { kind, name, url, headers: c.headers(o.headers, `${path}.headers`) };
    }
    case "slack":
    case "teams": {
      const url = c.url(o.url, `${path}.url`);
      return url === undefined ? undefined : { kind, name, url };
    }
    case "email": {
      const host = c.str(o.host, `${path}.host`);
      const port = o.port === undefined ? 25 : o.port;
      if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
        c.bad(`${path}.port`, "must be a port number");
      }
      if (o.secure !== undefined && typeof o.secure !== "boolean")
        c.bad(`${path}.secure`, "must be true or false");
      const from = c.str(o.from, `${path}.from`);
      const to = o.to === undefined ? [] : Array.isArray(o.to) ? o.to : [o.to];
      if (!to.every((x) => typeof x === "string" && x.includes("@")))
        c.bad(`${path}.to`, "must be e-mail addresses");
      if (host === undefined || from === undefined || typeof port !== "number") return undefined;
      return {
        kind,
        name,
        host,
        port,
        secure: o.secure === true,
        user: c.str(o.user, `${path}.user`, false) ?? null,
        pass: c.str(o.pass, `${path}.pass`, false) ?? null,
        from,
        to: to as string[],
      };
    }
    case "pagerduty": {
      const url =
        o.url === undefined ? "https://events.pagerduty.com/v2/enqueue" : c.url(o.url, `${path}.url`);
      const routingKey = c.str(o.routing_key, `${path}.routing_key`);
      return url === undefined || routingKey === undefined ? undefined : { kind, name, url, routingKey };
    }
    case "ticket": {
      const url = c.url(o.url, `${path}.url`);
      const method = o.method === undefined ? "POST" : o.method;
      if (method !== "POST" && method !== "PUT" && method !== "PATCH")
        c.bad(`${path}.method`, "must be POST, PUT or PATCH");
      const body = c.str(o.body, `${path}.body`);
      if (url === undefined || body === undefined) return undefined;
      // A template that cannot render is a config error now, not a dead letter at 3 a.m.
      const update = o.update === undefined ? null : ticketUpdate(c, o.update, `${path}.update`);
      const broken = checkTicketTemplates(url, body);
      if (broken !== null) return c.bad(`${path}.body`, broken);
      if (update === undefined) return undefined;
      return {
        update,
        kind,
        name,
        url,
        method: method as "POST",
        headers: c.headers(o.headers, `${path}.headers`),
        body,
      };
    }
    default:
      return undefined;
  }
}

function ticketUpdate(
  c: Check,
  v: unknown,
  path: string,
): { url: string; method: "POST" | "PUT" | "PATCH"; body: string } | undefined {
  const o = c.obj(v, path, ["url", "method", "body"]);
  if (o === undefined) return undefined;
  const url = c.url(o.url, `${path}.url`);
  const method = o.method === undefined ? "POST" : o.method;
  if (method !== "POST" && method !== "PUT" && method !== "PATCH")
    return c.bad(`${path}.method`, "must be POST, PUT or PATCH");
  const body = c.str(o.body, `${path}.body`);
  if (url === undefined || body === undefined) return undefined;
  const broken = checkTicketTemplates(url, body);
  if (broken !== null) return c.bad(`${path}.body`, broken);
  return { url, method, body };
}

export function compileChains(raw: unknown, problems: Problem[], refs: EscalationRefs): Map<string, Chain> {
  const c = new Check(problems);
  const out = new Map<string, Chain>();
  for (const [v, path] of c.list(raw, "chains")) {
    const o = c.obj(v, path, ["name", "steps", "repeat", "ack_timeout"]);
    if (o === undefined) continue;
    const name = c.name(o.name, `${path}.name`);
    if (name !== undefined && out.has(name)) c.bad(`${path}.name`, `duplicate chain "${name}"`);
    const steps: ChainStep[] = [];
    const rawSteps = c.list(o.steps, `${path}.steps`);
    if (rawSteps.length === 0) c.bad(`${path}.steps`, "needs at least one step");
    for (const [sv, sp] of rawSteps) {
      const s = c.obj(sv, sp, ["targets", "delay"]);
      if (s === undefined) continue;
      const targets: Target[] = [];
      const rawTargets = c.list(s.targets, `${sp}.targets`);
      if (rawTargets.length === 0) c.bad(`${sp}.targets`, "needs at least one target");
      for (const [tv, tp] of rawTargets) {
        const t = c.obj(tv, tp, ["schedule", "user", "channel"]);
        if (t === undefined) continue;
        const keys = Object.keys(t);
        if (keys.length !== 1) {
          c.bad(tp, "must name exactly one of schedule, user or channel");
          continue;
        }
        const [k, n] = [keys[0] as "schedule" | "user" | "channel", t[keys[0] as string]];
        const known = { schedule: refs.schedules, user: refs.users, channel: refs.channels }[k];
        if (typeof n !== "string" || !known.has(n)) c.bad(`${tp}.${k}`, `unknown ${k} "${String(n)}"`);
        else
          targets.push(
            k === "schedule"
              ? { kind: k, schedule: n }
              : k === "user"
                ? { kind: k, user: n }
                : { kind: k, channel: n },
          );
      }
      const delayMs = s.delay === undefined ? 5 * 60_000 : c.duration(s.delay, `${sp}.delay`, MIN_WAIT);
      if (delayMs !== undefined) steps.push({ targets, delayMs });
    }
    const repeat = o.repeat === undefined ? 0 : o.repeat;
    if (typeof repeat !== "number" || !Number.isInteger(repeat) || repeat < 0 || repeat > 100) {
      c.bad(`${path}.repeat`, "must be a whole number from 0 to 100");
    }
    const ackTimeoutMs =
      o.ack_timeout === undefined ? null : c.duration(o.ack_timeout, `${path}.ack_timeout`, MIN_WAIT);
    if (name !== undefined) {
      out.set(name, {
        name,
        steps,
        repeat: typeof repeat === "number" ? repeat : 0,
        ackTimeoutMs: ackTimeoutMs ?? null,
      });
    }
  }
  return out;
}
