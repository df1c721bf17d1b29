import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/config/load.js";
import { formatProblem, PagewiseError } from "../src/core/errors.js";
import { EXAMPLE_CONFIG_TEXT } from "./helpers.js";

function problemsOf(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(text, env);
  } catch (err) {
    expect(err).toBeInstanceOf(PagewiseError);
    expect((err as PagewiseError).code).toBe("PW_CONFIG_INVALID");
    return (err as PagewiseError).problems.map(formatProblem);
  }
  throw new Error("expected the config to be rejected");
}

const MINIMAL = `
teams:
  - name: payments
services:
  - name: checkout
    team: payments
    tier: 0
sources:
  - name: prom
    kind: prometheus
    key: prom-key-123
`;

describe("config", () => {
  it("loads the example with its documented defaults", () => {
    const c = parseConfig(EXAMPLE_CONFIG_TEXT, {});
    expect(c.sources.get("prometheus")?.key).toBe("demo-prometheus-key");
    expect(c.sourcesByKey.get("demopagerdutykey0000000000000000")?.name).toBe("pagerduty");
    expect(c.tokens.get("demo-admin-token")?.role).toBe("admin");
    expect(c.services.get("ledger")).toMatchObject({
      tier: 0,
      regulated: true,
      team: "payments",
      timezone: "Europe/Berlin",
    });
    expect(c.retention).toBe(90 * 86_400_000);
    expect(c.sources.get("prometheus")?.autoResolveAfter).toBeNull();
    expect(c.sources.get("pagerduty")?.autoResolveAfter).toBe(24 * 3_600_000);
    expect(c.sources.get("generic")?.groupBy).toBeNull();
    expect(c.sources.get("prometheus")?.groupBy).toEqual(["alertname", "service"]);
    expect(c.sources.get("alertmanager")?.serviceLabels).toEqual(["service", "job"]);
    expect(c.severities.critical.ackWithin).toBe(5 * 60_000);
  });

  it("names the path, the reason and the line of a bad cross-reference", () => {
    const text = MINIMAL.replace("team: payments\n    tier: 0", "team: paymnts\n    tier: 0");
    expect(problemsOf(text)).toEqual(['services[0].team: unknown team "paymnts" (line 6)']);
  });

  it("refuses unknown keys, wrong types and missing required keys, listing every problem", () => {
    const text = `
sources:
  - name: prom
    kind: prometheus
    key: prom-key-123
    colour: blue
services:
  - name: x
    tier: "zero"
  - tier: 1
`;
    const problems = problemsOf(text);
    expect(problems).toContain("sources[0].colour: unknown key (line 6)");
    expect(problems).toContain("services[0].tier: must be an integer (line 9)");
    expect(problems.some((p) => p.startsWith("services[1].name: is required"))).toBe(true);
  });

  it("lists shape problems and cross-reference problems in one pass", () => {
    const text = MINIMAL.replace(
      "team: payments\n    tier: 0",
      "team: paymnts\n    tier: 0\n    colour: blue",
    );
    expect(problemsOf(text)).toEqual([
      "services[0].colour: unknown key (line 8)",
      'services[0].team: unknown team "paymnts" (line 6)',
    ]);
  });

  it("requires at least one source", () => {
    expect(problemsOf("teams: []\n")).toEqual(["sources: is required (line 1)"]);
  });

  it("substitutes ${VAR} from the environment and reports a missing one", () => {
    const text = MINIMAL.replace("key: prom-key-123", "key: ${PROM_KEY}");
    expect(parseConfig(text, { PROM_KEY: "from-the-env-1" }).sources.get("prom")?.key).toBe("from-the-env-1");
    expect(problemsOf(text)).toEqual(["sources[0].key: environment variable PROM_KEY is not set (line 11)"]);
    // A function replacement: in a replacement string "$$" would itself mean "$".
    const escaped = MINIMAL.replace(
      "team: payments\n    tier",
      () => 'team: payments\n    description: "$${literal}"\n    tier',
    );
    expect(parseConfig(escaped, {}).services.get("checkout")?.description).toBe("${literal}");
  });

  it("checks durations, time zones, reliability, duplicate names and keys", () => {
    const text = `
teams:
  - name: a
    timezone: Mars/Olympus
  - name: a
sources:
  - name: s1
    kind: generic
    key: same-key-123
    auto_resolve_after: soon
    reliability: sometimes
  - name: s2
    kind: pagerduty
    key: same-key-123
api_tokens:
  - name: t
    token: same-key-123
    role: admin
`;
    const problems = problemsOf(text);
    expect(problems).toEqual(
      expect.arrayContaining([
        'teams[0].timezone: unknown time zone "Mars/Olympus" (use an IANA name such as Europe/Berlin) (line 4)',
        'teams[1].name: duplicate team "a" (line 5)',
        'sources[0].auto_resolve_after: "soon" is not a duration (e.g. 30s, 5m, 1h30m, 90d) (line 10)',
        'sources[0].reliability: must be high, medium, low, or a number between 0 and 1; got "sometimes" (line 11)',
        'sources[1].key: same key as source "s1" (line 14)',
        "api_tokens[0].token: must differ from every other token and source key (line 17)",
      ]),
    );
    expect(
      problems.some((p) => p.startsWith("sources[1].key: a pagerduty source's key is a 32-character")),
    ).toBe(true);
  });

  it("reports YAML syntax errors with their line", () => {
    const problems = problemsOf("sources:\n  - name: a\n   kind: x\n");
    expect(problems[0]).toMatch(/line 3/);
  });

  it("accepts never for auto_resolve_after and a numeric reliability", () => {
    const text = MINIMAL.replace(
      "key: prom-key-123",
      "key: prom-key-123\n    auto_resolve_after: never\n    reliability: 0.25",
    );
    const s = parseConfig(text, {}).sources.get("prom");
    expect(s?.autoResolveAfter).toBeNull();
    expect(s?.reliability).toBe(0.25);
  });
});
