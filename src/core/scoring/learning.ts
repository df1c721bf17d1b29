import { betaMean, betaPosterior, betaPrior } from "./beta.js";

/**
 * Fast learning: Beta counts of genuine and false outcomes per source and per (source, alertname).
 * Every outcome (a history label, or a responder's verdict) updates them at once, so the very
 * next score sees it. The model's weights change only when it is refitted.
 */
export interface Counts {
  genuine: number;
  falseAlarms: number;
}

export interface PriorStrengths {
  /** Pseudo-outcomes behind a source's inventory reliability. */
  source: number;
  /** Pseudo-outcomes behind the source's rate when it seeds one alertname's rate. */
  rule: number;
}

export const DEFAULT_STRENGTHS: PriorStrengths = { source: 4, rule: 4 };

/** Recent outcomes of a rule fade with this half-life: "is this rule right lately?" */
export const RECENT_HALF_LIFE = 3 * 24 * 3_600_000;
/** Pseudo-outcomes of the rule's all-time rate behind its recent rate. */
const RECENT_STRENGTH = 2;

interface Recent {
  genuine: number;
  falseAlarms: number;
  at: number;
}

/** One rule's whole learned state, as the store keeps it (so a restart loses nothing). */
export interface RuleOutcome {
  source: string;
  alertname: string;
  genuine: number;
  falseAlarms: number;
  recentGenuine: number;
  recentFalseAlarms: number;
  recentAt: number;
}

/**
 * Adds one outcome (or takes it back, with a negative weight) to a rule's state: all-time counts
 * grow, recent counts fade first. The same arithmetic runs in memory and before a store write.
 */
export function applyOutcome(s: RuleOutcome, genuine: boolean, weight: number, at: number): RuleOutcome {
  const decay = 0.5 ** (Math.max(0, at - s.recentAt) / RECENT_HALF_LIFE);
  return {
    ...s,
    genuine: Math.max(0, s.genuine + (genuine ? weight : 0)),
    falseAlarms: Math.max(0, s.falseAlarms + (genuine ? 0 : weight)),
    recentGenuine: Math.max(0, s.recentGenuine * decay + (genuine ? weight : 0)),
    recentFalseAlarms: Math.max(0, s.recentFalseAlarms * decay + (genuine ? 0 : weight)),
    recentAt: Math.max(at, s.recentAt),
  };
}

export function emptyOutcome(source: string, alertname: string): RuleOutcome {
  return {
    source,
    alertname,
    genuine: 0,
    falseAlarms: 0,
    recentGenuine: 0,
    recentFalseAlarms: 0,
    recentAt: 0,
  };
}

const ruleKey = (source: string, alertname: string) => `${source}\u0000${alertname}`;

export class Learning {
  private readonly sources = new Map<string, Counts>();
  private readonly rules = new Map<string, Counts>();
  /** Per source: its rules' counts, for the parent rate (cached until an outcome changes them). */
  private readonly rulesOf = new Map<string, Counts[]>();
  private readonly parentCache = new Map<string, { reliability: number; strength: number; mean: number }>();
  private readonly recent = new Map<string, Recent>();

  /** `at` is when the outcome became known; it only matters for the recent rate. */
  record(source: string, alertname: string, genuine: boolean, weight = 1, at = 0): void {
    bump(this.sources, source, genuine, weight);
    const key = ruleKey(source, alertname);
    const r = this.recent.get(key);
    const next = applyOutcome(
      {
        ...emptyOutcome(source, alertname),
        recentGenuine: r?.genuine ?? 0,
        recentFalseAlarms: r?.falseAlarms ?? 0,
        recentAt: r?.at ?? at,
      },
      genuine,
      weight,
      at,
    );
    this.recent.set(key, {
      genuine: next.recentGenuine,
      falseAlarms: next.recentFalseAlarms,
      at: next.recentAt,
    });
    if (!this.rules.has(key)) {
      const c = { genuine: 0, falseAlarms: 0 };
      this.rules.set(key, c);
      const list = this.rulesOf.get(source);
      if (list === undefined) this.rulesOf.set(source, [c]);
      else list.push(c);
    }
    bump(this.rules, key, genuine, weight);
    this.parentCache.delete(source);
  }

  /**
   * Posterior genuine rate of (source, alertname). Its prior is the source's typical rule: the
   * average of the source's rules' rates (each rule counts once, so one chatty rule does not
   * condemn a rule never seen before), with the inventory reliability as one more rule.
   */
  rate(source: string, alertname: string, reliability: number, strengths: PriorStrengths): number {
    const r = this.rules.get(ruleKey(source, alertname));
    const parent = this.parentMean(source, reliability, strengths.source);
    const prior = { alpha: parent * strengths.rule, beta: (1 - parent) * strengths.rule };
    return betaMean(betaPosterior(prior, r?.genuine ?? 0, r?.falseAlarms ?? 0));
  }

  /** The rule's rate over its recent outcomes (fading), shrunk toward its all-time rate. */
  recentRate(source: string, alertname: string, allTime: number, at: number): number {
    const r = this.recent.get(ruleKey(source, alertname));
    if (r === undefined) return allTime;
    const decay = 0.5 ** (Math.max(0, at - r.at) / RECENT_HALF_LIFE);
    const g = r.genuine * decay;
    const f = r.falseAlarms * decay;
    return (g + RECENT_STRENGTH * allTime) / (g + f + RECENT_STRENGTH);
  }

  private parentMean(source: string, reliability: number, strength: number): number {
    const cached = this.parentCache.get(source);
    if (cached !== undefined && cached.reliability === reliability && cached.strength === strength)
      return cached.mean;
    const inventory = betaPrior(reliability, strength);
    let sum = reliability;
    let k = 1;
    for (const c of this.rulesOf.get(source) ?? []) {
      sum += betaMean(betaPosterior(inventory, c.genuine, c.falseAlarms));
      k++;
    }
    const mean = sum / k;
    this.parentCache.set(source, { reliability, strength, mean });
    return mean;
  }

  /** Outcomes seen for the rule: how much its rate is its own rather than its source's. */
  ruleCounts(source: string, alertname: string): Counts {
    return this.rules.get(ruleKey(source, alertname)) ?? { genuine: 0, falseAlarms: 0 };
  }

  toJSON(): { sources: [string, Counts][]; rules: [string, string, Counts][] } {
    return {
      sources: [...this.sources.entries()],
      rules: [...this.rules.entries()].map(([k, c]) => {
        const [source, alertname] = k.split("\u0000") as [string, string];
        return [source, alertname, c];
      }),
    };
  }

  /** The rules' whole state, for the store. */
  outcomes(): RuleOutcome[] {
    return [...this.rules.entries()].map(([k, c]) => {
      const [source, alertname] = k.split("\u0000") as [string, string];
      const r = this.recent.get(k);
      return {
        source,
        alertname,
        genuine: c.genuine,
        falseAlarms: c.falseAlarms,
        recentGenuine: r?.genuine ?? 0,
        recentFalseAlarms: r?.falseAlarms ?? 0,
        recentAt: r?.at ?? 0,
      };
    });
  }

  /** Exactly the state that `outcomes()` gave (after a restart). */
  static restore(rows: readonly RuleOutcome[]): Learning {
    const l = new Learning();
    for (const o of rows) {
      if (o.genuine > 0) bump(l.sources, o.source, true, o.genuine);
      if (o.falseAlarms > 0) bump(l.sources, o.source, false, o.falseAlarms);
      const key = ruleKey(o.source, o.alertname);
      const c = { genuine: o.genuine, falseAlarms: o.falseAlarms };
      l.rules.set(key, c);
      const list = l.rulesOf.get(o.source);
      if (list === undefined) l.rulesOf.set(o.source, [c]);
      else list.push(c);
      l.recent.set(key, { genuine: o.recentGenuine, falseAlarms: o.recentFalseAlarms, at: o.recentAt });
    }
    return l;
  }

  static fromJSON(data: { sources: [string, Counts][]; rules: [string, string, Counts][] }): Learning {
    const l = new Learning();
    for (const [s, a, c] of data.rules) {
      if (c.genuine > 0) l.record(s, a, true, c.genuine);
      if (c.falseAlarms > 0) l.record(s, a, false, c.falseAlarms);
    }
    return l;
  }
}

/** A negative weight takes an outcome back (a responder changed their verdict); never below 0. */
function bump(m: Map<string, Counts>, key: string, genuine: boolean, weight: number): void {
  let c = m.get(key);
  if (c === undefined) {
    c = { genuine: 0, falseAlarms: 0 };
    m.set(key, c);
  }
  if (genuine) c.genuine = Math.max(0, c.genuine + weight);
  else c.falseAlarms = Math.max(0, c.falseAlarms + weight);
}
