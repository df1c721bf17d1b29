import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { FEATURE_INDEX } from "../../src/core/scoring/features.js";
import { DEFAULT_STRENGTHS, Learning } from "../../src/core/scoring/learning.js";
import { logit, sigmoid } from "../../src/core/scoring/logistic.js";
import { DEFAULT_MODEL } from "../../src/core/scoring/model.js";
import type { DecisionScore } from "../../src/engine/scoring.js";
import { type RunOptions, type RunResult, runHistory } from "../../src/replay/runner.js";
import { tempDir } from "../helpers.js";

const CONFIG = `
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
sources:
  - name: metrics
    kind: generic
    key: metrics-key-123
    reliability: high
    group_by: [alertname, service]
    auto_resolve_after: 30m
  - name: logs
    kind: generic
    key: logs-key-1234
    reliability: low
`;

const T = Date.parse("2026-11-30T08:00:00Z");
const MIN = 60_000;
const HOUR = 60 * MIN;
const m = (minutes: number) => new Date(T + minutes * MIN).toISOString();

let dir: { path: string; cleanup: () => void };
beforeEach(() => {
  dir = tempDir("pagewise-runner-");
});
afterEach(() => dir.cleanup());

function history(events: Record<string, unknown>[]): string {
  const path = join(dir.path, `h${Math.random().toString(36).slice(2)}.jsonl`);
  writeFileSync(path, `${events.map((e) => JSON.stringify(e)).join("\n")}\n`);
  return path;
}

async function run(
  events: Record<string, unknown>[],
  opts: Partial<RunOptions> = {},
): Promise<RunResult & { decisions: DecisionScore[] }> {
  const decisions: DecisionScore[] = [];
  const result = await runHistory({
    config: parseConfig(CONFIG, {}),
    files: [history(events)],
    model: DEFAULT_MODEL,
    learn: false,
    feedbackDelayMs: HOUR,
    refit: false,
    onDecision: (d) => decisions.push({ ...d, features: Float64Array.from(d.features) }),
    ...opts,
  });
  return { ...result, decisions };
}

const trig = (minutes: number, over: Record<string, unknown> = {}) => ({
  at: m(minutes),
  source: "metrics",
  summary: "p99 high",
  service: "checkout",
  labels: { alertname: "Latency", instance: "a" },
  ...over,
});

describe("runHistory groups incidents as EVENTS.md does", () => {
  const EVENTS = [
    // metrics groups by [alertname, service]: a second instance joins the incident.
    trig(0, { outcome: "false_alarm" }),
    trig(1, { labels: { alertname: "Latency", instance: "b" }, outcome: "genuine" }),
    // Another service is another incident.
    trig(2, { service: "ledger", outcome: "false_alarm" }),
    // logs has no group_by: each dedup key is an incident; a re-send is not a new one.
    trig(3, { source: "logs", dedup_key: "d1", labels: { alertname: "Disk" }, outcome: "false_alarm" }),
    trig(4, { source: "logs", dedup_key: "d1", labels: { alertname: "Disk" }, outcome: "false_alarm" }),
    trig(5, { source: "logs", dedup_key: "d2", labels: { alertname: "Disk" } }),
    // Both alerts of the first incident resolve: it resolves; the same group firing again opens anew.
    trig(6, { action: "resolve", summary: undefined }),
    trig(7, { action: "resolve", summary: undefined, labels: { alertname: "Latency", instance: "b" } }),
    trig(8, { outcome: "genuine" }),
    // A change is context, not an incident; an undeclared source gets its own incidents.
    { at: m(9), source: "metrics", action: "change", summary: "deploy", service: "checkout" },
    trig(10, { source: "mystery", dedup_key: "x1", labels: { alertname: "Odd" }, outcome: "genuine" }),
    // The ledger incident (opened at 2) auto-resolves after 30 quiet minutes: its key opens anew.
    trig(100, { service: "ledger", outcome: "genuine" }),
  ];

  it("counts incidents, their sources and services, and their ground truth", async () => {
    const r = await run(EVENTS);
    expect(r.events).toBe(EVENTS.length);
    expect(r.triggers).toBe(9);
    expect(r.incidentRecords.map((i) => [i.source, i.service, i.labelled, i.genuine])).toEqual([
      ["metrics", "checkout", true, true], // one of its two alerts was genuine
      ["metrics", "ledger", true, false],
      ["logs", "checkout", true, false],
      ["logs", "checkout", false, false],
      ["metrics", "checkout", true, true],
      ["mystery", "checkout", true, true],
      ["metrics", "ledger", true, true],
    ]);
    expect(r.incidentRecords.map((i) => i.openedAt)).toEqual(
      [0, 2, 3, 5, 8, 10, 100].map((x) => T + x * MIN),
    );
    // Incident level: the labelled incidents; alert level: every labelled trigger, re-sends included.
    expect(r.incidents.labels).toEqual([1, 0, 0, 1, 1, 1]);
    expect(r.alerts.labels).toEqual([0, 1, 0, 0, 0, 1, 1, 1]);
    for (const set of [r.incidents, r.alerts]) {
      for (const k of ["pagewise", "baseRate", "severity", "rule"] as const) {
        expect(set[k]).toHaveLength(set.labels.length);
        for (const v of set[k]) expect(v > 0 && v < 1, k).toBe(true);
      }
    }
    expect(r.undeclaredSources).toEqual(["mystery"]);
    // Each incident's score is its highest before its outcome was revealed.
    for (const rec of r.incidentRecords) {
      const mine = r.decisions.filter((d) => d.incidentId === rec.id).map((d) => d.value);
      expect(rec.score).toBe(Math.max(...mine));
    }
  });

  it("makes one training row per decision of a labelled incident, weighted to 1 per incident", async () => {
    const r = await run(EVENTS);
    const byIncident = new Map<number, number>();
    r.rows.forEach((row, i) => {
      const id = r.rowIncidents[i] as number;
      byIncident.set(id, (byIncident.get(id) ?? 0) + row.weight);
    });
    for (const total of byIncident.values()) expect(total).toBeCloseTo(1, 12);
    const labelled = r.incidentRecords.filter((i) => i.labelled).map((i) => i.id);
    expect([...byIncident.keys()].sort((a, b) => a - b)).toEqual(labelled);
  });
});

describe("runHistory with learn", () => {
  // One rule (metrics, Disk) on three services, so three incidents with no context in common.
  const EVENTS = [
    trig(0, { service: "s1", labels: { alertname: "Disk" }, outcome: "genuine" }),
    // Opened a minute before the first incident's outcome is revealed (0 + 60 min).
    trig(59, { service: "s2", labels: { alertname: "Disk" }, outcome: "genuine" }),
    // Opened after it.
    trig(90, { service: "s3", labels: { alertname: "Disk" }, outcome: "false_alarm" }),
  ];
  const score = (r: RunResult, service: string) =>
    r.incidentRecords.find((i) => i.service === service)?.score;

  it("an outcome is invisible to incidents opened before its reveal, visible after", async () => {
    const off = await run(EVENTS, { learn: false });
    const on = await run(EVENTS, { learn: true });
    expect(score(on, "s1")).toBe(score(off, "s1"));
    expect(score(on, "s2")).toBe(score(off, "s2"));
    expect(score(on, "s3")).not.toBe(score(off, "s3"));
    // A genuine outcome raises the rule's next score.
    expect(score(on, "s3") as number).toBeGreaterThan(score(off, "s3") as number);
    expect(off.learning.toJSON().rules).toEqual([]);
    // By the end, every revealed outcome reached fast learning.
    expect(on.learning.ruleCounts("metrics", "Disk")).toEqual({ genuine: 1, falseAlarms: 0 });
  });

  it("an incident opened exactly at the reveal time already sees the outcome", async () => {
    const at = [
      EVENTS[0],
      trig(60, { service: "s2", labels: { alertname: "Disk" }, outcome: "genuine" }),
    ] as Record<string, unknown>[];
    const off = await run(at, { learn: false });
    const on = await run(at, { learn: true });
    expect(score(on, "s2")).not.toBe(score(off, "s2"));
  });

  it("the per-rule baseline is sigmoid of the prior feature: the inventory, then the learned rate", async () => {
    const r = await run(EVENTS, { learn: true });
    const first = (service: string) => {
      const rec = r.incidentRecords.find((i) => i.service === service);
      const d = r.decisions.find((x) => x.incidentId === rec?.id);
      return sigmoid(d?.features[FEATURE_INDEX.prior] as number);
    };
    expect(r.incidents.rule).toEqual(["s1", "s2", "s3"].map(first));
    // Nothing learned yet: the inventory reliability of "high" (0.6).
    expect(r.incidents.rule[0]).toBeCloseTo(0.6, 12);
    expect(r.incidents.rule[1]).toBeCloseTo(0.6, 12);
    // After one genuine outcome: the rule's posterior under the source's typical rule.
    const learned = new Learning();
    learned.record("metrics", "Disk", true);
    const want = learned.rate("metrics", "Disk", 0.6, DEFAULT_STRENGTHS);
    expect(want).toBeCloseTo(0.712, 12);
    expect(r.incidents.rule[2]).toBeCloseTo(want, 12);
    // Alert level too.
    expect(r.alerts.rule).toEqual(r.incidents.rule);
    expect(logit(r.incidents.rule[2] as number)).toBeCloseTo(
      r.decisions.at(-1)?.features[FEATURE_INDEX.prior] as number,
      9,
    );
  });

  it("starts from the learning it is given", async () => {
    const seeded = new Learning();
    for (let i = 0; i < 20; i++) seeded.record("metrics", "Disk", false);
    const r = await run(EVENTS.slice(0, 1), { learning: seeded });
    expect(r.incidents.rule[0] as number).toBeLessThan(0.3);
  });
});
