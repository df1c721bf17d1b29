import type { Labels, Severity } from "../types.js";
import type { Matcher } from "./matchers.js";

/** The routing policy, compiled from the config's `policy:` section and then trusted. */

export type Band = "high" | "medium" | "low";
export const BANDS: readonly Band[] = ["high", "medium", "low"];

/** What a decision does; one union, handled exhaustively everywhere. */
export type Route =
  | { kind: "page"; chain: string | null; twoPerson: boolean }
  | { kind: "runbook"; playbook: string; onFailure: Route }
  | { kind: "triage"; team: string | null; channel: string | null }
  /**
   * Hold for `forMs`, then take `after` if the score reached `confirmAbove` (null: the medium
   * band's threshold) and an alert still fires; otherwise close as not confirmed.
   */
  | { kind: "validate"; forMs: number; after: Route; confirmAbove: number | null }
  | { kind: "notify"; channel: string | null }
  | { kind: "suppress" };
export type RouteKind = Route["kind"];

/** How far a route goes toward waking someone; a decision never lowers it without a human. */
export const ROUTE_RANK: Record<RouteKind, number> = {
  suppress: 0,
  notify: 1,
  validate: 2,
  triage: 3,
  runbook: 4,
  page: 5,
};

export interface Thresholds {
  high: number;
  medium: number;
}

export interface Bands {
  default: Thresholds;
  tiers: ReadonlyMap<number, Thresholds>;
  /** Regulated services use these instead of their tier's (stricter: page earlier). */
  regulated: Thresholds | null;
}

/** Conditions on the moment, shared by rules and modifiers; absent means "any". */
export interface ContextCondition {
  businessHours?: boolean;
  inMaintenance?: boolean;
  /** A change or deploy on the service at most this long ago. */
  recentDeployMs?: number;
  /** The owning team's open incidents, at least. */
  teamLoadAtLeast?: number;
  /** The owning team's pages in the last hour, at least (peak load). */
  teamPages1hAtLeast?: number;
}

export interface Conditions {
  bands?: readonly Band[];
  severities?: readonly Severity[];
  tiers?: readonly number[];
  teams?: readonly string[];
  services?: readonly string[];
  sources?: readonly string[];
  regulated?: boolean;
  labels?: readonly Matcher[];
  context?: ContextCondition;
  /** At least `alerts` alerts started in the incident within `withinMs`. */
  count?: { alerts: number; withinMs: number };
}

export interface Rule {
  id: string;
  rationale: string;
  match: Conditions;
  route: Route;
  /** Keep evaluating after a match (Alertmanager's continue): later matches add routes. */
  continue: boolean;
}

export type ModifierEffect =
  /** Moves the band thresholds (positive: more conservative). */
  | { kind: "shift"; high: number; medium: number }
  /** Routes of these bands go no further than `route`. */
  | { kind: "cap"; bands: readonly Band[]; route: Route }
  /** Replaces the route. */
  | { kind: "route"; route: Route };

export interface Modifier {
  id: string;
  rationale: string;
  when: Conditions;
  effect: ModifierEffect;
}

export interface MaintenanceWindow {
  id: string;
  rationale: string;
  services: readonly string[];
  matchers: readonly Matcher[];
  /** Weekly: days (1 = Monday .. 7), a local start minute of day and a length, in a zone. */
  recurring: { days: readonly number[]; startMinute: number; durationMs: number; timezone: string } | null;
  /** One-off: [start, end). */
  once: { start: number; end: number } | null;
  /** Mute incidents in the window (decided and stored, nothing sent), not only mark the moment. */
  mute: boolean;
}

export interface InhibitRule {
  id: string;
  rationale: string;
  source: readonly Matcher[];
  target: readonly Matcher[];
  equal: readonly string[];
}

export interface Policy {
  /** Content hash of the policy's text: what decisions record. */
  version: string;
  bands: Bands;
  modifiers: readonly Modifier[];
  rules: readonly Rule[];
  windows: readonly MaintenanceWindow[];
  inhibitRules: readonly InhibitRule[];
}

/** What decide() looks at besides the policy. Built by the engine, or by `explain` from flags. */
export interface DecisionInput {
  at: number;
  score: number;
  severity: Severity;
  tier: number;
  team: string | null;
  service: string | null;
  serviceTimezone: string;
  regulated: boolean;
  source: string;
  /** The alert's labels, with service, source, severity and team added when absent. */
  labels: Labels;
  businessHours: boolean;
  /** Minutes since the last change on the service (null: none in the last hour). */
  minutesSinceChange: number | null;
  teamOpenIncidents: number;
  teamPages1h: number;
  /** Alerts started in the incident within the last `ms`. */
  incidentAlertsWithin: (ms: number) => number;
  silence: { id: string; comment: string } | null;
  inhibitedBy: { rule: string; rationale: string } | null;
}

export interface Decision {
  policyVersion: string;
  score: number;
  band: Band;
  /** Thresholds in force for this incident after the modifiers. */
  thresholds: Thresholds;
  baseThresholds: Thresholds;
  modifiers: { id: string; effect: string; rationale: string }[];
  rule: { id: string; rationale: string };
  route: Route;
  /** Further matches of rules with `continue` (e.g. a second team told). */
  also: { rule: string; rationale: string; route: Route }[];
  rulesTried: { id: string; whyNot: string }[];
  counterfactual: { threshold: number; wouldRoute: RouteKind; text: string } | null;
  maintenance: string | null;
  mutedBy: { kind: "silence" | "window" | "inhibition"; id: string; reason: string } | null;
}
