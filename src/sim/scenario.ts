import { RUN_STATUSES, type RunStatus } from "../core/automation/run.js";
import type { IncidentStatus } from "../core/incident.js";
import type { Matcher } from "../core/policy/matchers.js";
import type { RouteKind } from "../core/policy/types.js";
import type { ChangeEvent, SignalEvent } from "../core/types.js";
import type { Message } from "../notify/types.js";

/**
 * A game day: what happens (alerts, acks, deploys, outages, maintenance) at offsets from a
 * virtual start, and what must follow. Parsed and checked against the config by parse.ts, then
 * trusted by run.ts and expect.ts.
 */
export interface Scenario {
  name: string;
  description: string | null;
  /** The virtual start instant (ms since the epoch). */
  start: number;
  durationMs: number;
  /** Capture-mode answers for runbook HTTP steps; unmatched requests get a 200. */
  http: HttpAnswer[];
  /** In time order; events at the same offset keep the order of the file. */
  events: TimedEvent[];
  expect: Expectation[];
}

export interface HttpAnswer {
  url: string;
  /** Upper case; null matches any method. */
  method: string | null;
  reply: { kind: "status"; status: number; body: string } | { kind: "error"; reason: string };
}

export interface TimedEvent {
  /** Offset from the start, ms. */
  at: number;
  event: ScenarioEvent;
}

export type ScenarioEvent =
  /** A trigger for the ref's alert key; `ref` names the alert (and its incident) in the scenario. */
  | { kind: "alert"; ref: string; signal: SignalEvent }
  /** The alert resolves (sender), or a person resolves its incident (`by`). */
  | { kind: "resolve"; ref: string; by: string | null }
  | { kind: "ack"; ref: string; by: string }
  /** A person answers the approval request of a runbook run on the ref's incident. */
  | { kind: "approve" | "reject"; ref: string; by: string; playbook: string | null }
  /** A heartbeat's check-in (its ping). */
  | { kind: "heartbeat"; name: string }
  | { kind: "deploy"; change: ChangeEvent }
  /** The channel answers 503 for `forMs`: the outbox retries it with backoff. */
  | { kind: "outage"; channel: string; forMs: number }
  /** A one-off maintenance window, added to the policy before the run (planned work is known ahead). */
  | { kind: "maintenance"; id: string; services: string[]; matchers: Matcher[]; forMs: number; mute: boolean }
  | { kind: "silence"; matchers: string[]; forMs: number; comment: string; author: string };

/** Whom an expectation is about. A schedule matches pages sent to its on-call as a chain step. */
export type Who =
  | { kind: "user"; name: string }
  | { kind: "schedule"; name: string }
  /** Its channel, or its people (schedules of the team or of its chain, users in its chain). */
  | { kind: "team"; name: string }
  | { kind: "channel"; name: string };

/** An incident by the ref of an alert in it: its latest incident, or the n-th (1-based, `ref#2`). */
export interface IncidentRef {
  ref: string;
  nth: number | null;
}

export type MessageKind = Message["kind"];
export const MESSAGE_KINDS: readonly MessageKind[] = [
  "page",
  "triage",
  "notify",
  "update",
  "approval",
  "test",
];
/** What "notified" means unless an expectation names kinds: updates and approvals do not count. */
export const NOTIFYING: readonly MessageKind[] = ["page", "triage", "notify"];

/** Every status a run can be in (the core's list: one source of truth). */
export const RUNBOOK_STATUSES: readonly RunStatus[] = RUN_STATUSES;
export type RunbookStatus = RunStatus;

/** Filters shared by the expectations that look at delivered messages. */
export interface MessageFilter {
  who: Who | null;
  /** A channel name, a channel kind (webhook, slack, ...) or "user-webhook". */
  via: string | null;
  kinds: readonly MessageKind[];
  incident: IncidentRef | null;
}

export type Expectation = { path: string } & (
  | ({ kind: "notified"; who: Who; withinMs: number | null } & Omit<MessageFilter, "who">)
  | ({ kind: "not_notified"; who: Who } & Omit<MessageFilter, "who">)
  | { kind: "route"; incident: IncidentRef; is: RouteKind | null; was: RouteKind | null }
  | { kind: "runbook"; playbook: string; status: RunbookStatus; incident: IncidentRef | null }
  | { kind: "incident"; incident: IncidentRef; status: IncidentStatus; byMs: number }
  /** Incidents routed to a page, per team (each team when `team` is null). */
  | { kind: "pages"; team: string | null; atLeast: number | null; atMost: number | null }
  /** Delivered messages in [fromMs, untilMs] (offsets), counted. */
  | ({
      kind: "messages";
      atLeast: number | null;
      atMost: number | null;
      fromMs: number | null;
      untilMs: number | null;
    } & MessageFilter)
);

export type ExpectationKind = Expectation["kind"];
