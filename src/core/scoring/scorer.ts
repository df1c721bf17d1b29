import type { ContextSnapshot, ContextState } from "./context.js";
import { FEATURE_COUNT, featureVector, type ScoringInput } from "./features.js";
import type { Learning } from "./learning.js";
import { type CompiledModel, contributions, probability, type Score, upstreamProbability } from "./model.js";

/** Everything a score depends on besides the input: the model, fast learning and the context. */
export interface ScoringState {
  model: CompiledModel;
  learning: Learning;
  context: ContextState;
}

export interface SourceInventory {
  /** Prior genuine rate from the source's inventory label. */
  reliability: number;
}

export interface Scored {
  value: number;
  features: Float64Array;
  snapshot: ContextSnapshot;
}

/**
 * Scores one alert in its incident as of `input.at`. Pure given its state: the same state and
 * input give the same score live, in replay and in `explain`.
 */
export function scoreInput(
  state: ScoringState,
  input: ScoringInput,
  inventory: SourceInventory,
  upstreamIsScore: boolean,
  incidentId: number | null,
  out: Float64Array = new Float64Array(FEATURE_COUNT),
): Scored {
  const snapshot = state.context.snapshot({
    at: input.at,
    source: input.source,
    alertKey: input.alertKey,
    alertname: input.alertname,
    service: input.service,
    host: input.host,
    team: input.team,
    incidentId,
  });
  const priorRate = state.learning.rate(
    input.source,
    input.alertname,
    inventory.reliability,
    state.model.model.priors,
  );
  const upstream = upstreamProbability(state.model, input.source, input.upstream, upstreamIsScore);
  const recentRate = state.learning.recentRate(input.source, input.alertname, priorRate, input.at);
  const features = featureVector(
    input,
    snapshot,
    { priorRate, recentRate, upstreamProbability: upstream },
    out,
  );
  return { value: probability(state.model, features), features, snapshot };
}

/** The score as stored and shown: value, model version and the contributions behind it. */
export function explainScore(state: ScoringState, scored: Scored): Score {
  return {
    value: scored.value,
    modelVersion: state.model.model.version,
    contributions: contributions(state.model, scored.features),
  };
}
