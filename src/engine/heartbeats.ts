import { PAGEWISE_SOURCE } from "../config/types.js";
import type { Heartbeat } from "../core/automation/types.js";
import type { SignalEvent } from "../core/types.js";
import { applyEvents } from "./ingest.js";
import type { Tx } from "./ports.js";
import type { ScoringEnv } from "./scoring.js";
import type { TimerNext } from "./timers.js";

/**
 * Heartbeats: a source promises to check in every N minutes (a ping, or Alertmanager's
 * always-firing Watchdog). Silence past `every + grace` opens an incident of Pagewise's own
 * source, routed by the policy like any other: the monitoring itself is down. The next check-in
 * resolves it.
 */
export function heartbeatKey(name: string): string {
  return `heartbeat:${name}`;
}

/** A check-in. Returns whether it ended a miss. */
export function checkIn(tx: Tx, env: ScoringEnv, hb: Heartbeat, via: string): boolean {
  const state = tx.heartbeat(hb.name);
  const missed = state !== undefined && state.missedAt !== null;
  const id = tx.saveHeartbeat({ name: hb.name, lastSeen: env.now, missedAt: null });
  tx.armTimer("heartbeat", id, env.now + hb.everyMs + hb.graceMs, "set", { name: hb.name });
  if (missed) {
    const out = applyEvents(
      tx,
      [signal(hb, "resolve", env.now, `Heartbeat ${hb.name} checked in again (${via})`)],
      env,
    );
    const incidentId = out.results[0]?.incidentId ?? null;
    if (incidentId !== null)
      tx.addTimeline({
        incidentId,
        at: env.now,
        kind: "heartbeat_restored",
        actor: via,
        detail: { heartbeat: hb.name },
      });
  }
  return missed;
}

/** Arms the watch for heartbeats that have none (first start, or one added by a reload). */
export function watch(tx: Tx, hb: Heartbeat, now: number): void {
  const state = tx.heartbeat(hb.name);
  if (state !== undefined && state.missedAt !== null) return;
  const id = state?.id ?? tx.saveHeartbeat({ name: hb.name, lastSeen: null, missedAt: null });
  const from = state?.lastSeen ?? now;
  // "earliest": a restart never pushes a pending miss later.
  tx.armTimer("heartbeat", id, Math.max(now, from + hb.everyMs + hb.graceMs), "earliest", { name: hb.name });
}

export function heartbeatDue(tx: Tx, env: ScoringEnv, name: string): TimerNext {
  const hb = env.config.heartbeats.get(name);
  const state = tx.heartbeat(name);
  if (hb === undefined || state === undefined || state.missedAt !== null) return { kind: "done" };
  const due = state.lastSeen === null ? env.now : state.lastSeen + hb.everyMs + hb.graceMs;
  if (due > env.now) return { kind: "rearm", dueAt: due };
  const since =
    state.lastSeen === null ? "since Pagewise started" : `since ${new Date(state.lastSeen).toISOString()}`;
  const out = applyEvents(
    tx,
    [signal(hb, "trigger", env.now, `Heartbeat ${hb.name} missed: no check-in ${since}`)],
    env,
  );
  tx.saveHeartbeat({ name, lastSeen: state.lastSeen, missedAt: env.now });
  const incidentId = out.results[0]?.incidentId ?? null;
  if (incidentId !== null)
    tx.addTimeline({
      incidentId,
      at: env.now,
      kind: "heartbeat_missed",
      actor: "pagewise",
      detail: {
        heartbeat: name,
        every_s: hb.everyMs / 1000,
        grace_s: hb.graceMs / 1000,
        last_seen: state.lastSeen,
      },
    });
  return { kind: "done" };
}

function signal(hb: Heartbeat, action: "trigger" | "resolve", at: number, summary: string): SignalEvent {
  const labels: Record<string, string> = { alertname: "HeartbeatMissed", heartbeat: hb.name };
  if (hb.service !== null) labels.service = hb.service;
  return {
    kind: "signal",
    action,
    format: "generic",
    source: PAGEWISE_SOURCE,
    at,
    alertKey: heartbeatKey(hb.name),
    keyGenerated: false,
    groupKey: heartbeatKey(hb.name),
    summary,
    severity: hb.severity,
    service: hb.service,
    labels,
    annotations: {
      description: `${hb.name} promised a check-in every ${hb.everyMs / 60_000} min (grace ${hb.graceMs / 60_000} min). The monitoring or job behind it may be down.`,
    },
    links: [],
    upstreamScore: null,
    outcome: null,
    startsAt: null,
    endsAt: null,
    raw: { heartbeat: hb.name, action },
  };
}
