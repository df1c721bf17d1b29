import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers.js";

/**
 * `pagewise replay` and `pagewise tune` as a user runs them: the built CLI on a small labelled
 * history whose every figure can be worked out by hand.
 *
 * Scores come from the cold-start model. Each incident is an hour from the others (no
 * correlation), and its upstream_score pushes it far from the band edges: 0.99 scores >= 0.94
 * (high), 0.8 on a warning 0.57-0.60 (medium), 0.2 on a critical 0.24 (low), 0.01 <= 0.04 (low).
 */

const ROOT = new URL("../..", import.meta.url).pathname;
const MAIN = join(ROOT, "dist/cli/main.js");

const TEAMS_AND_SERVICES = `
teams:
  - name: web
    timezone: UTC
  - name: data
    timezone: UTC
services:
  - name: shop
    team: web
    tier: 0
  - name: blog
    team: web
    tier: 2
  - name: db
    team: data
    tier: 1
sources:
  - name: mon
    kind: generic
    key: mon-key-123456
    reliability: medium
`;

const CONFIG = `${TEAMS_AND_SERVICES}
policy:
  bands:
    default: { high: 0.7, medium: 0.35 }
  rules:
    - id: page-high
      match: { band: high }
      route: { kind: page }
      rationale: Likely real, wake someone.
    - id: triage-medium
      match: { band: medium }
      route: { kind: triage }
      rationale: Maybe real, the team looks.
    - id: validate-low-critical
      match: { band: low, severity: critical }
      route: { kind: validate, for: 10m, confirm_above: 0.1 }
      rationale: Critical but unsure, wait and see.
    - id: default
      route: { kind: notify }
      rationale: Probably noise.
`;

/** The same stream under a policy that never pages. */
const NEVER_PAGES = `${TEAMS_AND_SERVICES}
policy:
  bands:
    default: { high: 0.7, medium: 0.35 }
  rules:
    - id: triage-high
      match: { band: high }
      route: { kind: triage }
      rationale: Look at it in the morning.
    - id: default
      route: { kind: notify }
      rationale: Just record it.
`;

const at = (minutes: number) => new Date(Date.parse("2026-03-02T01:00:00Z") + minutes * 60_000).toISOString();

function ev(
  minutes: number,
  key: string,
  severity: string,
  service: string,
  upstream: number | null,
  outcome: "genuine" | "false_alarm" | null,
  over: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    at: at(minutes),
    source: "mon",
    action: "trigger",
    dedup_key: key,
    summary: `alert ${key}`,
    severity,
    service,
    labels: { alertname: `A-${key}` },
    ...(upstream === null ? {} : { upstream_score: upstream }),
    ...(outcome === null ? {} : { outcome }),
    ...over,
  };
}

/**
 * Thirteen incidents, fourteen triggers, five genuine, one unlabelled:
 *  1 shop critical high, genuine, fires twice         -> page at once
 *  2 db error high, genuine                           -> page at once
 *  3 blog warning high, false alarm                   -> page (a false page)
 *  4 db warning medium, genuine                       -> triage (missed)
 *  5 blog warning medium, false alarm                 -> triage
 *  6 blog critical low (0.24 >= confirm 0.1), genuine -> validate, confirmed: page after 10m
 *  7 shop critical low (0.03 < 0.1), genuine, resolves after 3m -> validate, not confirmed (missed)
 *  8, 9 low false alarms                              -> notify
 * 10 from the undeclared source "legacy", low         -> notify
 * 11 low, unlabelled                                  -> notify
 * 12, 13 blog warnings at 0.27 and 0.12, false alarms -> notify
 */
const STREAM = [
  ev(0, "i1", "critical", "shop", 0.99, "genuine"),
  ev(5, "i1", "critical", "shop", 0.99, "genuine"),
  ev(60, "i2", "error", "db", 0.99, "genuine"),
  ev(120, "i3", "warning", "blog", 0.99, "false_alarm"),
  ev(180, "i4", "warning", "db", 0.8, "genuine"),
  ev(240, "i5", "warning", "blog", 0.8, "false_alarm"),
  ev(300, "i6", "critical", "blog", 0.2, "genuine"),
  ev(360, "i7", "critical", "shop", 0.01, "genuine"),
  ev(363, "i7", "critical", "shop", null, null, { action: "resolve" }),
  ev(420, "i8", "info", "blog", 0.01, "false_alarm"),
  ev(480, "i9", "warning", "db", 0.01, "false_alarm"),
  ev(540, "i10", "info", "blog", 0.01, "false_alarm", { source: "legacy" }),
  ev(600, "i11", "info", "blog", 0.01, null),
  ev(660, "i12", "warning", "blog", 0.45, "false_alarm"),
  ev(720, "i13", "warning", "blog", 0.2, "false_alarm"),
];

let dir: { path: string; cleanup: () => void };
let config: string;
let never: string;
let history: string;
let historyGz: string;

function write(name: string, text: string | Buffer): string {
  const path = join(dir.path, name);
  writeFileSync(path, text);
  return path;
}

const jsonl = (events: Record<string, unknown>[]) => `${events.map((e) => JSON.stringify(e)).join("\n")}\n`;

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd: dir.path, encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// biome-ignore lint/suspicious/noExplicitAny: the CLI's JSON, checked key by key below
function json(...args: string[]): any {
  const r = cli(...args);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

beforeAll(() => {
  execFileSync("npm", ["run", "-s", "build"], { cwd: ROOT, stdio: "pipe" });
  dir = tempDir("pagewise-replay-cli-");
  config = write("pagewise.yaml", CONFIG);
  never = write("never.yaml", NEVER_PAGES);
  history = write("history.jsonl", jsonl(STREAM));
  historyGz = write("history.jsonl.gz", gzipSync(readFileSync(history)));
});
afterAll(() => dir?.cleanup());

describe("pagewise replay --json", () => {
  // biome-ignore lint/suspicious/noExplicitAny: the CLI's JSON
  let r: any;
  beforeAll(() => {
    r = json("replay", "--config", config, "--history", history, "--json");
  });

  it("counts incidents, alerts and compression", () => {
    expect(r.history).toMatchObject({ files: [history], events: 15, triggers: 14 });
    expect(r.incidents).toEqual({ total: 13, genuine: 5, labelled: 12, alerts: 14, compression: 14 / 13 });
  });

  it("counts each incident under its strongest route", () => {
    expect(r.routes).toEqual({
      page: { count: 4, genuine: 3 },
      triage: { count: 2, genuine: 1 },
      validate: { count: 1, genuine: 1 },
      notify: { count: 6, genuine: 0 },
    });
  });

  it("measures paging: 4 pages, 3 of them genuine, 3 of 5 genuine incidents paged", () => {
    expect(r.paging).toEqual({ pages: 4, precision: 3 / 4, recall: 3 / 5 });
    // Page, triage or runbook: incidents 1, 2, 4 and 6.
    expect(r.handled).toEqual({ recall: 4 / 5 });
    // Genuine pages waited 0, 0 and 600 s (the hold).
    expect(r.time_to_page_s).toMatchObject({ p50: 0, p90: 600, count: 3 });
    const bucket = r.time_to_page_s.histogram.find((b: { lo_s: number }) => b.lo_s === 600);
    expect(bucket).toEqual({ lo_s: 600, hi_s: 900, count: 1 });
    expect(r.current_threshold).toBe(0.7);
  });

  it("prices the baselines: page everything, page on critical and error", () => {
    expect(r.baselines.page_everything.paging).toEqual({ pages: 13, precision: 5 / 12, recall: 1 });
    // Critical or error: incidents 1, 2, 6 and 7, all genuine.
    expect(r.baselines.severity.paging).toEqual({ pages: 4, precision: 1, recall: 4 / 5 });
  });

  it("explains every genuine incident it did not page", () => {
    expect(r.missed.map((m: { incident: number }) => m.incident)).toEqual([4, 7]);
    const [four, seven] = r.missed;
    expect(four).toMatchObject({
      service: "db",
      team: "data",
      tier: 1,
      route: "triage",
      rule: "triage-medium",
    });
    expect(seven).toMatchObject({
      service: "shop",
      team: "web",
      tier: 0,
      severity: "critical",
      route: "validate",
      rule: "validate-low-critical",
    });
    for (const m of r.missed) {
      expect(typeof m.explanation).toBe("string");
      expect(m.explanation.length).toBeGreaterThan(0);
      expect(m.explanation).toContain(m.rule);
    }
    expect(four.counterfactual).toMatch(/would page at p >= 0\.70/);
  });

  it("lists the sources the config does not declare", () => {
    expect(r.undeclared).toEqual({ sources: ["legacy"], services: [] });
  });

  it("reads a .jsonl.gz history exactly as the .jsonl", () => {
    const gz = json("replay", "--config", config, "--history", historyGz, "--json");
    expect(gz.history.files).toEqual([historyGz]);
    const strip = (x: { history: Record<string, unknown> }) => ({
      ...x,
      history: { ...x.history, files: null },
    });
    expect(strip(gz)).toEqual(strip(r));
  });
});

describe("pagewise replay, other cases", () => {
  it("a validated-then-confirmed incident is paged after exactly its window", () => {
    const only = write("held.jsonl", jsonl([ev(0, "h", "critical", "blog", 0.2, "genuine")]));
    const r = json("replay", "--config", config, "--history", only, "--json");
    expect(r.routes).toEqual({ page: { count: 1, genuine: 1 } });
    expect(r.time_to_page_s).toMatchObject({ p50: 600, p90: 600, count: 1 });
  });

  it("has no precision when nothing is paged", () => {
    const r = json("replay", "--config", never, "--history", history, "--json");
    expect(r.paging).toEqual({ pages: 0, precision: null, recall: 0 });
    expect(r.time_to_page_s).toMatchObject({ p50: null, p90: null, count: 0 });
    expect(r.missed.map((m: { incident: number }) => m.incident)).toEqual([1, 2, 4, 6, 7]);
    // The baselines do not depend on the policy.
    expect(r.baselines.page_everything.paging.pages).toBe(13);
    expect(r.baselines.severity.paging.pages).toBe(4);
  });

  it("writes an HTML report with charts", () => {
    const out = join(dir.path, "report.html");
    const r = cli("replay", "--config", config, "--history", history, "--report", out);
    expect(r.status).toBe(0);
    expect(existsSync(out)).toBe(true);
    expect(readFileSync(out, "utf8")).toContain("<svg");
  });

  it("names a history file it cannot read, without a stack trace", () => {
    const missing = join(dir.path, "no-such-history.jsonl");
    for (const command of ["replay", "tune"]) {
      const r = cli(command, "--config", config, "--history", missing, "--json");
      expect(r.status).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain(`cannot read history file ${missing}`);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    }
  });
});

describe("pagewise tune --json", () => {
  it("finds a cheaper feasible policy and prints the change as a diff", () => {
    // Costs by default: false page 1, missed 20, 0.1 per minute of delay.
    const r = json("tune", "--config", config, "--history", history, "--json", "--min-recall", "0.6");
    // Today: one false page (3), two misses (4, 7) and a 10 minute hold (6): 1 + 40 + 1.
    expect(r.before).toEqual({
      pages: 4,
      precision: 3 / 4,
      recall: 3 / 5,
      protected_recall: 1 / 2,
      time_to_page_p50_s: 0,
      cost: 42,
    });
    // Best: page at 0.6 (catches 4 at 0.60, not 5 at 0.57) and hold 5 minutes: 1 + 20 + 0.5.
    expect(r.after).toEqual({
      pages: 5,
      precision: 4 / 5,
      recall: 4 / 5,
      protected_recall: 1 / 2,
      time_to_page_p50_s: 0,
      cost: 21.5,
    });
    expect(r.feasible).toBe(true);
    expect(r.best).toBe("default=0.6/0.3 hold=5m");
    expect(r.bands).toEqual({ default: { high: 0.6, medium: 0.3 } });
    expect(r.hold_s).toBe(300);
    expect(r.diff).toBe(
      [
        " policy:",
        "   bands:",
        "-    default: { high: 0.7, medium: 0.35 }",
        "+    default: { high: 0.6, medium: 0.3 }",
        "# and every validate route: for: 5m",
      ].join("\n"),
    );
    expect(r.tune.min_recall).toBe(0.6);
    expect(r.tune.best).toBe(r.best);
    expect(r.candidates).toBe(r.tune.candidates.length);
  });

  it("rejects a recall floor outside 0..1, naming the flag", () => {
    const r = cli("tune", "--config", config, "--history", history, "--json", "--min-recall", "2");
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("--min-recall");
    expect(r.stderr).toContain("from 0 to 1");
  });
});
