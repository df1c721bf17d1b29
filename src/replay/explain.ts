import type { Config } from "../config/types.js";
import { VirtualClock } from "../core/clock.js";
import { PagewiseError } from "../core/errors.js";
import { decide } from "../core/policy/decide.js";
import { explainDecision } from "../core/policy/explain.js";
import type { Decision, DecisionInput, Policy } from "../core/policy/types.js";
import { Learning } from "../core/scoring/learning.js";
import { compileModel, type Model } from "../core/scoring/model.js";
import { parseTimestamp } from "../core/time.js";
import { Engine } from "../engine/engine.js";
import type { DecisionRecord } from "../engine/ports.js";
import { decisionJson } from "../engine/scoring.js";
import { parseGenericEvent } from "../ingest/generic.js";
import { MemoryStore } from "../store/memory/store.js";
import { HistorySources } from "./history.js";

/**
 * `pagewise explain`: one event through the live engine code on a scratch in-memory store, then
 * its decision again with any `--context` overrides (the moment, not the model, is what people
 * want to vary). Without overrides the second decision is the engine's own, field for field.
 */
export interface ExplainOptions {
  config: Config;
  event: unknown;
  /** When it happens (default: the event's `at`). */
  at?: number;
  overrides?: Record<string, string>;
  model: Model;
  learning?: Learning;
}

export const CONTEXT_KEYS = [
  "score",
  "business_hours",
  "maintenance",
  "recent_deploy",
  "team_pages_1h",
  "team_load",
  "incident_alerts",
  "silenced",
  "inhibited",
] as const;

export interface Explained {
  decision: Decision;
  contributions: { feature: string; value: number; log_odds: number; text: string }[];
  modelVersion: string;
}

export function explainEvent(opts: ExplainOptions): Explained {
  const obj = opts.event as Record<string, unknown>;
  const at = opts.at ?? (typeof obj?.at === "string" ? parseTimestamp(obj.at) : null);
  if (at === null) throw new PagewiseError("PW_INVALID_QUERY", "give the event an `at` or pass --at");
  const sources = new HistorySources({ ...opts.config, sources: new Map(opts.config.sources) });
  const parsed = parseGenericEvent(
    { ...obj, at: new Date(at).toISOString() },
    { kind: "history", sourceFor: sources.sourceFor },
  );
  if (!parsed.ok) {
    throw new PagewiseError("PW_INVALID_EVENT", "the event is not valid", parsed.problems);
  }
  if (parsed.event.kind !== "signal" || parsed.event.action !== "trigger") {
    throw new PagewiseError("PW_INVALID_EVENT", "explain takes a trigger event (action trigger)");
  }
  const records: DecisionRecord[] = [];
  const store = new MemoryStore({ onDecision: (d) => records.push(d) });
  const clock = new VirtualClock(at);
  const engine = new Engine(store, clock, sources.config, {
    owner: "explain",
    scoring: { model: compileModel(opts.model), learning: opts.learning ?? new Learning() },
    deliver: false,
  });
  engine.start();
  engine.ingest([parsed.event]);
  const record = records.at(-1);
  if (record === undefined) throw new PagewiseError("PW_INTERNAL", "the event led to no decision");
  const body = record.body as unknown as RecordBody;
  const { input, policy } = withOverrides(
    inputFrom(body, sources.config, at),
    sources.config.policy,
    opts.overrides ?? {},
  );
  return {
    decision: decide(input, policy),
    contributions: body.score.contributions,
    modelVersion: body.score.model_version,
  };
}

interface RecordBody {
  incident: {
    service: string | null;
    team: string | null;
    tier: number;
    severity: DecisionInput["severity"];
  };
  alert: { source: string; labels: Record<string, string> };
  score: { value: number; model_version: string; contributions: Explained["contributions"] };
  context: {
    business_hours: boolean;
    minutes_since_change: number | null;
    team_open_incidents: number;
    team_pages_1h: number;
  };
}

function inputFrom(body: RecordBody, config: Config, at: number): DecisionInput {
  const service = body.incident.service === null ? undefined : config.services.get(body.incident.service);
  return {
    at,
    score: body.score.value,
    severity: body.incident.severity,
    tier: body.incident.tier,
    team: body.incident.team,
    service: body.incident.service,
    serviceTimezone: service?.timezone ?? "UTC",
    regulated: service?.regulated ?? false,
    source: body.alert.source,
    labels: body.alert.labels,
    businessHours: body.context.business_hours,
    minutesSinceChange: body.context.minutes_since_change,
    teamOpenIncidents: body.context.team_open_incidents,
    teamPages1h: body.context.team_pages_1h,
    incidentAlertsWithin: () => 1,
    silence: null,
    inhibitedBy: null,
  };
}

/** Applies `--context k=v`; every key and value is checked, a bad one names itself. */
function withOverrides(
  input: DecisionInput,
  policy: Policy,
  o: Record<string, string>,
): { input: DecisionInput; policy: Policy } {
  let p = policy;
  const i = { ...input };
  const num = (k: string, v: string, min: number, max: number) => {
    const n = Number(v);
    if (v === "" || !Number.isFinite(n) || n < min || n > max) {
      throw new PagewiseError(
        "PW_INVALID_QUERY",
        `--context ${k}=${v}: must be a number from ${min} to ${max}`,
      );
    }
    return n;
  };
  const bool = (k: string, v: string) => {
    if (v !== "true" && v !== "false")
      throw new PagewiseError("PW_INVALID_QUERY", `--context ${k}=${v}: must be true or false`);
    return v === "true";
  };
  for (const [k, v] of Object.entries(o)) {
    switch (k) {
      case "score":
        i.score = num(k, v, 0, 1);
        break;
      case "business_hours":
        i.businessHours = bool(k, v);
        break;
      case "recent_deploy":
        // Minutes since the last change; "none" for no recent change.
        i.minutesSinceChange = v === "none" ? null : num(k, v, 0, 60 * 24);
        break;
      case "team_pages_1h":
        i.teamPages1h = num(k, v, 0, 1e6);
        break;
      case "team_load":
        i.teamOpenIncidents = num(k, v, 0, 1e6);
        break;
      case "incident_alerts": {
        const n = num(k, v, 0, 1e6);
        i.incidentAlertsWithin = () => n;
        break;
      }
      case "silenced":
        i.silence = v === "false" ? null : { id: "cli", comment: v === "true" ? "silenced (--context)" : v };
        break;
      case "inhibited": {
        const rule = policy.inhibitRules.find((r) => r.id === v);
        if (rule === undefined)
          throw new PagewiseError("PW_INVALID_QUERY", `--context inhibited=${v}: no such inhibit rule`);
        i.inhibitedBy = { rule: rule.id, rationale: rule.rationale };
        break;
      }
      case "maintenance": {
        if (v === "false") {
          p = { ...p, windows: [] };
          break;
        }
        const w = policy.windows.find((x) => x.id === v);
        if (w === undefined)
          throw new PagewiseError(
            "PW_INVALID_QUERY",
            `--context maintenance=${v}: no such maintenance window`,
          );
        // In force now, ahead of every other window.
        p = {
          ...p,
          windows: [{ ...w, services: [], matchers: [], once: { start: i.at, end: i.at + 1 } }, ...p.windows],
        };
        break;
      }
      default:
        throw new PagewiseError(
          "PW_INVALID_QUERY",
          `--context ${k}: unknown key (one of ${CONTEXT_KEYS.join(", ")})`,
        );
    }
  }
  return { input: i, policy: p };
}

/** `explain --json`: a stable schema, documented in the README. */
export function explainedJson(e: Explained): Record<string, unknown> {
  const d = e.decision;
  // The decision as records store it; the band moves into `score`, beside the value it bands.
  const { band: _band, ...decision } = decisionJson(d);
  return {
    score: { value: d.score, band: d.band, model_version: e.modelVersion, contributions: e.contributions },
    ...decision,
    explanation: explainDecision(d, e.contributions),
  };
}
