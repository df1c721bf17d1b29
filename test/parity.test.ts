import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../src/config/load.js";
import { VirtualClock } from "../src/core/clock.js";
import { FEATURES } from "../src/core/scoring/features.js";
import { DEFAULT_MODEL } from "../src/core/scoring/model.js";
import type { DecisionScore } from "../src/engine/scoring.js";
import { runHistory } from "../src/replay/runner.js";
import { createService, type Service } from "../src/service.js";
import { tempDir } from "./helpers.js";

/**
 * No train/serve skew: the same stream through the live service (HTTP, SQLite, a restart in the
 * middle that rebuilds the context from the store) and through the history runner (memory store)
 * must produce the same decisions with the same feature vectors, field by field.
 */
const CONFIG = `
scoring:
  upstream_annotations: [z]
teams:
  - name: payments
    timezone: Europe/Berlin
services:
  - name: checkout
    team: payments
    tier: 0
  - name: ledger
    team: payments
    tier: 1
    timezone: America/New_York
sources:
  - name: metrics
    kind: generic
    key: metrics-key-123
    reliability: high
    group_by: [alertname, service]
  - name: logs
    kind: generic
    key: logs-key-1234
    reliability: low
    auto_resolve_after: 30m
  - name: detector
    kind: generic
    key: detector-key-1
`;
const KEY: Record<string, string> = {
  metrics: "metrics-key-123",
  logs: "logs-key-1234",
  detector: "detector-key-1",
};

const T = Date.parse("2026-11-27T13:00:00Z");
const m = (minutes: number) => new Date(T + minutes * 60_000).toISOString();

/** Deploys, flapping, corroboration across alertnames and sources, upstream scores, quiet periods. */
const STREAM = [
  {
    at: m(0),
    source: "metrics",
    summary: "p99 high",
    service: "checkout",
    labels: { alertname: "Latency", host: "web1" },
  },
  {
    at: m(1),
    source: "logs",
    summary: "errors",
    service: "checkout",
    labels: { alertname: "ErrorLog", host: "web1" },
  },
  {
    at: m(2),
    source: "detector",
    summary: "anomaly",
    service: "checkout",
    labels: { alertname: "Anomaly" },
    upstream_score: 0.8,
  },
  { at: m(3), source: "metrics", action: "change", summary: "deploy v42", service: "checkout" },
  {
    at: m(4),
    source: "metrics",
    summary: "p99 high",
    service: "checkout",
    labels: { alertname: "Latency", host: "web2" },
  },
  {
    at: m(5),
    source: "logs",
    summary: "disk",
    dedup_key: "disk-db1",
    service: "ledger",
    severity: "error",
    labels: { alertname: "Disk" },
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
  },
  {
    at: m(12),
    source: "detector",
    summary: "z spike",
    service: "ledger",
    labels: { alertname: "Spike" },
    annotations: { z: "7.5" },
  },
  { at: m(30), source: "metrics", summary: "queue", service: "payments-api", labels: { alertname: "Queue" } },
  // After the logs source's 30m auto-resolve: the same key opens a new incident.
  {
    at: m(75),
    source: "logs",
    summary: "disk",
    dedup_key: "disk-db1",
    service: "ledger",
    severity: "error",
    labels: { alertname: "Disk" },
  },
  { at: m(76), source: "metrics", action: "change", summary: "config change", service: "ledger" },
  {
    at: m(80),
    source: "detector",
    summary: "z spike",
    service: "ledger",
    labels: { alertname: "Spike" },
    annotations: { z: "2.1" },
  },
  {
    at: m(26 * 60),
    source: "metrics",
    summary: "p99 high",
    service: "checkout",
    labels: { alertname: "Latency", host: "web1" },
  },
  {
    at: m(26 * 60 + 1),
    source: "detector",
    summary: "new",
    service: "checkout",
    labels: { alertname: "Fresh" },
    upstream_score: 0.3,
  },
];

interface Decision {
  incidentId: number;
  reason: string;
  features: Record<string, number>;
}

let dispose: (() => Promise<void>) | null = null;
afterEach(async () => {
  await dispose?.();
  dispose = null;
});

async function live(dir: string): Promise<Decision[]> {
  const clock = new VirtualClock(T);
  const dbPath = join(dir, "live.db");
  const open = () =>
    createService({ config: parseConfig(CONFIG, {}), dbPath, durability: "normal", clock, worker: false });
  let svc: Service = await open();
  dispose = () => svc.close();
  for (const [i, ev] of STREAM.entries()) {
    const at = Date.parse(ev.at);
    // Timers fire at their due time, as the runner fires them.
    for (let due = svc.store.nextTimerDue(); due !== null && due <= at; due = svc.store.nextTimerDue()) {
      if (clock.now() < due) clock.set(due);
      svc.engine.runDueTimers();
    }
    clock.set(at);
    const res = await svc.app.inject({
      method: "POST",
      url: "/ingest/events",
      headers: { authorization: `Bearer ${KEY[ev.source]}`, "content-type": "application/json" },
      payload: JSON.stringify(ev),
    });
    expect(res.statusCode, JSON.stringify(res.json())).toBe(200);
    if (i === 9) {
      // A restart: the context must come back from the store exactly.
      await svc.close();
      svc = await open();
    }
  }
  const rows = svc.store.db.prepare("SELECT incident_id, reason, body FROM decisions ORDER BY id").all() as {
    incident_id: number;
    reason: string;
    body: string;
  }[];
  return rows.map((r) => ({
    incidentId: r.incident_id,
    reason: r.reason,
    features: JSON.parse(r.body).features,
  }));
}

async function replay(dir: string): Promise<Decision[]> {
  const file = join(dir, "history.jsonl");
  writeFileSync(file, `${STREAM.map((e) => JSON.stringify(e)).join("\n")}\n`);
  const out: Decision[] = [];
  await runHistory({
    config: parseConfig(CONFIG, {}),
    files: [file],
    model: DEFAULT_MODEL,
    learn: false,
    feedbackDelayMs: 3_600_000,
    onDecision: (d: DecisionScore) => {
      const features: Record<string, number> = {};
      FEATURES.forEach((f, i) => {
        features[f] = d.features[i] as number;
      });
      out.push({ incidentId: d.incidentId, reason: d.reason, features });
    },
  });
  return out;
}

describe("feature parity between live serving and replay", () => {
  it("makes the same decisions with identical feature vectors", async () => {
    const dir = tempDir();
    try {
      const a = await live(dir.path);
      const b = await replay(dir.path);
      expect(a.length).toBeGreaterThan(10);
      expect(b).toEqual(a);
      // The stream exercises what it claims to: deploys, flapping, corroboration, upstream.
      const seen = (f: string) => a.some((d) => (d.features[f] ?? 0) !== 0);
      for (const f of [
        "change_30m",
        "flap_1h",
        "corr_alertnames",
        "corr_sources",
        "corr_host",
        "upstream",
        "has_upstream",
      ]) {
        expect(seen(f), f).toBe(true);
      }
      expect(a.map((d) => d.reason)).toEqual(
        expect.arrayContaining(["opened", "new_alert", "corroborated", "change"]),
      );
    } finally {
      dir.cleanup();
    }
  });
});
