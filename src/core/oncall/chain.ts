/**
 * Escalation chains as data, and one pure step function: given where an escalation stands and
 * what just happened, it returns what should happen next (who to notify, when to look again).
 * The engine carries the result out. No clock, no I/O.
 */

export type Target =
  | { kind: "schedule"; schedule: string }
  | { kind: "user"; user: string }
  | { kind: "channel"; channel: string };

export interface ChainStep {
  targets: readonly Target[];
  /** How long to wait for an acknowledgement before the next step. */
  delayMs: number;
}

export interface Chain {
  name: string;
  steps: readonly ChainStep[];
  /** How many more times the whole chain runs after the first pass (0: once). */
  repeat: number;
  /** An acknowledged, unresolved incident escalates again after this long (null: never). */
  ackTimeoutMs: number | null;
}

/** Snapshotted onto the incident when escalation starts: later config edits do not touch it. */
export interface Escalation {
  chain: Chain;
  /** The step whose targets were notified last. */
  step: number;
  round: number;
  twoPerson: boolean;
  startedAt: number;
  /** Bumped on every start, stop and restart: a timer carrying an older fence is stale. */
  fence: number;
  state: "running" | "acknowledged" | "exhausted" | "stopped";
}

export type EscalationEvent =
  | { kind: "start"; chain: Chain; twoPerson: boolean }
  | { kind: "step_due"; fence: number }
  | { kind: "acknowledged" }
  | { kind: "ack_timeout"; fence: number }
  | { kind: "resolved" }
  /** A handoff or reroute: this escalation ends, another may start. */
  | { kind: "stopped" };

export interface Notify {
  target: Target;
  step: number;
  round: number;
}

/** What should happen next, as data. */
export interface EscalationPlan {
  escalation: Escalation | null;
  notify: Notify[];
  /** The single escalation timer to arm (replacing any other), or null to cancel it. */
  timer: { kind: "escalation_step" | "ack_timeout"; dueAt: number; fence: number } | null;
  /** The incident should go back to triggered (an ack timed out). */
  reopen: boolean;
  /** Nothing to do: a stale timer or an event that does not apply. */
  stale: boolean;
}

const nothing = (e: Escalation | null): EscalationPlan => ({
  escalation: e,
  notify: [],
  timer: null,
  reopen: false,
  stale: true,
});

export function stepEscalation(current: Escalation | null, ev: EscalationEvent, now: number): EscalationPlan {
  switch (ev.kind) {
    case "start": {
      const fence = (current?.fence ?? 0) + 1;
      const e: Escalation = {
        chain: ev.chain,
        step: 0,
        round: 0,
        twoPerson: ev.twoPerson,
        startedAt: now,
        fence,
        state: "running",
      };
      return notifyStep(e, now, ev.twoPerson);
    }
    case "step_due": {
      if (current === null || current.state !== "running" || ev.fence !== current.fence)
        return nothing(current);
      let step = current.step + 1;
      let round = current.round;
      if (step >= current.chain.steps.length) {
        if (round >= current.chain.repeat) {
          return {
            escalation: { ...current, state: "exhausted" },
            notify: [],
            timer: null,
            reopen: false,
            stale: false,
          };
        }
        round++;
        step = 0;
      }
      // A new round starts from the top: a two-person escalation pages two people again.
      return notifyStep({ ...current, step, round }, now, step === 0 && current.twoPerson);
    }
    case "acknowledged": {
      if (current === null || current.state === "stopped") return nothing(current);
      const fence = current.fence + 1;
      const e: Escalation = { ...current, state: "acknowledged", fence };
      const t = current.chain.ackTimeoutMs;
      return {
        escalation: e,
        notify: [],
        timer: t === null ? null : { kind: "ack_timeout", dueAt: now + t, fence },
        reopen: false,
        stale: false,
      };
    }
    case "ack_timeout": {
      if (current === null || current.state !== "acknowledged" || ev.fence !== current.fence)
        return nothing(current);
      // Nobody resolved it: start the chain again from the top.
      const restarted: Escalation = {
        ...current,
        step: 0,
        round: 0,
        fence: current.fence + 1,
        state: "running",
        startedAt: now,
      };
      return { ...notifyStep(restarted, now, current.twoPerson), reopen: true };
    }
    case "resolved":
    case "stopped":
      if (current === null) return nothing(current);
      return {
        escalation: { ...current, state: "stopped", fence: current.fence + 1 },
        notify: [],
        timer: null,
        reopen: false,
        stale: false,
      };
    default: {
      const never: never = ev;
      throw new Error(`unknown escalation event ${JSON.stringify(never)}`);
    }
  }
}

/** Notifies the step (and the next one too when two people are paged at once), arms the wait. */
function notifyStep(e: Escalation, now: number, twoPerson: boolean): EscalationPlan {
  const steps = e.chain.steps;
  const first = steps[e.step];
  if (first === undefined)
    return { escalation: { ...e, state: "exhausted" }, notify: [], timer: null, reopen: false, stale: false };
  const notify: Notify[] = first.targets.map((target) => ({ target, step: e.step, round: e.round }));
  let delay = first.delayMs;
  let last = e.step;
  const second = twoPerson ? steps[e.step + 1] : undefined;
  if (second !== undefined) {
    for (const target of second.targets) notify.push({ target, step: e.step + 1, round: e.round });
    delay = second.delayMs;
    last = e.step + 1;
  }
  return {
    escalation: { ...e, step: last },
    notify,
    timer: { kind: "escalation_step", dueAt: now + delay, fence: e.fence },
    reopen: false,
    stale: false,
  };
}
