import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Chain,
  type Escalation,
  type EscalationEvent,
  type EscalationPlan,
  stepEscalation,
  type Target,
} from "../../../src/core/oncall/chain.js";

const MIN = 60_000;
const T0 = Date.parse("2026-11-30T14:00:00Z");

const sched = (schedule: string): Target => ({ kind: "schedule", schedule });
const user = (name: string): Target => ({ kind: "user", user: name });
const chan = (channel: string): Target => ({ kind: "channel", channel });

/** Three steps with different delays, so a wrong step's delay shows in the timer. */
const CHAIN: Chain = {
  name: "main",
  steps: [
    { targets: [sched("primary")], delayMs: 5 * MIN },
    { targets: [user("bob"), chan("team-chat")], delayMs: 7 * MIN },
    { targets: [user("carol")], delayMs: 11 * MIN },
  ],
  repeat: 1,
  ackTimeoutMs: 30 * MIN,
};

const start = (chain: Chain = CHAIN, twoPerson = false): EscalationEvent => ({
  kind: "start",
  chain,
  twoPerson,
});
const due = (e: Escalation | null): EscalationEvent => ({ kind: "step_due", fence: e?.fence ?? -1 });
const ackDue = (e: Escalation | null): EscalationEvent => ({ kind: "ack_timeout", fence: e?.fence ?? -1 });

/** Who a plan notifies, as "step.round:target" strings (step and round 1-based, as people count). */
function who(plan: EscalationPlan): string[] {
  return plan.notify.map((n) => {
    const t = n.target;
    const name = t.kind === "schedule" ? t.schedule : t.kind === "user" ? t.user : t.channel;
    return `${n.step + 1}.${n.round + 1}:${t.kind}:${name}`;
  });
}

/** Feeds events in order, each at its own time, and returns every plan. */
function run(events: ((e: Escalation | null) => EscalationEvent)[], times: number[]): EscalationPlan[] {
  let e: Escalation | null = null;
  const plans: EscalationPlan[] = [];
  events.forEach((make, i) => {
    const plan = stepEscalation(e, make(e), times[i] ?? T0);
    plans.push(plan);
    e = plan.escalation;
  });
  return plans;
}

describe("stepEscalation: start", () => {
  it("notifies the first step's targets and arms the step timer with the first step's delay", () => {
    const plan = stepEscalation(null, start(), T0);
    expect(plan.stale).toBe(false);
    expect(plan.reopen).toBe(false);
    expect(who(plan)).toEqual(["1.1:schedule:primary"]);
    expect(plan.escalation).toMatchObject({ step: 0, round: 0, state: "running", startedAt: T0, fence: 1 });
    expect(plan.escalation?.chain).toBe(CHAIN);
    expect(plan.timer).toEqual({ kind: "escalation_step", dueAt: T0 + 5 * MIN, fence: 1 });
  });

  it("a restart over an older escalation takes a newer fence, so the old timers are stale", () => {
    const first = stepEscalation(null, start(), T0);
    const stopped = stepEscalation(first.escalation, { kind: "stopped" }, T0 + MIN);
    const again = stepEscalation(stopped.escalation, start(), T0 + 2 * MIN);
    expect(again.escalation?.fence).toBeGreaterThan(stopped.escalation?.fence ?? Infinity);
    expect(again.escalation).toMatchObject({ step: 0, round: 0, state: "running", startedAt: T0 + 2 * MIN });
    // The first escalation's timer no longer applies.
    const old = stepEscalation(
      again.escalation,
      { kind: "step_due", fence: first.escalation?.fence ?? 0 },
      T0,
    );
    expect(old).toMatchObject({ stale: true, notify: [], timer: null });
    expect(old.escalation).toBe(again.escalation);
  });

  it("two_person notifies the first two steps at once and waits the second step's delay", () => {
    const plan = stepEscalation(null, start(CHAIN, true), T0);
    expect(who(plan)).toEqual(["1.1:schedule:primary", "2.1:user:bob", "2.1:channel:team-chat"]);
    expect(plan.escalation).toMatchObject({ step: 1, twoPerson: true });
    expect(plan.timer).toEqual({ kind: "escalation_step", dueAt: T0 + 7 * MIN, fence: 1 });
    // The next step is the third, not the second again.
    const next = stepEscalation(plan.escalation, due(plan.escalation), T0 + 7 * MIN);
    expect(who(next)).toEqual(["3.1:user:carol"]);
  });

  it("two_person on a one-step chain notifies that step only", () => {
    const one: Chain = { ...CHAIN, steps: [{ targets: [user("alice")], delayMs: MIN }], repeat: 0 };
    const plan = stepEscalation(null, start(one, true), T0);
    expect(who(plan)).toEqual(["1.1:user:alice"]);
    expect(plan.timer).toEqual({ kind: "escalation_step", dueAt: T0 + MIN, fence: 1 });
  });

  it("a chain without steps is exhausted at once and notifies no one", () => {
    const empty: Chain = { ...CHAIN, steps: [] };
    const plan = stepEscalation(null, start(empty), T0);
    expect(plan).toMatchObject({ notify: [], timer: null, stale: false });
    expect(plan.escalation?.state).toBe("exhausted");
  });
});

describe("stepEscalation: step_due", () => {
  it("walks the steps in order, each timer with that step's delay from now", () => {
    const plans = run([() => start(), due, due], [T0, T0 + 5 * MIN, T0 + 12 * MIN]);
    expect(plans.map(who)).toEqual([
      ["1.1:schedule:primary"],
      ["2.1:user:bob", "2.1:channel:team-chat"],
      ["3.1:user:carol"],
    ]);
    expect(plans.map((p) => p.timer?.dueAt)).toEqual([T0 + 5 * MIN, T0 + 12 * MIN, T0 + 23 * MIN]);
    // Moving on does not change the fence: the fence marks starts and stops, not steps.
    expect(plans.map((p) => p.escalation?.fence)).toEqual([1, 1, 1]);
    expect(plans.map((p) => p.escalation?.step)).toEqual([0, 1, 2]);
  });

  it("repeats the whole chain `repeat` more times, then is exhausted with nothing left armed", () => {
    const plans = run([() => start(), due, due, due, due, due, due], []);
    expect(plans.map(who)).toEqual([
      ["1.1:schedule:primary"],
      ["2.1:user:bob", "2.1:channel:team-chat"],
      ["3.1:user:carol"],
      ["1.2:schedule:primary"],
      ["2.2:user:bob", "2.2:channel:team-chat"],
      ["3.2:user:carol"],
      [],
    ]);
    const last = plans[6] as EscalationPlan;
    expect(last).toMatchObject({ timer: null, stale: false, reopen: false });
    expect(last.escalation).toMatchObject({ state: "exhausted", round: 1 });
    // An exhausted escalation ignores further step timers.
    const after = stepEscalation(last.escalation, due(last.escalation), T0);
    expect(after).toMatchObject({ stale: true, notify: [], timer: null });
  });

  it("repeat 0 runs the chain once", () => {
    const once = { ...CHAIN, repeat: 0 };
    const plans = run([() => start(once), due, due, due], []);
    expect(plans.map((p) => p.notify.length)).toEqual([1, 2, 1, 0]);
    expect(plans[3]?.escalation?.state).toBe("exhausted");
  });

  it("a two_person chain pages two people again when a repeat round starts from the top", () => {
    const plans = run([() => start(CHAIN, true), due, due], []);
    expect(plans.map(who)).toEqual([
      ["1.1:schedule:primary", "2.1:user:bob", "2.1:channel:team-chat"],
      ["3.1:user:carol"],
      ["1.2:schedule:primary", "2.2:user:bob", "2.2:channel:team-chat"],
    ]);
    expect(plans[2]?.timer?.dueAt).toBe(T0 + 7 * MIN);
  });

  it("a step timer with another fence, or with nothing running, does nothing", () => {
    const s = stepEscalation(null, start(), T0).escalation as Escalation;
    for (const fence of [s.fence - 1, s.fence + 1, 0]) {
      const p = stepEscalation(s, { kind: "step_due", fence }, T0 + 5 * MIN);
      expect(p).toEqual({ escalation: s, notify: [], timer: null, reopen: false, stale: true });
    }
    expect(stepEscalation(null, { kind: "step_due", fence: 1 }, T0)).toMatchObject({
      escalation: null,
      stale: true,
    });
  });

  it("a step timer of the current fence after an ack does nothing (the ack bumped the fence)", () => {
    const s = stepEscalation(null, start(), T0).escalation as Escalation;
    const acked = stepEscalation(s, { kind: "acknowledged" }, T0 + MIN).escalation as Escalation;
    // Even one that somehow carries the acknowledged escalation's own fence: state is not running.
    for (const fence of [s.fence, acked.fence]) {
      expect(stepEscalation(acked, { kind: "step_due", fence }, T0 + 5 * MIN)).toMatchObject({
        stale: true,
        notify: [],
      });
    }
  });
});

describe("stepEscalation: acknowledged and ack_timeout", () => {
  it("an ack stops the steps, bumps the fence and arms the ack timeout", () => {
    const s = stepEscalation(null, start(), T0).escalation as Escalation;
    const plan = stepEscalation(s, { kind: "acknowledged" }, T0 + 2 * MIN);
    expect(plan).toMatchObject({ notify: [], stale: false, reopen: false });
    expect(plan.escalation).toMatchObject({ state: "acknowledged", fence: s.fence + 1, step: 0 });
    expect(plan.timer).toEqual({ kind: "ack_timeout", dueAt: T0 + 32 * MIN, fence: s.fence + 1 });
  });

  it("without an ack timeout an ack cancels the timer", () => {
    const s = stepEscalation(null, start({ ...CHAIN, ackTimeoutMs: null }), T0).escalation;
    const plan = stepEscalation(s, { kind: "acknowledged" }, T0 + MIN);
    expect(plan).toMatchObject({ timer: null, stale: false });
    expect(plan.escalation?.state).toBe("acknowledged");
  });

  it("an ack timeout restarts the chain from the top, a new round 1, and asks to reopen", () => {
    // Ack during the second round at step 2: the restart must not continue from there.
    const plans = run(
      [() => start(), due, due, due, due, () => ({ kind: "acknowledged" }), ackDue],
      [T0, T0 + 5 * MIN, T0 + 12 * MIN, T0 + 23 * MIN, T0 + 28 * MIN, T0 + 30 * MIN, T0 + 60 * MIN],
    );
    const acked = plans[5]?.escalation as Escalation;
    expect(acked).toMatchObject({ state: "acknowledged", step: 1, round: 1 });
    const restart = plans[6] as EscalationPlan;
    expect(restart.reopen).toBe(true);
    expect(restart.stale).toBe(false);
    expect(who(restart)).toEqual(["1.1:schedule:primary"]);
    expect(restart.escalation).toMatchObject({
      state: "running",
      step: 0,
      round: 0,
      startedAt: T0 + 60 * MIN,
      fence: acked.fence + 1,
    });
    expect(restart.timer).toEqual({ kind: "escalation_step", dueAt: T0 + 65 * MIN, fence: acked.fence + 1 });
  });

  it("an ack timeout of a two_person escalation pages two people again", () => {
    const plans = run([() => start(CHAIN, true), () => ({ kind: "acknowledged" }), ackDue], []);
    expect(who(plans[2] as EscalationPlan)).toEqual([
      "1.1:schedule:primary",
      "2.1:user:bob",
      "2.1:channel:team-chat",
    ]);
  });

  it("a stale ack timeout (a second ack re-armed it, or it is not acknowledged) does nothing", () => {
    const s = stepEscalation(null, start(), T0).escalation as Escalation;
    const ack1 = stepEscalation(s, { kind: "acknowledged" }, T0 + MIN).escalation as Escalation;
    const ack2 = stepEscalation(ack1, { kind: "acknowledged" }, T0 + 2 * MIN);
    expect(ack2.timer).toEqual({ kind: "ack_timeout", dueAt: T0 + 32 * MIN, fence: ack1.fence + 1 });
    const old = stepEscalation(ack2.escalation, { kind: "ack_timeout", fence: ack1.fence }, T0 + 31 * MIN);
    expect(old).toMatchObject({ stale: true, reopen: false, notify: [] });
    // On a running escalation an ack timeout never applies, whatever its fence.
    expect(stepEscalation(s, { kind: "ack_timeout", fence: s.fence }, T0)).toMatchObject({ stale: true });
    expect(stepEscalation(null, { kind: "ack_timeout", fence: 1 }, T0)).toMatchObject({ stale: true });
  });

  it("an ack on nothing, or on a stopped escalation, does nothing", () => {
    expect(stepEscalation(null, { kind: "acknowledged" }, T0)).toMatchObject({ stale: true, timer: null });
    const s = stepEscalation(null, start(), T0).escalation;
    const stopped = stepEscalation(s, { kind: "resolved" }, T0).escalation as Escalation;
    const p = stepEscalation(stopped, { kind: "acknowledged" }, T0);
    expect(p).toMatchObject({ stale: true, timer: null, escalation: stopped });
  });
});

describe("stepEscalation: resolved and stopped", () => {
  for (const kind of ["resolved", "stopped"] as const) {
    it(`${kind} stops everything from any state and every older timer is stale`, () => {
      const running = stepEscalation(null, start(), T0).escalation as Escalation;
      const acked = stepEscalation(running, { kind: "acknowledged" }, T0).escalation as Escalation;
      for (const e of [running, acked]) {
        const plan = stepEscalation(e, { kind }, T0 + MIN);
        expect(plan).toMatchObject({ notify: [], timer: null, reopen: false, stale: false });
        expect(plan.escalation).toMatchObject({ state: "stopped", fence: e.fence + 1 });
        const stopped = plan.escalation as Escalation;
        for (const fence of [e.fence, stopped.fence]) {
          expect(stepEscalation(stopped, { kind: "step_due", fence }, T0)).toMatchObject({ stale: true });
          expect(stepEscalation(stopped, { kind: "ack_timeout", fence }, T0)).toMatchObject({ stale: true });
        }
      }
      expect(stepEscalation(null, { kind }, T0)).toMatchObject({ stale: true, escalation: null });
    });
  }
});

// ---- properties ----

const targetArb: fc.Arbitrary<Target> = fc.oneof(
  fc.constantFrom("alpha", "beta").map(sched),
  fc.constantFrom("alice", "bob", "carol").map(user),
  fc.constantFrom("chat", "feed").map(chan),
);
const chainArb: fc.Arbitrary<Chain> = fc.record({
  name: fc.constantFrom("a", "b"),
  steps: fc.array(
    fc.record({
      targets: fc.array(targetArb, { minLength: 1, maxLength: 3 }),
      delayMs: fc.integer({ min: 1, max: 60 * MIN }),
    }),
    { minLength: 1, maxLength: 4 },
  ),
  repeat: fc.integer({ min: 0, max: 3 }),
  ackTimeoutMs: fc.option(fc.integer({ min: 1, max: 120 * MIN }), { nil: null }),
});

/** An event recipe: timers either carry the current fence (live) or an arbitrary one (stale). */
type Recipe =
  | { kind: "start"; chain: Chain; twoPerson: boolean }
  | { kind: "step_due" | "ack_timeout"; fence: "current" | number }
  | { kind: "acknowledged" }
  | { kind: "resolved" }
  | { kind: "stopped" };
const recipeArb: fc.Arbitrary<Recipe> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("start" as const), chain: chainArb, twoPerson: fc.boolean() }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constantFrom("step_due" as const, "ack_timeout" as const),
      fence: fc.oneof(
        { weight: 4, arbitrary: fc.constant("current" as const) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 30 }) },
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constantFrom("acknowledged" as const, "resolved" as const, "stopped" as const),
    }),
  },
);
const scenarioArb = fc.record({
  chain: chainArb,
  twoPerson: fc.boolean(),
  events: fc.array(fc.tuple(recipeArb, fc.integer({ min: 0, max: 90 * MIN })), { maxLength: 40 }),
});

function toEvent(r: Recipe, e: Escalation | null): EscalationEvent {
  switch (r.kind) {
    case "start":
    case "acknowledged":
    case "resolved":
    case "stopped":
      return r;
    default: {
      const fence = r.fence === "current" ? (e?.fence ?? 0) : r.fence;
      return r.kind === "step_due" ? { kind: "step_due", fence } : { kind: "ack_timeout", fence };
    }
  }
}

interface Step {
  before: Escalation | null;
  event: EscalationEvent;
  now: number;
  plan: EscalationPlan;
}

function simulate(s: { chain: Chain; twoPerson: boolean; events: [Recipe, number][] }): Step[] {
  let now = T0;
  let e: Escalation | null = null;
  const out: Step[] = [];
  const all: [Recipe, number][] = [
    [{ kind: "start", chain: s.chain, twoPerson: s.twoPerson }, 0],
    ...s.events,
  ];
  for (const [r, wait] of all) {
    now += wait;
    const event = toEvent(r, e);
    const plan = stepEscalation(e, event, now);
    out.push({ before: e, event, now, plan });
    e = plan.escalation;
  }
  return out;
}

const names = (t: Target) => JSON.stringify(t);

describe("stepEscalation properties", () => {
  it("a plan's timer always carries the escalation's fence, lies ahead, and runs only while it should", () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        for (const { now, plan } of simulate(s)) {
          if (plan.timer === null) continue;
          expect(plan.timer.fence).toBe(plan.escalation?.fence);
          expect(plan.timer.dueAt).toBeGreaterThan(now);
          const state = plan.escalation?.state;
          expect(state).toBe(plan.timer.kind === "escalation_step" ? "running" : "acknowledged");
        }
      }),
    );
  });

  it("the fence never decreases, and grows on every start, ack, stop and restart that applies", () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        for (const { before, event, plan } of simulate(s)) {
          const was = before?.fence ?? 0;
          const is = plan.escalation?.fence ?? 0;
          expect(is).toBeGreaterThanOrEqual(was);
          if (plan.stale) expect(plan.escalation).toBe(before);
          else if (event.kind !== "step_due") expect(is).toBe(was + 1);
          else expect(is).toBe(was);
        }
      }),
    );
  });

  it("every notified target belongs to the chain's step and round it names", () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        for (const { plan } of simulate(s)) {
          const e = plan.escalation;
          if (plan.notify.length > 0) expect(e?.state).toBe("running");
          for (const n of plan.notify) {
            const step = e?.chain.steps[n.step];
            expect(step?.targets.map(names)).toContain(names(n.target));
            expect(n.round).toBe(e?.round);
            expect(n.round).toBeLessThanOrEqual(e?.chain.repeat ?? -1);
          }
        }
      }),
    );
  });

  it("after resolved or stopped nothing is notified, armed or reopened until a new start", () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        let ended = false;
        for (const { event, plan } of simulate(s)) {
          if (event.kind === "start") ended = false;
          else if (ended) {
            expect(plan.notify).toEqual([]);
            expect(plan.timer).toBeNull();
            expect(plan.reopen).toBe(false);
            expect(plan.escalation?.state).toBe("stopped");
          }
          if (event.kind === "resolved" || event.kind === "stopped") ended = true;
        }
      }),
    );
  });

  it("a timer whose fence is not the current one never changes anything", () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        for (const { before, event, plan } of simulate(s)) {
          if ((event.kind === "step_due" || event.kind === "ack_timeout") && event.fence !== before?.fence) {
            expect(plan).toEqual({ escalation: before, notify: [], timer: null, reopen: false, stale: true });
          }
        }
      }),
    );
  });

  it("with only live step timers, a chain notifies each step exactly repeat + 1 times in order", () => {
    fc.assert(
      fc.property(chainArb, fc.boolean(), (chain, twoPerson) => {
        let plan = stepEscalation(null, { kind: "start", chain, twoPerson }, T0);
        const seen: string[] = [];
        for (let i = 0; i < 1000 && plan.escalation?.state === "running"; i++) {
          for (const n of plan.notify)
            if (seen.at(-1) !== `${n.round}:${n.step}`) seen.push(`${n.round}:${n.step}`);
          plan = stepEscalation(plan.escalation, due(plan.escalation), T0 + i);
        }
        expect(plan.escalation?.state).toBe("exhausted");
        const want: string[] = [];
        for (let r = 0; r <= chain.repeat; r++)
          for (let st = 0; st < chain.steps.length; st++) want.push(`${r}:${st}`);
        expect(seen).toEqual(want);
      }),
    );
  });
});
