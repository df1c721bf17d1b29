import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { VirtualClock } from "../../src/core/clock.js";
import { DEFAULT_MODEL } from "../../src/core/scoring/model.js";
import type { DecisionRecord, StoredDecision } from "../../src/engine/ports.js";
import { runHistory } from "../../src/replay/runner.js";
import { createService, type Service } from "../../src/service.js";
import { tempDir } from "../helpers.js";

/**
 * Decision parity: the same stream through the live service (HTTP, SQLite, timers run at their
 * due instants on a virtual clock) and through `runHistory` with `carryOut` (memory store, the
 * replay clock) must write the same decision records, one by one: incident, time, reason, policy
 * version, route, the whole body, and the hash chain. Validation holds (closed at the window end,
 * confirmed at the end, confirmed early), a muted maintenance window (muted, then unmuted),
 * deploys, flapping and corroboration are all in the stream.
 */

const HOOK = "http://127.0.0.1:9";

const CONFIG = (bands = "default: { high: 0.7, medium: 0.35 }") => `
scoring:
  upstream_annotations: [z]
users:
  - { name: alice, webhook: "${HOOK}/alice" }
  - { name: bob, webhook: "${HOOK}/bob" }
schedules:
  - name: payments-primary
    timezone: Europe/Berlin
    layers:
      - { name: weekly, participants: [alice, bob], rotation: weekly, handoff: "09:00", handoff_day: mon, start: "2026-11-02" }
chains:
  - name: payments-primary
    steps:
      - { targets: [{ schedule: payments-primary }], delay: 5m }
      - { targets: [{ user: bob }, { channel: payments-chat }], delay: 10m }
    repeat: 1
    ack_timeout: 30m
channels:
  - { name: payments-chat, kind: webhook, url: "${HOOK}/payments-chat" }
  - { name: ops-feed, kind: webhook, url: "${HOOK}/ops-feed" }
teams:
  - name: payments
    timezone: Europe/Berlin
    chain: payments-primary
    channel: payments-chat
services:
  - { name: checkout, team: payments, tier: 0 }
  - { name: ledger, team: payments, tier: 1, timezone: America/New_York }
  - { name: billing, team: payments, tier: 2 }
sources:
  - { name: metrics, kind: generic, key: metrics-key-123, reliability: high, group_by: [alertname, service] }
  - { name: logs, kind: generic, key: logs-key-1234, reliability: low, auto_resolve_after: 30m }
  - { name: detector, kind: generic, key: detector-key-1 }
  - { name: probe, kind: generic, key: probe-key-12345, reliability: medium, group_by: [service, hold] }
policy:
  bands:
    ${bands}
    tiers:
      "0": { high: 0.5, medium: 0.2 }
  modifiers:
    - id: recent-deploy
      when: { recent_deploy: 30m }
      shift: { high: -0.1 }
      rationale: Right after a deploy we page on less evidence.
  rules:
    - id: second-alert-pages
      match: { labels: ['hold=~".+"'], count: { alerts: 2, within: 10m } }
      route: { kind: page }
      rationale: Two alerts on a held incident are evidence enough.
    - id: strict-hold
      match: { labels: ['hold=~"strict|early"'] }
      route: { kind: validate, for: 10m, after: { kind: page }, confirm_above: 0.999 }
      rationale: Hold; confirm only on overwhelming evidence.
    - id: lenient-hold
      match: { labels: ['hold="lenient"'] }
      route: { kind: validate, for: 10m, after: { kind: page }, confirm_above: 0 }
      rationale: Hold; confirm when it still fires at the end.
    - id: high-page
      match: { band: high }
      route: { kind: page }
      rationale: Likely real, page the on-call.
    - id: medium-triage
      match: { band: medium }
      route: { kind: triage }
      rationale: Maybe real, triage in the channel.
    - id: default
      route: { kind: notify, channel: ops-feed }
      rationale: Probably noise, tell the feed.
  maintenance_windows:
    - id: ledger-upgrade
      services: [ledger]
      once: { start: "2026-11-27T13:20:00Z", end: "2026-11-27T13:50:00Z" }
      mute: true
      rationale: Planned ledger upgrade, its alerts are expected.
`;

const KEY: Record<string, string> = {
  metrics: "metrics-key-123",
  logs: "logs-key-1234",
  detector: "detector-key-1",
  probe: "probe-key-12345",
};

const T = Date.parse("2026-11-27T13:00:00Z");
const m = (minutes: number) => new Date(T + minutes * 60_000).toISOString();
/** How long replay keeps running timers after the last event (SETTLE_MS in the runner). */
const SETTLE_MS = 86_400_000;

const probe = (at: number, hold: string, key: string, outcome: string) => ({
  at: m(at),
  source: "probe",
  summary: `probe ${key}`,
  dedup_key: key,
  service: "billing",
  severity: "critical",
  labels: { alertname: "Probe", hold },
  outcome,
});

const STREAM: Record<string, unknown>[] = [
  {
    at: m(0),
    source: "metrics",
    summary: "p99 high",
    service: "checkout",
    labels: { alertname: "Latency", host: "web1" },
    outcome: "genuine",
  },
  {
    at: m(1),
    source: "logs",
    summary: "errors",
    service: "checkout",
    labels: { alertname: "ErrorLog", host: "web1" },
    outcome: "genuine",
  },
  {
    at: m(2),
    source: "detector",
    summary: "anomaly",
    service: "checkout",
    labels: { alertname: "Anomaly" },
    upstream_score: 0.8,
    outcome: "genuine",
  },
  // A deploy: re-decides the checkout incidents (reason "change").
  { at: m(3), source: "metrics", action: "change", summary: "deploy v42", service: "checkout" },
  {
    at: m(4),
    source: "metrics",
    summary: "p99 high",
    service: "checkout",
    labels: { alertname: "Latency", host: "web2" },
    outcome: "genuine",
  },
  // Flapping: trigger, resolve, trigger, resolve, trigger of one key.
  {
    at: m(5),
    source: "logs",
    summary: "disk",
    dedup_key: "disk-db1",
    service: "ledger",
    severity: "error",
    labels: { alertname: "Disk" },
    outcome: "false_alarm",
  },
  { at: m(6), source: "logs", action: "resolve", dedup_key: "disk-db1" },
  {
    at: m(7),
    source: "logs",
    summary: "disk",
    dedup_key: "disk-db1",
    service: "ledger",
    severity: "error",
    labels: { alertname: "Disk" },
    outcome: "false_alarm",
  },
  { at: m(8), source: "logs", action: "resolve", dedup_key: "disk-db1" },
  {
    at: m(9),
    source: "logs",
    summary: "disk",
    dedup_key: "disk-db1",
    service: "ledger",
    severity: "critical",
    labels: { alertname: "Disk" },
    outcome: "genuine",
  },
  {
    at: m(12),
    source: "detector",
    summary: "z spike",
    service: "ledger",
    labels: { alertname: "Spike" },
    annotations: { z: "7.5" },
    outcome: "genuine",
  },
  // Validation holds on billing: one closes at its window end (14 -> 24), one is confirmed at its
  // end (16 -> 26), one is confirmed early by a second alert (18, confirmed at 21).
  probe(14, "strict", "strict-1", "false_alarm"),
  probe(16, "lenient", "lenient-1", "genuine"),
  probe(18, "early", "early-1", "genuine"),
  probe(21, "early", "early-2", "genuine"),
  // The ledger maintenance window (20 -> 50, muted): a new alertname re-decides the open ledger
  // incidents (muted), and opens its own muted incident; all still fire when the window closes.
  {
    at: m(22),
    source: "metrics",
    summary: "replication lag",
    service: "ledger",
    labels: { alertname: "Replication" },
    outcome: "genuine",
  },
  // Muted, and resolved before the window closes: never unmuted.
  {
    at: m(28),
    source: "detector",
    summary: "lag",
    dedup_key: "lag-1",
    service: "ledger",
    labels: { alertname: "Lag" },
    outcome: "false_alarm",
  },
  { at: m(30), source: "metrics", summary: "queue", service: "payments-api", labels: { alertname: "Queue" } },
  { at: m(40), source: "detector", action: "resolve", dedup_key: "lag-1" },
  // After the logs source's 30m auto-resolve: the same key opens a new incident.
  {
    at: m(75),
    source: "logs",
    summary: "disk",
    dedup_key: "disk-db1",
    service: "ledger",
    severity: "error",
    labels: { alertname: "Disk" },
    outcome: "false_alarm",
  },
  { at: m(76), source: "metrics", action: "change", summary: "config change", service: "ledger" },
  {
    at: m(80),
    source: "detector",
    summary: "z spike",
    service: "ledger",
    labels: { alertname: "Spike" },
    annotations: { z: "2.1" },
    outcome: "false_alarm",
  },
  {
    at: m(26 * 60),
    source: "metrics",
    summary: "p99 high",
    service: "checkout",
    labels: { alertname: "Latency", host: "web1" },
    outcome: "genuine",
  },
  {
    at: m(26 * 60 + 1),
    source: "detector",
    summary: "new",
    service: "checkout",
    labels: { alertname: "Fresh" },
    upstream_score: 0.3,
    outcome: "false_alarm",
  },
];

let dispose: (() => Promise<void>) | null = null;
afterEach(async () => {
  await dispose?.();
  dispose = null;
});

/** A stored record without its row id: replay's records have none. */
function withoutId({ id: _id, ...record }: StoredDecision): DecisionRecord {
  return record;
}

interface Live {
  records: DecisionRecord[];
  /** How each validation hold ended, by its `hold` label (from the incident's timeline). */
  holds: Record<string, string>;
}

async function live(dir: string, configText: string): Promise<Live> {
  const clock = new VirtualClock(T);
  const start = () =>
    createService({
      config: parseConfig(configText, {}),
      dbPath: join(dir, "live.db"),
      durability: "normal",
      clock,
      worker: false,
    });
  let svc: Service = await start();
  dispose = () => svc.close();
  /** Timers due up to `t` run at their own due instants, in order, as the runner's advance(). */
  const advance = (t: number) => {
    for (let due = svc.store.nextTimerDue(); due !== null && due <= t; due = svc.store.nextTimerDue()) {
      if (clock.now() < due) clock.set(due);
      svc.engine.drainTimers();
    }
  };
  for (const [i, ev] of STREAM.entries()) {
    const at = Date.parse(ev.at as string);
    advance(at);
    // A restart halfway: what the running engine kept in memory (context, peak load, routing)
    // is rebuilt from the database, and the decisions after it must not notice.
    if (i === Math.floor(STREAM.length / 2)) {
      await svc.close();
      svc = await start();
      dispose = () => svc.close();
    }
    if (clock.now() < at) clock.set(at);
    const res = await svc.app.inject({
      method: "POST",
      url: "/ingest/events",
      headers: { authorization: `Bearer ${KEY[ev.source as string]}`, "content-type": "application/json" },
      payload: JSON.stringify(ev),
    });
    expect(res.statusCode, JSON.stringify(res.json())).toBe(200);
  }
  // Holds, escalations and mute checks still running at the end play out, as replay lets them.
  advance(Date.parse(STREAM[STREAM.length - 1]?.at as string) + SETTLE_MS);
  const records = svc.store.decisionsFrom(0, 100_000).map(withoutId);
  const holds: Record<string, string> = {};
  for (const r of records) {
    const hold = (r.body.alert as { labels: Record<string, string> } | undefined)?.labels.hold;
    if (hold === undefined || holds[hold] !== undefined) continue;
    const done = (await svc.store.incidentTimeline(r.incidentId)).find((t) => t.kind === "validated");
    holds[hold] = String(done?.detail.result);
  }
  return { records, holds };
}

async function replay(dir: string, configText: string): Promise<DecisionRecord[]> {
  const file = join(dir, "history.jsonl");
  writeFileSync(file, `${STREAM.map((e) => JSON.stringify(e)).join("\n")}\n`);
  const records: DecisionRecord[] = [];
  await runHistory({
    config: parseConfig(configText, {}),
    files: [file],
    model: DEFAULT_MODEL,
    learn: false,
    feedbackDelayMs: 3_600_000,
    carryOut: true,
    hashDecisions: true,
    // As written, not round-tripped through JSON: a field JSON would drop or change fails here.
    onRecord: (r) => records.push(r),
  });
  return records;
}

/** A short line per record, to show where two chains part. */
const line = (r: DecisionRecord) =>
  `#${r.incidentId} ${new Date(r.at).toISOString()} ${r.reason} -> ${r.route} ${r.hash.slice(0, 8)}`;

function compare(a: DecisionRecord[], b: DecisionRecord[]): void {
  expect(b.map(line), "the decision sequence").toEqual(a.map(line));
  expect(b.length).toBe(a.length);
  a.forEach((x, i) => {
    const y = b[i] as DecisionRecord;
    const at = `record ${i} (${line(x)})`;
    expect(y.incidentId, `${at}: incidentId`).toBe(x.incidentId);
    expect(y.at, `${at}: at`).toBe(x.at);
    expect(y.reason, `${at}: reason`).toBe(x.reason);
    expect(y.policyVersion, `${at}: policyVersion`).toBe(x.policyVersion);
    expect(y.route, `${at}: route`).toBe(x.route);
    expect(y.body, `${at}: body`).toStrictEqual(x.body);
    expect(y.prevHash, `${at}: prevHash`).toBe(x.prevHash);
    expect(y.hash, `${at}: hash`).toBe(x.hash);
  });
}

describe("decision parity between live serving and replay", () => {
  it("writes the same decision records, body and hash chain included", async () => {
    const dir = tempDir();
    try {
      const { records: a, holds } = await live(dir.path, CONFIG());
      const b = await replay(dir.path, CONFIG());
      compare(a, b);

      // The chain is whole: each record links to the one before it.
      a.forEach((r, i) => {
        expect(r.prevHash).toBe(i === 0 ? "" : a[i - 1]?.hash);
      });
      // The stream exercised what it claims to.
      expect(a.length).toBeGreaterThan(30);
      expect(a.map((r) => r.reason)).toEqual(
        expect.arrayContaining([
          "opened",
          "new_alert",
          "corroborated",
          "change",
          "validation_end",
          "unmuted",
        ]),
      );
      expect(a.some((r) => r.route === "page")).toBe(true);
      // Holds: closed at the window end, confirmed at the end (a record of its own that pages),
      // and confirmed early by a second alert (a new_alert decision that pages).
      expect(holds).toEqual({ strict: "not_confirmed", lenient: "confirmed", early: "confirmed" });
      const confirm = a.find((r) => r.reason === "validation_end" && r.body.validation !== undefined);
      expect(confirm?.route).toBe("page");
      const held = (r: DecisionRecord) =>
        (r.body.alert as { labels: Record<string, string> } | undefined)?.labels.hold;
      expect(a.some((r) => held(r) === "early" && r.reason === "new_alert" && r.route === "page")).toBe(true);
      // The maintenance window: muted decisions; incidents still firing at its end are unmuted,
      // and one that resolved during it is not.
      const mutedBy = (r: DecisionRecord) =>
        (r.body.decision as { muted_by: { kind: string } | null } | undefined)?.muted_by ?? null;
      const muted = new Set(a.filter((r) => mutedBy(r)?.kind === "window").map((r) => r.incidentId));
      const unmuted = new Set(a.filter((r) => r.reason === "unmuted").map((r) => r.incidentId));
      expect(unmuted.size).toBeGreaterThan(0);
      for (const id of unmuted) expect(muted.has(id)).toBe(true);
      expect([...muted].some((id) => !unmuted.has(id))).toBe(true);
    } finally {
      dir.cleanup();
    }
  });
});
