import type { Source } from "../config/types.js";
import { parseGenericEvent } from "../ingest/generic.js";
import { type Checker, join } from "./check.js";
import type { HttpAnswer, ScenarioEvent, TimedEvent } from "./scenario.js";

/** The `events:` and `http:` lists of a scenario, checked item by item. */

const EVENT_KINDS = [
  "alert",
  "resolve",
  "ack",
  "approve",
  "reject",
  "deploy",
  "heartbeat",
  "outage",
  "maintenance",
  "silence",
] as const;
type EventKind = (typeof EVENT_KINDS)[number];
/** The generic event's fields an alert may carry (`action` and `at` come from the scenario). */
const ALERT_FIELDS = [
  "source",
  "dedup_key",
  "summary",
  "severity",
  "service",
  "labels",
  "annotations",
  "links",
  "upstream_score",
];

export function parseEvents(c: Checker, v: unknown): TimedEvent[] {
  const parsed: (TimedEvent & { path: string })[] = [];
  for (const [item, path] of c.list(v, "events")) {
    for (const e of event(c, item, path)) parsed.push({ ...e, path });
  }
  // Stable: events at the same offset keep the file's order.
  parsed.sort((a, b) => a.at - b.at);
  for (const e of parsed) {
    const ev = e.event;
    if (ev.kind === "alert" && !c.refs.has(ev.ref)) c.refs.set(ev.ref, e.at);
    if ("ref" in ev && ev.kind !== "alert" && !c.refs.has(ev.ref)) {
      c.bad(`${e.path}.${ev.kind}.ref`, `no alert with ref "${ev.ref}" fires at or before this event`);
    }
  }
  return parsed.map(({ at, event }) => ({ at, event }));
}

/** One item of `events:`; with `repeat` it happens `times` times, `{{n}}` counting 1, 2, ... */
function event(c: Checker, v: unknown, path: string): TimedEvent[] {
  const o = c.object(v, path, ["at", "repeat", ...EVENT_KINDS]);
  if (o === undefined) return [];
  const at = c.offset(o.at, `${path}.at`);
  const kinds = EVENT_KINDS.filter((k) => o[k] !== undefined);
  if (kinds.length !== 1) {
    c.bad(path, `needs exactly one of: ${EVENT_KINDS.join(", ")} (found ${kinds.length})`);
    return [];
  }
  const kind = kinds[0] as EventKind;
  const repeat =
    o.repeat === undefined ? { times: 1, everyMs: 0 } : repetition(c, o.repeat, `${path}.repeat`, kind);
  const times = repeat?.times ?? 1;
  const every = repeat?.everyMs ?? 0;
  if (at !== undefined && at + (times - 1) * every > c.durationMs)
    c.bad(`${path}.repeat`, "runs past the end of the run (see duration)");
  const out: TimedEvent[] = [];
  // The body is checked even when `at` is bad, so one run lists every problem.
  for (let n = 1; n <= times; n++) {
    const before = c.problems.length;
    const body = o.repeat === undefined ? o[kind] : fill(o[kind], n);
    const event = eventBody(c, kind, body, `${path}.${kind}`, path);
    if (event !== undefined) out.push({ at: (at ?? 0) + (n - 1) * every, event });
    // The first copy's problems say it all.
    if (event === undefined || c.problems.length > before) break;
  }
  return at === undefined || repeat === undefined ? [] : out;
}

function repetition(
  c: Checker,
  v: unknown,
  path: string,
  kind: EventKind,
): { times: number; everyMs: number } | undefined {
  const o = c.object(v, path, ["times", "every"]);
  if (o === undefined) return undefined;
  if (kind !== "alert" && kind !== "resolve" && kind !== "ack" && kind !== "deploy" && kind !== "heartbeat")
    return c.bad(path, "works with alert, resolve, ack, deploy and heartbeat");
  const times = o.times;
  if (typeof times !== "number" || !Number.isInteger(times) || times < 1 || times > 10_000)
    c.bad(`${path}.times`, "must be a whole number from 1 to 10000");
  const everyMs = c.duration(o.every, `${path}.every`);
  return typeof times === "number" && everyMs !== undefined ? { times, everyMs } : undefined;
}

function eventBody(
  c: Checker,
  kind: EventKind,
  v: unknown,
  path: string,
  itemPath: string,
): ScenarioEvent | undefined {
  switch (kind) {
    case "alert":
      return alert(c, v, path);
    // A bad `by` is reported here and its ref still checked: the scenario is refused either way.
    case "resolve": {
      const o = c.object(v, path, ["ref", "by"]);
      if (o === undefined) return undefined;
      const ref = c.text(o.ref, `${path}.ref`);
      const by = o.by === undefined ? null : (c.user(o.by, `${path}.by`) ?? "");
      return ref === undefined ? undefined : { kind, ref, by };
    }
    case "ack": {
      const o = c.object(v, path, ["ref", "by"]);
      if (o === undefined) return undefined;
      const ref = c.text(o.ref, `${path}.ref`);
      const by = c.user(o.by, `${path}.by`) ?? "";
      return ref === undefined ? undefined : { kind, ref, by };
    }
    case "approve":
    case "reject": {
      const o = c.object(v, path, ["ref", "by", "playbook"]);
      if (o === undefined) return undefined;
      const ref = c.text(o.ref, `${path}.ref`);
      const by = c.user(o.by, `${path}.by`) ?? "";
      const playbook = c.optionalText(o.playbook, `${path}.playbook`);
      return ref === undefined || playbook === undefined ? undefined : { kind, ref, by, playbook };
    }
    case "deploy":
      return deploy(c, v, path);
    case "heartbeat": {
      const o = c.object(v, path, ["name"]);
      const name = c.text(o?.name, `${path}.name`);
      if (name !== undefined && !c.config.heartbeats.has(name))
        return c.bad(`${path}.name`, `unknown heartbeat "${name}"`);
      return name === undefined ? undefined : { kind, name };
    }
    case "outage": {
      const o = c.object(v, path, ["channel", "for"]);
      if (o === undefined) return undefined;
      const channel = c.text(o.channel, `${path}.channel`);
      if (channel !== undefined && channel !== "user-webhook" && !c.config.channels.has(channel))
        c.bad(`${path}.channel`, `unknown channel "${channel}" (a configured channel or user-webhook)`);
      const forMs = c.positive(o.for, `${path}.for`);
      return channel === undefined || forMs === undefined ? undefined : { kind, channel, forMs };
    }
    case "maintenance":
      return maintenance(c, v, path, itemPath);
    case "silence": {
      const o = c.object(v, path, ["matchers", "for", "comment", "author"]);
      if (o === undefined) return undefined;
      const m = c.matchers(o.matchers, `${path}.matchers`);
      const forMs = c.positive(o.for, `${path}.for`);
      const comment = o.comment === undefined ? "game day" : c.text(o.comment, `${path}.comment`);
      const author = o.author === undefined ? "game-day" : c.text(o.author, `${path}.author`);
      if (m === undefined || forMs === undefined || comment === undefined || author === undefined)
        return undefined;
      return { kind, matchers: m.text, forMs, comment, author };
    }
    default: {
      const never: never = kind;
      return never;
    }
  }
}

function sourceFor(c: Checker, v: unknown, path: string): Source | undefined {
  if (v === undefined) {
    const generic = [...c.config.sources.values()].find((s) => s.kind === "generic");
    return generic ?? c.bad(path, "is required: the config has no generic source to default to");
  }
  const name = c.text(v, path);
  if (name === undefined) return undefined;
  return c.config.sources.get(name) ?? c.bad(path, `unknown source "${name}"`);
}

function alert(c: Checker, v: unknown, path: string): ScenarioEvent | undefined {
  const o = c.object(v, path, ["ref", ...ALERT_FIELDS]);
  if (o === undefined) return undefined;
  const ref = c.text(o.ref, `${path}.ref`);
  if (ref?.includes("#")) c.bad(`${path}.ref`, 'must not contain "#" (ref#2 names a later incident)');
  const source = sourceFor(c, o.source, `${path}.source`);
  if (ref === undefined || source === undefined) return undefined;
  const { ref: _ref, source: _source, ...fields } = o;
  // The ref is the alert key unless the alert names one: two refs are two alerts.
  const r = parseGenericEvent({ dedup_key: ref, ...fields }, { kind: "live", source });
  if (!r.ok) {
    for (const p of r.problems) c.bad(join(path, p.path), p.reason);
    return undefined;
  }
  if (r.event.kind !== "signal") return c.bad(path, "must be a trigger");
  return { kind: "alert", ref, signal: r.event };
}

function deploy(c: Checker, v: unknown, path: string): ScenarioEvent | undefined {
  const o = c.object(v, path, ["service", "summary", "source", "labels", "links"]);
  if (o === undefined) return undefined;
  const service = c.service(o.service, `${path}.service`);
  const source = sourceFor(c, o.source, `${path}.source`);
  if (service === undefined || source === undefined) return undefined;
  const r = parseGenericEvent(
    {
      action: "change",
      service,
      summary: o.summary ?? `deploy of ${service}`,
      ...(o.labels === undefined ? {} : { labels: o.labels }),
      ...(o.links === undefined ? {} : { links: o.links }),
    },
    { kind: "live", source },
  );
  if (!r.ok) {
    for (const p of r.problems) c.bad(join(path, p.path), p.reason);
    return undefined;
  }
  if (r.event.kind !== "change") return c.bad(path, "must be a change");
  return { kind: "deploy", change: r.event };
}

function maintenance(c: Checker, v: unknown, path: string, itemPath: string): ScenarioEvent | undefined {
  const o = c.object(v, path, ["id", "service", "services", "matchers", "for", "mute"]);
  if (o === undefined) return undefined;
  const services: string[] = [];
  if (o.service !== undefined) {
    const s = c.service(o.service, `${path}.service`);
    if (s !== undefined) services.push(s);
  }
  for (const [s, p] of c.list(o.services, `${path}.services`)) {
    const name = c.service(s, p);
    if (name !== undefined) services.push(name);
  }
  const m =
    o.matchers === undefined ? { text: [], compiled: [] } : c.matchers(o.matchers, `${path}.matchers`);
  if (o.service === undefined && o.services === undefined && o.matchers === undefined)
    c.bad(path, "needs service, services or matchers (what the window covers)");
  const forMs = c.positive(o.for, `${path}.for`);
  if (o.mute !== undefined && typeof o.mute !== "boolean") c.bad(`${path}.mute`, "must be true or false");
  const id =
    o.id === undefined
      ? `game-day-${itemPath.replace(/\W+/g, "-").replace(/-$/, "")}`
      : c.text(o.id, `${path}.id`);
  const p = c.config.policy;
  const taken = [...p.rules, ...p.modifiers, ...p.windows, ...p.inhibitRules].some((x) => x.id === id);
  if (id !== undefined && taken) c.bad(`${path}.id`, `"${id}" is already an id in the policy`);
  if (m === undefined || forMs === undefined || id === undefined) return undefined;
  return { kind: "maintenance", id, services, matchers: m.compiled, forMs, mute: o.mute === true };
}

export function parseHttpAnswer(c: Checker, v: unknown, path: string): HttpAnswer | undefined {
  const o = c.object(v, path, ["url", "method", "status", "body", "error"]);
  if (o === undefined) return undefined;
  const url = c.text(o.url, `${path}.url`);
  if (url !== undefined && !/^https?:\/\/./.test(url)) c.bad(`${path}.url`, "must be an http(s) URL");
  const method = o.method === undefined ? null : c.text(o.method, `${path}.method`)?.toUpperCase();
  if (o.error !== undefined) {
    if (o.status !== undefined || o.body !== undefined)
      c.bad(`${path}.error`, "an error answer has no status or body");
    const reason = c.text(o.error, `${path}.error`);
    if (url === undefined || method === undefined || reason === undefined) return undefined;
    return { url, method, reply: { kind: "error", reason } };
  }
  const status = o.status ?? 200;
  if (typeof status !== "number" || !Number.isInteger(status) || status < 100 || status > 599)
    c.bad(`${path}.status`, "must be an HTTP status from 100 to 599");
  if (o.body !== undefined && typeof o.body !== "string") c.bad(`${path}.body`, "must be a string");
  if (url === undefined || method === undefined || typeof status !== "number") return undefined;
  return { url, method, reply: { kind: "status", status, body: typeof o.body === "string" ? o.body : "" } };
}

/** `{{n}}` in every string of a repeated event becomes its count. */
function fill(v: unknown, n: number): unknown {
  if (typeof v === "string") return v.replaceAll("{{n}}", String(n));
  if (Array.isArray(v)) return v.map((x) => fill(x, n));
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x, n)]));
  }
  return v;
}
