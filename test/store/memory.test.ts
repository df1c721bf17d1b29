import fc from "fast-check";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Alert } from "../../src/core/alert.js";
import type { Incident } from "../../src/core/incident.js";
import type { Store, Timer, TimerKind, Tx } from "../../src/engine/ports.js";
import { MemoryStore } from "../../src/store/memory/store.js";
import { SqliteStore } from "../../src/store/sqlite/store.js";
import { newAlert, newIncident, resolved, T } from "./fixtures.js";

/** The two stores the engine runs on; the SQLite one is the reference for the memory one. */
let sqlite: SqliteStore;
beforeAll(async () => {
  sqlite = await SqliteStore.open({ path: ":memory:", durability: "normal" });
});
afterAll(async () => {
  await sqlite.close();
});

const STORES: [string, () => Store][] = [
  ["memory", () => new MemoryStore()],
  [
    "sqlite",
    () => {
      for (const t of ["timers", "alerts", "incidents"]) sqlite.db.prepare(`DELETE FROM ${t}`).run();
      sqlite.forgetCached();
      return sqlite;
    },
  ],
];

describe.each(STORES)("%s store: alerts and incidents as the engine sees them", (_name, make) => {
  it("currentAlert returns nothing once the incident resolved, even inside the same transaction", () => {
    const store = make();
    const { incidentId, alertId } = store.transaction((tx) => {
      const incidentId = tx.insertIncident(newIncident());
      const alertId = tx.insertAlert(newAlert(incidentId));
      return { incidentId, alertId };
    });
    store.transaction((tx) => {
      expect(tx.currentAlert("metrics", "k1")?.id).toBe(alertId);
      expect(tx.currentAlert("logs", "k1")).toBeUndefined();
      expect(tx.openIncident("metrics", "g1")?.id).toBe(incidentId);
      const incident = tx.incident(incidentId) as Incident;
      tx.saveAlert({ ...(tx.alert(alertId) as Alert), status: "resolved", resolvedAt: T + 1000 });
      tx.saveIncident(resolved(incident));
      expect(tx.currentAlert("metrics", "k1")).toBeUndefined();
      expect(tx.openIncident("metrics", "g1")).toBeUndefined();
      // The same key firing again in the same transaction opens a new incident and a new alert.
      const again = tx.insertIncident(newIncident());
      const alert2 = tx.insertAlert(newAlert(again));
      expect(again).not.toBe(incidentId);
      expect(tx.currentAlert("metrics", "k1")?.id).toBe(alert2);
      expect(tx.openIncident("metrics", "g1")?.id).toBe(again);
    });
    store.transaction((tx) => {
      const cur = tx.currentAlert("metrics", "k1");
      expect(cur).toBeDefined();
      expect(cur?.id).not.toBe(alertId);
      expect(cur?.status).toBe("firing");
    });
  });

  it("firing alerts and last seen of an incident", () => {
    const store = make();
    store.transaction((tx) => {
      const id = tx.insertIncident(newIncident());
      const a = tx.insertAlert(newAlert(id, { alertKey: "a", lastSeen: T + 5 }));
      tx.insertAlert(newAlert(id, { alertKey: "b", lastSeen: T + 9 }));
      tx.saveAlert({ ...(tx.alert(a) as Alert), status: "resolved", resolvedAt: T + 6 });
      expect(tx.firingAlerts(id).map((x) => x.alertKey)).toEqual(["b"]);
      expect(tx.alertsOf(id).map((x) => x.alertKey)).toEqual(["a", "b"]);
      expect(tx.lastSeen(id)).toBe(T + 9);
      tx.touchAlert({
        id: a,
        lastSeen: T + 20,
        eventCount: 4,
        endsAt: null,
        annotations: { z: "1" },
        raw: {},
      });
      expect(tx.lastSeen(id)).toBe(T + 20);
      expect(tx.alert(a)?.eventCount).toBe(4);
    });
  });
});

describe("memory store: eviction", () => {
  it("a resolved incident goes to onClose once, at the end of its transaction, with its alerts", () => {
    const closed: Incident[] = [];
    const store = new MemoryStore({ onClose: (i) => closed.push(i) });
    const { id, alertId } = store.transaction((tx) => {
      const id = tx.insertIncident(newIncident());
      return { id, alertId: tx.insertAlert(newAlert(id)) };
    });
    store.transaction((tx) => {
      tx.saveIncident(resolved(tx.incident(id) as Incident));
      tx.saveIncident(resolved(tx.incident(id) as Incident)); // saved twice: still one close
      expect(closed).toEqual([]);
      // Still readable while the transaction runs (a closing incident's alerts, e.g. for training).
      expect(store.alertsOfIncident(id).map((a) => a.id)).toEqual([alertId]);
    });
    expect(closed.map((i) => [i.id, i.status])).toEqual([[id, "resolved"]]);
    expect(store.incident(id)).toBeUndefined();
    expect(store.alert(alertId)).toBeUndefined();
    expect(store.alertsOfIncident(id)).toEqual([]);
    expect(store.openIncidents()).toEqual([]);
  });

  it("open incidents stay; only the resolved one goes", () => {
    const closed: number[] = [];
    const store = new MemoryStore({ onClose: (i) => closed.push(i.id) });
    const [a, b] = store.transaction((tx) => [
      tx.insertIncident(newIncident({ groupKey: "a" })),
      tx.insertIncident(newIncident({ groupKey: "b" })),
    ]) as [number, number];
    store.transaction((tx) => tx.saveIncident(resolved(tx.incident(a) as Incident)));
    expect(closed).toEqual([a]);
    expect(store.openIncidents().map((i) => i.id)).toEqual([b]);
    expect(store.openIncident("metrics", "b")?.id).toBe(b);
    expect(store.openIncident("metrics", "a")).toBeUndefined();
  });
});

describe.each(STORES)("%s store: a transaction that throws", (_name, make) => {
  // The engine swallows a failing timer's error (engine.ts runDueTimers) and goes on: whatever
  // the failed transaction wrote must not stay behind, as SQLite rolls it back.
  it("leaves nothing behind", () => {
    const store = make();
    const before = store.transaction((tx) => tx.insertIncident(newIncident({ groupKey: "kept" })));
    expect(() =>
      store.transaction((tx) => {
        const id = tx.insertIncident(newIncident({ groupKey: "lost" }));
        tx.insertAlert(newAlert(id, { alertKey: "lost" }));
        tx.armTimer("incident_quiet", id, T, "set");
        tx.saveIncident({ ...(tx.incident(before) as Incident), summary: "changed" });
        throw new Error("boom");
      }),
    ).toThrow("boom");
    store.transaction((tx) => {
      expect(tx.openIncident("metrics", "lost")).toBeUndefined();
      expect(tx.currentAlert("metrics", "lost")).toBeUndefined();
      expect(tx.incident(before)?.summary).toBe("p99 high");
    });
    expect(store.stats(0).timers).toBe(0);
  });
});

// --- timers --------------------------------------------------------------------------------

const claim = (store: Store, now: number, limit = 100, owner = "w1", leaseMs = 30_000): Timer[] =>
  store.claimDueTimers(now, owner, leaseMs, limit);
const arm = (
  store: Store,
  ref: number,
  due: number,
  mode: "set" | "earliest" = "set",
  kind: TimerKind = "incident_quiet",
) => store.transaction((tx: Tx) => tx.armTimer(kind, ref, due, mode));
const refs = (ts: Timer[]) => ts.map((t) => t.ref);

describe.each(STORES)("%s store: timers", (_name, make) => {
  it("are claimed in due order, up to the limit, only when due", () => {
    const store = make();
    for (const [ref, due] of [
      [1, T + 50],
      [2, T + 10],
      [3, T + 40],
      [4, T + 20],
      [5, T + 30],
    ] as const)
      arm(store, ref, due);
    expect(claim(store, T + 5)).toEqual([]);
    const first = claim(store, T + 35, 2);
    expect(refs(first)).toEqual([2, 4]);
    expect(first.map((t) => t.dueAt)).toEqual([T + 10, T + 20]);
    expect(first.every((t) => t.leaseOwner === "w1" && t.leaseUntil === T + 35 + 30_000)).toBe(true);
    expect(refs(claim(store, T + 35))).toEqual([5]);
    expect(refs(claim(store, T + 100))).toEqual([3, 1]);
    expect(claim(store, T + 100)).toEqual([]);
  });

  it("a claimed timer is not claimed again while its lease holds; finishing deletes it", () => {
    const store = make();
    arm(store, 1, T);
    const [t] = claim(store, T);
    expect(t?.attempts).toBe(1);
    expect(claim(store, T + 1000)).toEqual([]);
    store.transaction((tx) => tx.finishTimer(t as Timer, "w1"));
    expect(store.stats(0).timers).toBe(0);
    expect(claim(store, T + 100_000)).toEqual([]);
  });

  it("a re-armed timer is claimed at its new time only, once", () => {
    const store = make();
    arm(store, 1, T + 10);
    arm(store, 1, T + 60); // set: later
    expect(claim(store, T + 30)).toEqual([]);
    expect(claim(store, T + 60).map((t) => t.dueAt)).toEqual([T + 60]);
    expect(claim(store, T + 1000)).toEqual([]);
    arm(store, 2, T + 500);
    arm(store, 2, T + 200); // set: earlier
    expect(claim(store, T + 300).map((t) => [t.ref, t.dueAt])).toEqual([[2, T + 200]]);
  });

  it("'earliest' only ever moves a timer earlier", () => {
    const store = make();
    arm(store, 1, T + 100, "earliest");
    arm(store, 1, T + 300, "earliest");
    arm(store, 1, T + 50, "earliest");
    arm(store, 1, T + 70, "earliest");
    expect(claim(store, T + 49)).toEqual([]);
    expect(claim(store, T + 1000).map((t) => t.dueAt)).toEqual([T + 50]);
    expect(claim(store, T + 1000)).toEqual([]);
  });

  it("cancelled timers are not claimed; kinds with the same ref are separate timers", () => {
    const store = make();
    arm(store, 1, T + 10, "set", "incident_quiet");
    arm(store, 1, T + 20, "set", "alert_expiry");
    store.transaction((tx) => tx.cancelTimer("incident_quiet", 1));
    const got = claim(store, T + 100);
    expect(got.map((t) => [t.kind, t.ref])).toEqual([["alert_expiry", 1]]);
    store.transaction((tx) => tx.cancelTimer("alert_expiry", 7)); // nothing there: no error
  });

  it("re-armed while claimed: the old holder can neither finish nor re-arm it", () => {
    const store = make();
    arm(store, 1, T);
    const [t] = claim(store, T, 10, "w1");
    arm(store, 1, T + 500); // someone re-arms it: the lease is cleared
    store.transaction((tx) => {
      tx.finishTimer(t as Timer, "w1");
      tx.rearmClaimed(t as Timer, "w1", T + 50);
    });
    expect(claim(store, T + 100)).toEqual([]);
    const again = claim(store, T + 500, 10, "w2");
    expect(again.map((x) => [x.ref, x.dueAt, x.leaseOwner])).toEqual([[1, T + 500, "w2"]]);
  });

  it("rearmClaimed moves a claimed timer to its next time", () => {
    const store = make();
    arm(store, 1, T);
    const [t] = claim(store, T);
    store.transaction((tx) => tx.rearmClaimed(t as Timer, "w1", T + 600));
    expect(claim(store, T + 599)).toEqual([]);
    const next = claim(store, T + 600);
    expect(next.map((x) => [x.ref, x.dueAt, x.attempts])).toEqual([[1, T + 600, 1]]);
    expect(store.stats(0).timers).toBe(1);
  });

  // The engine leaves a timer claimed when running it throws (engine.ts runDueTimers); the lease
  // is what lets it run again (ports.ts: "claimed under a lease"; EngineOptions.leaseMs).
  it("a claimed timer whose lease ran out is claimed again", () => {
    const store = make();
    arm(store, 1, T);
    expect(refs(claim(store, T, 10, "w1", 1000))).toEqual([1]);
    expect(claim(store, T + 999, 10, "w2", 1000)).toEqual([]);
    const again = claim(store, T + 1000, 10, "w2", 1000);
    expect(again.map((x) => [x.ref, x.leaseOwner, x.attempts])).toEqual([[1, "w2", 2]]);
  });
});

// --- property: random timer operations against a reference model -------------------------

type Op =
  | { op: "arm"; kind: TimerKind; ref: number; due: number; mode: "set" | "earliest" }
  | { op: "cancel"; kind: TimerKind; ref: number }
  | { op: "advance"; by: number }
  | { op: "claim"; limit: number; owner: string }
  | { op: "finish"; pick: number; owner: string }
  | { op: "rearm"; pick: number; owner: string; due: number };

const kindArb = fc.constantFrom<TimerKind>("incident_quiet", "alert_expiry");
const refArb = fc.integer({ min: 1, max: 4 });
const dueArb = fc.integer({ min: -50, max: 150 });
const ownerArb = fc.constantFrom("w1", "w2");
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant("arm" as const),
    kind: kindArb,
    ref: refArb,
    due: dueArb,
    mode: fc.constantFrom<"set" | "earliest">("set", "earliest"),
  }),
  fc.record({ op: fc.constant("cancel" as const), kind: kindArb, ref: refArb }),
  fc.record({ op: fc.constant("advance" as const), by: fc.integer({ min: 0, max: 60 }) }),
  fc.record({ op: fc.constant("claim" as const), limit: fc.integer({ min: 1, max: 5 }), owner: ownerArb }),
  fc.record({ op: fc.constant("finish" as const), pick: fc.nat(), owner: ownerArb }),
  fc.record({ op: fc.constant("rearm" as const), pick: fc.nat(), owner: ownerArb, due: dueArb }),
);

/** The reference: a map of timers; a claim takes the due, unleased ones, earliest first. */
function runAgainstReference(store: Store, ops: readonly Op[]): void {
  const ref = new Map<string, { kind: TimerKind; ref: number; due: number; owner: string | null }>();
  const key = (kind: TimerKind, r: number) => `${kind}/${r}`;
  const claimed: Timer[] = [];
  let now = T;
  const LEASE = 1e12; // leases never run out here
  for (const o of ops) {
    switch (o.op) {
      case "arm": {
        const due = now + o.due;
        const cur = ref.get(key(o.kind, o.ref));
        if (o.mode === "set" || cur === undefined || due < cur.due)
          ref.set(key(o.kind, o.ref), { kind: o.kind, ref: o.ref, due, owner: null });
        store.transaction((tx) => tx.armTimer(o.kind, o.ref, due, o.mode));
        break;
      }
      case "cancel":
        ref.delete(key(o.kind, o.ref));
        store.transaction((tx) => tx.cancelTimer(o.kind, o.ref));
        break;
      case "advance":
        now += o.by;
        break;
      case "claim": {
        const due = [...ref.values()]
          .filter((t) => t.owner === null && t.due <= now)
          .sort((a, b) => a.due - b.due);
        const got = store.claimDueTimers(now, o.owner, LEASE, o.limit);
        // Ties may be broken either way: the same number, the same due times, each one due.
        expect(got.map((t) => t.dueAt).sort((a, b) => a - b)).toEqual(
          due.slice(0, o.limit).map((t) => t.due),
        );
        for (const t of got) {
          const r = ref.get(key(t.kind, t.ref));
          expect(r?.owner).toBeNull();
          expect(r?.due).toBe(t.dueAt);
          if (r !== undefined) r.owner = o.owner;
          expect(t.leaseOwner).toBe(o.owner);
          claimed.push(t);
        }
        break;
      }
      case "finish": {
        const t = claimed[o.pick % Math.max(1, claimed.length)];
        if (t === undefined) break;
        const r = ref.get(key(t.kind, t.ref));
        if (r !== undefined && r.owner === o.owner) ref.delete(key(t.kind, t.ref));
        store.transaction((tx) => tx.finishTimer(t, o.owner));
        break;
      }
      case "rearm": {
        const t = claimed[o.pick % Math.max(1, claimed.length)];
        if (t === undefined) break;
        const r = ref.get(key(t.kind, t.ref));
        if (r !== undefined && r.owner === o.owner) {
          r.due = now + o.due;
          r.owner = null;
        }
        store.transaction((tx) => tx.rearmClaimed(t, o.owner, now + o.due));
        break;
      }
    }
    expect(store.stats(0).timers).toBe(ref.size);
  }
}

describe("timer properties", () => {
  let mem: MemoryStore;
  beforeEach(() => {
    mem = new MemoryStore();
  });

  it("memory store: random arm / cancel / claim / finish / re-arm sequences match the reference", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        mem = new MemoryStore();
        runAgainstReference(mem, ops);
        // Nothing due and unleased is left behind in the reference that the store would not give.
        const pending = mem.nextTimerDue();
        if (pending !== null) expect(mem.claimDueTimers(pending, "w9", 1e12, 1)).toHaveLength(1);
      }),
      { numRuns: 150 },
    );
  });

  it("sqlite store: the same sequences match the same reference", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
        sqlite.db.prepare("DELETE FROM timers").run();
        runAgainstReference(sqlite, ops);
      }),
      { numRuns: 50 },
    );
  });
});
