import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Alert } from "../../src/core/alert.js";
import type { Incident } from "../../src/core/incident.js";
import type { AlertHead, Tx } from "../../src/engine/ports.js";
import { SqliteStore } from "../../src/store/sqlite/store.js";
import { SqliteTx } from "../../src/store/sqlite/tx.js";
import { newAlert, newIncident, resolved, T } from "./fixtures.js";

/**
 * The re-send path reads alert heads from a cache. Whatever the engine writes, and whatever rolls
 * back, the cached head must be what the query on the file returns (a second SqliteTx on the
 * same connection has an empty cache, so it always asks SQLite).
 */

const KEYS = ["a", "b", "c"];
const GROUPS = ["g1", "g2"];

type Op =
  | { kind: "fire"; key: string; group: string }
  | { kind: "touch"; key: string; endsAt: number | null; annotations: boolean }
  | { kind: "resolveAlert"; key: string }
  | { kind: "resolveIncident"; group: string }
  | { kind: "prune" }
  | { kind: "rollback"; inner: Op };

const key = fc.constantFrom(...KEYS);
const group = fc.constantFrom(...GROUPS);
const leaf: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("fire" as const), key, group }),
  fc.record({
    kind: fc.constant("touch" as const),
    key,
    endsAt: fc.option(fc.integer({ min: T, max: T + 1e6 }), { nil: null }),
    annotations: fc.boolean(),
  }),
  fc.record({ kind: fc.constant("resolveAlert" as const), key }),
  fc.record({ kind: fc.constant("resolveIncident" as const), group }),
  fc.constant({ kind: "prune" as const }),
);
const op: fc.Arbitrary<Op> = fc.oneof(
  leaf,
  leaf,
  leaf,
  fc.record({ kind: fc.constant("rollback" as const), inner: leaf }),
);

let store: SqliteStore;
let fresh: SqliteTx;
beforeAll(async () => {
  store = await SqliteStore.open({ path: ":memory:", durability: "normal" });
  fresh = new SqliteTx(store.db);
});
afterAll(async () => {
  await store.close();
});

let clock = T;

/** What the engine would do for each operation, through the Tx port only. */
function apply(tx: Tx, o: Op): void {
  clock += 1000;
  switch (o.kind) {
    case "fire": {
      const head = tx.alertHead("metrics", o.key);
      if (head !== undefined && head.status === "firing") return;
      const open = tx.openIncident("metrics", o.group);
      const incidentId = open?.id ?? tx.insertIncident(newIncident({ groupKey: o.group, openedAt: clock }));
      tx.insertAlert(newAlert(incidentId, { alertKey: o.key, firstSeen: clock, lastSeen: clock }));
      return;
    }
    case "touch": {
      const head = tx.alertHead("metrics", o.key);
      if (head === undefined) return;
      const touch = { id: head.id, lastSeen: clock, eventCount: head.eventCount + 1, endsAt: o.endsAt };
      tx.touchAlert(o.annotations ? { ...touch, annotations: { n: String(clock) }, raw: {} } : touch);
      return;
    }
    case "resolveAlert": {
      const head = tx.alertHead("metrics", o.key);
      if (head === undefined) return;
      tx.saveAlert({ ...(tx.alert(head.id) as Alert), status: "resolved", resolvedAt: clock });
      return;
    }
    case "resolveIncident": {
      const open = tx.openIncident("metrics", o.group);
      if (open !== undefined) tx.saveIncident({ ...resolved(open as Incident), resolvedAt: clock });
      return;
    }
    case "prune":
      tx.pruneIncidents(clock, 100);
      return;
    case "rollback":
      apply(tx, o.inner);
      throw new Error("rolled back");
  }
}

const truth = (k: string): AlertHead | undefined => fresh.alertHead("metrics", k);

describe("alert head cache", () => {
  it("always answers what a fresh query on the file answers", () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), (ops) => {
        for (const t of ["timers", "events", "alerts", "incidents"])
          store.db.prepare(`DELETE FROM ${t}`).run();
        store.forgetCached();
        for (const o of ops) {
          try {
            store.transaction((tx) => {
              apply(tx, o);
              // Inside the transaction too: the engine reads its own writes.
              for (const k of KEYS) {
                expect(tx.alertHead("metrics", k)).toEqual(cleared(k));
              }
            });
          } catch (err) {
            if ((err as Error).message !== "rolled back") throw err;
          }
          for (const k of KEYS)
            expect(store.transaction((tx) => tx.alertHead("metrics", k))).toEqual(cleared(k));
        }
      }),
      { numRuns: 300 },
    );
  });
});

/** The truth, asked without filling `fresh`'s own cache for the next question. */
function cleared(k: string): AlertHead | undefined {
  const head = truth(k);
  fresh.heads.clear();
  return head;
}
