import type { Escalation } from "./oncall/chain.js";
import type { Route } from "./policy/types.js";
import type { Severity } from "./types.js";

/** One union for an incident's status; it changes only through `transition`. */
export type IncidentStatus = "triggered" | "validating" | "acknowledged" | "resolved" | "suppressed";
export const INCIDENT_STATUSES: readonly IncidentStatus[] = [
  "triggered",
  "validating",
  "acknowledged",
  "resolved",
  "suppressed",
];

/** Why an incident resolved. */
export type ResolveReason =
  | "alerts_resolved" // every alert resolved (sender said so, or their endsAt passed)
  | "auto_resolved" // no new trigger for the source's auto_resolve_after
  | "not_confirmed" // a validation hold ended without confirming it
  | "manual" // a person through the API
  | "sender"; // the sender resolved the incident as a whole (PagerDuty-style)

export type IncidentEvent =
  | { kind: "acknowledge"; by: string }
  | { kind: "resolve"; by: string; reason: ResolveReason }
  /** Hold for validation (the validate route). */
  | { kind: "hold" }
  /** Validation confirmed it: back to triggered so it escalates. */
  | { kind: "confirm" }
  /** A silence, window or inhibition muted it. */
  | { kind: "suppress" }
  /** An ack timed out, or a human un-acknowledged: escalate again. */
  | { kind: "reopen" }
  /** The mute ended or new evidence routed it somewhere that tells people. */
  | { kind: "unsuppress" };

export interface IncidentLifecycle {
  status: IncidentStatus;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  resolvedAt: number | null;
  resolvedBy: string | null;
  resolveReason: ResolveReason | null;
}

export class IllegalTransition extends Error {
  readonly from: IncidentStatus;
  readonly event: IncidentEvent["kind"];
  constructor(from: IncidentStatus, event: IncidentEvent["kind"]) {
    super(`cannot ${event} an incident that is ${from}`);
    this.name = "IllegalTransition";
    this.from = from;
    this.event = event;
  }
}

export type TransitionResult =
  | { ok: true; next: IncidentLifecycle }
  | { ok: false; error: IllegalTransition };

/** Which statuses each event may leave from. Exhaustive by construction (Record over kinds). */
const ALLOWED_FROM: Record<IncidentEvent["kind"], readonly IncidentStatus[]> = {
  acknowledge: ["triggered", "validating", "suppressed"],
  resolve: ["triggered", "validating", "acknowledged", "suppressed"],
  hold: ["triggered"],
  confirm: ["validating"],
  suppress: ["triggered", "validating"],
  reopen: ["acknowledged"],
  unsuppress: ["suppressed"],
};

export function canTransition(from: IncidentStatus, kind: IncidentEvent["kind"]): boolean {
  return ALLOWED_FROM[kind].includes(from);
}

export function transition(state: IncidentLifecycle, event: IncidentEvent, now: number): TransitionResult {
  if (!canTransition(state.status, event.kind)) {
    return { ok: false, error: new IllegalTransition(state.status, event.kind) };
  }
  switch (event.kind) {
    case "acknowledge":
      return {
        ok: true,
        next: { ...state, status: "acknowledged", acknowledgedAt: now, acknowledgedBy: event.by },
      };
    case "resolve":
      return {
        ok: true,
        next: {
          ...state,
          status: "resolved",
          resolvedAt: now,
          resolvedBy: event.by,
          resolveReason: event.reason,
        },
      };
    case "hold":
      return { ok: true, next: { ...state, status: "validating" } };
    case "confirm":
      return { ok: true, next: { ...state, status: "triggered" } };
    case "suppress":
      return { ok: true, next: { ...state, status: "suppressed" } };
    case "reopen":
      return {
        ok: true,
        next: { ...state, status: "triggered", acknowledgedAt: null, acknowledgedBy: null },
      };
    case "unsuppress":
      return { ok: true, next: { ...state, status: "triggered" } };
    default:
      return assertNever(event);
  }
}

export function isOpen(status: IncidentStatus): boolean {
  return status !== "resolved";
}

export function assertNever(x: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(x)}`);
}

/** Everything Pagewise keeps about an incident. */
export interface Incident extends IncidentLifecycle {
  id: number;
  source: string;
  groupKey: string;
  service: string | null;
  /** False when the service is not in the catalog: it then gets tier 3 and no team. */
  serviceKnown: boolean;
  team: string | null;
  tier: number;
  severity: Severity;
  summary: string;
  openedAt: number;
  /** Last time any of its alerts was triggered or re-sent. */
  lastEventAt: number;
  alertCount: number;
  openAlertCount: number;
  /** The latest confidence score (calibrated probability), its model, and when it was computed. */
  score: number | null;
  scoreModel: string | null;
  scoredAt: number | null;
  /** The policy version it opened under (its decisions use it), and where it is routed now. */
  policyVersion: string | null;
  route: Route | null;
  /** The running escalation, its chain snapshotted when it started. */
  escalation: Escalation | null;
  /** A person or team a human handed it to (reassign), overriding the owning team. */
  assignee: string | null;
}
