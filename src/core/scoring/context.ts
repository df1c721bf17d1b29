/**
 * The context snapshot's source: a fold over "signals" (what happened, when) in time order.
 * Live serving folds the signals it persists (and rebuilds the fold from the store at start);
 * replay folds the history stream. One definition, so features cannot drift between the two.
 * Nothing here reads a clock: every call carries its time.
 */

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** The longest window any feature looks back over. */
export const CONTEXT_HORIZON = 7 * DAY;
const CORROBORATION_WINDOW = 10 * MIN;

export type Signal =
  /** An alert key started firing: a new alert, or a resolved one firing again. */
  | {
      kind: "fire";
      at: number;
      source: string;
      alertKey: string;
      alertname: string;
      service: string | null;
      host: string | null;
      team: string | null;
      incidentId: number;
    }
  /** A firing alert was sent again (not persisted one by one; the store keeps the latest). */
  | {
      kind: "resend";
      at: number;
      source: string;
      alertname: string;
      service: string | null;
      host: string | null;
    }
  | { kind: "resolve"; at: number; source: string; alertKey: string }
  | { kind: "change"; at: number; service: string | null }
  | { kind: "incident_open"; at: number; incidentId: number; service: string | null; team: string | null }
  | { kind: "incident_close"; at: number; incidentId: number };

/** What the features need to know about the moment, beyond the alert and its incident. */
export interface ContextSnapshot {
  /** Alerts that started firing on the service in the last 10 minutes / 24 hours (surges). */
  serviceFires10m: number;
  serviceFires24h: number;
  /** Fires and resolves of this alert key in the last hour / day (flapping). */
  keyTransitions1h: number;
  keyTransitions24h: number;
  /** Hours since this alertname last fired on this service (null: not within 7 days). */
  hoursSinceSameAlertname: number | null;
  /** The service has been watched for a day or more: novelty and surges mean something. */
  baseline: boolean;
  /** Distinct other alertnames / sources that triggered on this service in the last 10 minutes. */
  otherAlertnames10m: number;
  otherSources10m: number;
  /** Distinct other alertnames that triggered on the same host in the last 10 minutes. */
  otherHostAlertnames10m: number;
  /** A change (deploy) on the service in the last 30 / 60 minutes. */
  change30m: boolean;
  /** Minutes since the last change on the service, when within the last hour. */
  minutesSinceChange: number | null;
  change60m: boolean;
  /** Incidents opened on the service in the last 24 hours (excluding the one being scored). */
  serviceIncidents24h: number;
  /** The owning team's open incidents (excluding the one being scored). */
  teamOpenIncidents: number;
  /** Alerts that started firing for the owning team in the last hour (load, not pages). */
  teamAlerts1h: number;
}

export interface SnapshotQuery {
  at: number;
  source: string;
  alertKey: string;
  alertname: string;
  service: string | null;
  host: string | null;
  team: string | null;
  /** The incident being scored, left out of its own context. */
  incidentId: number | null;
}

/**
 * Timestamps in arrival (time) order. Counts are by bisection, bounded on both sides, so a query
 * never sees the future; entries older than `keep` before the newest one are dropped.
 */
export class Times {
  private t: number[] = [];
  private head = 0;
  constructor(private readonly keep: number) {}
  push(at: number): void {
    this.t.push(at);
    const drop = at - this.keep;
    while (this.head < this.t.length && (this.t[this.head] as number) < drop) this.head++;
    if (this.head > 64 && this.head * 2 > this.t.length) {
      this.t = this.t.slice(this.head);
      this.head = 0;
    }
  }
  /** How many lie in [since, until]. */
  count(since: number, until: number): number {
    return this.firstAfter(until) - this.firstAtOrAfter(since);
  }
  /** The latest time at or before `until`. */
  latest(until: number): number | undefined {
    const i = this.firstAfter(until) - 1;
    return i >= this.head ? this.t[i] : undefined;
  }
  last(): number | undefined {
    return this.t.length > this.head ? this.t[this.t.length - 1] : undefined;
  }
  private firstAtOrAfter(x: number): number {
    let lo = this.head;
    let hi = this.t.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.t[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  private firstAfter(x: number): number {
    let lo = this.head;
    let hi = this.t.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.t[mid] as number) <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

const keyOf = (source: string, alertKey: string) => `${source}\u0000${alertKey}`;
const pair = (a: string, b: string) => `${a}\u0000${b}`;

export class ContextState {
  private readonly keyTransitions = new Map<string, Times>();
  private readonly lastFire = new Map<string, Times>(); // service \0 alertname -> fires in 7 days
  private readonly serviceAlertnames = new Map<string, Map<string, number>>(); // -> last trigger
  private readonly serviceSources = new Map<string, Map<string, number>>();
  private readonly hostAlertnames = new Map<string, Map<string, number>>();
  private readonly changes = new Map<string, Times>();
  private readonly serviceIncidents = new Map<string, Times>();
  private readonly openIncidents = new Map<
    number,
    { team: string | null; service: string | null; at: number }
  >();
  private readonly teamOpen = new Map<string, number>();
  private readonly teamAlerts = new Map<string, Times>();
  private readonly serviceFires = new Map<string, Times>();
  private readonly serviceFirstSeen = new Map<string, number>();
  private readonly incidentAlertnames = new Map<number, Set<string>>();
  private readonly incidentFires = new Map<number, Times>();
  private readonly serviceOpen = new Map<string, Set<number>>();
  private observed = 0;

  observe(s: Signal): void {
    switch (s.kind) {
      case "fire": {
        transitions(this.keyTransitions, keyOf(s.source, s.alertKey)).push(s.at);
        if (s.service !== null) {
          transitions(this.lastFire, pair(s.service, s.alertname), CONTEXT_HORIZON).push(s.at);
          transitions(this.serviceFires, s.service).push(s.at);
          if (!this.serviceFirstSeen.has(s.service)) this.serviceFirstSeen.set(s.service, s.at);
        }
        this.touch(s.at, s.source, s.alertname, s.service, s.host);
        if (s.team !== null) transitions(this.teamAlerts, s.team).push(s.at);
        let fires = this.incidentFires.get(s.incidentId);
        if (fires === undefined) {
          fires = new Times(DAY);
          this.incidentFires.set(s.incidentId, fires);
        }
        fires.push(s.at);
        const names = this.incidentAlertnames.get(s.incidentId);
        if (names === undefined) this.incidentAlertnames.set(s.incidentId, new Set([s.alertname]));
        else names.add(s.alertname);
        break;
      }
      case "resend":
        this.touch(s.at, s.source, s.alertname, s.service, s.host);
        break;
      case "resolve":
        transitions(this.keyTransitions, keyOf(s.source, s.alertKey)).push(s.at);
        break;
      case "change":
        if (s.service !== null) transitions(this.changes, s.service).push(s.at);
        break;
      case "incident_open":
        if (s.service !== null) transitions(this.serviceIncidents, s.service).push(s.at);
        if (!this.openIncidents.has(s.incidentId)) {
          this.openIncidents.set(s.incidentId, { team: s.team, service: s.service, at: s.at });
          if (s.team !== null) this.teamOpen.set(s.team, (this.teamOpen.get(s.team) ?? 0) + 1);
          if (s.service !== null) {
            const open = this.serviceOpen.get(s.service);
            if (open === undefined) this.serviceOpen.set(s.service, new Set([s.incidentId]));
            else open.add(s.incidentId);
          }
        }
        break;
      case "incident_close": {
        const open = this.openIncidents.get(s.incidentId);
        if (open === undefined) break;
        const team = open.team;
        this.openIncidents.delete(s.incidentId);
        this.incidentAlertnames.delete(s.incidentId);
        this.incidentFires.delete(s.incidentId);
        if (open.service !== null) {
          const ids = this.serviceOpen.get(open.service);
          ids?.delete(s.incidentId);
          if (ids?.size === 0) this.serviceOpen.delete(open.service);
        }
        if (team !== null) this.teamOpen.set(team, Math.max(0, (this.teamOpen.get(team) ?? 0) - 1));
        break;
      }
      default: {
        const never: never = s;
        throw new Error(`unknown signal ${JSON.stringify(never)}`);
      }
    }
    if (++this.observed % 50_000 === 0) this.sweep(s.at);
  }

  snapshot(q: SnapshotQuery): ContextSnapshot {
    const at = q.at;
    const horizon = at - CONTEXT_HORIZON;
    const key = this.keyTransitions.get(keyOf(q.source, q.alertKey));
    // Snapshots are taken before the scored alert's own fire is observed: any fire seen is another's.
    const last = q.service === null ? undefined : this.lastFire.get(pair(q.service, q.alertname))?.latest(at);
    const inc24 = q.service === null ? undefined : this.serviceIncidents.get(q.service);
    const changes = q.service === null ? undefined : this.changes.get(q.service);
    // The scored incident is not its own context.
    const self = q.incidentId === null ? undefined : this.openIncidents.get(q.incidentId);
    let teamOpen = q.team === null ? 0 : (this.teamOpen.get(q.team) ?? 0);
    if (self !== undefined && self.team !== null && self.team === q.team) teamOpen--;
    let serviceIncidents = inc24?.count(at - DAY, at) ?? 0;
    if (self !== undefined && self.service === q.service && self.at >= at - DAY) serviceIncidents--;
    const fires = q.service === null ? undefined : this.serviceFires.get(q.service);
    return {
      serviceFires10m: fires?.count(at - CORROBORATION_WINDOW, at) ?? 0,
      serviceFires24h: fires?.count(at - DAY, at) ?? 0,
      keyTransitions1h: key?.count(at - HOUR, at) ?? 0,
      keyTransitions24h: key?.count(at - DAY, at) ?? 0,
      hoursSinceSameAlertname: last === undefined || last < horizon ? null : (at - last) / HOUR,
      baseline: q.service !== null && (this.serviceFirstSeen.get(q.service) ?? at) <= at - DAY,
      otherAlertnames10m: countOthers(
        q.service === null ? undefined : this.serviceAlertnames.get(q.service),
        q.alertname,
        at,
      ),
      otherSources10m: countOthers(
        q.service === null ? undefined : this.serviceSources.get(q.service),
        q.source,
        at,
      ),
      otherHostAlertnames10m: countOthers(
        q.host === null ? undefined : this.hostAlertnames.get(q.host),
        q.alertname,
        at,
      ),
      change30m: (changes?.count(at - 30 * MIN, at) ?? 0) > 0,
      minutesSinceChange: lastChangeMinutes(changes, at),
      change60m: (changes?.count(at - HOUR, at) ?? 0) > 0,
      serviceIncidents24h: Math.max(0, serviceIncidents),
      teamOpenIncidents: Math.max(0, teamOpen),
      teamAlerts1h: q.team === null ? 0 : (this.teamAlerts.get(q.team)?.count(at - HOUR, at) ?? 0),
    };
  }

  /** Distinct alertnames among the incident's alerts, counting `alertname` in. */
  alertnamesWith(incidentId: number, alertname: string): number {
    const names = this.incidentAlertnames.get(incidentId);
    if (names === undefined) return 1;
    return names.size + (names.has(alertname) ? 0 : 1);
  }

  /** Alerts that started firing in the incident in [at - ms, at] (policy count rules). */
  incidentFiresWithin(incidentId: number, at: number, ms: number): number {
    return this.incidentFires.get(incidentId)?.count(at - ms, at) ?? 0;
  }

  /** Open incidents on a service, for re-scoring when corroborating evidence arrives. */
  openOn(service: string): readonly number[] {
    const ids = this.serviceOpen.get(service);
    return ids === undefined ? [] : [...ids];
  }

  /** True when this alertname or source had not triggered on the service within 10 minutes. */
  isNewEvidence(at: number, source: string, alertname: string, service: string): boolean {
    const names = this.serviceAlertnames.get(service)?.get(alertname);
    const sources = this.serviceSources.get(service)?.get(source);
    return (
      names === undefined ||
      names < at - CORROBORATION_WINDOW ||
      sources === undefined ||
      sources < at - CORROBORATION_WINDOW
    );
  }

  private touch(
    at: number,
    source: string,
    alertname: string,
    service: string | null,
    host: string | null,
  ): void {
    // Max, not last write: a restart replays re-sends after the signals they followed.
    if (service !== null) {
      setMax(latest(this.serviceAlertnames, service), alertname, at);
      setMax(latest(this.serviceSources, service), source, at);
    }
    if (host !== null) setMax(latest(this.hostAlertnames, host), alertname, at);
  }

  /** Drops what no window can see any more, so memory follows activity, not history length. */
  private sweep(now: number): void {
    const horizon = now - CONTEXT_HORIZON;
    for (const [k, t] of this.lastFire) if ((t.last() ?? 0) < horizon) this.lastFire.delete(k);
    for (const m of [this.serviceAlertnames, this.serviceSources, this.hostAlertnames]) {
      for (const [k, inner] of m) {
        for (const [name, t] of inner) if (t < now - CORROBORATION_WINDOW) inner.delete(name);
        if (inner.size === 0) m.delete(k);
      }
    }
    for (const m of [
      this.keyTransitions,
      this.changes,
      this.serviceIncidents,
      this.teamAlerts,
      this.serviceFires,
    ]) {
      for (const [k, t] of m) if ((t.last() ?? 0) < now - DAY) m.delete(k);
    }
  }
}

function transitions(m: Map<string, Times>, key: string, keep = DAY): Times {
  let t = m.get(key);
  if (t === undefined) {
    t = new Times(keep);
    m.set(key, t);
  }
  return t;
}

function latest(m: Map<string, Map<string, number>>, key: string): Map<string, number> {
  let inner = m.get(key);
  if (inner === undefined) {
    inner = new Map();
    m.set(key, inner);
  }
  return inner;
}

function setMax(m: Map<string, number>, key: string, at: number): void {
  const prev = m.get(key);
  if (prev === undefined || prev < at) m.set(key, at);
}

/** Distinct names other than `self` seen within the corroboration window. */
function countOthers(m: Map<string, number> | undefined, self: string, at: number): number {
  if (m === undefined) return 0;
  let n = 0;
  for (const [name, t] of m) if (name !== self && t >= at - CORROBORATION_WINDOW && t <= at) n++;
  return n;
}

function lastChangeMinutes(changes: Times | undefined, at: number): number | null {
  const last = changes?.latest(at);
  return last === undefined || last < at - HOUR ? null : (at - last) / MIN;
}
