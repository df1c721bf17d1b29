import type { Config } from "../config/types.js";
import { ROUTE_RANK, type RouteKind } from "../core/policy/types.js";
import type { DecisionRecord } from "../engine/ports.js";
import type { IncidentRecord } from "./runner.js";
import type { GroupJson, MissedJson, PagingJson, RoutingJson, TimeToPageJson } from "./summary.js";

/**
 * Watches a replay's decision records and turns them into incident-level figures: where each
 * incident was routed, when it was first paged, and why a genuine one was not. Kept compact (a
 * few fields per incident, no record bodies), so memory follows the number of incidents only.
 */
interface Seen {
  openedAt: number;
  team: string | null;
  tier: number;
  /** The strongest route it had while not muted; null while every decision was muted. */
  route: RouteKind | null;
  firstPageAt: number | null;
  last: Last | null;
}

/** The latest unmuted decision, in words' parts, for the missed list. */
interface Last {
  route: string;
  rule: string | null;
  rationale: string | null;
  band: string | null;
  high: number | null;
  medium: number | null;
  counterfactual: string | null;
  reason: string;
}

export const HANDLED: ReadonlySet<RouteKind> = new Set<RouteKind>(["page", "triage", "runbook"]);
const DAY = 86_400_000;
const MAX_MISSED = 200;

export class RouteWatch {
  private readonly seen = new Map<number, Seen>();

  onRecord = (r: DecisionRecord): void => {
    const b = r.body as Body;
    let s = this.seen.get(r.incidentId);
    if (s === undefined) {
      s = {
        openedAt: r.at,
        team: b.incident?.team ?? null,
        tier: b.incident?.tier ?? 3,
        route: null,
        firstPageAt: null,
        last: null,
      };
      this.seen.set(r.incidentId, s);
    }
    if (b.incident !== undefined) s.team = b.incident.team;
    if ((b.decision?.muted_by ?? null) !== null) return;
    const route = r.route;
    if (s.route === null || ROUTE_RANK[route] > ROUTE_RANK[s.route]) s.route = route;
    if (route === "page" && s.firstPageAt === null) s.firstPageAt = r.at;
    const d = b.decision;
    s.last = {
      route,
      rule: d?.rule?.id ?? null,
      rationale: d?.rule?.rationale ?? null,
      band: d?.band ?? null,
      high: d?.thresholds?.high ?? null,
      medium: d?.thresholds?.medium ?? null,
      counterfactual: d?.counterfactual?.text ?? null,
      reason: r.reason,
    };
  };

  route(id: number): RouteKind | "muted" {
    return this.seen.get(id)?.route ?? "muted";
  }

  /** Incident-level figures for the policy, the two baselines, and the breakdowns. */
  measure(incidents: readonly IncidentRecord[], config: Config, span: { first: number; last: number }) {
    const days = Math.max(1, (span.last - span.first) / DAY);
    const everything = incidents.length;
    const policy: Routed[] = [];
    const all: Routed[] = [];
    const bySeverity: Routed[] = [];
    for (const inc of incidents) {
      const s = this.seen.get(inc.id);
      const pageAt = s?.firstPageAt ?? null;
      const route = s?.route ?? null;
      policy.push({
        inc,
        paged: pageAt !== null,
        handled: route !== null && HANDLED.has(route),
        delayMs: pageAt === null ? null : Math.max(0, pageAt - inc.openedAt),
      });
      all.push({ inc, paged: true, handled: true, delayMs: 0 });
      const severe = inc.severity === "critical" || inc.severity === "error";
      bySeverity.push({ inc, paged: severe, handled: severe, delayMs: severe ? 0 : null });
    }
    const routes: Record<string, { count: number; genuine: number }> = {};
    for (const inc of incidents) {
      const key = this.route(inc.id);
      const r = routes[key] ?? { count: 0, genuine: 0 };
      routes[key] = r;
      r.count++;
      if (inc.genuine) r.genuine++;
    }
    const groups = (key: (inc: IncidentRecord, s: Seen | undefined) => string) => {
      const out: Record<string, GroupJson> = {};
      const buckets = new Map<string, Routed[]>();
      for (const r of policy) {
        const k = key(r.inc, this.seen.get(r.inc.id));
        const list = buckets.get(k) ?? [];
        list.push(r);
        buckets.set(k, list);
      }
      for (const [k, list] of [...buckets].sort(([a], [b]) => a.localeCompare(b))) out[k] = group(list);
      return out;
    };
    return {
      policy: routing(policy, days, everything),
      page_everything: routing(all, days, everything),
      severity: routing(bySeverity, days, everything),
      routes,
      teams: groups((_i, s) => s?.team ?? "(no team)"),
      sources: groups((i) => i.source),
      tiers: groups((i, s) => String(s?.tier ?? tierOf(config, i.service))),
      daily: daily(policy, all, bySeverity),
      missed: this.missed(policy),
    };
  }

  private missed(policy: readonly Routed[]): MissedJson[] {
    const out: MissedJson[] = [];
    for (const r of policy) {
      if (!r.inc.labelled || !r.inc.genuine || r.paged || out.length >= MAX_MISSED) continue;
      const s = this.seen.get(r.inc.id);
      const l = s?.last ?? null;
      out.push({
        incident: r.inc.id,
        opened_at: new Date(r.inc.openedAt).toISOString(),
        source: r.inc.source,
        service: r.inc.service,
        team: s?.team ?? null,
        tier: s?.tier ?? 3,
        severity: r.inc.severity,
        score: r.inc.score,
        route: l?.route ?? "muted",
        rule: l?.rule ?? null,
        explanation: explain(l, r.inc.score),
        counterfactual: l?.counterfactual ?? null,
      });
    }
    return out;
  }
}

interface Body {
  incident?: { team: string | null; tier: number };
  decision?: {
    band?: string;
    thresholds?: { high: number; medium: number };
    rule?: { id: string; rationale: string };
    counterfactual?: { text: string } | null;
    muted_by?: unknown;
  };
}

interface Routed {
  inc: IncidentRecord;
  paged: boolean;
  handled: boolean;
  delayMs: number | null;
}

function explain(l: Last | null, score: number | null): string {
  if (l === null) return "Every decision on it was muted (a silence, a maintenance window or an inhibition).";
  const p = score === null ? "no score" : `peak score ${score.toFixed(2)}`;
  const band =
    l.band === null
      ? ""
      : ` in band ${l.band} (high >= ${l.high?.toFixed(2)}, medium >= ${l.medium?.toFixed(2)})`;
  const rule = l.rule === null ? `a ${l.reason} decision` : `rule ${l.rule}: ${l.rationale}`;
  return `Routed ${l.route} by ${rule}; ${p}${band}.`;
}

function routing(list: readonly Routed[], days: number, everything: number): RoutingJson {
  const pages = list.filter((r) => r.paged).length;
  return {
    paging: paging(list),
    handled: {
      recall: ratio(
        list.filter((r) => r.inc.labelled && r.inc.genuine && r.handled).length,
        genuineCount(list),
      ),
    },
    time_to_page_s: timeToPage(list),
    pages_per_day: pages / days,
    noise_reduction: everything === 0 ? 0 : 1 - pages / everything,
  };
}

function paging(list: readonly Routed[]): PagingJson {
  const paged = list.filter((r) => r.paged);
  const labelledPaged = paged.filter((r) => r.inc.labelled);
  const hits = labelledPaged.filter((r) => r.inc.genuine).length;
  return {
    pages: paged.length,
    precision: labelledPaged.length === 0 ? null : hits / labelledPaged.length,
    recall: ratio(hits, genuineCount(list)),
  };
}

function group(list: readonly Routed[]): GroupJson {
  const labelled = list.filter((r) => r.inc.labelled);
  const genuine = labelled.filter((r) => r.inc.genuine).length;
  const p = paging(list);
  return {
    incidents: list.length,
    genuine,
    pages: p.pages,
    paged_genuine: list.filter((r) => r.paged && r.inc.labelled && r.inc.genuine).length,
    page_rate: list.length === 0 ? 0 : p.pages / list.length,
    genuine_rate: labelled.length === 0 ? null : genuine / labelled.length,
    precision: p.precision,
    recall: p.recall,
  };
}

const genuineCount = (list: readonly Routed[]) => list.filter((r) => r.inc.labelled && r.inc.genuine).length;
const ratio = (a: number, b: number) => (b === 0 ? null : a / b);

/** Genuine paged incidents only: how long the right people waited. */
function timeToPage(list: readonly Routed[]): TimeToPageJson {
  const s = list
    .filter((r) => r.paged && r.inc.genuine && r.delayMs !== null)
    .map((r) => (r.delayMs as number) / 1000)
    .sort((a, b) => a - b);
  const edges = [0, 1, 60, 300, 600, 900, 1800, 3600, 7200, Number.POSITIVE_INFINITY];
  const histogram = edges.slice(0, -1).map((lo, i) => ({
    lo_s: lo,
    hi_s: edges[i + 1] === Number.POSITIVE_INFINITY ? -1 : (edges[i + 1] as number),
    count: s.filter((v) => v >= lo && v < (edges[i + 1] as number)).length,
  }));
  return { p50: quantile(s, 0.5), p90: quantile(s, 0.9), count: s.length, histogram };
}

/** Nearest-rank quantile of sorted values. */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}

function daily(policy: readonly Routed[], all: readonly Routed[], severity: readonly Routed[]) {
  const days = new Map<string, { pagewise: number; page_everything: number; severity: number }>();
  const bump = (list: readonly Routed[], key: "pagewise" | "page_everything" | "severity") => {
    for (const r of list) {
      if (!r.paged) continue;
      const day = new Date(r.inc.openedAt + (r.delayMs ?? 0)).toISOString().slice(0, 10);
      const d = days.get(day) ?? { pagewise: 0, page_everything: 0, severity: 0 };
      d[key]++;
      days.set(day, d);
    }
  };
  bump(policy, "pagewise");
  bump(all, "page_everything");
  bump(severity, "severity");
  return [...days].sort(([a], [b]) => a.localeCompare(b)).map(([day, d]) => ({ day, ...d }));
}

function tierOf(config: Config, service: string | null): number {
  return service === null ? 3 : (config.services.get(service)?.tier ?? 3);
}

/** Paging on the peak score alone, at each threshold: the precision-recall curve. */
export function prCurve(incidents: readonly IncidentRecord[]) {
  const labelled = incidents.filter((i) => i.labelled && i.score !== null);
  const total = labelled.filter((i) => i.genuine).length;
  const out: { threshold: number; precision: number | null; recall: number | null }[] = [];
  for (let k = 0; k <= 50; k++) {
    const t = k / 50;
    const paged = labelled.filter((i) => (i.score as number) >= t);
    const hits = paged.filter((i) => i.genuine).length;
    out.push({
      threshold: t,
      precision: paged.length === 0 ? null : hits / paged.length,
      recall: ratio(hits, total),
    });
  }
  return out;
}
