import type { Playbook } from "../core/automation/types.js";
import type { Incident } from "../core/incident.js";
import {
  type Chain,
  type EscalationEvent,
  type Notify,
  stepEscalation,
  type Target,
} from "../core/oncall/chain.js";
import { routeText } from "../core/policy/explain.js";
import type { Route } from "../core/policy/types.js";
import type { ChannelConfig, Message, Recipient } from "../notify/types.js";
import { startRun } from "./automation.js";
import type { Tx } from "./ports.js";

/**
 * Carrying decisions out over time: escalation plans become a snapshot on the incident, one
 * escalation timer, and outbox rows, all in the caller's transaction. Who is on call and how to
 * reach people comes from the Directory (the config), looked up when a step fires.
 */
export interface Directory {
  chain(name: string): Chain | undefined;
  teamChain(team: string | null): string | null;
  teamChannel(team: string | null): string | null;
  onCall(schedule: string, at: number): string | null;
  user(name: string): Recipient | undefined;
  channel(name: string): ChannelConfig | undefined;
  /** The email channel that carries mail to people (their own address as recipient). */
  mailChannel(): string | null;
  playbook(name: string): Playbook | undefined;
}

/** Facts a message needs beyond the incident, from the decision that sent it. */
export interface MessageFacts {
  decisionId: number | null;
  score: number | null;
  band: string | null;
  rule: string | null;
  rationale: string | null;
  reasons: string[];
  links: { href: string; text: string }[];
}

export interface DeliveryEnv {
  now: number;
  directory: Directory;
  /** Signed one-time ack/resolve links for a recipient (null without a public URL). */
  links(incidentId: number, recipient: string): { ack: string | null; resolve: string | null };
  decisionUrl(decisionId: number): string | null;
  /** An API path as a full URL when a public URL is configured (else the path itself). */
  apiUrl(path: string): string;
  /** A team was paged (the peak-load count), for pages that start outside a decision. */
  paged?(team: string | null): void;
}

/** A single destination of one notification. */
interface Delivery {
  channel: string;
  recipient: Recipient | null;
  adhocUrl: string | null;
  key: string;
}

/** Applies an escalation event to the incident and carries the plan out. */
export function escalate(
  tx: Tx,
  env: DeliveryEnv,
  incident: Incident,
  event: EscalationEvent,
  facts: MessageFacts,
): Incident {
  const plan = stepEscalation(incident.escalation, event, env.now);
  if (plan.stale) return incident;
  if (plan.timer === null) {
    tx.cancelTimer("escalation_step", incident.id);
    tx.cancelTimer("ack_timeout", incident.id);
  } else {
    const other = plan.timer.kind === "escalation_step" ? "ack_timeout" : "escalation_step";
    tx.cancelTimer(other, incident.id);
    // The facts ride along, so a later step's messages say what the first one said.
    tx.armTimer(plan.timer.kind, incident.id, plan.timer.dueAt, "set", { fence: plan.timer.fence, facts });
  }
  const next: Incident = { ...incident, escalation: plan.escalation };
  const e = plan.escalation;
  const notified: { step: number; target: string; people: string[]; channels: string[] }[] = [];
  for (const n of plan.notify) {
    const ds = destinations(env, next, n, e?.fence ?? 0);
    // A step that reaches nobody must say so: silence here is the 3 a.m. failure.
    if (ds.length === 0)
      skipped(tx, env, incident.id, {
        chain: e?.chain.name ?? null,
        step: n.step + 1,
        reason: gapReason(env, n.target),
      });
    for (const d of ds)
      enqueue(tx, env, next, d, "page", facts, `step ${n.step + 1} of chain ${e?.chain.name ?? ""}`);
    notified.push({
      step: n.step + 1,
      target: targetText(n.target),
      people: [...new Set(ds.flatMap((d) => (d.recipient === null ? [] : [d.recipient.user])))],
      channels: ds.map((d) => d.channel),
    });
  }
  // Channels already told hear that it went further (the thread follows the incident).
  if (notified.length > 0 && e !== null && (event.kind === "step_due" || event.kind === "ack_timeout")) {
    const who = notified.map((n) => (n.people.length > 0 ? n.people.join(", ") : n.target)).join("; ");
    announce(
      tx,
      env,
      next,
      `escalated to step ${notified.map((n) => n.step).join(", ")}: ${who}`,
      notified.flatMap((n) => n.channels),
    );
  }
  // Who was paged and how, so "why did this reach me" has an answer on the incident itself.
  if (notified.length > 0 && e !== null) {
    tx.addTimeline({
      incidentId: incident.id,
      at: env.now,
      kind: "escalated",
      actor: "pagewise",
      detail: { chain: e.chain.name, round: e.round + 1, event: event.kind, notified },
    });
  }
  if (e !== null && e.state === "exhausted") {
    tx.addTimeline({
      incidentId: incident.id,
      at: env.now,
      kind: "escalation_exhausted",
      actor: "pagewise",
      detail: { chain: e.chain.name, rounds: e.round + 1 },
    });
  }
  return next;
}

/** A triage or notify route: one message to the team's (or the route's) channel. */
export function tell(tx: Tx, env: DeliveryEnv, incident: Incident, route: Route, facts: MessageFacts): void {
  const channel =
    route.kind === "triage"
      ? (route.channel ?? env.directory.teamChannel(route.team ?? incident.team))
      : route.kind === "notify"
        ? (route.channel ?? env.directory.teamChannel(incident.team))
        : null;
  const kind = route.kind === "triage" ? "triage" : "notify";
  if (channel === null || env.directory.channel(channel) === undefined) {
    skipped(tx, env, incident.id, {
      route: routeText(route),
      reason: channel === null ? "no channel for this team or route" : `channel ${channel} is not configured`,
    });
    return;
  }
  const key = `${incident.id}:${kind}:${facts.decisionId ?? env.now}:${channel}`;
  enqueue(
    tx,
    env,
    incident,
    { channel, recipient: null, adhocUrl: null, key },
    kind,
    facts,
    routeText(route),
  );
}

function targetText(t: Target): string {
  switch (t.kind) {
    case "schedule":
      return `on-call of ${t.schedule}`;
    case "user":
      return `user ${t.user}`;
    case "channel":
      return `channel ${t.channel}`;
    default: {
      const never: never = t;
      return never;
    }
  }
}

/** Where one notified target's message goes: a channel, or each way a person can be reached. */
function destinations(env: DeliveryEnv, incident: Incident, n: Notify, fence: number): Delivery[] {
  const base = `${incident.id}:${fence}:${n.round}:${n.step}`;
  const t: Target = n.target;
  switch (t.kind) {
    case "channel":
      return [{ channel: t.channel, recipient: null, adhocUrl: null, key: `${base}:channel:${t.channel}` }];
    case "user":
      return personal(env, t.user, `${base}:user:${t.user}`, incident);
    case "schedule": {
      const user = env.directory.onCall(t.schedule, env.now);
      return user === null ? [] : personal(env, user, `${base}:schedule:${t.schedule}:${user}`, incident);
    }
    default: {
      const never: never = t;
      return never;
    }
  }
}

/** Something that should have gone out could not: said on the timeline, never silent. */
export function skipped(tx: Tx, env: DeliveryEnv, incidentId: number, detail: Record<string, unknown>): void {
  tx.addTimeline({ incidentId, at: env.now, kind: "delivery_skipped", actor: "pagewise", detail });
}

function gapReason(env: DeliveryEnv, t: Target): string {
  if (t.kind === "schedule") {
    const user = env.directory.onCall(t.schedule, env.now);
    if (user === null) return `nobody is on call for schedule ${t.schedule}`;
    return `${user} (on call for ${t.schedule}) has no contact method Pagewise can deliver to`;
  }
  if (t.kind === "user") return `user ${t.user} has no contact method Pagewise can deliver to`;
  return `channel ${t.channel} is not configured`;
}

/** A person is reached by every contact method Pagewise can deliver to. */
function personal(env: DeliveryEnv, name: string, key: string, incident: Incident): Delivery[] {
  const user = env.directory.user(name);
  if (user === undefined) return [];
  const out: Delivery[] = [];
  const mail = env.directory.mailChannel();
  if (user.email !== null && mail !== null)
    out.push({ channel: mail, recipient: user, adhocUrl: null, key: `${key}:email` });
  const chat = env.directory.teamChannel(incident.team);
  if (user.slack !== null && chat !== null && env.directory.channel(chat)?.kind === "slack") {
    out.push({ channel: chat, recipient: user, adhocUrl: null, key: `${key}:slack` });
  }
  if (user.webhook !== null)
    out.push({ channel: "user-webhook", recipient: user, adhocUrl: user.webhook, key: `${key}:webhook` });
  return out;
}

/** One message to a configured channel (not a person). */
export function enqueueTo(
  tx: Tx,
  env: DeliveryEnv,
  incident: Incident,
  channel: string,
  kind: Message["kind"],
  key: string,
  facts: MessageFacts,
  note: string,
): void {
  enqueue(tx, env, incident, { channel, recipient: null, adhocUrl: null, key }, kind, facts, note);
}

function enqueue(
  tx: Tx,
  env: DeliveryEnv,
  incident: Incident,
  d: Delivery,
  kind: Message["kind"],
  facts: MessageFacts,
  note: string,
): void {
  const links =
    d.recipient === null ? { ack: null, resolve: null } : env.links(incident.id, d.recipient.user);
  const decision = facts.decisionId === null ? null : env.decisionUrl(facts.decisionId);
  const message: Message = {
    kind,
    incidentId: incident.id,
    idempotencyKey: d.key,
    title: `[${incident.severity.toUpperCase()}] ${incident.summary}`,
    summary: incident.summary,
    status: incident.status,
    service: incident.service,
    team: incident.team,
    severity: incident.severity,
    score: facts.score,
    band: facts.band,
    rule: facts.rule,
    rationale: facts.rationale,
    reasons: facts.reasons,
    links: decision === null ? facts.links : [...facts.links, { href: decision, text: "Decision" }],
    ackUrl: links.ack,
    resolveUrl: links.resolve,
    recipient: d.recipient,
    note,
  };
  tx.enqueue({
    incidentId: incident.id,
    channel: d.channel,
    recipient: d.recipient?.user ?? null,
    adhocUrl: d.adhocUrl,
    message,
    idempotencyKey: d.key,
    createdAt: env.now,
    nextAttemptAt: env.now,
  });
}

/**
 * What a decision starts: a page starts (or keeps) the escalation of its chain; a triage or
 * notify tells a channel when the route changed to it; `also` routes of `continue` rules tell
 * their channels once. Nothing is sent for muted decisions (the caller checks).
 */
export function carryOut(
  tx: Tx,
  env: DeliveryEnv,
  incident: Incident,
  prev: Route | null,
  route: Route,
  decision: { also: { route: Route }[] },
  facts: MessageFacts,
): Incident {
  let next = incident;
  const running =
    incident.escalation !== null &&
    (incident.escalation.state === "running" || incident.escalation.state === "acknowledged");
  if (
    route.kind === "page" &&
    !running &&
    incident.status !== "acknowledged" &&
    incident.status !== "resolved"
  ) {
    const { name, chain } = chainFor(env, incident, route.chain);
    if (chain === undefined) {
      skipped(tx, env, incident.id, {
        route: routeText(route),
        reason: name === null ? "no escalation chain for this team" : `chain ${name} is not configured`,
      });
      // A page that can reach nobody still tells the team's channel, where someone may see it.
      if (env.directory.teamChannel(incident.team) !== null) {
        tell(tx, env, next, { kind: "triage", team: null, channel: null }, facts);
      }
    } else {
      next = escalate(tx, env, next, { kind: "start", chain, twoPerson: route.twoPerson }, facts);
    }
  } else if (
    (route.kind === "triage" || route.kind === "notify") &&
    (prev === null || prev.kind !== route.kind)
  ) {
    tell(tx, env, next, route, facts);
  } else if (route.kind === "runbook" && incident.status !== "resolved") {
    next = startRun(tx, env, next, route, facts);
  } else if (route.kind === "validate" && prev?.kind !== "validate" && incident.status === "validating") {
    // The hold's window runs from when it started; re-decisions during it do not extend it.
    tx.armTimer("validation_end", incident.id, env.now + route.forMs, "set");
  }
  for (const a of decision.also) {
    if (a.route.kind === "triage" || a.route.kind === "notify") tell(tx, env, next, a.route, facts);
  }
  return next;
}

/**
 * Whose chain a page escalates: a person an incident was handed to is paged first, then their
 * team's chain follows; otherwise the route's chain, else the owning team's.
 */
export function chainFor(
  env: DeliveryEnv,
  incident: Incident,
  routeChain: string | null,
): { name: string | null; chain: Chain | undefined } {
  const teamName = routeChain ?? env.directory.teamChain(incident.team);
  const team = teamName === null ? undefined : env.directory.chain(teamName);
  if (incident.assignee === null) return { name: teamName, chain: team };
  const user: Target = { kind: "user", user: incident.assignee };
  const name = `handoff:${incident.assignee}`;
  const chain: Chain =
    team === undefined
      ? { name, steps: [{ targets: [user], delayMs: HANDOFF_DELAY }], repeat: 2, ackTimeoutMs: null }
      : {
          name,
          steps: [{ targets: [user], delayMs: team.steps[0]?.delayMs ?? HANDOFF_DELAY }, ...team.steps],
          repeat: team.repeat,
          ackTimeoutMs: team.ackTimeoutMs,
        };
  return { name, chain };
}

/** How long a person handed an incident (with no team chain behind them) has before a repeat. */
const HANDOFF_DELAY = 5 * 60_000;

export const NO_FACTS: MessageFacts = {
  decisionId: null,
  score: null,
  band: null,
  rule: null,
  rationale: null,
  reasons: [],
  links: [],
};

/** An acknowledgement stops the chain (and arms the ack timeout); a resolve stops everything. */
export function statusChanged(tx: Tx, env: DeliveryEnv | undefined, incident: Incident): Incident {
  if (env === undefined) return incident;
  const status = incident.status;
  if (status !== "acknowledged" && status !== "resolved") return incident;
  const next =
    incident.escalation === null ? incident : escalate(tx, env, incident, { kind: status }, NO_FACTS);
  // A page still waiting out a retry would wake someone for an incident already handled.
  tx.cancelPending(incident.id, `incident ${status} before it was sent`);
  const by = status === "acknowledged" ? next.acknowledgedBy : next.resolvedBy;
  const reason = status === "resolved" && next.resolveReason !== null ? ` (${next.resolveReason})` : "";
  announce(tx, env, next, `${status} by ${by ?? "pagewise"}${reason}`);
  return next;
}

/**
 * Channels that were told about an incident hear that it was acknowledged or resolved: the second
 * person of a two-person page stops looking, a PagerDuty forward acknowledges or resolves.
 */
export function announce(
  tx: Tx,
  env: DeliveryEnv,
  incident: Incident,
  note: string,
  except: readonly string[] = [],
): void {
  for (const channel of tx.notifiedChannels(incident.id)) {
    if (except.includes(channel)) continue;
    const config = env.directory.channel(channel);
    // A ticket system without an update template would get a second ticket: skip it.
    if (config === undefined || (config.kind === "ticket" && !config.update)) continue;
    enqueueTo(
      tx,
      env,
      incident,
      channel,
      "update",
      `${incident.id}:update:${env.now}:${note}:${channel}`,
      NO_FACTS,
      note,
    );
  }
}
