import type { Labels, Link, Severity, SignalEvent } from "./types.js";
import { SEVERITY_RANK } from "./types.js";

export type AlertStatus = "firing" | "resolved";

/** The current state of one alert key from one source, within one incident. */
export interface Alert {
  id: number;
  incidentId: number;
  source: string;
  alertKey: string;
  status: AlertStatus;
  summary: string;
  severity: Severity;
  service: string | null;
  labels: Labels;
  annotations: Labels;
  links: Link[];
  upstreamScore: number | null;
  startsAt: number;
  /** When it resolves unless refreshed (Alertmanager endsAt); null when it never expires. */
  endsAt: number | null;
  firstSeen: number;
  lastSeen: number;
  resolvedAt: number | null;
  eventCount: number;
  raw: unknown;
}

/**
 * What one signal does to the current alert of its key. `open` and `refire` carry the firing
 * state; `resend` only refreshes; `noop` changes nothing (e.g. a resolve for a resolved alert).
 */
export type AlertStep =
  | { kind: "open" }
  | { kind: "refire" }
  | { kind: "resend"; severityRaised: boolean }
  | { kind: "resolve"; at: number }
  | { kind: "acknowledge" }
  | { kind: "noop"; why: string };

/**
 * Decides what a signal does to the alert of its key. `current` is that key's alert in an open
 * incident, or null when there is none (never seen, or its incident resolved).
 */
export function stepAlert(
  current: Pick<Alert, "status" | "severity"> | null,
  ev: SignalEvent,
  now: number,
): AlertStep {
  const expired = ev.endsAt !== null && ev.endsAt <= now;
  switch (ev.action) {
    case "trigger":
      if (expired) {
        // Alertmanager v2 re-sends resolved alerts with endsAt in the past for a while.
        if (current === null || current.status === "resolved")
          return { kind: "noop", why: "already resolved" };
        return { kind: "resolve", at: ev.endsAt as number };
      }
      if (current === null) return { kind: "open" };
      if (current.status === "resolved") return { kind: "refire" };
      return { kind: "resend", severityRaised: SEVERITY_RANK[ev.severity] > SEVERITY_RANK[current.severity] };
    case "resolve":
      if (current === null || current.status === "resolved") return { kind: "noop", why: "no firing alert" };
      return { kind: "resolve", at: now };
    case "acknowledge":
      if (current === null) return { kind: "noop", why: "no open incident" };
      return { kind: "acknowledge" };
    default: {
      const never: never = ev.action;
      throw new Error(`unexpected action ${String(never)}`);
    }
  }
}
