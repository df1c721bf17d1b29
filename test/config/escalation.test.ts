import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { formatProblem, PagewiseError } from "../../src/core/errors.js";
import { EXAMPLE_CONFIG_TEXT } from "../helpers.js";

function problemsOf(text: string): string[] {
  try {
    parseConfig(text, {});
  } catch (err) {
    expect(err).toBeInstanceOf(PagewiseError);
    return (err as PagewiseError).problems.map((p) => formatProblem({ ...p, line: undefined }));
  }
  throw new Error("expected the config to be rejected");
}

/** The example with its chains and channels replaced by `extra` (YAML appended after them). */
function withSections(chains: string, channels: string): string {
  const start = EXAMPLE_CONFIG_TEXT.indexOf("\nchains:\n");
  const end = EXAMPLE_CONFIG_TEXT.indexOf("\nservices:\n");
  expect(start).toBeGreaterThan(0);
  expect(end).toBeGreaterThan(start);
  return `${EXAMPLE_CONFIG_TEXT.slice(0, start)}\nchains:\n${chains}\nchannels:\n${channels}\n${EXAMPLE_CONFIG_TEXT.slice(end)}`;
}

const CHAINS = `  - name: payments-primary
    steps:
      - { targets: [{ schedule: payments-primary }], delay: 5m }
      - { targets: [{ user: carol }, { channel: payments-chat }] }
    repeat: 2
    ack_timeout: 30m
  - { name: platform-primary, steps: [{ targets: [{ schedule: platform-primary }] }] }
  - { name: search-primary, steps: [{ targets: [{ schedule: search-primary }] }] }`;

const CHANNELS = `  - { name: payments-chat, kind: slack, url: "https://hooks.slack.com/services/T/B/X" }
  - { name: platform-alerts, kind: teams, url: "https://example.webhook.office.com/x" }
  - { name: search-chat, kind: webhook, url: "https://hooks.example.com/search", headers: { X-Token: abc } }
  - { name: ops-feed, kind: pagerduty, routing_key: R0123 }
  - { name: ops-maintenance, kind: email, host: smtp.example.com, port: 587, from: "pagewise@example.com", to: ["ops@example.com"] }
  - name: morning-triage
    kind: ticket
    url: "https://jira.example.com/rest/api/2/issue"
    body: '{"fields": {"summary": "{{title}}", "score": {{score}}}}'
    update: { url: "https://jira.example.com/rest/api/2/issue/PW-{{incident_id}}/comment", body: '{"body": "{{note}}"}' }`;

describe("chains and channels config", () => {
  it("compiles every channel kind and a chain with defaults", () => {
    const c = parseConfig(withSections(CHAINS, CHANNELS), {});
    expect(c.chains.get("payments-primary")).toEqual({
      name: "payments-primary",
      steps: [
        { targets: [{ kind: "schedule", schedule: "payments-primary" }], delayMs: 300_000 },
        {
          targets: [
            { kind: "user", user: "carol" },
            { kind: "channel", channel: "payments-chat" },
          ],
          delayMs: 300_000,
        },
      ],
      repeat: 2,
      ackTimeoutMs: 1_800_000,
    });
    expect(c.chains.get("platform-primary")).toMatchObject({ repeat: 0, ackTimeoutMs: null });
    expect(c.channels.get("search-chat")).toEqual({
      kind: "webhook",
      name: "search-chat",
      url: "https://hooks.example.com/search",
      headers: { "X-Token": "abc" },
    });
    expect(c.channels.get("ops-feed")).toEqual({
      kind: "pagerduty",
      name: "ops-feed",
      url: "https://events.pagerduty.com/v2/enqueue",
      routingKey: "R0123",
    });
    expect(c.channels.get("morning-triage")).toMatchObject({
      kind: "ticket",
      method: "POST",
      update: { method: "POST", url: "https://jira.example.com/rest/api/2/issue/PW-{{incident_id}}/comment" },
    });
    expect(c.channels.get("ops-maintenance")).toMatchObject({
      kind: "email",
      port: 587,
      to: ["ops@example.com"],
    });
  });

  const cases: [string, string, string, string[]][] = [
    [
      "an unknown schedule, user and channel in targets",
      CHAINS.replace("{ schedule: payments-primary }", "{ schedule: payments-primry }").replace(
        "{ user: carol }, { channel: payments-chat }",
        "{ user: karol }, { channel: payments-chatt }",
      ),
      CHANNELS,
      [
        'chains[0].steps[0].targets[0].schedule: unknown schedule "payments-primry"',
        'chains[0].steps[1].targets[0].user: unknown user "karol"',
        'chains[0].steps[1].targets[1].channel: unknown channel "payments-chatt"',
      ],
    ],
    [
      "a target naming two things, and an empty step",
      CHAINS.replace("{ schedule: payments-primary }", "{ schedule: payments-primary, user: carol }").replace(
        "[{ targets: [{ schedule: platform-primary }] }]",
        "[{ targets: [] }]",
      ),
      CHANNELS,
      [
        "chains[0].steps[0].targets[0]: must name exactly one of schedule, user or channel",
        "chains[1].steps[0].targets: needs at least one target",
      ],
    ],
    [
      "a delay and an ack timeout too short to be safe, and a bad repeat",
      CHAINS.replace("delay: 5m", "delay: 10s")
        .replace("ack_timeout: 30m", "ack_timeout: 0s")
        .replace("repeat: 2", "repeat: -1"),
      CHANNELS,
      [
        "chains[0].steps[0].delay: must be at least 1m",
        "chains[0].repeat: must be a whole number from 0 to 100",
        "chains[0].ack_timeout: must be at least 1m",
      ],
    ],
    [
      "a duplicate chain and no steps",
      `${CHAINS}\n  - { name: search-primary, steps: [] }`,
      CHANNELS,
      ['chains[3].name: duplicate chain "search-primary"', "chains[3].steps: needs at least one step"],
    ],
    [
      "an unknown channel kind, a key of another kind, a bad URL",
      CHAINS,
      CHANNELS.replace("kind: teams", "kind: msteams")
        .replace(
          'kind: webhook, url: "https://hooks.example.com/search"',
          'kind: webhook, url: "ftp://x", routing_key: R1',
        )
        .replace('url: "https://hooks.slack.com/services/T/B/X"', 'url: "not a url"'),
      [
        'channels[0].url: "not a url" is not a URL',
        "channels[1].kind: must be webhook, slack, teams, email, pagerduty or ticket",
        "channels[2].routing_key: does not apply to a webhook channel",
        "channels[2].url: must be an http(s) URL",
      ],
    ],
    [
      "a ticket template that cannot render, and a bad update method",
      CHAINS,
      CHANNELS.replace('"{{title}}", "score": {{score}}}}', '"{{titel}}"}}').replace(
        "update: { url:",
        "update: { method: DELETE, url:",
      ),
      [
        "channels[5].update.method: must be POST, PUT or PATCH",
        "channels[5].body: unknown placeholder {{titel}}",
      ],
    ],
  ];

  it.each(cases)("refuses %s with every problem named", (_what, chains, channels, want) => {
    const got = problemsOf(withSections(chains, channels));
    for (const w of want) expect(got).toContain(w);
    // Nothing else is blamed: each problem above is the whole story of its edit.
    expect(got.filter((g) => g.startsWith("chains") || g.startsWith("channels"))).toEqual(want);
  });

  it("checks the team and mail channel references", () => {
    const text = withSections(CHAINS, CHANNELS)
      .replace("chain: payments-primary", "chain: payments-primery")
      .replace("server:\n", "server:\n  mail_channel: payments-chat\n");
    const got = problemsOf(text);
    expect(got).toContain('teams[0].chain: unknown chain "payments-primery"');
    expect(got).toContain('server.mail_channel: "payments-chat" is not an email channel');
  });
});
