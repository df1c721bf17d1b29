import { describe, expect, it } from "vitest";
import {
  type AutomationRefs,
  compileAllowlist,
  compileHeartbeats,
  compilePlaybooks,
} from "../../src/config/automation.js";
import { parseConfig } from "../../src/config/load.js";
import { PAGEWISE_SOURCE } from "../../src/config/types.js";
import { formatProblem, PagewiseError, type Problem } from "../../src/core/errors.js";
import { EXAMPLE_CONFIG_TEXT } from "../helpers.js";

type Obj = Record<string, unknown>;

const REFS: AutomationRefs = {
  sources: new Set(["prometheus", "alertmanager", "generic"]),
  services: new Set(["checkout", "monitoring"]),
};

const HOSTS = ["runbooks.internal", "127.0.0.1:8080", "*.ops.example.com"];

function compile(raw: { automation?: unknown; playbooks?: unknown; heartbeats?: unknown }) {
  const problems: Problem[] = [];
  const allowlist = compileAllowlist(raw.automation, problems);
  const playbooks = compilePlaybooks(raw.playbooks, problems, allowlist);
  const heartbeats = compileHeartbeats(raw.heartbeats, problems, REFS);
  return { allowlist, playbooks, heartbeats, problems };
}

const STEP = { name: "ping", url: "http://runbooks.internal/ping" };
/** Problems of one playbook (with defaults filled) under the standard allowlist. */
const playbookProblems = (p: Obj): Problem[] =>
  compile({ automation: { allowed_hosts: HOSTS }, playbooks: [{ name: "p", steps: [STEP], ...p }] }).problems;
/** Problems of one step of a valid playbook. */
const stepProblems = (s: Obj, where: "steps" | "rollback" = "steps"): Problem[] =>
  playbookProblems({ [where]: [{ ...STEP, ...s }] });
const heartbeatProblems = (h: Obj): Problem[] =>
  compile({ heartbeats: [{ name: "hb", every: "5m", ...h }] }).problems;

/** Exactly one problem, at this path, whose reason says this. */
function one(problems: Problem[], path: string, reason: string | RegExp): void {
  expect(problems.map(formatProblem)).toHaveLength(1);
  expect(problems[0]?.path).toBe(path);
  if (typeof reason === "string") expect(problems[0]?.reason).toContain(reason);
  else expect(problems[0]?.reason).toMatch(reason);
}

describe("automation config: a valid one", () => {
  it("compiles the allowlist, playbooks and heartbeats with their defaults", () => {
    const { allowlist, playbooks, heartbeats, problems } = compile({
      automation: { allowed_hosts: HOSTS },
      playbooks: [
        {
          name: "restart-web",
          description: "Drain, restart, undrain",
          auto_above: 0.8,
          approval_timeout: "5m",
          steps: [
            {
              name: "drain",
              url: "http://runbooks.internal/drain/{{labels.instance}}",
              headers: { Authorization: "Bearer t0k", "X-Incident": "{{incident.id}}" },
              body: { host: "{{labels.instance}}", n: 2, tags: ["{{labels.app.kubernetes.io/name}}"] },
              timeout: "2m",
            },
            {
              name: "restart",
              method: "put",
              url: "https://a.ops.example.com/restart",
              body: "{{labels.x}}",
            },
          ],
          rollback: [{ name: "undrain", method: "Delete", url: "http://127.0.0.1:8080/-/sink/undrain" }],
        },
        { name: "minimal", steps: [STEP] },
        { name: "from-labels", auto_above: 0, steps: [{ name: "s", url: "http://{{labels.instance}}/x" }] },
      ],
      heartbeats: [
        { name: "watchdog", every: "5m", source: "alertmanager" },
        {
          name: "nightly-backup",
          every: "1d",
          grace: "1h",
          source: "generic",
          alertname: "BackupAlive",
          service: "monitoring",
          severity: "warning",
        },
        { name: "ping-only", every: "1m", grace: "0s" },
      ],
    });
    expect(problems).toEqual([]);
    expect(allowlist).toEqual({ hosts: HOSTS });
    expect([...playbooks.keys()]).toEqual(["restart-web", "minimal", "from-labels"]);
    expect(playbooks.get("restart-web")).toEqual({
      name: "restart-web",
      description: "Drain, restart, undrain",
      autoAbove: 0.8,
      approvalTimeoutMs: 5 * 60_000,
      steps: [
        {
          name: "drain",
          method: "POST",
          url: "http://runbooks.internal/drain/{{labels.instance}}",
          headers: { Authorization: "Bearer t0k", "X-Incident": "{{incident.id}}" },
          body: { host: "{{labels.instance}}", n: 2, tags: ["{{labels.app.kubernetes.io/name}}"] },
          timeoutMs: 120_000,
        },
        {
          name: "restart",
          method: "PUT",
          url: "https://a.ops.example.com/restart",
          headers: {},
          body: "{{labels.x}}",
          timeoutMs: 30_000,
        },
      ],
      rollback: [
        {
          name: "undrain",
          method: "DELETE",
          url: "http://127.0.0.1:8080/-/sink/undrain",
          headers: {},
          body: null,
          timeoutMs: 30_000,
        },
      ],
    });
    expect(playbooks.get("minimal")).toEqual({
      name: "minimal",
      description: null,
      autoAbove: null,
      approvalTimeoutMs: 15 * 60_000,
      steps: [{ ...STEP, method: "POST", headers: {}, body: null, timeoutMs: 30_000 }],
      rollback: [],
    });
    expect(playbooks.get("from-labels")?.autoAbove).toBe(0);
    expect(heartbeats.get("watchdog")).toEqual({
      name: "watchdog",
      everyMs: 300_000,
      graceMs: 300_000,
      source: "alertmanager",
      alertname: "Watchdog",
      service: null,
      severity: "critical",
    });
    expect(heartbeats.get("nightly-backup")).toEqual({
      name: "nightly-backup",
      everyMs: 86_400_000,
      graceMs: 3_600_000,
      source: "generic",
      alertname: "BackupAlive",
      service: "monitoring",
      severity: "warning",
    });
    expect(heartbeats.get("ping-only")).toMatchObject({ source: null, graceMs: 0, everyMs: 60_000 });
  });

  it("nothing configured compiles to nothing", () => {
    const { allowlist, playbooks, heartbeats, problems } = compile({});
    expect(problems).toEqual([]);
    expect(allowlist).toEqual({ hosts: [] });
    expect(playbooks.size).toBe(0);
    expect(heartbeats.size).toBe(0);
  });
});

describe("automation config: the allowlist", () => {
  it.each([
    [{ allowed_hosts: ["http://runbooks.internal/"] }, "automation.allowed_hosts[0]", "host name"],
    [{ allowed_hosts: ["ok.internal", 5] }, "automation.allowed_hosts[1]", "host name"],
    [{ allowed_hosts: ["*"] }, "automation.allowed_hosts[0]", "host name"],
    [{ allowed_hosts: ["user@host"] }, "automation.allowed_hosts[0]", "host name"],
    [{ allowed_hosts: "runbooks.internal" }, "automation.allowed_hosts", "must be a list"],
    [{ hosts: ["runbooks.internal"] }, "automation.hosts", "unknown key"],
    ["runbooks.internal", "automation", "must be an object"],
  ] as const)("%j -> %s", (automation, path, reason) => {
    one(compile({ automation }).problems, path, reason);
  });

  it("a playbook step's fixed host must be in the list; none given, none allowed", () => {
    const { problems } = compile({ playbooks: [{ name: "p", steps: [STEP] }] });
    one(problems, "playbooks[0].steps[0].url", "not in automation.allowed_hosts");
  });
});

describe("automation config: bad playbooks", () => {
  it.each([
    [{ retries: 3 }, "playbooks[0].retries", "unknown key"],
    [{ auto_above: 1.5 }, "playbooks[0].auto_above", "between 0 and 1"],
    [{ auto_above: -0.1 }, "playbooks[0].auto_above", "between 0 and 1"],
    [{ auto_above: "0.5" }, "playbooks[0].auto_above", "between 0 and 1"],
    [{ auto_above: Number.NaN }, "playbooks[0].auto_above", "between 0 and 1"],
    [{ approval_timeout: "30s" }, "playbooks[0].approval_timeout", "at least 1m"],
    [{ approval_timeout: "soon" }, "playbooks[0].approval_timeout", "must be a duration"],
    [{ steps: undefined }, "playbooks[0].steps", "at least one step"],
    [{ steps: [] }, "playbooks[0].steps", "at least one step"],
    [{ rollback: "undo" }, "playbooks[0].rollback", "must be a list"],
    [{ name: undefined }, "playbooks[0].name", "is required"],
    [{ name: "has space" }, "playbooks[0].name", "is required"],
    [{ description: 5 }, "playbooks[0].description", "non-empty string"],
  ] as const)("%j -> %s", (p, path, reason) => {
    one(playbookProblems(p), path, reason);
  });

  it("a list that is not a list is reported once", () => {
    one(playbookProblems({ steps: "ping" }), "playbooks[0].steps", /list|at least one step/);
  });

  it("playbooks must be a list of objects", () => {
    one(compile({ playbooks: { name: "p" } }).problems, "playbooks", "must be a list");
    one(compile({ playbooks: ["p"] }).problems, "playbooks[0]", "must be an object");
  });

  it("duplicate playbook names are reported at the second", () => {
    const { problems } = compile({
      automation: { allowed_hosts: HOSTS },
      playbooks: [
        { name: "p", steps: [STEP] },
        { name: "q", steps: [STEP] },
        { name: "p", steps: [STEP] },
      ],
    });
    one(problems, "playbooks[2].name", 'duplicate playbook "p"');
  });
});

describe("automation config: bad steps", () => {
  it.each([
    [{ retry: 2 }, "playbooks[0].steps[0].retry", "unknown key"],
    [{ name: undefined }, "playbooks[0].steps[0].name", "is required"],
    [{ method: "TRACE" }, "playbooks[0].steps[0].method", "GET, POST, PUT, PATCH, DELETE"],
    [{ method: 5 }, "playbooks[0].steps[0].method", "GET, POST, PUT, PATCH, DELETE"],
    [{ url: undefined }, "playbooks[0].steps[0].url", "is required"],
    [{ url: 7 }, "playbooks[0].steps[0].url", "is required"],
    // fixed hosts are checked against the allowlist when the config loads
    [{ url: "http://evil.com/x" }, "playbooks[0].steps[0].url", "not in automation.allowed_hosts"],
    [{ url: "https://evil.com" }, "playbooks[0].steps[0].url", "not in automation.allowed_hosts"],
    [{ url: "http://127.0.0.1:9090/x" }, "playbooks[0].steps[0].url", "not in automation.allowed_hosts"],
    [{ url: "http://127.0.0.1/x" }, "playbooks[0].steps[0].url", "not in automation.allowed_hosts"],
    [{ url: "http://ops.example.com/x" }, "playbooks[0].steps[0].url", "not in automation.allowed_hosts"],
    [
      { url: "http://127.0.0.1:8080@evil.com/{{labels.x}}" },
      "playbooks[0].steps[0].url",
      "not in automation.allowed_hosts",
    ],
    [{ url: "HTTP://evil.com/x" }, "playbooks[0].steps[0].url", "not in automation.allowed_hosts"],
    [
      { url: "http://evil.com?to={{labels.instance}}" },
      "playbooks[0].steps[0].url",
      "not in automation.allowed_hosts",
    ],
    [
      { url: "http://evil.com#{{labels.instance}}" },
      "playbooks[0].steps[0].url",
      "not in automation.allowed_hosts",
    ],
    [
      { url: "http://evil.com\\{{labels.instance}}" },
      "playbooks[0].steps[0].url",
      "not in automation.allowed_hosts",
    ],
    // only http(s)
    [{ url: "ftp://runbooks.internal/x" }, "playbooks[0].steps[0].url", "http(s)"],
    [{ url: "runbooks.internal/x" }, "playbooks[0].steps[0].url", "http(s)"],
    [{ url: "file:///etc/passwd" }, "playbooks[0].steps[0].url", "http(s)"],
    // templates may only use what a run can see
    [
      { url: "http://runbooks.internal/{{foo}}" },
      "playbooks[0].steps[0].url",
      "unknown template value {{foo}}",
    ],
    [{ body: { a: ["{{foo.bar}}"] } }, "playbooks[0].steps[0].body", "unknown template value {{foo.bar}}"],
    [{ body: "{{secrets.token}}" }, "playbooks[0].steps[0].body", "unknown template value {{secrets.token}}"],
    [
      { headers: { Authorization: "Bearer {{secrets.token}}" } },
      "playbooks[0].steps[0].headers.Authorization",
      "unknown template value {{secrets.token}}",
    ],
    [{ headers: { "X-N": 5 } }, "playbooks[0].steps[0].headers.X-N", "must be a string"],
    [{ timeout: "0s" }, "playbooks[0].steps[0].timeout", "between 1ms and 10m"],
    [{ timeout: "11m" }, "playbooks[0].steps[0].timeout", "between 1ms and 10m"],
    [{ timeout: "later" }, "playbooks[0].steps[0].timeout", "must be a duration"],
  ] as const)("%j -> %s", (s, path, reason) => {
    one(stepProblems(s), path, reason);
  });

  it("rollback steps are checked like steps", () => {
    one(
      stepProblems({ url: "http://evil.com/undo" }, "rollback"),
      "playbooks[0].rollback[0].url",
      "not in automation.allowed_hosts",
    );
    one(stepProblems({ method: "OPTIONS" }, "rollback"), "playbooks[0].rollback[0].method", "must be one of");
  });

  it("a host filled from a template is left to the run-time check", () => {
    expect(stepProblems({ url: "http://{{labels.instance}}/x" })).toEqual([]);
    expect(stepProblems({ url: "https://{{labels.instance}}.ops.example.com/x" })).toEqual([]);
  });
});

describe("automation config: bad heartbeats", () => {
  it.each([
    [{ interval: "5m" }, "heartbeats[0].interval", "unknown key"],
    [{ name: undefined }, "heartbeats[0].name", "is required"],
    [{ source: "nope" }, "heartbeats[0].source", 'unknown source "nope"'],
    [{ source: "" }, "heartbeats[0].source", "non-empty string"],
    [{ service: "nope" }, "heartbeats[0].service", 'unknown service "nope"'],
    [{ every: "30s" }, "heartbeats[0].every", "at least 1m"],
    [{ every: undefined }, "heartbeats[0].every", "must be a duration"],
    [{ every: 300 }, "heartbeats[0].every", "must be a duration"],
    [{ grace: "a while" }, "heartbeats[0].grace", "must be a duration"],
    [{ alertname: "" }, "heartbeats[0].alertname", "non-empty string"],
    [{ severity: "page" }, "heartbeats[0].severity", "critical, error, warning, info"],
  ] as const)("%j -> %s", (h, path, reason) => {
    one(heartbeatProblems(h), path, reason);
  });

  it("duplicate heartbeat names are reported at the second", () => {
    const { problems } = compile({
      heartbeats: [
        { name: "hb", every: "5m" },
        { name: "hb", every: "10m" },
      ],
    });
    one(problems, "heartbeats[1].name", 'duplicate heartbeat "hb"');
  });
});

describe("automation config through parseConfig", () => {
  function problemsOf(text: string): readonly Problem[] {
    try {
      parseConfig(text, {});
    } catch (err) {
      expect(err).toBeInstanceOf(PagewiseError);
      return (err as PagewiseError).problems;
    }
    throw new Error("expected the config to be rejected");
  }
  /** The example with one exact piece of text replaced (which must be there). */
  function edit(from: string, to: string): string {
    expect(EXAMPLE_CONFIG_TEXT).toContain(from);
    return EXAMPLE_CONFIG_TEXT.replace(from, to);
  }
  const HEARTBEATS = `
heartbeats:
  - { name: am-watchdog, every: 5m, source: alertmanager, service: monitoring }
`;

  it("the example validates, with its playbook compiled and no heartbeats", () => {
    const c = parseConfig(EXAMPLE_CONFIG_TEXT, {});
    expect(c.allowlist).toEqual({ hosts: ["127.0.0.1:8080"] });
    const book = c.playbooks.get("disk-cleanup");
    expect(book).toMatchObject({ autoAbove: 0.6, approvalTimeoutMs: 600_000 });
    expect(book?.steps.map((s) => [s.name, s.method, s.timeoutMs])).toEqual([
      ["rotate-logs", "POST", 30_000],
      ["check-free-space", "POST", 30_000],
    ]);
    expect(book?.rollback.map((s) => s.name)).toEqual(["restore-log-config"]);
    expect(c.heartbeats.size).toBe(0);
    expect(c.sources.has(PAGEWISE_SOURCE)).toBe(false);
  });

  it("heartbeats add the implicit pagewise source", () => {
    const c = parseConfig(`${EXAMPLE_CONFIG_TEXT}${HEARTBEATS}`, {});
    expect(c.heartbeats.get("am-watchdog")).toMatchObject({ everyMs: 300_000, graceMs: 300_000 });
    expect(c.sources.get(PAGEWISE_SOURCE)).toMatchObject({
      kind: "generic",
      key: "",
      autoResolveAfter: null,
    });
    expect(c.sourcesByKey.has("")).toBe(false);
  });

  it("a runbook route naming an unknown playbook is reported at the route", () => {
    const problems = problemsOf(edit("playbook: disk-cleanup,", "playbook: disk-clean,"));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({
      path: "policy.rules[1].route.playbook",
      reason: 'unknown playbook "disk-clean"',
    });
    expect(problems[0]?.line).toBeGreaterThan(0);
  });

  it("a route naming a playbook that has problems of its own is not blamed too", () => {
    const problems = problemsOf(edit("auto_above: 0.6", "auto_above: 1.5"));
    expect(problems.map((p) => p.path)).toEqual(["playbooks[0].auto_above"]);
  });

  it("a validate route's confirm_above must be a probability", () => {
    const problems = problemsOf(
      edit(
        "route: { kind: validate, for: 10m, after: { kind: triage } }",
        "route: { kind: validate, for: 10m, confirm_above: 2 }",
      ),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ path: "policy.rules[5].route.confirm_above" });
    expect(problems[0]?.reason).toContain("between 0 and 1");
  });

  it("every automation problem is listed at once, with its line", () => {
    const text = edit('allowed_hosts: ["127.0.0.1:8080"]', 'allowed_hosts: ["127.0.0.1:9999"]').concat(
      `
heartbeats:
  - { name: hb, every: 30s, source: nope, severity: page }
`,
    );
    const problems = problemsOf(text);
    expect(problems.map((p) => p.path).sort()).toEqual([
      "heartbeats[0].every",
      "heartbeats[0].severity",
      "heartbeats[0].source",
      "playbooks[0].rollback[0].url",
      "playbooks[0].steps[0].url",
      "playbooks[0].steps[1].url",
    ]);
    for (const p of problems) expect(p.line).toBeGreaterThan(0);
    const lines = text.split("\n");
    const urlProblem = problems.find((p) => p.path === "playbooks[0].steps[1].url");
    expect(lines[(urlProblem?.line ?? 0) - 1]).toContain("runbook-check-space");
  });

  it("automation sections must have the right shape", () => {
    const problems = problemsOf(`${EXAMPLE_CONFIG_TEXT}\nheartbeats: { name: hb }\n`);
    expect(problems.map(formatProblem)).toEqual([expect.stringMatching(/^heartbeats: must be a list/)]);
  });
});
