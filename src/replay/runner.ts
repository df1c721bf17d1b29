import type { Config } from "../config/types.js";
import { VirtualClock } from "../core/clock.js";
import type { DecisionInput } from "../core/policy/types.js";
import { FEATURE_INDEX } from "../core/scoring/features.js";
import { fitModel, type TrainingRow } from "../core/scoring/fit.js";
import { Learning } from "../core/scoring/learning.js";
import { sigmoid } from "../core/scoring/logistic.js";
import { compileModel, type Model } from "../core/scoring/model.js";
import type { InboundEvent, Severity } from "../core/types.js";
import { Engine } from "../engine/engine.js";
import type { DecisionReason, DecisionRecord, OutboxEntry } from "../engine/ports.js";
import { alertnameOf, type DecisionScore } from "../engine/scoring.js";
import { TimerHeap } from "../store/memory/heap.js";
import { MemoryStore } from "../store/memory/store.js";
import { type HistoryProgress, HistorySources, readHistory } from "./history.js";

/**
 * Runs labelled history through the live engine code (grouping, context, scoring) on a virtual
 * clock and an in-memory store, prequentially: every incident is scored before its outcome is
 * known; with `learn`, outcomes are revealed `feedbackDelayMs` after the incident opened and feed
 * fast learning, and the model is refitted from revealed outcomes as they accumulate.
 */
export interface RunOptions {
  config: Config;
  files: readonly string[];
  model: Model;
  learning?: Learning;
  learn: boolean;
  feedbackDelayMs: number;
  /** Refit the model online from revealed outcomes (only with learn). */
  refit?: boolean;
  onProgress?: (p: HistoryProgress) => void;
  /** Every decision as it is made (the parity test compares them with live serving). */
  onDecision?: (d: DecisionScore) => void;
  /**
   * Carry routes out as the live service does (escalations, validation holds, runbooks, on the
   * virtual clock), so replay measures when pages would have gone out. Nothing is sent.
   */
  carryOut?: boolean;
  /** Every decision record as it is written (replay measures routes and explains misses). */
  onRecord?: (record: DecisionRecord) => void;
  /** Every notification as it would be queued. */
  onEnqueue?: (entry: OutboxEntry) => void;
  /**
   * Keep each decision's features as training rows (default true: train and refits need them;
   * replay without --learn does not, and its memory then follows incidents, not decisions).
   */
  trainingRows?: boolean;
  /** Hash-chain the decision records as the live service does (default false: only the parity test needs it). */
  hashDecisions?: boolean;
  /** Score every trigger for the alert-level metrics (default true; replay and tune do not use them). */
  alertLevel?: boolean;
  /** Every decision's input, as decided (tune records them). */
  onDecide?: (incidentId: number, input: DecisionInput, reason: DecisionReason) => void;
}

/** Scores at one level (alerts or incidents) with the three baselines beside Pagewise. */
export interface ScoredSet {
  labels: number[];
  pagewise: number[];
  baseRate: number[];
  severity: number[];
  rule: number[];
}

export interface IncidentRecord {
  id: number;
  openedAt: number;
  source: string;
  service: string | null;
  severity: Severity;
  genuine: boolean;
  labelled: boolean;
  /** The highest score before its outcome was revealed (routing never downgrades by itself). */
  score: number | null;
}

export interface RunResult {
  events: number;
  triggers: number;
  alerts: ScoredSet;
  incidents: ScoredSet;
  incidentRecords: IncidentRecord[];
  /** Decision rows of labelled incidents, for training. */
  rows: TrainingRow[];
  rowIncidents: number[];
  undeclaredSources: string[];
  /** The first and last event times (ms), null for an empty history. */
  firstAt: number | null;
  lastAt: number | null;
  learning: Learning;
  model: Model;
  refits: number;
}

interface IncidentState {
  record: IncidentRecord;
  revealAt: number;
  revealed: boolean;
  /** Per (source, alertname): genuine so far, and whether it was revealed. */
  pairs: Map<string, { source: string; alertname: string; genuine: boolean; revealed: boolean }>;
  peak: { pagewise: number; baseRate: number; severity: number; rule: number } | null;
  rows: { features: Float64Array; source: string; upstream: number | null }[];
}

const PAIR = "\u0000";
/** How long after the last event a replay keeps running timers. */
const SETTLE_MS = 86_400_000;
const MIN_REFIT_INCIDENTS = 200;
const REFIT_GROWTH = 1.3;
const MIN_CLASS_ROWS = 10;
const CALIBRATION_SHARE = 0.2;

export async function runHistory(opts: RunOptions): Promise<RunResult> {
  const sources = new HistorySources(cloneConfig(opts.config));
  const config = sources.config;
  const clock = new VirtualClock(0);
  const store = new MemoryStore({
    keepOutbox: false,
    ...(opts.onRecord === undefined ? {} : { onDecision: opts.onRecord }),
    ...(opts.onEnqueue === undefined ? {} : { onEnqueue: opts.onEnqueue }),
  });
  const learning = opts.learning ?? new Learning();
  let model = opts.model;
  const engine = new Engine(store, clock, config, {
    owner: "replay",
    scoring: { model: compileModel(model), learning },
    scoreTriggers: opts.alertLevel !== false,
    deliver: opts.carryOut === true,
    hashDecisions: opts.hashDecisions === true,
    ...(opts.onDecide === undefined ? {} : { onDecide: opts.onDecide }),
  });
  const baselines = new Baselines();
  const incidents = new Map<number, IncidentState>();
  const reveals = new TimerHeap();
  const alerts: ScoredSet = emptySet();
  let events = 0;
  let triggers = 0;
  let revealedIncidents = 0;
  let lastRefitAt = 0;
  let refits = 0;
  const trainingRows: TrainingRow[] = [];
  const rowIncidents: number[] = [];
  let started = false;

  /** An incident's decision rows become training data, weighing 1 in total. */
  const addRows = (st: IncidentState) => {
    const w = st.rows.length === 0 ? 0 : 1 / st.rows.length;
    for (const r of st.rows) {
      const label = st.record.genuine ? 1 : 0;
      trainingRows.push({ features: r.features, label, weight: w, source: r.source, upstream: r.upstream });
      rowIncidents.push(st.record.id);
    }
  };

  const reveal = (key: string, at: number) => {
    const [idText, source, alertname] = key.split(PAIR) as [string, string, string];
    const st = incidents.get(Number(idText));
    if (st === undefined) return;
    if (source === "") {
      // The incident-level reveal: baselines learn it, and its rows become training data.
      if (st.revealed) return;
      st.revealed = true;
      if (!st.record.labelled) return;
      baselines.learn(st.record.severity, st.record.genuine);
      revealedIncidents++;
      addRows(st);
      return;
    }
    const pair = st.pairs.get(`${source}${PAIR}${alertname}`);
    if (pair === undefined || pair.revealed) return;
    pair.revealed = true;
    if (opts.learn) learning.record(source, alertname, pair.genuine, 1, at);
  };

  const maybeRefit = () => {
    if (!opts.learn || opts.refit === false) return;
    if (revealedIncidents < MIN_REFIT_INCIDENTS || revealedIncidents < lastRefitAt * REFIT_GROWTH) return;
    let pos = 0;
    for (const r of trainingRows) pos += r.label;
    if (pos < MIN_CLASS_ROWS || trainingRows.length - pos < MIN_CLASS_ROWS) return;
    lastRefitAt = revealedIncidents;
    refits++;
    // Shrunk toward the starting model: a few outcomes refine it rather than replace it.
    // The newest fifth of revealed rows calibrates, so calibration is fitted out of sample.
    const cut = Math.floor(trainingRows.length * (1 - CALIBRATION_SHARE));
    model = fitModel(trainingRows.slice(0, cut), {
      version: `${opts.model.version}+online${refits}`,
      priors: model.priors,
      prior: opts.model,
      calibrationRows: trainingRows.slice(cut),
    });
    engine.scoring.model = compileModel(model);
  };

  /** Runs reveals and timers due up to `t`, in time order, on the virtual clock. */
  const advance = (t: number) => {
    for (;;) {
      const timer = store.nextTimerDue();
      const rev = reveals.peek();
      const next = Math.min(timer ?? Number.POSITIVE_INFINITY, rev?.due ?? Number.POSITIVE_INFINITY);
      if (next > t) return;
      if (clock.now() < next) clock.set(next);
      if (rev !== undefined && rev.due === next) {
        reveals.pop();
        reveal(rev.key, next);
        maybeRefit();
      } else {
        engine.runDueTimers(1000);
      }
    }
  };

  const keepRows = opts.trainingRows !== false;
  let firstAt: number | null = null;
  let lastAt: number | null = null;
  for await (const ev of readHistory(opts.files, sources, opts.onProgress)) {
    events++;
    firstAt ??= ev.at;
    lastAt = ev.at;
    if (!started) {
      clock.set(ev.at);
      engine.start();
      started = true;
    }
    advance(ev.at);
    if (clock.now() < ev.at) clock.set(ev.at);
    const out = engine.ingest([ev as InboundEvent]);
    const result = out.results[0];
    if (opts.onDecision !== undefined) for (const d of out.decisions) opts.onDecision(d);
    for (const d of out.decisions) {
      const st = incidents.get(d.incidentId);
      if (st === undefined || st.revealed) continue;
      const rule = sigmoid(d.features[FEATURE_INDEX.prior] as number);
      const b = {
        pagewise: d.value,
        baseRate: baselines.base(),
        severity: baselines.bySeverity(st.record.severity),
        rule,
      };
      st.peak =
        st.peak === null
          ? b
          : {
              pagewise: Math.max(st.peak.pagewise, b.pagewise),
              baseRate: Math.max(st.peak.baseRate, b.baseRate),
              severity: Math.max(st.peak.severity, b.severity),
              rule: Math.max(st.peak.rule, b.rule),
            };
      if (keepRows)
        st.rows.push({ features: Float64Array.from(d.features), source: d.source, upstream: d.upstream });
    }
    if (ev.kind !== "signal" || result === undefined) continue;
    if (ev.action === "trigger") triggers++;
    const id = result.incidentId;
    if (result.outcome === "opened" && id !== null) {
      const st: IncidentState = {
        record: {
          id,
          openedAt: ev.at,
          source: ev.source,
          service: ev.service,
          severity: ev.severity,
          genuine: false,
          labelled: false,
          score: null,
        },
        revealAt: ev.at + opts.feedbackDelayMs,
        revealed: false,
        pairs: new Map(),
        peak: null,
        rows: [],
      };
      incidents.set(id, st);
      reveals.push(st.revealAt, `${id}${PAIR}${PAIR}`);
      // The first decision ran before the incident was known here: take it from this batch.
      for (const d of out.decisions) {
        if (d.incidentId !== id) continue;
        const rule = sigmoid(d.features[FEATURE_INDEX.prior] as number);
        st.peak = {
          pagewise: d.value,
          baseRate: baselines.base(),
          severity: baselines.bySeverity(ev.severity),
          rule,
        };
        if (keepRows)
          st.rows.push({ features: Float64Array.from(d.features), source: d.source, upstream: d.upstream });
      }
    }
    const trig = out.triggers[0];
    if (ev.action === "trigger" && trig !== undefined && ev.outcome !== null) {
      alerts.labels.push(ev.outcome === "genuine" ? 1 : 0);
      alerts.pagewise.push(trig.value);
      alerts.baseRate.push(baselines.base());
      alerts.severity.push(baselines.bySeverity(ev.severity));
      alerts.rule.push(sigmoid(trig.features[FEATURE_INDEX.prior] as number));
    }
    if (id === null || ev.action !== "trigger") continue;
    const st = incidents.get(id);
    if (st === undefined) continue;
    if (ev.outcome !== null) {
      st.record.labelled = true;
      if (ev.outcome === "genuine") st.record.genuine = true;
    }
    const alertname = alertnameOf(ev.labels);
    const key = `${ev.source}${PAIR}${alertname}`;
    let pair = st.pairs.get(key);
    if (pair === undefined) {
      pair = { source: ev.source, alertname, genuine: false, revealed: false };
      st.pairs.set(key, pair);
      reveals.push(Math.max(st.revealAt, ev.at + opts.feedbackDelayMs), `${id}${PAIR}${key}`);
    }
    if (ev.outcome === "genuine") pair.genuine = true;
  }

  // Holds, escalations and approvals still running at the end play out, as they would have.
  if (opts.carryOut === true && lastAt !== null) advance(lastAt + SETTLE_MS);

  const incidentSet = emptySet();
  const records: IncidentRecord[] = [];
  for (const st of incidents.values()) {
    if (st.peak !== null) st.record.score = st.peak.pagewise;
    records.push(st.record);
    if (!st.record.labelled || st.peak === null) continue;
    incidentSet.labels.push(st.record.genuine ? 1 : 0);
    incidentSet.pagewise.push(st.peak.pagewise);
    incidentSet.baseRate.push(st.peak.baseRate);
    incidentSet.severity.push(st.peak.severity);
    incidentSet.rule.push(st.peak.rule);
    if (!st.revealed) {
      // Outcomes not yet revealed at the end still make training rows.
      addRows(st);
    }
  }
  return {
    events,
    triggers,
    alerts,
    incidents: incidentSet,
    incidentRecords: records,
    rows: trainingRows,
    rowIncidents,
    undeclaredSources: [...sources.undeclared].sort(),
    firstAt,
    lastAt,
    learning,
    model,
    refits,
  };
}

/** Prequential baselines: the revealed base rate, and the revealed rate per severity. */
class Baselines {
  private g = 0;
  private n = 0;
  private readonly sev = new Map<Severity, { g: number; n: number }>();

  learn(severity: Severity, genuine: boolean): void {
    this.n++;
    if (genuine) this.g++;
    const s = this.sev.get(severity) ?? { g: 0, n: 0 };
    s.n++;
    if (genuine) s.g++;
    this.sev.set(severity, s);
  }

  base(): number {
    return (this.g + 1) / (this.n + 2);
  }

  /** Shrunk toward the base rate with 2 pseudo-outcomes. */
  bySeverity(severity: Severity): number {
    const s = this.sev.get(severity) ?? { g: 0, n: 0 };
    return (s.g + 2 * this.base()) / (s.n + 2);
  }
}

function emptySet(): ScoredSet {
  return { labels: [], pagewise: [], baseRate: [], severity: [], rule: [] };
}

/** Undeclared sources are added while reading; the caller's config stays as it was. */
function cloneConfig(config: Config): Config {
  // History has no check-ins: heartbeats would all look missed.
  return { ...config, sources: new Map(config.sources), heartbeats: new Map() };
}
