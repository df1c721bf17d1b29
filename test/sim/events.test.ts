import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { evaluate } from "../../src/sim/expect.js";
import { parseScenario } from "../../src/sim/parse.js";
import { type GameDay, runGameDay } from "../../src/sim/run.js";
import { EXAMPLE_CONFIG_TEXT } from "../helpers.js";

/** Scenario events beyond alerts: people's answers, silences, heartbeats, refusals. */

const HEARTBEAT = "\nheartbeats:\n  - { name: nightly-backup, every: 1h, grace: 10m, service: postgres }\n";
const config = parseConfig(EXAMPLE_CONFIG_TEXT + HEARTBEAT, {});
const DISK =
  "{ ref: disk, source: pagerduty, summary: Disk full on db-1, service: postgres, severity: error, labels: { alertname: DiskFull, instance: db-1 } }";

async function run(body: string): Promise<{ day: GameDay; failed: string[] }> {
  const scenario = parseScenario(`name: events\nstart: 2026-12-01T03:00:00Z\nduration: 3h\n${body}`, config);
  const day = await runGameDay({ config, scenario, deliver: false });
  const failed = evaluate(day, config)
    .filter((v) => !v.passed)
    .map((v) => `expected ${v.text}; ${v.detail}`);
  return { day, failed };
}

const outcomes = (day: GameDay) => day.inputs.map((i) => [i.event.kind, i.outcome]);

describe("game day events", () => {
  it("approves a runbook waiting at its gate, and refuses an answer nobody is waiting for", async () => {
    const { day, failed } = await run(`events:
  - at: 0s
    alert: ${DISK}
  - at: 2m
    approve: { ref: disk, by: dave }
  - at: 3m
    reject: { ref: disk, by: erin }
expect:
  - notified: { who: platform-alerts, kind: approval, within: 1m }
  - runbook: { name: disk-cleanup, status: succeeded }
`);
    expect(failed).toEqual([]);
    expect(outcomes(day)).toEqual([
      ["alert", "opened"],
      ["approve", "run 1 running"],
      ["reject", "refused: no runbook run of incident 1 awaits approval"],
    ]);
  });

  it("a rejection takes the route's fallback", async () => {
    const { failed } = await run(`events:
  - at: 0s
    alert: ${DISK}
  - at: 1m
    reject: { ref: disk, by: dave, playbook: disk-cleanup }
expect:
  - runbook: { name: disk-cleanup, status: rejected }
  - route: { incident: disk, is: page, was: runbook }
  - notified: { who: platform-primary, within: 2m }
`);
    expect(failed).toEqual([]);
  });

  it("silences, resolves by a person, and records a refused acknowledgement", async () => {
    const { day, failed } = await run(`events:
  - at: 0s
    silence: { matchers: ['service="checkout"'], for: 30m, comment: load test }
  - at: 1m
    alert: { ref: co, source: prometheus, summary: Checkout down, service: checkout, severity: critical }
  - at: 40m
    alert: { ref: api, source: prometheus, summary: API down, service: payments-api, severity: critical }
  - at: 41m
    resolve: { ref: api, by: bob }
  - at: 42m
    ack: { ref: api, by: bob }
expect:
  - incident: { ref: co, status: suppressed, by: 10m }
  - messages: { incident: co, count: 0, until: 29m }
  # Still firing when the silence ends: decided again, and paged.
  - incident: { ref: co, status: triggered, by: 31m }
  - incident: { ref: api, status: resolved, by: 45m }
`);
    expect(failed).toEqual([]);
    expect(outcomes(day)).toEqual([
      ["silence", "silence 1"],
      ["alert", "opened"],
      ["alert", "opened"],
      ["resolve", "resolved"],
      ["ack", "refused: cannot acknowledge an incident that is resolved"],
    ]);
  });

  it("checks a heartbeat in; when it goes quiet the miss pages its service's team", async () => {
    const { day, failed } = await run(`events:
  - at: 0s
    repeat: { times: 2, every: 1h }
    heartbeat: { name: nightly-backup }
expect:
  - pages: { team: platform, count: 1 }
  - notified: { who: platform-primary, within: 2h10m }
  - not_notified: { team: platform, kind: page }
`);
    // The last expectation is wrong on purpose: the miss did page platform.
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatch(
      /^expected team platform not notified \(page\); dave via user-webhook at \+2h10m00s/,
    );
    expect(outcomes(day)).toEqual([
      ["heartbeat", "checked in"],
      ["heartbeat", "checked in"],
    ]);
  });
});
