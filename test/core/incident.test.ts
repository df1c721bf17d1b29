import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  canTransition,
  IllegalTransition,
  INCIDENT_STATUSES,
  type IncidentEvent,
  type IncidentLifecycle,
  type IncidentStatus,
  transition,
} from "../../src/core/incident.js";

const base = (status: IncidentStatus): IncidentLifecycle => ({
  status,
  acknowledgedAt: null,
  acknowledgedBy: null,
  resolvedAt: null,
  resolvedBy: null,
  resolveReason: null,
});

const EVENTS: IncidentEvent[] = [
  { kind: "acknowledge", by: "alice" },
  { kind: "resolve", by: "bob", reason: "manual" },
  { kind: "hold" },
  { kind: "confirm" },
  { kind: "suppress" },
  { kind: "reopen" },
  { kind: "unsuppress" },
];

/** The whole table, written out: what each event does from each status (null = illegal). */
const TABLE: Record<IncidentStatus, Record<IncidentEvent["kind"], IncidentStatus | null>> = {
  triggered: {
    acknowledge: "acknowledged",
    resolve: "resolved",
    hold: "validating",
    confirm: null,
    suppress: "suppressed",
    reopen: null,
    unsuppress: null,
  },
  validating: {
    acknowledge: "acknowledged",
    resolve: "resolved",
    hold: null,
    confirm: "triggered",
    suppress: "suppressed",
    reopen: null,
    unsuppress: null,
  },
  acknowledged: {
    acknowledge: null,
    resolve: "resolved",
    hold: null,
    confirm: null,
    suppress: null,
    reopen: "triggered",
    unsuppress: null,
  },
  resolved: {
    acknowledge: null,
    resolve: null,
    hold: null,
    confirm: null,
    suppress: null,
    reopen: null,
    unsuppress: null,
  },
  suppressed: {
    acknowledge: "acknowledged",
    resolve: "resolved",
    hold: null,
    confirm: null,
    suppress: null,
    reopen: null,
    unsuppress: "triggered",
  },
};

describe("incident transition", () => {
  for (const from of INCIDENT_STATUSES) {
    for (const ev of EVENTS) {
      const expected = TABLE[from][ev.kind];
      it(`${ev.kind} from ${from} -> ${expected ?? "illegal"}`, () => {
        const r = transition(base(from), ev, 1000);
        if (expected === null) {
          expect(r.ok).toBe(false);
          if (!r.ok) {
            expect(r.error).toBeInstanceOf(IllegalTransition);
            expect(r.error.from).toBe(from);
            expect(r.error.message).toContain(from);
          }
          expect(canTransition(from, ev.kind)).toBe(false);
        } else {
          expect(r.ok).toBe(true);
          if (r.ok) expect(r.next.status).toBe(expected);
        }
      });
    }
  }

  it("records who acknowledged and resolved, and when", () => {
    const acked = transition(base("triggered"), { kind: "acknowledge", by: "alice" }, 5000);
    expect(acked.ok && acked.next).toMatchObject({ acknowledgedAt: 5000, acknowledgedBy: "alice" });
    const resolved = transition(base("acknowledged"), { kind: "resolve", by: "bob", reason: "manual" }, 9000);
    expect(resolved.ok && resolved.next).toMatchObject({
      resolvedAt: 9000,
      resolvedBy: "bob",
      resolveReason: "manual",
    });
  });

  it("never leaves resolved, whatever sequence of events follows (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...EVENTS), { maxLength: 30 }), (events) => {
        let state = base("triggered");
        let seenResolved = false;
        for (const ev of events) {
          const r = transition(state, ev, 1);
          if (seenResolved) expect(r.ok).toBe(false);
          if (r.ok) state = r.next;
          if (state.status === "resolved") seenResolved = true;
        }
      }),
    );
  });

  it("does not mutate its input", () => {
    const s = base("triggered");
    transition(s, { kind: "acknowledge", by: "x" }, 1);
    expect(s.status).toBe("triggered");
  });
});
