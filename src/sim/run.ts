import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Config } from "../config/types.js";
import { VirtualClock } from "../core/clock.js";
import { PagewiseError } from "../core/errors.js";
import type { IncidentStatus } from "../core/incident.js";
import type { MaintenanceWindow } from "../core/policy/types.js";
import { toIso } from "../core/time.js";
import type { InboundEvent, SignalEvent } from "../core/types.js";
import { createService, type Service } from "../service.js";
import { type Attempt, type Outage, Switchboard } from "./channels.js";
import { collectIncidents, type IncidentFacts } from "./facts.js";
import { type HttpCall, scriptedHttp } from "./http.js";
import type { Scenario, ScenarioEvent } from "./scenario.js";

/** Everything a game day recorded, for the expectations and the report. */
export interface GameDay {
  scenario: Scenario;
  mode: "capture" | "deliver";
  inputs: Input[];
  attempts: Attempt[];
  http: HttpCall[];
  incidents: IncidentFacts[];
  /** The incidents each ref's alert was in, in order. */
  refs: ReadonlyMap<string, readonly number[]>;
  /** Incident statuses at the offsets expectations ask about: offset -> incident id -> status. */
  statusAt: ReadonlyMap<number, ReadonlyMap<number, IncidentStatus>>;
}

/** One scenario event as it was carried out. */
export interface Input {
  seq: number;
  at: number;
  event: ScenarioEvent;
  incidentId: number | null;
  /** What the engine made of it: opened, joined, acknowledged, ... or refused: why. */
  outcome: string;
}

type Outcome = Pick<Input, "incidentId" | "outcome">;

/** The longest step of the virtual clock: workers without a due time still run this often. */
const TICK_MS = 15_000;
/** Passes at one instant before the run gives up: more means work that keeps making work. */
const MAX_PASSES = 1_000;

/**
 * Runs a scenario through the whole service (real policy, schedules, chains, timers and outbox)
 * on a virtual clock and a scratch SQLite file. `deliver` sends messages for real; otherwise
 * they are captured and runbook HTTP is answered from the scenario.
 */
export async function runGameDay(opts: {
  config: Config;
  scenario: Scenario;
  deliver: boolean;
}): Promise<GameDay> {
  const { scenario, deliver } = opts;
  const dir = mkdtempSync(join(tmpdir(), "pagewise-sim-"));
  const clock = new VirtualClock(scenario.start);
  const board = new Switchboard(clock, outages(scenario), deliver);
  const http: HttpCall[] = [];
  let service: Service | undefined;
  try {
    service = await createService({
      config: withMaintenance(opts.config, scenario),
      dbPath: join(dir, "pagewise.db"),
      durability: "normal",
      clock,
      worker: false,
      // Seeded jitter: the same scenario gives the same timeline.
      delivery: { channelFor: board.channelFor, random: seeded(scenario.name) },
      automation: deliver ? {} : { http: scriptedHttp(scenario.http, clock, http) },
    });
    const run = new Run(service, clock, scenario);
    await run.all();
    return {
      scenario,
      mode: deliver ? "deliver" : "capture",
      inputs: run.inputs,
      attempts: board.attempts,
      http,
      incidents: await collectIncidents(service.store),
      refs: run.refs,
      statusAt: run.statusAt,
    };
  } finally {
    await service?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

class Run {
  readonly inputs: Input[] = [];
  readonly refs = new Map<string, number[]>();
  readonly statusAt = new Map<number, Map<number, IncidentStatus>>();
  /** The latest trigger of each ref: a resolve is the same alert key from the same source. */
  private readonly alerts = new Map<string, SignalEvent>();
  private readonly marks: Set<number>;

  constructor(
    private readonly service: Service,
    private readonly clock: VirtualClock,
    private readonly scenario: Scenario,
  ) {
    this.marks = new Set(scenario.expect.flatMap((e) => (e.kind === "incident" ? [e.byMs] : [])));
  }

  async all(): Promise<void> {
    const { start, durationMs, events } = this.scenario;
    const end = start + durationMs;
    let i = 0;
    for (;;) {
      const now = this.clock.now();
      for (let e = events[i]; e !== undefined && start + e.at <= now; e = events[++i]) this.apply(e.event);
      await this.settle();
      if (this.marks.has(now - start)) await this.snapshot(now - start);
      if (now >= end) return;
      const next = [now + TICK_MS, end, ...[...this.marks].map((m) => start + m), ...this.due()];
      const nextEvent = events[i];
      if (nextEvent !== undefined) next.push(start + nextEvent.at);
      this.clock.set(Math.min(...next.filter((t) => t > now)));
    }
  }

  /** When timers and retries fall due (a timer still leased may already be past: skipped). */
  private due(): number[] {
    const store = this.service.store;
    const out = store.deliveries({ status: "pending", limit: 10_000 }).map((d) => d.nextAttemptAt);
    const timer = store.nextTimerDue();
    if (timer !== null) out.push(timer);
    return out;
  }

  /** Runs timers, runbook steps and the outbox until nothing more is due at this instant. */
  private async settle(): Promise<void> {
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      const timers = this.service.engine.drainTimers();
      const steps = await this.service.runner.drain();
      const sent = await this.service.deliverer.drain();
      if (timers + steps + sent === 0) return;
    }
    throw new Error(`work kept coming at ${toIso(this.clock.now())}: a timer or delivery loop`);
  }

  private async snapshot(offset: number): Promise<void> {
    const statuses = new Map<number, IncidentStatus>();
    for (const id of new Set([...this.refs.values()].flat())) {
      const incident = await this.service.store.getIncident(id);
      if (incident !== undefined) statuses.set(id, incident.status);
    }
    this.statusAt.set(offset, statuses);
  }

  private latest(ref: string): number | null {
    return this.refs.get(ref)?.at(-1) ?? null;
  }

  /** Feeds one event through the entry points the HTTP routes use; a refusal is part of the story. */
  private apply(event: ScenarioEvent): void {
    let r: Outcome;
    try {
      r = this.carryOut(event);
    } catch (err) {
      if (!(err instanceof PagewiseError)) throw err;
      const ref =
        event.kind === "alert" || event.kind === "ack" || event.kind === "resolve" ? event.ref : null;
      r = { incidentId: ref === null ? null : this.latest(ref), outcome: `refused: ${err.message}` };
    }
    this.inputs.push({ seq: this.inputs.length, at: this.clock.now(), event, ...r });
  }

  private carryOut(event: ScenarioEvent): Outcome {
    const engine = this.service.engine;
    switch (event.kind) {
      case "alert": {
        this.alerts.set(event.ref, event.signal);
        const r = this.ingest(event.signal);
        if (r.incidentId !== null) {
          const ids = this.refs.get(event.ref) ?? [];
          if (ids.at(-1) !== r.incidentId) this.refs.set(event.ref, [...ids, r.incidentId]);
        }
        return r;
      }
      case "resolve": {
        if (event.by === null) {
          const alert = this.alerts.get(event.ref) as SignalEvent;
          return this.ingest({ ...alert, action: "resolve" });
        }
        const id = this.mustHave(event.ref);
        return { incidentId: id, outcome: engine.resolve(id, event.by).status };
      }
      case "ack": {
        const id = this.mustHave(event.ref);
        return { incidentId: id, outcome: engine.acknowledge(id, event.by).status };
      }
      case "approve":
      case "reject": {
        const id = this.mustHave(event.ref);
        const waiting = this.service.store
          .runs({ incidentId: id, status: "awaiting_approval", limit: 100 })
          .find((r) => event.playbook === null || r.playbook === event.playbook);
        if (waiting === undefined)
          throw new PagewiseError("PW_NOT_FOUND", `no runbook run of incident ${id} awaits approval`);
        const run = engine.answerRun(waiting.id, event.kind === "approve", event.by);
        return { incidentId: id, outcome: `run ${run.id} ${run.status}` };
      }
      case "heartbeat": {
        const { restored } = engine.heartbeat(event.name, "game-day");
        return { incidentId: null, outcome: restored ? "restored" : "checked in" };
      }
      case "deploy":
        this.ingest(event.change);
        return { incidentId: null, outcome: "change" };
      case "silence": {
        const now = this.clock.now();
        const s = engine.addSilence({
          matchers: event.matchers,
          startsAt: now,
          endsAt: now + event.forMs,
          author: event.author,
          comment: event.comment,
        });
        return { incidentId: null, outcome: `silence ${s.id}` };
      }
      case "outage":
      case "maintenance":
        // Known ahead: the channels and the policy already hold them; noted for the timeline.
        return { incidentId: null, outcome: "scheduled" };
      default: {
        const never: never = event;
        return never;
      }
    }
  }

  private mustHave(ref: string): number {
    const id = this.latest(ref);
    if (id === null) throw new PagewiseError("PW_NOT_FOUND", `alert ${ref} is in no incident`);
    return id;
  }

  private ingest(event: InboundEvent): Outcome {
    const result = this.service.engine.ingest([event]).results[0];
    return {
      outcome: result?.note ? `${result.outcome} (${result.note})` : (result?.outcome ?? "ignored"),
      incidentId: result?.incidentId ?? null,
    };
  }
}

function outages(s: Scenario): Outage[] {
  return s.events.flatMap(({ at, event }) =>
    event.kind === "outage"
      ? [{ channel: event.channel, from: s.start + at, until: s.start + at + event.forMs }]
      : [],
  );
}

/**
 * The scenario's maintenance windows join the policy as one-off windows, exactly as if the config
 * had declared them: the policy text and its version (a hash of the text) change with them.
 */
export function withMaintenance(config: Config, s: Scenario): Config {
  const added: { raw: Record<string, unknown>; window: MaintenanceWindow }[] = [];
  for (const { at, event } of s.events) {
    if (event.kind !== "maintenance") continue;
    const once = { start: s.start + at, end: s.start + at + event.forMs };
    const rationale = `Game day ${s.name}: planned maintenance`;
    added.push({
      raw: {
        id: event.id,
        rationale,
        services: event.services,
        matchers: event.matchers.map((m) => m.text),
        once: { start: toIso(once.start), end: toIso(once.end) },
        mute: event.mute,
      },
      window: {
        id: event.id,
        rationale,
        services: event.services,
        matchers: event.matchers,
        recurring: null,
        once,
        mute: event.mute,
      },
    });
  }
  if (added.length === 0) return config;
  const raw = JSON.parse(config.policyText) as Record<string, unknown>;
  const windows = Array.isArray(raw.maintenance_windows) ? raw.maintenance_windows : [];
  const policyText = JSON.stringify({
    ...raw,
    maintenance_windows: [...windows, ...added.map((a) => a.raw)],
  });
  const version = createHash("sha256").update(policyText).digest("hex").slice(0, 12);
  const policy = {
    ...config.policy,
    version,
    windows: [...config.policy.windows, ...added.map((a) => a.window)],
  };
  return { ...config, policy, policyText };
}

/** mulberry32: a small seeded generator, for the outbox's retry jitter. */
function seeded(seed: string): () => number {
  let a = createHash("sha256").update(seed).digest().readUInt32LE(0);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
