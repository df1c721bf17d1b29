/** Domain types shared by every layer. Pure data: no I/O, no clock. */

export const SEVERITIES = ["critical", "error", "warning", "info"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Higher is more severe; used to keep an incident's worst severity. */
export const SEVERITY_RANK: Record<Severity, number> = { critical: 3, error: 2, warning: 1, info: 0 };

export function isSeverity(value: unknown): value is Severity {
  return typeof value === "string" && (SEVERITIES as readonly string[]).includes(value);
}

export function worstSeverity(a: Severity, b: Severity): Severity {
  return SEVERITY_RANK[a] >= SEVERITY_RANK[b] ? a : b;
}

export type Labels = Record<string, string>;

/** A label's value, or undefined: only the object's own keys count ("constructor" is not a label). */
export function labelOf(labels: Labels, name: string): string | undefined {
  return Object.hasOwn(labels, name) ? labels[name] : undefined;
}
export interface Link {
  href: string;
  text: string;
}

export type Outcome = "genuine" | "false_alarm";

/** The wire formats Pagewise accepts; each has one parser under src/ingest/. */
export type WireFormat = "alertmanager_v2" | "alertmanager_webhook" | "pagerduty" | "generic";

/** A trigger, acknowledge or resolve for one alert key, normalized from any wire format. */
export interface SignalEvent {
  kind: "signal";
  action: "trigger" | "acknowledge" | "resolve";
  format: WireFormat;
  source: string;
  /** When it happened according to the sender (ms since epoch); null when not given. */
  at: number | null;
  alertKey: string;
  /** True when Pagewise generated the alert key (PagerDuty trigger without dedup_key). */
  keyGenerated: boolean;
  groupKey: string;
  summary: string;
  severity: Severity;
  service: string | null;
  labels: Labels;
  annotations: Labels;
  links: Link[];
  upstreamScore: number | null;
  /** Ground truth, only ever set from history files. */
  outcome: Outcome | null;
  /** Sender's alert start (Alertmanager startsAt). */
  startsAt: number | null;
  /** Sender's expiry (Alertmanager endsAt); the alert resolves then unless refreshed. */
  endsAt: number | null;
  raw: unknown;
}

/** A deploy or config change on a service: context for later decisions, never an incident. */
export interface ChangeEvent {
  kind: "change";
  format: WireFormat;
  source: string;
  at: number | null;
  service: string | null;
  summary: string;
  labels: Labels;
  links: Link[];
  raw: unknown;
}

export type InboundEvent = SignalEvent | ChangeEvent;
