import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EXAMPLE_CONFIG, killAllChildren, ROOT, runCli, tempDir } from "../e2e/harness.js";
import { httpPeer } from "../notify/peers.js";

/** `pagewise simulate` as an operator meets it: the built CLI, exit codes and what it prints. */

const dir = tempDir("pagewise-sim-cli-");
afterAll(async () => {
  await killAllChildren();
  dir.cleanup();
});

function write(name: string, text: string): string {
  const path = join(dir.path, name);
  writeFileSync(path, text);
  return path;
}

const TIER0 = readFileSync(join(ROOT, "examples/scenarios/tier0-outage-no-ack.yaml"), "utf8");

describe.concurrent("pagewise simulate", () => {
  it("exits 0 and prints the timeline when every expectation holds", async () => {
    const r = await runCli([
      "simulate",
      "--config",
      EXAMPLE_CONFIG,
      join(ROOT, "examples/scenarios/tier0-outage-no-ack.yaml"),
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("+0m00s  03:00:00  #1 page -> bob via user-webhook (webhook)");
    expect(r.stdout).toContain("+5m00s  03:05:00  #1 page -> carol via user-webhook (webhook)");
    expect(r.stdout).toMatch(/\n10 passed, 0 failed\n$/);
  });

  it("exits 1 on a wrong expectation and says what happened instead", async () => {
    const wrong = TIER0.replace(
      /expect:\n[\s\S]*$/,
      `expect:
  - notified: { who: bob, within: 1m }
  - notified: { who: carol, channel: user-webhook, within: 1m }
  - notified: { who: alice, within: 30m }
  - route: { incident: checkout-down, is: triage }
`,
    );
    const r = await runCli(["simulate", "--config", EXAMPLE_CONFIG, write("wrong.yaml", wrong)]);
    expect(r.code).toBe(1);
    const lines = r.stdout.split("\n").map((l) => l.trim());
    expect(lines).toContain(
      "PASS bob notified within 1m: first: bob via user-webhook at +0m00s (page, incident #1)",
    );
    expect(lines).toContain(
      "FAIL expected carol notified via user-webhook within 1m; carol was first notified at +5m00s via user-webhook",
    );
    expect(lines.find((l) => l.startsWith("FAIL expected alice notified within 30m"))).toMatch(
      /; alice was never notified; notified instead: bob via user-webhook at \+0m00s \(page, incident #1\), carol/,
    );
    expect(lines).toContain(
      "FAIL expected checkout-down routed to triage; #1 was routed page; latest decision: page (rule high-confidence-page, score 0.82 high)",
    );
    expect(lines).toContain("1 passed, 3 failed");
  });

  it("refuses a bad scenario file with every problem as path: reason, and exit 1", async () => {
    const bad = `name: broken
start: 2026-12-01T03:00:00Z
duration: 1h
colour: blue
events:
  - at: 5 minutes
    alert: { ref: a, source: prometheus, summary: x, service: checkout, severity: sever }
  - at: 1m
    ack: { ref: b, by: mallory }
  - at: 2h
    outage: { channel: pager-chat, for: 10m }
  - at: 1m
    alert: { ref: c }
    deploy: { service: checkout }
expect:
  - notified: { who: nobody-at-all, within: soon }
  - route: { incident: zzz, is: escalate }
  - pages: { team: payments }
`;
    const r = await runCli(["simulate", "--config", EXAMPLE_CONFIG, write("bad.yaml", bad)]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const problems = r.stderr
      .split("\n")
      .filter((l) => l.startsWith("  "))
      .map((l) => l.trim());
    expect(r.stderr).toMatch(/^error: .*bad\.yaml has \d+ problem\(s\)/);
    for (const p of [
      "colour: unknown key (expected one of: name, description, start, duration, http, events, expect) (line 4)",
      "events[0].at: must be a duration such as 30s, 5m or 1h30m (line 6)",
      'events[1].ack.by: unknown user "mallory" (line 9)',
      'events[1].ack.ref: no alert with ref "b" fires at or before this event (line 9)',
      "events[2].at: is after the end of the run (see duration) (line 10)",
      'events[2].outage.channel: unknown channel "pager-chat" (a configured channel or user-webhook) (line 11)',
      "events[3]: needs exactly one of: alert, resolve, ack, approve, reject, deploy, heartbeat, outage, maintenance, silence (found 2) (line 12)",
      'expect[0].notified.who: unknown user, schedule, team or channel "nobody-at-all" (line 16)',
      "expect[0].notified.within: must be a duration such as 30s, 5m or 1h30m (line 16)",
      'expect[1].route.incident: no alert has ref "zzz" (line 17)',
      "expect[1].route.is: must be one of: page, runbook, triage, validate, notify, suppress (line 17)",
      "expect[2].pages: needs count, at_least or at_most (line 18)",
    ]) {
      expect(problems).toContain(p);
    }
    expect(problems.find((p) => p.startsWith("events[0].alert.severity: "))).toMatch(/ \(line 7\)$/);
    // In file order, so the first problem is the first to fix.
    const lines = problems.map((p) => Number(/\(line (\d+)\)$/.exec(p)?.[1]));
    expect(lines).toEqual([...lines].sort((a, b) => a - b));
  });

  it("prints a stable JSON document with --json", async () => {
    const r = await runCli([
      "simulate",
      "--config",
      EXAMPLE_CONFIG,
      join(ROOT, "examples/scenarios/channel-outage-recovers.yaml"),
      "--json",
    ]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(Object.keys(doc)).toEqual([
      "version",
      "scenario",
      "mode",
      "passed",
      "summary",
      "incidents",
      "timeline",
      "expectations",
    ]);
    expect(doc).toMatchObject({
      version: 1,
      scenario: { name: "channel-outage-recovers", start: "2026-12-01T14:00:00.000Z", duration: "30m" },
      mode: "capture",
      passed: true,
      summary: { incidents: 1, messages_delivered: 1, delivery_failures: 0, expectations_failed: 0 },
      incidents: [
        { id: 1, refs: ["checkout-backlog"], service: "checkout", team: "payments", route: "triage" },
      ],
    });
    expect(doc.summary.delivery_retries).toBeGreaterThan(3);
    const delivered = doc.timeline.filter(
      (e: { type: string; outcome?: string }) => e.type === "message" && e.outcome === "delivered",
    );
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({
      type: "message",
      channel: "payments-chat",
      channel_kind: "webhook",
      recipient: null,
      message_kind: "triage",
      incident: 1,
      reason: null,
    });
    expect(delivered[0].offset_ms).toBeGreaterThanOrEqual(10 * 60_000);
    expect(doc.timeline[0]).toEqual({
      offset: "+0m00s",
      offset_ms: 0,
      at: "2026-12-01T14:00:00.000Z",
      type: "input",
      event: "outage",
      channel: "payments-chat",
      for: "10m",
      incident: null,
      outcome: "scheduled",
    });
    expect(doc.expectations[0]).toEqual({
      path: "expect[0]",
      kind: "route",
      expect: "checkout-backlog routed to triage",
      passed: true,
      detail:
        "#1 was routed triage; latest decision: triage (rule medium-confidence-triage, score 0.46 medium)",
    });
  });
});

describe("pagewise simulate --deliver", () => {
  it("sends the game day's messages for real, holding back an outaged channel until it recovers", async () => {
    const peer = await httpPeer({ status: 200 });
    try {
      const base = peer.url.replace(/\/hook$/, "");
      const config = write(
        "deliver.yaml",
        `server:
  public_url: http://pagewise.test
  link_secret: a-test-link-secret-0123456789
users:
  - { name: alice, webhook: "${base}/alice" }
  - { name: bob, webhook: "${base}/bob" }
schedules:
  - name: primary
    timezone: UTC
    layers:
      - { name: daily, participants: [alice, bob], rotation: daily, handoff: "09:00", start: "2026-11-30" }
chains:
  - name: main
    steps:
      - { targets: [{ schedule: primary }], delay: 5m }
      - { targets: [{ user: bob }, { channel: team-chat }], delay: 5m }
channels:
  - { name: team-chat, kind: webhook, url: "${base}/team-chat" }
teams:
  - { name: ops, chain: main, channel: team-chat }
services:
  - { name: api, team: ops, tier: 1 }
sources:
  - { name: gen, kind: generic, key: gen-key-0123456789, auto_resolve_after: never }
policy:
  rules:
    - id: page-all
      route: { kind: page }
      rationale: In this game day everything pages the owning team.
`,
      );
      const scenario = write(
        "deliver-scenario.yaml",
        `name: deliver-for-real
start: 2026-11-30T14:00:00Z
duration: 20m
events:
  - at: 0s
    outage: { channel: team-chat, for: 10m }
  - at: 0s
    alert: { ref: api-down, summary: API down, service: api, severity: critical }
expect:
  - notified: { who: alice, channel: user-webhook, within: 1m }
  - notified: { who: bob, within: 5m }
  - messages: { who: team-chat, kind: page, count: 1, from: 10m }
`,
      );
      const r = await runCli(["simulate", "--config", config, scenario, "--deliver", "--json"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.stdout);
      expect(doc).toMatchObject({ mode: "deliver", passed: true });

      // The real server got each page once; the outage held team-chat's back, it never reached the wire.
      const got = peer.requests.map((q) => q.url).sort();
      expect(got).toEqual(["/alice", "/bob", "/team-chat"]);
      const chat = peer.requests.find((q) => q.url === "/team-chat");
      expect(JSON.parse(chat?.body ?? "{}")).toMatchObject({
        kind: "page",
        incident_id: 1,
        service: "api",
        note: "step 2 of chain main",
      });
      expect(chat?.headers["idempotency-key"]).toBe("1:1:0:1:channel:team-chat");
      const tries = doc.timeline.filter(
        (e: { channel?: string; type: string }) => e.channel === "team-chat" && e.type === "message",
      );
      expect(tries.length).toBeGreaterThan(1);
      expect(tries.at(-1)).toMatchObject({ outcome: "delivered" });
      expect(tries.slice(0, -1).every((e: { outcome: string }) => e.outcome === "retry")).toBe(true);
    } finally {
      await peer.close();
    }
  });
});
