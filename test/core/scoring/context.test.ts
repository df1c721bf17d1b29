import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CONTEXT_HORIZON,
  type ContextSnapshot,
  ContextState,
  type Signal,
  type SnapshotQuery,
} from "../../../src/core/scoring/context.js";

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T = Date.parse("2026-11-30T12:00:00Z");

type Fire = Extract<Signal, { kind: "fire" }>;

const fire = (at: number, over: Partial<Omit<Fire, "kind" | "at">> = {}): Fire => ({
  kind: "fire",
  at,
  source: "metrics",
  alertKey: "k1",
  alertname: "Latency",
  service: "checkout",
  host: null,
  team: null,
  incidentId: 1,
  ...over,
});

const resend = (
  at: number,
  over: Partial<Omit<Extract<Signal, { kind: "resend" }>, "kind" | "at">> = {},
): Signal => ({
  kind: "resend",
  at,
  source: "metrics",
  alertname: "Latency",
  service: "checkout",
  host: null,
  ...over,
});

const resolve = (at: number, alertKey = "k1", source = "metrics"): Signal => ({
  kind: "resolve",
  at,
  source,
  alertKey,
});
const change = (at: number, service: string | null = "checkout"): Signal => ({ kind: "change", at, service });
const open = (at: number, incidentId: number, service: string | null, team: string | null): Signal => ({
  kind: "incident_open",
  at,
  incidentId,
  service,
  team,
});
const close = (at: number, incidentId: number): Signal => ({ kind: "incident_close", at, incidentId });

const query = (at: number, over: Partial<Omit<SnapshotQuery, "at">> = {}): SnapshotQuery => ({
  at,
  source: "metrics",
  alertKey: "k1",
  alertname: "Latency",
  service: "checkout",
  host: null,
  team: null,
  incidentId: null,
  ...over,
});

function stateOf(signals: readonly Signal[]): ContextState {
  const s = new ContextState();
  for (const sig of signals) s.observe(sig);
  return s;
}

describe("ContextState windows", () => {
  it("fires within 10 minutes corroborate; older ones do not; the alert's own name and source do not", () => {
    const s = stateOf([
      fire(T - 11 * MIN, { alertname: "Old", source: "old-src", alertKey: "a" }),
      fire(T - 10 * MIN, { alertname: "Edge", source: "logs", alertKey: "b" }),
      fire(T - 9 * MIN, { alertname: "Errors", source: "logs", alertKey: "c", host: "web1" }),
      fire(T - 1 * MIN, { alertname: "Latency", source: "metrics", alertKey: "d", host: "web1" }),
      fire(T - 1 * MIN, { alertname: "Other", source: "other", alertKey: "e", service: "ledger" }),
    ]);
    const snap = s.snapshot(query(T, { alertname: "Latency", source: "metrics", host: "web1" }));
    // Edge (exactly 10 minutes ago) and Errors; not Old, not Latency itself, not ledger's Other.
    expect(snap.otherAlertnames10m).toBe(2);
    // logs only: metrics is the alert's own source, old-src is too old.
    expect(snap.otherSources10m).toBe(1);
    // Errors on web1; Latency is the alert's own name.
    expect(snap.otherHostAlertnames10m).toBe(1);
    expect(s.snapshot(query(T, { host: "web2" })).otherHostAlertnames10m).toBe(0);
    // Every fire on the service counts toward the surge, its own name included.
    expect(snap.serviceFires10m).toBe(3);
    expect(snap.serviceFires24h).toBe(4);
    // For another alertname all three recent names count; a minute later Edge has left the window.
    expect(s.snapshot(query(T, { alertname: "X", source: "x" })).otherAlertnames10m).toBe(3);
    expect(s.snapshot(query(T + MIN, { alertname: "X", source: "x" })).otherAlertnames10m).toBe(2);
  });

  it("a re-send keeps an alertname recent; a fire 30 minutes ago alone does not", () => {
    const signals = [fire(T - 30 * MIN, { alertname: "Disk", source: "logs", alertKey: "disk" })];
    expect(stateOf(signals).snapshot(query(T)).otherAlertnames10m).toBe(0);
    const s = stateOf([...signals, resend(T - 2 * MIN, { alertname: "Disk", source: "logs" })]);
    const snap = s.snapshot(query(T));
    expect(snap.otherAlertnames10m).toBe(1);
    expect(snap.otherSources10m).toBe(1);
    // A re-send is not a new fire, and not a transition of its key (only its fire is).
    expect(snap.serviceFires10m).toBe(0);
    expect(s.snapshot(query(T, { alertKey: "disk", source: "logs" })).keyTransitions1h).toBe(1);
  });

  it("flapping counts fires and resolves of the same key (scoped by source) in 1 h and 24 h", () => {
    const s = stateOf([
      fire(T - 25 * HOUR),
      resolve(T - 24.5 * HOUR),
      fire(T - 23 * HOUR),
      resolve(T - 22 * HOUR),
      fire(T - 50 * MIN),
      resolve(T - 40 * MIN),
      fire(T - 5 * MIN),
      // The same key from another source is another alert; another key is another alert.
      fire(T - 3 * MIN, { source: "logs" }),
      fire(T - 2 * MIN, { alertKey: "k2" }),
    ]);
    const snap = s.snapshot(query(T));
    expect(snap.keyTransitions1h).toBe(3);
    expect(snap.keyTransitions24h).toBe(5);
    expect(s.snapshot(query(T, { source: "logs" })).keyTransitions24h).toBe(1);
    expect(s.snapshot(query(T, { alertKey: "k3" })).keyTransitions24h).toBe(0);
  });

  it("a change counts for 30 and 60 minutes, on its own service only", () => {
    const at = (offset: number, service: string | null = "checkout") =>
      stateOf([change(T - offset, service)]).snapshot(query(T));
    expect(at(10 * MIN)).toMatchObject({ change30m: true, change60m: true });
    expect(at(30 * MIN)).toMatchObject({ change30m: true, change60m: true });
    expect(at(45 * MIN)).toMatchObject({ change30m: false, change60m: true });
    expect(at(61 * MIN)).toMatchObject({ change30m: false, change60m: false });
    expect(at(10 * MIN, "ledger")).toMatchObject({ change30m: false, change60m: false });
    expect(at(10 * MIN, null)).toMatchObject({ change30m: false, change60m: false });
  });

  it("service incidents in 24 h leave out the incident being scored", () => {
    const s = stateOf([
      open(T - 25 * HOUR, 1, "checkout", null),
      open(T - 3 * HOUR, 2, "checkout", null),
      open(T - 2 * HOUR, 3, "ledger", null),
      open(T - 1 * HOUR, 4, "checkout", null),
    ]);
    expect(s.snapshot(query(T)).serviceIncidents24h).toBe(2);
    expect(s.snapshot(query(T, { incidentId: 4 })).serviceIncidents24h).toBe(1);
    expect(s.snapshot(query(T, { incidentId: 2 })).serviceIncidents24h).toBe(1);
    // Scoring an incident of another service changes nothing here.
    expect(s.snapshot(query(T, { incidentId: 3 })).serviceIncidents24h).toBe(2);
    expect(s.snapshot(query(T, { service: "ledger", incidentId: 3 })).serviceIncidents24h).toBe(0);
  });

  it("team open incidents rise on incident_open, fall on incident_close, leave out the scored one", () => {
    const s = new ContextState();
    const team = (incidentId: number | null = null) =>
      s.snapshot(query(T, { team: "payments", incidentId })).teamOpenIncidents;
    s.observe(open(T - 3 * HOUR, 1, "checkout", "payments"));
    s.observe(open(T - 2 * HOUR, 2, "ledger", "payments"));
    s.observe(open(T - 2 * HOUR, 3, "search", "search"));
    expect(team()).toBe(2);
    expect(team(2)).toBe(1);
    expect(team(3)).toBe(2); // another team's incident
    // Opening the same incident twice does not count it twice.
    s.observe(open(T - HOUR, 2, "ledger", "payments"));
    expect(team()).toBe(2);
    s.observe(close(T - 30 * MIN, 1));
    expect(team()).toBe(1);
    expect(team(2)).toBe(0);
    // Closing twice, or closing what never opened, never goes below zero.
    s.observe(close(T - 20 * MIN, 1));
    s.observe(close(T - 20 * MIN, 99));
    s.observe(close(T - 10 * MIN, 2));
    expect(team()).toBe(0);
    expect(s.snapshot(query(T, { team: "search" })).teamOpenIncidents).toBe(1);
    expect(s.snapshot(query(T, { team: null })).teamOpenIncidents).toBe(0);
  });

  it("team alerts in the last hour count fires with the team", () => {
    const s = stateOf([
      fire(T - 61 * MIN, { team: "payments", alertKey: "a" }),
      fire(T - 59 * MIN, { team: "payments", alertKey: "b" }),
      fire(T - 1 * MIN, { team: "payments", alertKey: "c", service: "ledger" }),
      fire(T - 1 * MIN, { team: "search", alertKey: "d" }),
    ]);
    expect(s.snapshot(query(T, { team: "payments" })).teamAlerts1h).toBe(2);
    expect(s.snapshot(query(T, { team: "search" })).teamAlerts1h).toBe(1);
    expect(s.snapshot(query(T, { team: null })).teamAlerts1h).toBe(0);
  });

  it("baseline needs a day of history on the service", () => {
    expect(stateOf([fire(T - 23 * HOUR)]).snapshot(query(T)).baseline).toBe(false);
    expect(stateOf([fire(T - DAY)]).snapshot(query(T)).baseline).toBe(true);
    expect(stateOf([fire(T - 3 * DAY), fire(T - MIN)]).snapshot(query(T)).baseline).toBe(true);
    // Another service's history, or no service, is no baseline.
    expect(stateOf([fire(T - 3 * DAY, { service: "ledger" })]).snapshot(query(T)).baseline).toBe(false);
    expect(stateOf([fire(T - 3 * DAY)]).snapshot(query(T, { service: null })).baseline).toBe(false);
    expect(new ContextState().snapshot(query(T)).baseline).toBe(false);
  });

  it("hoursSinceSameAlertname: the latest fire of the name on the service, within 7 days", () => {
    const s = stateOf([
      fire(T - 5 * HOUR, { alertKey: "a" }),
      fire(T - 90 * MIN, { alertKey: "b" }),
      fire(T - 10 * MIN, { alertname: "Other", alertKey: "c" }),
      fire(T - 10 * MIN, { service: "ledger", alertKey: "d" }),
    ]);
    expect(s.snapshot(query(T)).hoursSinceSameAlertname).toBe(1.5);
    expect(s.snapshot(query(T, { alertname: "Disk" })).hoursSinceSameAlertname).toBeNull();
    expect(s.snapshot(query(T, { service: "search" })).hoursSinceSameAlertname).toBeNull();
    expect(s.snapshot(query(T, { service: null })).hoursSinceSameAlertname).toBeNull();
    expect(stateOf([fire(T - 7 * DAY)]).snapshot(query(T)).hoursSinceSameAlertname).toBe(168);
    expect(stateOf([fire(T - 7 * DAY - 1)]).snapshot(query(T)).hoursSinceSameAlertname).toBeNull();
    expect(CONTEXT_HORIZON).toBe(7 * DAY);
  });

  it("isNewEvidence: a new alertname or a new source on the service within 10 minutes", () => {
    const s = stateOf([fire(T - 5 * MIN, { alertname: "Latency", source: "metrics" })]);
    expect(s.isNewEvidence(T, "metrics", "Latency", "checkout")).toBe(false);
    expect(s.isNewEvidence(T, "logs", "Latency", "checkout")).toBe(true);
    expect(s.isNewEvidence(T, "metrics", "Errors", "checkout")).toBe(true);
    expect(s.isNewEvidence(T, "metrics", "Latency", "ledger")).toBe(true);
    expect(s.isNewEvidence(T + 5 * MIN, "metrics", "Latency", "checkout")).toBe(false);
    expect(s.isNewEvidence(T + 5 * MIN + 1, "metrics", "Latency", "checkout")).toBe(true);
    // A re-send keeps it known.
    s.observe(resend(T + 4 * MIN));
    expect(s.isNewEvidence(T + 12 * MIN, "metrics", "Latency", "checkout")).toBe(false);
    expect(new ContextState().isNewEvidence(T, "metrics", "Latency", "checkout")).toBe(true);
  });

  it("openOn lists a service's open incidents", () => {
    const s = stateOf([
      open(T - HOUR, 1, "checkout", "payments"),
      open(T - HOUR, 2, "checkout", null),
      open(T - HOUR, 3, "ledger", "payments"),
      open(T - HOUR, 4, null, "payments"),
    ]);
    expect([...s.openOn("checkout")].sort()).toEqual([1, 2]);
    expect(s.openOn("ledger")).toEqual([3]);
    expect(s.openOn("search")).toEqual([]);
    s.observe(close(T - 30 * MIN, 1));
    expect(s.openOn("checkout")).toEqual([2]);
    s.observe(close(T - 20 * MIN, 2));
    expect(s.openOn("checkout")).toEqual([]);
  });

  it("alertnamesWith counts the incident's distinct alertnames with the one in question", () => {
    const s = stateOf([
      open(T - HOUR, 7, "checkout", null),
      fire(T - HOUR, { incidentId: 7, alertname: "A", alertKey: "a1" }),
      fire(T - 50 * MIN, { incidentId: 7, alertname: "A", alertKey: "a2" }),
      fire(T - 40 * MIN, { incidentId: 7, alertname: "B", alertKey: "b1" }),
      fire(T - 40 * MIN, { incidentId: 8, alertname: "C", alertKey: "c1" }),
    ]);
    expect(s.alertnamesWith(7, "A")).toBe(2);
    expect(s.alertnamesWith(7, "C")).toBe(3);
    expect(s.alertnamesWith(9, "A")).toBe(1);
    s.observe(close(T, 7));
    expect(s.alertnamesWith(7, "A")).toBe(1);
  });
});

// --- properties ----------------------------------------------------------------------------

const SERVICES = ["checkout", "ledger", null] as const;
const SOURCES = ["metrics", "logs"] as const;
const NAMES = ["A", "B", "C"] as const;
const KEYS = ["k1", "k2", "k3"] as const;
const HOSTS = ["web1", null] as const;
const TEAMS = ["payments", "search", null] as const;

/** A step of a generated stream: a signal after a gap, or a snapshot query now. */
type Step =
  | { gap: number; signal: Signal }
  | { gap: number; query: Omit<SnapshotQuery, "at" | "incidentId"> };

const gap = fc.oneof(
  fc.integer({ min: 0, max: 3 * MIN }),
  fc.integer({ min: 0, max: 40 * MIN }),
  fc.integer({ min: 0, max: 8 * HOUR }),
);
const service = fc.constantFrom(...SERVICES);
const source = fc.constantFrom(...SOURCES);
const name = fc.constantFrom(...NAMES);
const key = fc.constantFrom(...KEYS);
const host = fc.constantFrom(...HOSTS);
const team = fc.constantFrom(...TEAMS);
const incidentId = fc.integer({ min: 1, max: 6 });

const signalArb: fc.Arbitrary<Signal> = fc.oneof(
  fc.record({
    kind: fc.constant("fire" as const),
    at: fc.constant(0),
    source,
    alertKey: key,
    alertname: name,
    service,
    host,
    team,
    incidentId,
  }),
  fc.record({
    kind: fc.constant("resend" as const),
    at: fc.constant(0),
    source,
    alertname: name,
    service,
    host,
  }),
  fc.record({ kind: fc.constant("resolve" as const), at: fc.constant(0), source, alertKey: key }),
  fc.record({ kind: fc.constant("change" as const), at: fc.constant(0), service }),
  fc.record({ kind: fc.constant("incident_open" as const), at: fc.constant(0), incidentId, service, team }),
  fc.record({ kind: fc.constant("incident_close" as const), at: fc.constant(0), incidentId }),
);

const queryArb = fc.record({ source, alertKey: key, alertname: name, service, host, team });

const steps = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: fc.record({ gap, signal: signalArb }) },
    { weight: 1, arbitrary: fc.record({ gap, query: queryArb }) },
  ),
  { maxLength: 60 },
);

/** Stamps times on a generated stream; incident ids of opens are made unique (an incident opens once). */
function timed(ss: readonly Step[]): ({ signal: Signal } | { query: Omit<SnapshotQuery, "incidentId"> })[] {
  let t = T;
  let nextId = 1;
  return ss.map((s) => {
    t += s.gap;
    if ("query" in s) return { query: { ...s.query, at: t } };
    const signal = { ...s.signal, at: t } as Signal;
    if (signal.kind === "incident_open") signal.incidentId = nextId++;
    return { signal };
  });
}

/**
 * The reference: every window computed from the list of signals directly, counting only signals
 * at or before the query's time. The scored incident is left out of its own context.
 */
function reference(all: readonly Signal[], q: SnapshotQuery): ContextSnapshot {
  const past = all.filter((s) => s.at <= q.at);
  const fires = past.filter((s): s is Fire => s.kind === "fire");
  const since = (w: number) => (s: Signal) => s.at >= q.at - w;
  const onService = (s: { service: string | null }) => q.service !== null && s.service === q.service;
  const keyTransitions = past.filter(
    (s) => (s.kind === "fire" || s.kind === "resolve") && s.source === q.source && s.alertKey === q.alertKey,
  );
  const sameName = fires.filter((s) => onService(s) && s.alertname === q.alertname);
  const last = sameName.length === 0 ? undefined : Math.max(...sameName.map((s) => s.at));
  const first = fires.filter(onService)[0];
  const touched = past.filter(
    (s): s is Extract<Signal, { kind: "fire" | "resend" }> =>
      (s.kind === "fire" || s.kind === "resend") && s.at >= q.at - 10 * MIN,
  );
  const distinct = (xs: string[]) => new Set(xs).size;
  const changes = past.filter(
    (s): s is Extract<Signal, { kind: "change" }> => s.kind === "change" && onService(s),
  );
  const opens = past.filter(
    (s): s is Extract<Signal, { kind: "incident_open" }> => s.kind === "incident_open",
  );
  const openNow = new Map<number, { team: string | null }>();
  for (const s of past) {
    if (s.kind === "incident_open" && !openNow.has(s.incidentId)) openNow.set(s.incidentId, { team: s.team });
    if (s.kind === "incident_close") openNow.delete(s.incidentId);
  }
  return {
    serviceFires10m: fires.filter(onService).filter(since(10 * MIN)).length,
    serviceFires24h: fires.filter(onService).filter(since(DAY)).length,
    keyTransitions1h: keyTransitions.filter(since(HOUR)).length,
    keyTransitions24h: keyTransitions.filter(since(DAY)).length,
    hoursSinceSameAlertname: last === undefined || last < q.at - 7 * DAY ? null : (q.at - last) / HOUR,
    baseline: first !== undefined && first.at <= q.at - DAY,
    otherAlertnames10m: distinct(
      touched.filter((s) => onService(s) && s.alertname !== q.alertname).map((s) => s.alertname),
    ),
    otherSources10m: distinct(
      touched.filter((s) => onService(s) && s.source !== q.source).map((s) => s.source),
    ),
    otherHostAlertnames10m: distinct(
      touched
        .filter((s) => q.host !== null && s.host === q.host && s.alertname !== q.alertname)
        .map((s) => s.alertname),
    ),
    change30m: changes.some(since(30 * MIN)),
    change60m: changes.some(since(HOUR)),
    minutesSinceChange: (() => {
      const last = changes.filter(since(HOUR)).at(-1);
      return last === undefined ? null : (q.at - last.at) / MIN;
    })(),
    serviceIncidents24h: opens.filter(
      (s) => onService(s) && s.at >= q.at - DAY && s.incidentId !== q.incidentId,
    ).length,
    teamOpenIncidents: [...openNow].filter(
      ([id, o]) => q.team !== null && o.team === q.team && id !== q.incidentId,
    ).length,
    teamAlerts1h: fires.filter((s) => q.team !== null && s.team === q.team && s.at >= q.at - HOUR).length,
  };
}

/** The scored incident, as the engine picks it: one that is open now (its service and team), or none. */
function scoredIncident(
  past: readonly Signal[],
  pick: number,
): { incidentId: number | null; service?: string | null; team?: string | null } {
  const open = new Map<number, { service: string | null; team: string | null }>();
  for (const s of past) {
    if (s.kind === "incident_open" && !open.has(s.incidentId))
      open.set(s.incidentId, { service: s.service, team: s.team });
    if (s.kind === "incident_close") open.delete(s.incidentId);
  }
  const ids = [...open.keys()];
  if (ids.length === 0 || pick % (ids.length + 1) === ids.length) return { incidentId: null };
  const id = ids[pick % (ids.length + 1)] as number;
  return { incidentId: id, ...open.get(id) };
}

describe("ContextState properties", () => {
  it("snapshots taken as the engine takes them (in time order) equal the reference", () => {
    fc.assert(
      fc.property(steps, fc.nat(), (ss, pick) => {
        const state = new ContextState();
        const seen: Signal[] = [];
        for (const step of timed(ss)) {
          if ("signal" in step) {
            state.observe(step.signal);
            seen.push(step.signal);
            continue;
          }
          const q: SnapshotQuery = { ...step.query, ...scoredIncident(seen, pick) } as SnapshotQuery;
          expect(state.snapshot(q)).toEqual(reference(seen, q));
        }
      }),
      { numRuns: 150 },
    );
  });

  it("the same signals into two fresh states give identical snapshots", () => {
    fc.assert(
      fc.property(steps, queryArb, fc.integer({ min: 0, max: DAY }), (ss, q, after) => {
        const signals = timed(ss).flatMap((s) => ("signal" in s ? [s.signal] : []));
        const a = stateOf(signals);
        const b = stateOf(signals);
        const at = (signals.at(-1)?.at ?? T) + after;
        for (const incidentId of [null, 1, 2]) {
          expect(a.snapshot({ ...q, at, incidentId })).toEqual(b.snapshot({ ...q, at, incidentId }));
        }
        expect(a.openOn("checkout")).toEqual(b.openOn("checkout"));
      }),
      { numRuns: 100 },
    );
  });

  it("a snapshot never counts signals from after its time", () => {
    fc.assert(
      fc.property(steps, queryArb, fc.double({ min: 0, max: 1, noNaN: true }), (ss, q, where) => {
        const signals = timed(ss).flatMap((s) => ("signal" in s ? [s.signal] : []));
        const end = signals.at(-1)?.at ?? T;
        const at = Math.round(T + (end - T) * where);
        // Open-incident counts are the state as of the latest signal (scores are always taken in
        // time order); every windowed count must ignore what came after the query.
        const { teamOpenIncidents: _a, ...full } = stateOf(signals).snapshot({ ...q, at, incidentId: null });
        const { teamOpenIncidents: _b, ...past } = stateOf(signals.filter((s) => s.at <= at)).snapshot({
          ...q,
          at,
          incidentId: null,
        });
        expect(full).toEqual(past);
      }),
      { numRuns: 150 },
    );
  });

  it("a fire five minutes after the query's time is not in its snapshot (known answer)", () => {
    const s = stateOf([change(T + 5 * MIN), fire(T + 5 * MIN, { alertname: "Later", alertKey: "x" })]);
    expect(s.snapshot(query(T, { alertKey: "x", team: null }))).toMatchObject({
      serviceFires10m: 0,
      serviceFires24h: 0,
      keyTransitions1h: 0,
      change30m: false,
      change60m: false,
      otherAlertnames10m: 0,
    });
  });

  it("the periodic sweep (every 50,000 signals) drops nothing a window can still see", () => {
    // A seeded stream long enough to sweep: 51,000 signals over 10 days on a few services.
    let seed = 42;
    const rand = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const pickOf = <X>(xs: readonly X[]) => xs[Math.floor(rand() * xs.length)] as X;
    const signals: Signal[] = [];
    let t = T;
    let nextId = 1;
    for (let i = 0; i < 51_000; i++) {
      t += Math.floor(rand() * 29_000);
      const r = rand();
      if (r < 0.5)
        signals.push(
          fire(t, {
            source: pickOf(SOURCES),
            alertKey: pickOf(KEYS),
            alertname: pickOf(NAMES),
            service: pickOf(SERVICES),
            host: pickOf(HOSTS),
            team: pickOf(TEAMS),
            incidentId: Math.max(1, nextId - 1),
          }),
        );
      else if (r < 0.7) signals.push(resolve(t, pickOf(KEYS), pickOf(SOURCES)));
      else if (r < 0.8) signals.push(resend(t, { alertname: pickOf(NAMES), service: pickOf(SERVICES) }));
      else if (r < 0.85) signals.push(change(t, pickOf(SERVICES)));
      else if (r < 0.93) signals.push(open(t, nextId++, pickOf(SERVICES), pickOf(TEAMS)));
      else signals.push(close(t, 1 + Math.floor(rand() * nextId)));
    }
    const state = stateOf(signals);
    for (const offset of [0, 40 * MIN]) {
      for (const q of [
        query(t + offset),
        query(t + offset, { source: "logs", alertKey: "k2", alertname: "B", host: "web1", team: "payments" }),
        query(t + offset, { service: "ledger", alertname: "C", team: "search", alertKey: "k3" }),
      ]) {
        expect(state.snapshot(q)).toEqual(reference(signals, q));
      }
    }
  });
});
