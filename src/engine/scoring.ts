import type { Config } from "../config/types.js";
import type { Alert } from "../core/alert.js";
import { type Incident, type IncidentEvent, transition } from "../core/incident.js";
import { decide } from "../core/policy/decide.js";
import { routeJson } from "../core/policy/explain.js";
import {
  type Decision,
  type DecisionInput,
  ROUTE_RANK,
  type Route,
  type RouteKind,
  type Thresholds,
} from "../core/policy/types.js";
import type { Signal } from "../core/scoring/context.js";
import { FEATURES, type ScoringInput } from "../core/scoring/features.js";
import { isBusinessHours } from "../core/scoring/local-time.js";
import { explainScore, type Scored, type ScoringState, scoreInput } from "../core/scoring/scorer.js";
import type { Labels, SignalEvent } from "../core/types.js";
import { carryOut, type DeliveryEnv, type MessageFacts } from "./escalation.js";
import { freshIncident } from "./ingest.js";
import { armMuteCheck } from "./mute.js";
import type { DecisionReason, Tx } from "./ports.js";
import { appendRecord, incidentBrief, type RoutingState } from "./routing.js";
import { confirmedEarly, type ValidationResult } from "./validation.js";

/** Replay's defaults for a source the config does not declare (README, "Replay defaults"). */
export const UNDECLARED_RELIABILITY = 0.1;
/** How many other open incidents one corroborating alert may re-score (bounds alert storms). */
export const MAX_CORROBORATED = 20;
const STORED_CONTRIBUTIONS = 10;

/** A decision point's score, handed to observers (replay, training) after the batch commits. */
export interface DecisionScore {
  incidentId: number;
  at: number;
  reason: DecisionReason;
  value: number;
  features: Float64Array;
  /** The scored alert's source and raw upstream value, for refitting the recalibration. */
  source: string;
  upstream: number | null;
  /** Where the incident is routed after this decision, and whether something muted it. */
  route: RouteKind;
  mutedBy: "silence" | "window" | "inhibition" | null;
}

/** A score for every trigger, re-sends included: alert-level metrics in `score` and `train`. */
export interface TriggerScore {
  event: SignalEvent;
  incidentId: number | null;
  value: number;
  features: Float64Array;
  upstream: number | null;
}

export interface ScoringEnv {
  config: Config;
  now: number;
  scoring: ScoringState;
  routing: RoutingState;
  /** How decisions reach people; absent in history runs that only measure. */
  delivery?: DeliveryEnv;
  /** Score every trigger too (history runs); live serving scores decision points only. */
  scoreTriggers?: boolean;
  /** A validation hold ended (time from first alert to result), for the metric. */
  onValidated?: (result: ValidationResult, ms: number) => void;
  /** false: decision records are not hashed (history runs that only measure). */
  hashDecisions?: boolean;
  /** Every decision's input, as decided (tuning re-decides them under other thresholds). */
  onDecide?: (incidentId: number, input: DecisionInput, reason: DecisionReason) => void;
}

export interface ScoringOut {
  decisions: DecisionScore[];
  triggers: TriggerScore[];
}

/** The alert fields a score reads. */
export type ScoredAlert = Pick<
  Alert,
  "source" | "alertKey" | "labels" | "annotations" | "service" | "severity" | "eventCount" | "upstreamScore"
> & { links?: Alert["links"] };

/**
 * Scoring inside one batch: observes context signals, scores decision points and stores them.
 * Order matters and is the same live and in replay: an alert is scored against the context as it
 * was just before the alert (its own fire is not its own corroboration), then observed.
 */
export class ScoringStep {
  /** The thresholds (after modifiers) of the last decision made here. */
  lastThresholds: Thresholds | null = null;

  constructor(
    private readonly tx: Tx,
    private readonly env: ScoringEnv,
    readonly out: ScoringOut,
  ) {}

  get delivery(): DeliveryEnv | undefined {
    return this.env.delivery;
  }

  observe(signal: Signal): void {
    this.env.scoring.context.observe(signal);
    if (signal.kind !== "resend") this.tx.insertSignal(signal);
  }

  /**
   * Scores the incident with `alert` as the alert in question, decides its route under the
   * policy it opened with, records both as one hash-chained decision, and returns the incident.
   * `justFired`: the alert's own fire is not yet in the context (it is counted once here).
   */
  decide(reason: DecisionReason, incident: Incident, alert: ScoredAlert, justFired = false): Incident {
    const now = this.env.now;
    const scored = this.score(incident, alert);
    const score = explainScore(this.env.scoring, scored);
    const routing = this.env.routing;
    const policy = routing.policyFor(incident.policyVersion);
    const labels = routingLabels(alert, incident);
    const input = decisionInput(this.env, incident, labels, score.value, scored, justFired);
    this.env.onDecide?.(incident.id, input, reason);
    const d = decide(input, policy);
    // Never downgrade an active route by itself: that needs a human.
    const prev = incident.route;
    const held = d.mutedBy === null && prev !== null && ROUTE_RANK[d.route.kind] < ROUTE_RANK[prev.kind];
    const effective = held ? (prev as Route) : d.route;
    const status = nextStatus(incident, effective, d.mutedBy !== null, now);
    if (d.mutedBy !== null && status.status === "suppressed" && this.env.delivery !== undefined)
      armMuteCheck(this.tx, this.env, incident, labels);
    this.lastThresholds = d.thresholds;
    if (incident.status === "validating" && status.status === "triggered")
      confirmedEarly(this.tx, this.env, incident, reason);
    const features: Record<string, number> = {};
    FEATURES.forEach((f, i) => {
      features[f] = scored.features[i] as number;
    });
    const body: Record<string, unknown> = {
      reason,
      incident: incidentBrief(incident),
      alert: { source: alert.source, alert_key: alert.alertKey, labels },
      score: {
        value: score.value,
        model_version: score.modelVersion,
        // The largest pushes explain a score; every feature value is kept beside them.
        contributions: score.contributions.slice(0, STORED_CONTRIBUTIONS).map((c) => ({
          feature: c.feature,
          value: c.value,
          log_odds: c.logOdds,
          text: c.text,
        })),
      },
      features,
      context: {
        business_hours: input.businessHours,
        minutes_since_change: input.minutesSinceChange,
        team_open_incidents: input.teamOpenIncidents,
        team_pages_1h: input.teamPages1h,
        snapshot: scored.snapshot,
      },
      decision: decisionJson(d),
      effective_route: routeJson(effective),
      held_by: held ? "no-downgrade: an active route is lowered only by a human" : null,
      actions: d.mutedBy === null ? plannedActions(effective, d) : [],
    };
    // History runs that only measure skip the chain's hashing (a tenth of their time).
    const decisionId = appendRecord(
      this.tx,
      {
        incidentId: incident.id,
        at: now,
        reason,
        policyVersion: policy.version,
        route: effective.kind,
        body,
      },
      this.env.hashDecisions !== false,
    );
    if (effective.kind === "page" && prev?.kind !== "page" && d.mutedBy === null)
      routing.page(incident.team, now);
    let next: Incident = {
      ...incident,
      ...status,
      score: score.value,
      scoreModel: score.modelVersion,
      scoredAt: now,
      policyVersion: incident.policyVersion ?? policy.version,
      // A muted decision carries nothing out: the route stays what was really done, so the mute's
      // end is told (and counted) as the change it is.
      route: d.mutedBy === null ? effective : incident.route,
    };
    if (d.mutedBy === null && this.env.delivery !== undefined) {
      const facts: MessageFacts = {
        decisionId,
        score: score.value,
        band: d.band,
        rule: d.rule.id,
        rationale: d.rule.rationale,
        reasons: score.contributions.slice(0, 3).map((c) => c.text),
        links: alert.links ?? [],
      };
      next = carryOut(this.tx, this.env.delivery, next, prev, effective, d, facts);
    }
    this.tx.saveIncident(next);
    this.out.decisions.push({
      incidentId: incident.id,
      at: now,
      reason,
      value: score.value,
      features: scored.features,
      source: alert.source,
      upstream: scored.upstream,
      route: effective.kind,
      mutedBy: d.mutedBy?.kind ?? null,
    });
    return next;
  }

  /** Inhibition follows firing alerts; routing needs to hear about every start and end. */
  alertFiring(alert: Pick<Alert, "labels" | "source" | "service">, incident: Incident): void {
    this.env.routing.alertFiring(routingLabels(alert, incident));
  }

  alertResolved(
    alert: Pick<Alert, "labels" | "source" | "service">,
    incident: Pick<Incident, "team" | "service">,
  ): void {
    this.env.routing.alertResolved(routingLabels(alert, incident));
  }

  isNewEvidence(at: number, source: string, alertname: string, service: string): boolean {
    return this.env.scoring.context.isNewEvidence(at, source, alertname, service);
  }

  /** Alert-level scoring for history runs: every trigger, as of just before it. */
  scoreTrigger(ev: SignalEvent, incident: Incident | null, alert: ScoredAlert): void {
    if (this.env.scoreTriggers !== true) return;
    const scored =
      incident === null
        ? this.score(phantomIncident(ev, this.env.config), alert)
        : this.score(incident, alert);
    this.out.triggers.push({
      event: ev,
      incidentId: incident?.id ?? null,
      value: scored.value,
      features: scored.features,
      upstream: scored.upstream,
    });
  }

  /**
   * New evidence on a service (a new alertname or source firing, or a change) re-scores the
   * service's other open incidents, each with its first firing alert as the alert in question.
   */
  corroborate(reason: "corroborated" | "change", service: string, except: number | null): void {
    let n = 0;
    for (const id of this.env.scoring.context.openOn(service)) {
      if (id === except) continue;
      if (++n > MAX_CORROBORATED) break;
      const incident = this.tx.incident(id);
      const alert = incident === undefined ? undefined : this.tx.firingAlerts(id)[0];
      if (incident === undefined || alert === undefined || incident.status === "resolved") continue;
      this.decide(reason, incident, alert);
    }
  }

  private score(incident: Incident, alert: ScoredAlert): Scored & { upstream: number | null } {
    const input = scoringInput(this.env.config, this.env.now, incident, alert, this.env.scoring);
    const source = this.env.config.sources.get(alert.source);
    const upstreamIsScore = alert.upstreamScore !== null;
    const scored = scoreInput(
      this.env.scoring,
      input,
      { reliability: source?.reliability ?? UNDECLARED_RELIABILITY },
      upstreamIsScore,
      incident.id,
    );
    return { ...scored, upstream: input.upstream };
  }
}

export function alertnameOf(labels: Record<string, string>): string {
  return labels.alertname ?? "";
}

export function hostOf(labels: Record<string, string>): string | null {
  return labels.host ?? null;
}

function scoringInput(
  config: Config,
  now: number,
  incident: Incident,
  alert: ScoredAlert,
  state: ScoringState,
): ScoringInput {
  const alertname = alertnameOf(alert.labels);
  const service = incident.service === null ? undefined : config.services.get(incident.service);
  return {
    at: now,
    source: alert.source,
    alertKey: alert.alertKey,
    alertname,
    service: incident.service,
    host: hostOf(alert.labels),
    team: incident.team,
    severity: alert.severity,
    tier: incident.tier,
    serviceKnown: incident.serviceKnown,
    timezone: service?.timezone ?? "UTC",
    upstream: alert.upstreamScore ?? upstreamAnnotation(config, alert),
    eventCount: alert.eventCount,
    incidentAlerts: incident.alertCount,
    incidentAlertnames: state.context.alertnamesWith(incident.id, alertname),
  };
}

/** The first configured annotation that holds a number. */
function upstreamAnnotation(config: Config, alert: ScoredAlert): number | null {
  const names = config.sources.get(alert.source)?.upstreamAnnotations ?? config.upstreamAnnotations;
  for (const name of names) {
    const v = alert.annotations[name];
    if (v !== undefined && v !== "") {
      const n = Number(v);
      if (Number.isFinite(n)) return n;
    }
  }
  return null;
}

/** A trigger that opened nothing (e.g. an ack for an unknown key) is scored as its own incident. */
function phantomIncident(ev: SignalEvent, config: Config): Incident {
  return { ...freshIncident(ev, config, 0), id: -1 };
}

/** The labels policy matchers see: the alert's, plus service, source and team when absent. */
export function routingLabels(
  alert: Pick<Alert, "labels" | "source" | "service">,
  incident: Pick<Incident, "team" | "service">,
): Labels {
  const l: Labels = { ...alert.labels };
  const service = alert.service ?? incident.service;
  if (l.service === undefined && service !== null) l.service = service;
  if (l.source === undefined) l.source = alert.source;
  if (l.team === undefined && incident.team !== null) l.team = incident.team;
  return l;
}

function decisionInput(
  env: ScoringEnv,
  incident: Incident,
  labels: Labels,
  score: number,
  scored: Scored,
  justFired: boolean,
): DecisionInput {
  const now = env.now;
  const service = incident.service === null ? undefined : env.config.services.get(incident.service);
  const timezone = service?.timezone ?? "UTC";
  const inhibit = env.routing.inhibitedBy(labels);
  const silence = env.routing.silenceFor(labels, now);
  return {
    at: now,
    score,
    severity: incident.severity,
    tier: incident.tier,
    team: incident.team,
    service: incident.service,
    serviceTimezone: timezone,
    regulated: service?.regulated ?? false,
    source: incident.source,
    labels,
    businessHours: isBusinessHours(now, timezone),
    minutesSinceChange: scored.snapshot.minutesSinceChange,
    teamOpenIncidents: scored.snapshot.teamOpenIncidents,
    teamPages1h: env.routing.pages1h(incident.team, now),
    incidentAlertsWithin: (ms) =>
      env.scoring.context.incidentFiresWithin(incident.id, now, ms) + (justFired ? 1 : 0),
    silence: silence === null ? null : { id: String(silence.id), comment: silence.comment },
    inhibitedBy: inhibit === null ? null : { rule: inhibit.id, rationale: inhibit.rationale },
  };
}

/** Status follows the route: muted or suppressed incidents are suppressed, held ones validating. */
export function nextStatus(incident: Incident, route: Route, muted: boolean, now: number): Partial<Incident> {
  const steps: IncidentEvent[] = [];
  const s = incident.status;
  if (s === "acknowledged" || s === "resolved") return {};
  if (muted || route.kind === "suppress") {
    if (s !== "suppressed") steps.push({ kind: "suppress" });
  } else {
    if (s === "suppressed") steps.push({ kind: "unsuppress" });
    if (route.kind === "validate" && s !== "validating") steps.push({ kind: "hold" });
    if (route.kind !== "validate" && s === "validating") steps.push({ kind: "confirm" });
  }
  let state: Incident = incident;
  for (const step of steps) {
    const t = transition(state, step, now);
    if (t.ok) state = { ...state, ...t.next };
  }
  return { status: state.status };
}

/** What the route asks to be done; the escalation issue carries these out. */
function plannedActions(route: Route, d: Decision): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [routeAction(route)];
  for (const a of d.also) out.push({ ...routeAction(a.route), rule: a.rule });
  return out;
}

export function routeAction(r: Route): Record<string, unknown> {
  switch (r.kind) {
    case "page":
      return { kind: "page", chain: r.chain, two_person: r.twoPerson };
    case "runbook":
      return { kind: "runbook", playbook: r.playbook };
    case "triage":
      return { kind: "triage", team: r.team, channel: r.channel };
    case "validate":
      return { kind: "validate", for_s: r.forMs / 1000 };
    case "notify":
      return { kind: "notify", channel: r.channel };
    case "suppress":
      return { kind: "record" };
    default: {
      const never: never = r;
      return { kind: String(never) };
    }
  }
}

/** The decision as stored and shown (snake_case). */
export function decisionJson(d: Decision): Record<string, unknown> {
  return {
    policy_version: d.policyVersion,
    band: d.band,
    thresholds: d.thresholds,
    base_thresholds: d.baseThresholds,
    modifiers: d.modifiers,
    rule: d.rule,
    route: routeJson(d.route),
    also: d.also.map((a) => ({ rule: a.rule, rationale: a.rationale, route: routeJson(a.route) })),
    rules_tried: d.rulesTried.map((r) => ({ id: r.id, why_not: r.whyNot })),
    counterfactual:
      d.counterfactual === null
        ? null
        : {
            threshold: d.counterfactual.threshold,
            would_route: d.counterfactual.wouldRoute,
            text: d.counterfactual.text,
          },
    maintenance: d.maintenance,
    muted_by: d.mutedBy,
  };
}
