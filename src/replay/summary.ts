import type { MetricsJson } from "./report.js";

/**
 * What `pagewise replay --json` prints and what the HTML report draws: one stable object,
 * snake_case, documented in the README. Every figure is at incident level: an incident is
 * genuine when any of its alerts is.
 */
export interface PagingJson {
  pages: number;
  /** null when nothing was paged. */
  precision: number | null;
  recall: number | null;
}

export interface TimeToPageJson {
  /** Seconds from the incident's first alert to its first page, genuine paged incidents only. */
  p50: number | null;
  p90: number | null;
  count: number;
  histogram: { lo_s: number; hi_s: number; count: number }[];
}

/** One way of routing (the policy, or a baseline) measured on the same incidents. */
export interface RoutingJson {
  paging: PagingJson;
  handled: { recall: number | null };
  time_to_page_s: TimeToPageJson;
  pages_per_day: number;
  /** 1 - pages / pages when everything is paged. */
  noise_reduction: number;
}

export interface GroupJson {
  incidents: number;
  genuine: number;
  pages: number;
  paged_genuine: number;
  /** Share of its incidents that were paged. */
  page_rate: number;
  /** Share of its (labelled) incidents that were genuine. */
  genuine_rate: number | null;
  precision: number | null;
  recall: number | null;
}

export interface MissedJson {
  incident: number;
  opened_at: string;
  source: string;
  service: string | null;
  team: string | null;
  tier: number;
  severity: string;
  score: number | null;
  route: string;
  rule: string | null;
  explanation: string;
  counterfactual: string | null;
}

export interface ReplayJson extends RoutingJson {
  history: {
    files: string[];
    events: number;
    triggers: number;
    first_at: string | null;
    last_at: string | null;
    days: number;
  };
  model: { version: string; final_version: string; learn: boolean; feedback_delay_s: number; refits: number };
  /** Sources and services the config did not declare (documented defaults were applied). */
  undeclared: { sources: string[]; services: string[] };
  incidents: { total: number; genuine: number; labelled: number; alerts: number; compression: number | null };
  score: MetricsJson;
  routes: Record<string, { count: number; genuine: number }>;
  baselines: { page_everything: RoutingJson; severity: RoutingJson };
  teams: Record<string, GroupJson>;
  sources: Record<string, GroupJson>;
  tiers: Record<string, GroupJson>;
  /** Pages per calendar day (UTC), the policy beside both baselines. */
  daily: { day: string; pagewise: number; page_everything: number; severity: number }[];
  /** Paging on the incident's peak score alone at each threshold; `current` marks the policy's default high threshold. */
  pr_curve: { threshold: number; precision: number | null; recall: number | null }[];
  current_threshold: number;
  missed: MissedJson[];
  /** Present after `pagewise tune`: cost and pages for each candidate threshold set. */
  tune?: TuneJson;
}

export interface TuneCandidateJson {
  label: string;
  /** The default band's high threshold of this candidate (the x axis of the tune chart). */
  threshold: number;
  cost: number;
  pages: number;
  precision: number | null;
  recall: number | null;
  feasible: boolean;
}

export interface TuneJson {
  costs: { false_page: number; missed: number; delay_per_min: number };
  min_recall: number;
  candidates: TuneCandidateJson[];
  best: string;
}
