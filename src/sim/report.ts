import { toIso } from "../core/time.js";
import type { Attempt } from "./channels.js";
import type { Verdict } from "./expect.js";
import type { DecisionFacts, TimelineFacts } from "./facts.js";
import { durationText, offsetText, plural } from "./format.js";
import type { HttpCall } from "./http.js";
import type { GameDay, Input } from "./run.js";
import type { ScenarioEvent } from "./scenario.js";

/** One line of a game day's timeline; inputs first at an instant, then what they caused. */
export type Entry = { at: number; seq: number } & (
  | { kind: "input"; input: Input }
  | { kind: "outage_end"; channel: string }
  | { kind: "decision"; decision: DecisionFacts }
  | { kind: "incident"; entry: TimelineFacts }
  | { kind: "http"; call: HttpCall }
  | { kind: "message"; attempt: Attempt }
);

const RANK: Record<Entry["kind"], number> = {
  input: 0,
  outage_end: 0,
  decision: 1,
  incident: 2,
  http: 3,
  message: 4,
};
/** A dead letter is recorded after the attempt that made it one. */
const rank = (e: Entry) => (e.kind === "incident" && e.entry.kind === "delivery_failed" ? 5 : RANK[e.kind]);
/** Said by the input line already ("> alert x: opened #1"). */
const QUIET = new Set(["opened", "alert_added"]);

export function timeline(day: GameDay): Entry[] {
  const out: Entry[] = [
    ...day.inputs.map((input): Entry => ({ at: input.at, seq: input.seq, kind: "input", input })),
    ...day.scenario.events.flatMap(({ at, event }, seq): Entry[] =>
      event.kind === "outage"
        ? [{ at: day.scenario.start + at + event.forMs, seq, kind: "outage_end", channel: event.channel }]
        : [],
    ),
    // Runbook records are decisions too; their timeline entries tell them better.
    ...day.incidents.flatMap((i) =>
      i.decisions
        .filter((d) => d.reason !== "runbook")
        .map((d): Entry => ({ at: d.at, seq: d.id, kind: "decision", decision: d })),
    ),
    ...day.incidents.flatMap((i) =>
      i.timeline
        .filter((t) => !QUIET.has(t.kind))
        .map((t): Entry => ({ at: t.at, seq: t.id, kind: "incident", entry: t })),
    ),
    ...day.http.map((call): Entry => ({ at: call.at, seq: call.seq, kind: "http", call })),
    ...day.attempts.map((attempt): Entry => ({ at: attempt.at, seq: attempt.seq, kind: "message", attempt })),
  ];
  const end = day.scenario.start + day.scenario.durationMs;
  return out.filter((e) => e.at <= end).sort((a, b) => a.at - b.at || rank(a) - rank(b) || a.seq - b.seq);
}

export interface Summary {
  passed: number;
  failed: number;
}

export function summary(verdicts: readonly Verdict[]): Summary {
  const passed = verdicts.filter((v) => v.passed).length;
  return { passed, failed: verdicts.length - passed };
}

// ---- text ----

export function textReport(day: GameDay, verdicts: readonly Verdict[]): string {
  const s = day.scenario;
  const mode = day.mode === "capture" ? "messages captured in memory" : "messages delivered for real";
  const lines = [`Game day ${s.name} (${mode})`];
  if (s.description !== null) lines.push(`  ${s.description.trim().replace(/\s*\n\s*/g, " ")}`);
  lines.push(`  start ${toIso(s.start)}, ran ${durationText(s.durationMs)}`, "", "Timeline");
  // Runbook timeline entries already say each request and its answer.
  for (const e of timeline(day).filter((x) => x.kind !== "http")) {
    lines.push(`  ${offsetText(e.at - s.start).padStart(9)}  ${toIso(e.at).slice(11, 19)}  ${entryText(e)}`);
  }
  lines.push("", "Incidents");
  if (day.incidents.length === 0) lines.push("  none");
  for (const i of day.incidents) {
    const refs = [...day.refs].filter(([, ids]) => ids.includes(i.id)).map(([r]) => r);
    const where = [i.service ?? "unknown service", i.team ?? "no team"].join(", ");
    lines.push(`  #${i.id} ${i.status}: ${i.summary} (${where}; refs: ${refs.join(", ") || "-"})`);
  }
  if (verdicts.length > 0) {
    lines.push("", "Expectations");
    for (const v of verdicts) {
      lines.push(v.passed ? `  PASS ${v.text}: ${v.detail}` : `  FAIL expected ${v.text}; ${v.detail}`);
    }
    const { passed, failed } = summary(verdicts);
    lines.push(`${passed} passed, ${failed} failed`);
  }
  return `${lines.join("\n")}\n`;
}

function entryText(e: Entry): string {
  switch (e.kind) {
    case "input":
      return `> ${inputText(e.input.event)}: ${e.input.outcome}${e.input.incidentId === null ? "" : ` #${e.input.incidentId}`}`;
    case "outage_end":
      return `> ${e.channel} is back`;
    case "decision": {
      const d = e.decision;
      const score = d.score === null ? "" : `, score ${d.score.toFixed(2)} ${d.band ?? ""}`.trimEnd();
      const mods = d.modifiers.length === 0 ? "" : `, modifiers ${d.modifiers.join(", ")}`;
      const muted = d.mutedBy === null ? "" : `, muted by ${d.mutedBy}`;
      const held = d.held ? " (held: no downgrade)" : "";
      return `#${d.incidentId} decided ${d.route}${held} [${d.reason}]: rule ${d.rule ?? "-"}${score}${mods}${muted}`;
    }
    case "incident":
      return `#${e.entry.incidentId} ${incidentText(e.entry)}`;
    case "http": {
      const r = e.call.response;
      return `runbook HTTP ${e.call.method} ${e.call.url} -> ${r.kind === "response" ? r.status : `error: ${r.reason}`}`;
    }
    case "message": {
      const a = e.attempt;
      const to = a.recipient === null ? a.channel : `${a.recipient} via ${a.channel}`;
      const what = `#${a.message.incidentId} ${a.message.kind} -> ${to} (${a.channelKind})`;
      return a.outcome === "delivered" ? `${what}: ${a.message.title}` : `${what} ${a.outcome}: ${a.reason}`;
    }
    default: {
      const never: never = e;
      return never;
    }
  }
}

function inputText(e: ScenarioEvent): string {
  switch (e.kind) {
    case "alert":
      return `alert ${e.ref} (${e.signal.source}, ${e.signal.severity}, ${e.signal.service ?? "no service"})`;
    case "resolve":
      return e.by === null ? `resolve ${e.ref}` : `resolve ${e.ref} by ${e.by}`;
    case "ack":
      return `ack ${e.ref} by ${e.by}`;
    case "approve":
    case "reject":
      return `${e.kind} ${e.playbook ?? "runbook"} on ${e.ref} by ${e.by}`;
    case "heartbeat":
      return `heartbeat ${e.name}`;
    case "deploy":
      return `deploy ${e.change.service}: ${e.change.summary}`;
    case "outage":
      return `${e.channel} down for ${durationText(e.forMs)}`;
    case "maintenance": {
      const scope = [...e.services, ...e.matchers.map((m) => m.text)].join(", ");
      return `maintenance ${e.id} on ${scope} for ${durationText(e.forMs)}${e.mute ? " (muted)" : ""}`;
    }
    case "silence":
      return `silence ${e.matchers.join(", ")} for ${durationText(e.forMs)}`;
    default: {
      const never: never = e;
      return never;
    }
  }
}

function incidentText(t: TimelineFacts): string {
  const d = t.detail;
  const by = t.actor !== null && t.actor !== "pagewise" ? ` by ${t.actor}` : "";
  switch (t.kind) {
    case "escalated": {
      const steps = Array.isArray(d.notified) ? (d.notified as Record<string, unknown>[]) : [];
      const reached = steps.map((n) => {
        const who = [...asList(n.people), ...asList(n.channels).filter((c) => c !== "user-webhook")];
        return `step ${String(n.step)} (${String(n.target)}) -> ${[...new Set(who)].join(", ") || "nobody"}`;
      });
      return `escalated on ${String(d.chain)}, round ${String(d.round)}: ${reached.join("; ")}`;
    }
    case "runbook": {
      const step = typeof d.step === "string" ? ` ${d.step}` : "";
      const result = d.result === undefined || d.result === null ? "" : `: ${String(d.result)}`;
      const why = typeof d.reason === "string" ? ` (${d.reason})` : "";
      return `runbook ${String(d.playbook)} run ${String(d.run)} ${String(d.event ?? "")}${step}${result}${why}${by} -> ${String(d.status)}`;
    }
    case "delivery_failed":
      return `delivery failed for good on ${String(d.channel)} after ${plural(Number(d.attempts), "attempt")}: ${String(d.reason)}`;
    default: {
      const keys = Object.entries(d).filter(([, v]) => v !== null && typeof v !== "object");
      const extra = keys.length === 0 ? "" : ` (${keys.map(([k, v]) => `${k}: ${String(v)}`).join(", ")})`;
      return `${t.kind.replaceAll("_", " ")}${by}${extra}`;
    }
  }
}

const asList = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

// ---- JSON ----

/** The stable document `simulate --json` prints (README, "Game days"). */
export function jsonReport(day: GameDay, verdicts: readonly Verdict[]): Record<string, unknown> {
  const s = day.scenario;
  const { passed, failed } = summary(verdicts);
  const attempts = day.attempts;
  return {
    version: 1,
    scenario: {
      name: s.name,
      description: s.description,
      start: toIso(s.start),
      end: toIso(s.start + s.durationMs),
      duration: durationText(s.durationMs),
    },
    mode: day.mode,
    passed: failed === 0,
    summary: {
      incidents: day.incidents.length,
      messages_delivered: attempts.filter((a) => a.outcome === "delivered").length,
      delivery_retries: attempts.filter((a) => a.outcome === "retry").length,
      delivery_failures: attempts.filter((a) => a.outcome === "failed").length,
      expectations_passed: passed,
      expectations_failed: failed,
    },
    incidents: day.incidents.map((i) => ({
      id: i.id,
      refs: [...day.refs].filter(([, ids]) => ids.includes(i.id)).map(([r]) => r),
      summary: i.summary,
      service: i.service,
      team: i.team,
      status: i.status,
      opened_at: toIso(i.openedAt),
      opened_offset: offsetText(i.openedAt - s.start),
      route: i.route ?? i.decisions.at(-1)?.route ?? null,
    })),
    timeline: timeline(day).map((e) => ({
      offset: offsetText(e.at - s.start),
      offset_ms: e.at - s.start,
      at: toIso(e.at),
      ...entryJson(e),
    })),
    expectations: verdicts.map((v) => ({
      path: v.expectation.path,
      kind: v.expectation.kind,
      expect: v.text,
      passed: v.passed,
      detail: v.detail,
    })),
  };
}

function entryJson(e: Entry): Record<string, unknown> {
  switch (e.kind) {
    case "input": {
      const { event, incidentId, outcome } = e.input;
      return { type: "input", event: event.kind, ...inputJson(event), incident: incidentId, outcome };
    }
    case "outage_end":
      return { type: "outage_end", channel: e.channel };
    case "decision": {
      const d = e.decision;
      return {
        type: "decision",
        incident: d.incidentId,
        decision: d.id,
        reason: d.reason,
        route: d.route,
        rule: d.rule,
        score: d.score,
        band: d.band,
        modifiers: d.modifiers,
        muted_by: d.mutedBy,
        held: d.held,
      };
    }
    case "incident":
      return {
        type: "incident_event",
        incident: e.entry.incidentId,
        event: e.entry.kind,
        actor: e.entry.actor,
        detail: e.entry.detail,
      };
    case "http": {
      const r = e.call.response;
      return {
        type: "http",
        method: e.call.method,
        url: e.call.url,
        status: r.kind === "response" ? r.status : null,
        error: r.kind === "error" ? r.reason : null,
      };
    }
    case "message": {
      const a = e.attempt;
      return {
        type: "message",
        outcome: a.outcome,
        channel: a.channel,
        channel_kind: a.channelKind,
        recipient: a.recipient,
        message_kind: a.message.kind,
        incident: a.message.incidentId,
        title: a.message.title,
        reason: a.reason,
      };
    }
    default: {
      const never: never = e;
      return never;
    }
  }
}

function inputJson(e: ScenarioEvent): Record<string, unknown> {
  switch (e.kind) {
    case "alert":
      return { ref: e.ref, source: e.signal.source, service: e.signal.service, severity: e.signal.severity };
    case "resolve":
    case "ack":
      return { ref: e.ref, by: e.by };
    case "approve":
    case "reject":
      return { ref: e.ref, by: e.by, playbook: e.playbook };
    case "heartbeat":
      return { name: e.name };
    case "deploy":
      return { service: e.change.service, summary: e.change.summary };
    case "outage":
      return { channel: e.channel, for: durationText(e.forMs) };
    case "maintenance":
      return {
        id: e.id,
        services: e.services,
        matchers: e.matchers.map((m) => m.text),
        for: durationText(e.forMs),
        mute: e.mute,
      };
    case "silence":
      return { matchers: e.matchers, for: durationText(e.forMs), comment: e.comment };
    default: {
      const never: never = e;
      return never;
    }
  }
}
