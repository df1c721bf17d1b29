import type { Severity } from "../types.js";
import type { ContextSnapshot } from "./context.js";
import { localClock } from "./local-time.js";
import { logit } from "./logistic.js";

/**
 * The feature vector: one definition for live serving, replay, training and explanations.
 * Values are plain numbers; the model standardizes them. Counts enter as log1p so that a flood
 * of 500 does not weigh 100 times a burst of 5.
 */
export const FEATURES = [
  "prior",
  "recent",
  "sev_critical",
  "sev_error",
  "sev_info",
  "tier0",
  "tier1",
  "tier2",
  "service_unknown",
  "upstream",
  "has_upstream",
  "flap_1h",
  "flap_24h",
  "repeats",
  "since_same",
  "novel",
  "corr_alertnames",
  "corr_sources",
  "corr_host",
  "burst",
  "incident_alerts",
  "incident_alertnames",
  "change_30m",
  "change_60m",
  "service_incidents_24h",
  "team_open",
  "team_alerts_1h",
  "hour_sin",
  "hour_cos",
  "weekend",
  "business_hours",
] as const;

export type FeatureName = (typeof FEATURES)[number];
export const FEATURE_COUNT = FEATURES.length;
export const FEATURE_INDEX: Record<FeatureName, number> = Object.fromEntries(
  FEATURES.map((f, i) => [f, i]),
) as Record<FeatureName, number>;

/** What is known about the alert being scored and its incident, at the decision point. */
export interface ScoringInput {
  at: number;
  source: string;
  alertKey: string;
  alertname: string;
  service: string | null;
  host: string | null;
  team: string | null;
  severity: Severity;
  tier: number;
  serviceKnown: boolean;
  /** IANA zone of the service, for hour of day and weekday. */
  timezone: string;
  /** The sender's own confidence (upstream_score or a configured annotation), raw. */
  upstream: number | null;
  /** Triggers received for this alert so far (1 for a new alert). */
  eventCount: number;
  /** Alerts and distinct alertnames in the incident, this alert included. */
  incidentAlerts: number;
  incidentAlertnames: number;
}

/** Learned inputs that are not features of the event itself (fast learning, recalibration). */
export interface LearnedInputs {
  /** Posterior genuine rate of (source, alertname), shrunk toward the source. */
  priorRate: number;
  /** The same rule's rate over its recent outcomes (fading with a half-life). */
  recentRate: number;
  /** The upstream value recalibrated to a probability for this source; null when absent. */
  upstreamProbability: number | null;
}

const HOURS_CAP = 7 * 24;

/** Fills `out` (length FEATURE_COUNT) and returns it; allocation-free on the hot path. */
export function featureVector(
  input: ScoringInput,
  snap: ContextSnapshot,
  learned: LearnedInputs,
  out: Float64Array = new Float64Array(FEATURE_COUNT),
): Float64Array {
  const local = localClock(input.at, input.timezone);
  const hourAngle = (2 * Math.PI * (local.hour + local.minute / 60)) / 24;
  const weekend = local.weekday >= 6;
  let i = 0;
  out[i++] = logit(clamp(learned.priorRate));
  // How this rule did lately, beyond its long-run rate.
  out[i++] = logit(clamp(learned.recentRate)) - logit(clamp(learned.priorRate));
  out[i++] = input.severity === "critical" ? 1 : 0;
  out[i++] = input.severity === "error" ? 1 : 0;
  out[i++] = input.severity === "info" ? 1 : 0;
  out[i++] = input.tier === 0 ? 1 : 0;
  out[i++] = input.tier === 1 ? 1 : 0;
  out[i++] = input.tier === 2 ? 1 : 0;
  out[i++] = input.serviceKnown ? 0 : 1;
  out[i++] = learned.upstreamProbability === null ? 0 : logit(clamp(learned.upstreamProbability));
  out[i++] = learned.upstreamProbability === null ? 0 : 1;
  out[i++] = Math.log1p(snap.keyTransitions1h);
  out[i++] = Math.log1p(snap.keyTransitions24h);
  out[i++] = Math.log1p(Math.max(0, input.eventCount - 1));
  out[i++] = Math.log1p(Math.min(snap.hoursSinceSameAlertname ?? HOURS_CAP, HOURS_CAP));
  out[i++] = snap.hoursSinceSameAlertname === null && snap.baseline ? 1 : 0;
  out[i++] = Math.log1p(snap.otherAlertnames10m);
  out[i++] = Math.log1p(snap.otherSources10m);
  out[i++] = Math.log1p(snap.otherHostAlertnames10m);
  // This service's last 10 minutes against its average 10 minutes of the last day.
  out[i++] = snap.baseline ? Math.log((snap.serviceFires10m + 1) / (snap.serviceFires24h / 144 + 1)) : 0;
  out[i++] = Math.log1p(Math.max(0, input.incidentAlerts - 1));
  out[i++] = Math.log1p(Math.max(0, input.incidentAlertnames - 1));
  out[i++] = snap.change30m ? 1 : 0;
  out[i++] = snap.change60m ? 1 : 0;
  out[i++] = Math.log1p(snap.serviceIncidents24h);
  out[i++] = Math.log1p(snap.teamOpenIncidents);
  out[i++] = Math.log1p(snap.teamAlerts1h);
  out[i++] = Math.sin(hourAngle);
  out[i++] = Math.cos(hourAngle);
  out[i++] = weekend ? 1 : 0;
  out[i++] = !weekend && local.hour >= 9 && local.hour < 17 ? 1 : 0;
  return out;
}

function clamp(p: number): number {
  return Math.min(1 - 1e-4, Math.max(1e-4, p));
}
