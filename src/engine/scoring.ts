import type { Config } from "../config/types.js";
import type { Alert } from "../core/alert.js";
import type { Incident } from "../core/incident.js";
import type { Signal } from "../core/scoring/context.js";
import { FEATURES, type ScoringInput } from "../core/scoring/features.js";
import { explainScore, type Scored, type ScoringState, scoreInput } from "../core/scoring/scorer.js";
import type { SignalEvent } from "../core/types.js";
import { freshIncident } from "./ingest.js";
import type { DecisionReason, Tx } from "./ports.js";

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
  /** Score every trigger too (history runs); live serving scores decision points only. */
  scoreTriggers?: boolean;
}

export interface ScoringOut {
  decisions: DecisionScore[];
  triggers: TriggerScore[];
}

/** The alert fields a score reads. */
export type ScoredAlert = Pick<
  Alert,
  "source" | "alertKey" | "labels" | "annotations" | "service" | "severity" | "eventCount" | "upstreamScore"
>;

/**
 * Scoring inside one batch: observes context signals, scores decision points and stores them.
 * Order matters and is the same live and in replay: an alert is scored against the context as it
 * was just before the alert (its own fire is not its own corroboration), then observed.
 */
export class ScoringStep {
  constructor(
    private readonly tx: Tx,
    private readonly env: ScoringEnv,
    readonly out: ScoringOut,
  ) {}

  observe(signal: Signal): void {
    this.env.scoring.context.observe(signal);
    if (signal.kind !== "resend") this.tx.insertSignal(signal);
  }

  /** Scores the incident with `alert` as the alert in question, stores it, returns the incident. */
  decide(reason: DecisionReason, incident: Incident, alert: ScoredAlert): Incident {
    const scored = this.score(incident, alert);
    const score = explainScore(this.env.scoring, scored);
    const features: Record<string, number> = {};
    FEATURES.forEach((f, i) => {
      features[f] = scored.features[i] as number;
    });
    this.tx.insertScore({
      incidentId: incident.id,
      at: this.env.now,
      reason,
      value: score.value,
      modelVersion: score.modelVersion,
      features,
      // The largest pushes explain a score; every feature value is kept beside them.
      contributions: score.contributions.slice(0, STORED_CONTRIBUTIONS),
    });
    const next: Incident = {
      ...incident,
      score: score.value,
      scoreModel: score.modelVersion,
      scoredAt: this.env.now,
    };
    this.tx.saveIncident(next);
    this.out.decisions.push({
      incidentId: incident.id,
      at: this.env.now,
      reason,
      value: score.value,
      features: scored.features,
      source: alert.source,
      upstream: scored.upstream,
    });
    return next;
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
