import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compilePolicy } from "../../../src/config/policy.js";
import type { Problem } from "../../../src/core/errors.js";
import { decide } from "../../../src/core/policy/decide.js";
import { explainDecision, routeFromJson, routeJson, routeText } from "../../../src/core/policy/explain.js";
import type { Decision, DecisionInput, Policy, Route, RouteKind } from "../../../src/core/policy/types.js";

const PAGE: Route = { kind: "page", chain: null, twoPerson: false };

/** One example of every kind, with and without its optional parts. */
const EXAMPLES: Record<RouteKind, [Route, string][]> = {
  page: [
    [PAGE, "page"],
    [{ kind: "page", chain: "payments-primary", twoPerson: false }, "page via chain payments-primary"],
    [
      { kind: "page", chain: "payments-primary", twoPerson: true },
      "page via chain payments-primary, two people at once",
    ],
    [{ kind: "page", chain: null, twoPerson: true }, "page, two people at once"],
  ],
  runbook: [
    [
      { kind: "runbook", playbook: "disk-cleanup", onFailure: PAGE },
      "run playbook disk-cleanup (if it fails: page)",
    ],
    [
      {
        kind: "runbook",
        playbook: "restart",
        onFailure: {
          kind: "validate",
          forMs: 5 * 60_000,
          after: { kind: "notify", channel: "ops" },
          confirmAbove: null,
        },
      },
      "run playbook restart (if it fails: hold for validation for 5 min, then notify ops)",
    ],
  ],
  triage: [
    [{ kind: "triage", team: null, channel: null }, "open a triage with the owning team"],
    [{ kind: "triage", team: "payments", channel: null }, "open a triage with team payments"],
    [
      { kind: "triage", team: null, channel: "morning-triage" },
      "open a triage with the owning team in morning-triage",
    ],
    [
      { kind: "triage", team: "search", channel: "search-chat" },
      "open a triage with team search in search-chat",
    ],
  ],
  validate: [
    [
      {
        kind: "validate",
        forMs: 10 * 60_000,
        after: { kind: "triage", team: null, channel: null },
        confirmAbove: null,
      },
      "hold for validation for 10 min, then open a triage with the owning team",
    ],
    [
      { kind: "validate", forMs: 90_000, after: PAGE, confirmAbove: null },
      "hold for validation for 2 min, then page",
    ],
  ],
  notify: [
    [{ kind: "notify", channel: null }, "notify the secondary channel"],
    [{ kind: "notify", channel: "ops-feed" }, "notify ops-feed"],
  ],
  suppress: [[{ kind: "suppress" }, "record only"]],
};

const ALL_EXAMPLES = Object.values(EXAMPLES).flat();

const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/);
const optName = fc.option(name, { nil: null });
/** Any route, nested as deep as the types allow, with durations in whole seconds. */
const arbRoute: fc.Arbitrary<Route> = fc.letrec<{ route: Route }>((tie) => ({
  route: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant<Route>({ kind: "suppress" }),
    fc.record({ kind: fc.constant("page" as const), chain: optName, twoPerson: fc.boolean() }),
    fc.record({ kind: fc.constant("triage" as const), team: optName, channel: optName }),
    fc.record({ kind: fc.constant("notify" as const), channel: optName }),
    fc.record({ kind: fc.constant("runbook" as const), playbook: name, onFailure: tie("route") }),
    fc.record({
      kind: fc.constant("validate" as const),
      forMs: fc.integer({ min: 1, max: 7 * 86_400 }).map((s) => s * 1000),
      after: tie("route"),
      confirmAbove: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: null }),
    }),
  ),
})).route;

describe("routeText", () => {
  it.each(ALL_EXAMPLES)("%j reads %j", (route, text) => {
    expect(routeText(route)).toBe(text);
  });

  it("has words for every kind", () => {
    for (const [kind, examples] of Object.entries(EXAMPLES)) {
      expect(examples.length, kind).toBeGreaterThan(0);
      for (const [r] of examples) expect(r.kind).toBe(kind);
    }
  });
});

describe("routeJson and routeFromJson", () => {
  it("write snake_case on the wire", () => {
    expect(routeJson({ kind: "page", chain: "c", twoPerson: true })).toEqual({
      kind: "page",
      chain: "c",
      two_person: true,
    });
    expect(routeJson({ kind: "runbook", playbook: "p", onFailure: { kind: "suppress" } })).toEqual({
      kind: "runbook",
      playbook: "p",
      on_failure: { kind: "suppress" },
    });
    expect(routeJson({ kind: "validate", forMs: 600_000, after: PAGE, confirmAbove: null })).toEqual({
      kind: "validate",
      for_s: 600,
      after: { kind: "page", chain: null, two_person: false },
      confirm_above: null,
    });
    expect(routeJson({ kind: "triage", team: null, channel: "x" })).toEqual({
      kind: "triage",
      team: null,
      channel: "x",
    });
    expect(routeJson({ kind: "notify", channel: null })).toEqual({ kind: "notify", channel: null });
    expect(routeJson({ kind: "suppress" })).toEqual({ kind: "suppress" });
  });

  it.each(ALL_EXAMPLES)("round-trip %j", (route) => {
    expect(routeFromJson(routeJson(route))).toEqual(route);
  });

  it("round-trip any route, also through JSON text as records are stored (property)", () => {
    fc.assert(
      fc.property(arbRoute, (route) => {
        expect(routeFromJson(routeJson(route))).toEqual(route);
        const stored = JSON.parse(JSON.stringify(routeJson(route))) as Record<string, unknown>;
        expect(routeFromJson(stored)).toEqual(route);
        expect(routeText(routeFromJson(stored))).toBe(routeText(route));
      }),
      { numRuns: 500 },
    );
  });

  // Bug: routeFromJson() computes forMs as Number(for_s) * 1000, and (n / 1000) * 1000 is not n
  // for many whole numbers of milliseconds: a `validate` held for "1s1ms" (1001 ms) reads back as
  // 1000.9999999999999 ms. Math.round(Number(j.for_s) * 1000) would restore it.
  it("round-trip a validate route held for a duration with milliseconds", () => {
    for (const forMs of [1001, 1003, 60_001, 90_017]) {
      const route: Route = { kind: "validate", forMs, after: PAGE, confirmAbove: null };
      expect(routeFromJson(routeJson(route))).toEqual(route);
    }
  });
});

describe("explainDecision", () => {
  const refs = { teams: new Set(["payments"]), services: new Set(["checkout"]), sources: new Set(["prom"]) };
  const problems: Problem[] = [];
  const policy: Policy = compilePolicy(
    {
      bands: { default: { high: 0.7, medium: 0.3 } },
      modifiers: [
        {
          id: "peak-load",
          when: { team_pages_1h: { at_least: 5 } },
          shift: { high: 0.1, medium: 0.05 },
          rationale: "The team is busy: ask for more evidence.",
        },
        {
          id: "maintenance-cap",
          when: { in_maintenance: true },
          cap: { bands: ["medium", "low"], route: { kind: "notify", channel: "ops-maintenance" } },
          rationale: "Expected during maintenance.",
        },
      ],
      rules: [
        {
          id: "high-page",
          match: { band: "high" },
          route: { kind: "page", chain: "payments-primary" },
          continue: true,
          rationale: "Likely real: wake someone.",
        },
        {
          id: "tell-platform",
          match: { band: "high" },
          route: { kind: "notify", channel: "platform-alerts" },
          rationale: "Platform hears about it too.",
        },
        {
          id: "medium-triage",
          match: { band: "medium" },
          route: { kind: "triage" },
          rationale: "Maybe real: the owning team looks.",
        },
        { id: "default", route: { kind: "notify" }, rationale: "Probably noise." },
      ],
      maintenance_windows: [
        {
          id: "checkout-freeze",
          services: ["checkout"],
          once: { start: "2026-06-03T11:00:00Z", end: "2026-06-03T13:00:00Z" },
          mute: true,
          rationale: "Checkout migration",
        },
      ],
    },
    problems,
    refs,
  );

  const input = (over: Partial<DecisionInput> = {}): DecisionInput => ({
    at: Date.parse("2026-06-04T12:00:00Z"),
    score: 0.5,
    severity: "warning",
    tier: 2,
    team: "payments",
    service: "checkout",
    serviceTimezone: "UTC",
    regulated: false,
    source: "prom",
    labels: { alertname: "Slow" },
    businessHours: true,
    minutesSinceChange: null,
    teamOpenIncidents: 0,
    teamPages1h: 0,
    incidentAlertsWithin: () => 1,
    silence: null,
    inhibitedBy: null,
    ...over,
  });

  it("compiles the policy it explains", () => {
    expect(problems).toEqual([]);
  });

  it("says the route, the rule and its rationale, then the band and the thresholds", () => {
    const text = explainDecision(decide(input({ score: 0.45 }), policy));
    const lines = text.split("\n");
    expect(lines[0]).toBe(
      "Open a triage with the owning team: rule medium-triage. Maybe real: the owning team looks.",
    );
    expect(lines[1]).toBe("Confidence 0.45 is medium (high >= 0.70, medium >= 0.30).");
    expect(text).toContain("Counterfactual: would notify below p = 0.30; p = 0.45.");
    expect(text).not.toContain("Muted by");
    expect(text).not.toContain("maintenance window");
    expect(text).not.toContain("Modifier");
    expect(text).not.toContain("Also");
  });

  it("names the shifts behind the thresholds, every modifier with its effect and rationale, and continue routes", () => {
    const d = decide(input({ score: 0.85, teamPages1h: 6 }), policy);
    const text = explainDecision(d);
    expect(text).toContain("Page via chain payments-primary: rule high-page. Likely real: wake someone.");
    expect(text).toContain("Confidence 0.85 is high (high >= 0.80, medium >= 0.35, after peak-load).");
    expect(text).toContain(
      "Modifier peak-load: thresholds high +0.10, medium +0.05. The team is busy: ask for more evidence.",
    );
    expect(text).toContain("Also (rule tell-platform, continue): notify platform-alerts.");
    expect(text).toContain("Counterfactual: would open a triage below p = 0.80; p = 0.85.");
  });

  it("mentions the maintenance window, the cap and the muting when present", () => {
    const d = decide(input({ at: Date.parse("2026-06-03T12:00:00Z"), score: 0.5 }), policy);
    expect(d.mutedBy?.kind).toBe("window");
    const text = explainDecision(d);
    expect(text.split("\n")[0]).toBe(
      "Notify ops-maintenance: rule medium-triage. Maybe real: the owning team looks.",
    );
    expect(text).toContain("Modifier maintenance-cap: capped triage at notify. Expected during maintenance.");
    expect(text).toContain("In maintenance window checkout-freeze.");
    expect(text).toContain("Muted by window checkout-freeze: Checkout migration. Nothing is sent.");
    // The shifts list stays empty: a cap does not move the thresholds.
    expect(text).toContain("Confidence 0.50 is medium (high >= 0.70, medium >= 0.30).");

    const silenced = explainDecision(decide(input({ silence: { id: "42", comment: "load test" } }), policy));
    expect(silenced).toContain("Muted by silence 42: load test. Nothing is sent.");
    const inhibited = explainDecision(
      decide(input({ inhibitedBy: { rule: "node-down", rationale: "the node is down" } }), policy),
    );
    expect(inhibited).toContain("Muted by inhibition node-down: the node is down. Nothing is sent.");
  });

  // Bug (cosmetic): the muting line appends "." to the reason, and rationales are written as
  // sentences (every one in examples/pagewise.yaml ends with "."), so the example's muted reindex
  // reads "... muted, and recorded.. Nothing is sent."
  it("does not double the full stop of a rationale written as a sentence", () => {
    const d = decide(input({ at: Date.parse("2026-06-03T12:00:00Z") }), policy);
    const muted: Decision = {
      ...d,
      mutedBy: { kind: "window", id: "search-reindex-freeze", reason: "Muted, and recorded." },
    };
    expect(explainDecision(muted)).toContain("Muted, and recorded. Nothing is sent.");
    expect(explainDecision(muted)).not.toContain("..");
  });

  it("leaves the counterfactual out when crossing changes nothing", () => {
    const d: Decision = { ...decide(input(), policy), counterfactual: null };
    expect(explainDecision(d)).not.toContain("Counterfactual");
  });

  it("gives the five largest contributions it is handed, in order", () => {
    const contributions = ["a", "b", "c", "d", "e", "f"].map((t) => ({ text: `reason ${t}` }));
    const text = explainDecision(decide(input(), policy), contributions);
    expect(text).toContain("Why: reason a; reason b; reason c; reason d; reason e.");
    expect(text).not.toContain("reason f");
    expect(explainDecision(decide(input(), policy), [])).not.toContain("Why:");
  });
});
