import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import type { Message } from "../../src/notify/types.js";
import type { Attempt } from "../../src/sim/channels.js";
import { evaluate, type Facts } from "../../src/sim/expect.js";
import type { IncidentFacts, TimelineFacts } from "../../src/sim/facts.js";
import { parseScenario } from "../../src/sim/parse.js";
import { EXAMPLE_CONFIG_TEXT } from "../helpers.js";

/** Expectations judged on hand-made facts: what a run would have recorded. */

const config = parseConfig(EXAMPLE_CONFIG_TEXT, {});
const START = Date.parse("2026-12-01T03:00:00Z");
const MIN = 60_000;

function scenario(expectations: string) {
  return parseScenario(
    `name: unit
start: 2026-12-01T03:00:00Z
duration: 1h
events:
  - at: 0s
    alert: { ref: disk, source: prometheus, summary: Disk full, service: postgres, labels: { alertname: DiskFull } }
  - at: 0s
    alert: { ref: other, source: prometheus, summary: Other, service: checkout, labels: { alertname: Other } }
expect:
${expectations}`,
    config,
  );
}

function incident(id: number, timeline: Omit<TimelineFacts, "incidentId">[] = []): IncidentFacts {
  return {
    id,
    summary: `incident ${id}`,
    service: "postgres",
    team: "platform",
    status: "triggered",
    openedAt: START,
    route: null,
    decisions: [],
    timeline: timeline.map((t) => ({ ...t, incidentId: id })),
  };
}

let nextId = 1;
function runbook(at: number, playbook: string, status: string, run = 7): Omit<TimelineFacts, "incidentId"> {
  return {
    id: nextId++,
    at: START + at,
    kind: "runbook",
    actor: "pagewise",
    detail: { run, playbook, status },
  };
}

function facts(expectations: string, over: Partial<Facts>): Facts {
  return {
    scenario: scenario(expectations),
    attempts: [],
    incidents: [incident(1), incident(2)],
    refs: new Map([
      ["disk", [1]],
      ["other", [2]],
    ]),
    statusAt: new Map(),
    ...over,
  };
}

const verdicts = (f: Facts) =>
  evaluate(f, config).map((v) => ({ passed: v.passed, text: v.text, detail: v.detail }));

describe("runbook expectations", () => {
  const timeline = [
    runbook(0, "disk-cleanup", "running"),
    runbook(MIN, "restart-api", "failed", 8),
    runbook(2 * MIN, "disk-cleanup", "succeeded"),
    // Same instant as the one before: the later entry (by id) is the last word.
    runbook(3 * MIN, "restart-api", "rolling_back", 8),
    runbook(3 * MIN, "restart-api", "rolled_back", 8),
  ];

  it("reads the last timeline entry of each playbook", () => {
    const f = facts(
      `  - runbook: { name: disk-cleanup, status: succeeded }
  - runbook: { name: disk-cleanup, status: running }
  - runbook: { name: restart-api, status: rolled_back, incident: disk }
  - runbook: { name: restart-api, status: failed }
  - runbook: { name: never-ran, status: succeeded }
`,
      { incidents: [incident(1, timeline), incident(2)] },
    );
    expect(verdicts(f)).toEqual([
      {
        passed: true,
        text: "runbook disk-cleanup succeeded",
        detail: "runbook disk-cleanup ended succeeded (run 7, incident #1, at +2m00s)",
      },
      {
        passed: false,
        text: "runbook disk-cleanup running",
        detail: "runbook disk-cleanup ended succeeded (run 7, incident #1, at +2m00s)",
      },
      {
        passed: true,
        text: "runbook restart-api rolled_back for disk",
        detail: "runbook restart-api ended rolled_back (run 8, incident #1, at +3m00s)",
      },
      {
        passed: false,
        text: "runbook restart-api failed",
        detail: "runbook restart-api ended rolled_back (run 8, incident #1, at +3m00s)",
      },
      { passed: false, text: "runbook never-ran succeeded", detail: "runbook never-ran never ran" },
    ]);
  });

  it("looks only at the named incident, and ignores other timeline kinds", () => {
    const f = facts(
      `  - runbook: { name: disk-cleanup, status: succeeded, incident: other }
  - runbook: { name: disk-cleanup, status: awaiting_approval, incident: disk }
`,
      {
        incidents: [
          incident(1, [
            runbook(0, "disk-cleanup", "awaiting_approval"),
            {
              id: 99,
              at: START + MIN,
              kind: "escalated",
              actor: "pagewise",
              detail: { playbook: "disk-cleanup", status: "succeeded" },
            },
          ]),
          incident(2),
        ],
      },
    );
    expect(verdicts(f).map((v) => [v.passed, v.detail])).toEqual([
      [false, "runbook disk-cleanup never ran"],
      [true, "runbook disk-cleanup ended awaiting_approval (run 7, incident #1, at +0m00s)"],
    ]);
  });
});

function attempt(
  at: number,
  channel: string,
  recipient: string | null,
  key: string,
  over: Partial<Attempt> = {},
): Attempt {
  const message = {
    kind: "page",
    incidentId: 1,
    idempotencyKey: key,
    title: "[CRITICAL] Disk full",
  } as Message;
  return {
    seq: at,
    at: START + at,
    channel,
    channelKind: "webhook",
    recipient,
    message,
    outcome: "delivered",
    reason: null,
    ...over,
  };
}

describe("notified and not_notified", () => {
  const attempts = [
    attempt(0, "user-webhook", "dave", "1:1:0:0:schedule:platform-primary:dave:webhook"),
    attempt(10 * MIN, "platform-alerts", null, "1:1:0:1:channel:platform-alerts"),
    attempt(11 * MIN, "user-webhook", "carol", "1:1:0:0:user:carol:webhook", {
      outcome: "retry",
      reason: "HTTP 503",
    }),
  ];

  it("matches schedules by the chain step, teams by channel or people, channels by name or kind", () => {
    const f = facts(
      `  - notified: { who: platform-primary, channel: webhook, within: 1m, incident: disk }
  - notified: { who: team:platform, within: 0s }
  - notified: { who: platform-alerts, within: 10m }
  - notified: { who: dave, channel: platform-alerts }
  - notified: { who: carol }
  - not_notified: { team: payments }
  - not_notified: { who: dave, kind: triage }
  - not_notified: { team: platform }
`,
      { attempts },
    );
    expect(verdicts(f).map((v) => [v.passed, v.detail])).toEqual([
      [true, "first: dave via user-webhook at +0m00s (page, incident #1)"],
      [true, "first: dave via user-webhook at +0m00s (page, incident #1)"],
      [true, "first: platform-alerts at +10m00s (page, incident #1)"],
      [false, "dave was first notified at +0m00s via user-webhook"],
      [
        false,
        "carol was never notified (1 attempt failed, last: HTTP 503); notified instead: dave via user-webhook at +0m00s (page, incident #1), platform-alerts at +10m00s (page, incident #1)",
      ],
      [true, "team payments got no page/triage/notify message"],
      [true, "dave got no triage message"],
      [
        false,
        "dave via user-webhook at +0m00s (page, incident #1), platform-alerts at +10m00s (page, incident #1) was delivered",
      ],
    ]);
  });

  it("measures within from the incident's opening when one is named, else from the start", () => {
    const late = { ...incident(1), openedAt: START + 9 * MIN };
    const f = facts(
      `  - notified: { who: platform-alerts, within: 1m, incident: disk }
  - notified: { who: platform-alerts, within: 1m }
`,
      { attempts, incidents: [late, incident(2)] },
    );
    expect(verdicts(f).map((v) => v.passed)).toEqual([true, false]);
  });

  it("says nobody was notified when nothing was delivered", () => {
    const f = facts("  - notified: { who: dave, within: 5m }\n", { attempts: [] });
    expect(verdicts(f)[0]).toMatchObject({
      passed: false,
      detail: "dave was never notified; nobody was notified",
    });
  });
});

describe("incident and pages expectations", () => {
  it("reads statuses at the checkpoint and counts paged incidents once per team", () => {
    const paged = (id: number, team: string, muted: string | null = null): IncidentFacts => ({
      ...incident(id),
      team,
      decisions: [1, 2].map((n) => ({
        id: id * 10 + n,
        incidentId: id,
        at: START,
        reason: "opened",
        route: "page",
        rule: "r",
        score: 0.9,
        band: "high",
        modifiers: [],
        mutedBy: muted,
        held: false,
      })),
    });
    const f = facts(
      `  - incident: { ref: disk, status: acknowledged, by: 30m }
  - incident: { ref: other, status: acknowledged, by: 30m }
  - pages: { at_most: 1 }
  - pages: { team: platform, count: 1 }
  - pages: { team: search, count: 0 }
`,
      {
        incidents: [paged(1, "platform"), paged(2, "payments"), paged(3, "payments", "window w")],
        statusAt: new Map([
          [
            30 * MIN,
            new Map([
              [1, "acknowledged" as const],
              [2, "triggered" as const],
            ]),
          ],
        ]),
      },
    );
    expect(verdicts(f).map((v) => [v.passed, v.detail])).toEqual([
      [true, "#1 was acknowledged at +30m00s"],
      [false, "#2 was triggered at +30m00s"],
      [true, "platform 1 page (#1); payments 1 page (#2)"],
      [true, "platform 1 page (#1)"],
      [true, "search 0 pages"],
    ]);
  });
});
