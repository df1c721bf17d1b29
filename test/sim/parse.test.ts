import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { VirtualClock } from "../../src/core/clock.js";
import { formatProblem, PagewiseError } from "../../src/core/errors.js";
import { type HttpCall, scriptedHttp } from "../../src/sim/http.js";
import { parseScenario } from "../../src/sim/parse.js";
import { withMaintenance } from "../../src/sim/run.js";
import { EXAMPLE_CONFIG_TEXT } from "../helpers.js";

const config = parseConfig(EXAMPLE_CONFIG_TEXT, {});
const HEAD = "name: unit\nstart: 2026-12-01T03:00:00Z\nduration: 1h\n";

function problems(text: string, cfg = config): string[] {
  try {
    parseScenario(text, cfg);
  } catch (err) {
    if (err instanceof PagewiseError) return err.problems.map(formatProblem);
    throw err;
  }
  throw new Error("the scenario was accepted");
}

describe("scenario files", () => {
  it("repeats an event, counting {{n}} in its strings, and keeps events in time order", () => {
    const s = parseScenario(
      `${HEAD}events:
  - at: 10m
    ack: { ref: pod-2, by: bob }
  - at: 1m
    repeat: { times: 3, every: 30s }
    alert: { ref: "pod-{{n}}", source: prometheus, summary: "pod {{n}} down", service: checkout, labels: { pod: "p{{n}}" } }
expect:
  - route: { incident: "pod-3#1", is: page }
`,
      config,
    );
    expect(s.events.map((e) => [e.at, e.event.kind])).toEqual([
      [60_000, "alert"],
      [90_000, "alert"],
      [120_000, "alert"],
      [600_000, "ack"],
    ]);
    const third = s.events[2]?.event;
    expect(
      third?.kind === "alert" && [
        third.ref,
        third.signal.alertKey,
        third.signal.summary,
        third.signal.labels,
      ],
    ).toEqual(["pod-3", "pod-3", "pod 3 down", { pod: "p3" }]);
    expect(s.expect[0]).toMatchObject({ kind: "route", incident: { ref: "pod-3", nth: 1 }, is: "page" });
  });

  it("refuses unknown keys in an alert, a repeat past the end, and an ack before its alert fires", () => {
    expect(
      problems(`${HEAD}events:
  - at: 5m
    ack: { ref: late, by: alice }
  - at: 50m
    repeat: { times: 30, every: 1m }
    alert: { ref: late, summary: x, sevrity: critical }
  - at: 0s
    repeat: { times: 2, every: 1m }
    outage: { channel: payments-chat, for: 1m }
`),
    ).toEqual([
      'events[0].ack.ref: no alert with ref "late" fires at or before this event (line 6)',
      "events[1].repeat: runs past the end of the run (see duration) (line 8)",
      "events[1].alert.sevrity: unknown key (expected one of: ref, source, dedup_key, summary, severity, service, labels, annotations, links, upstream_score) (line 9)",
      "events[2].repeat: works with alert, resolve, ack, deploy and heartbeat (line 11)",
    ]);
    expect(
      problems(`${HEAD}events:
  - at: 50m
    repeat: { times: 30, every: 1m }
    alert: { ref: "x{{n}}", summary: x }
`),
    ).toEqual(["events[0].repeat: runs past the end of the run (see duration) (line 6)"]);
  });

  it("asks which one is meant when a name is both a team and a channel", () => {
    const text = EXAMPLE_CONFIG_TEXT.replace(
      "  - { name: ops-feed, kind: webhook,",
      '  - { name: search, kind: webhook, url: "http://127.0.0.1:8080/-/sink/x" }\n  - { name: ops-feed, kind: webhook,',
    );
    const clash = parseConfig(text, {});
    const events = "events:\n  - at: 0s\n    alert: { ref: a, summary: x }\n";
    expect(problems(`${HEAD}${events}expect:\n  - notified: { who: search }\n`, clash)).toEqual([
      'expect[0].notified.who: "search" is a team and a channel: write team:search or channel:search (line 8)',
    ]);
    const ok = parseScenario(`${HEAD}${events}expect:\n  - notified: { who: "channel:search" }\n`, clash);
    expect(ok.expect[0]).toMatchObject({ who: { kind: "channel", name: "search" } });
  });

  it("checks answers, maintenance and silences", () => {
    expect(
      problems(`${HEAD}http:
  - { url: "ftp://x", status: 99 }
  - { url: "http://x/y", error: refused, status: 500 }
events:
  - at: 0s
    maintenance: { id: default, for: 1h }
  - at: 0s
    silence: { matchers: ['service=~"(abc"'], for: 0s }
`),
    ).toEqual([
      "http[0].url: must be an http(s) URL (line 5)",
      "http[0].status: must be an HTTP status from 100 to 599 (line 5)",
      "http[1].error: an error answer has no status or body (line 6)",
      "events[0].maintenance: needs service, services or matchers (what the window covers) (line 9)",
      'events[0].maintenance.id: "default" is already an id in the policy (line 9)',
      'events[1].silence.matchers[0]: "service=~"(abc"": Invalid regular expression: /^(?:(abc)$/: Unterminated group (line 11)',
      "events[1].silence.for: must be longer than 0s (line 11)",
    ]);
  });

  it("adds maintenance to the policy as one-off windows, with a policy version of its own", () => {
    const s = parseScenario(
      `${HEAD}events:
  - at: 10m
    maintenance: { service: search, for: 30m, mute: true }
expect: []
`,
      config,
    );
    const c = withMaintenance(config, s);
    expect(c.policy.version).not.toBe(config.policy.version);
    expect(c.policy.windows.at(-1)).toMatchObject({
      id: "game-day-events-0",
      services: ["search"],
      once: { start: s.start + 10 * 60_000, end: s.start + 40 * 60_000 },
      mute: true,
    });
    expect(JSON.parse(c.policyText).maintenance_windows.at(-1)).toMatchObject({
      once: { start: "2026-12-01T03:10:00.000Z", end: "2026-12-01T03:40:00.000Z" },
    });
    expect(config.policy.windows).toHaveLength(c.policy.windows.length - 1);
  });
});

describe("scripted runbook HTTP", () => {
  it("answers matching requests in turn (the last repeats), anything else with a 200", async () => {
    const clock = new VirtualClock(1000);
    const calls: HttpCall[] = [];
    const http = scriptedHttp(
      [
        { url: "http://r/clean", method: "POST", reply: { kind: "status", status: 500, body: "disk busy" } },
        { url: "http://r/clean", method: "POST", reply: { kind: "status", status: 200, body: "ok" } },
        { url: "http://r/down", method: null, reply: { kind: "error", reason: "connection refused" } },
      ],
      clock,
      calls,
    );
    const req = (method: string, url: string) =>
      http({ method, url, headers: {}, body: null, timeoutMs: 1000 });
    expect(await req("post", "http://r/clean")).toEqual({ kind: "response", status: 500, body: "disk busy" });
    expect(await req("POST", "http://r/clean")).toEqual({ kind: "response", status: 200, body: "ok" });
    expect(await req("POST", "http://r/clean")).toEqual({ kind: "response", status: 200, body: "ok" });
    expect(await req("GET", "http://r/clean")).toEqual({ kind: "response", status: 200, body: "" });
    expect(await req("DELETE", "http://r/down")).toEqual({ kind: "error", reason: "connection refused" });
    expect(calls.map((c) => [c.at, c.method, c.url])).toEqual([
      [1000, "POST", "http://r/clean"],
      [1000, "POST", "http://r/clean"],
      [1000, "POST", "http://r/clean"],
      [1000, "GET", "http://r/clean"],
      [1000, "DELETE", "http://r/down"],
    ]);
  });
});
