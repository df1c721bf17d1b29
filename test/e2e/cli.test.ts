import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, killAllChildren, runCli, tempDir } from "./harness.js";

/** The command line as an operator meets it: exit codes, and messages that say what to fix. */

// Problems the schema finds: an unknown key and a missing environment variable.
const SCHEMA_PROBLEMS = `teams:
  - name: payments
services:
  - name: checkout
    team: payments
    tier: 0
    colour: blue
sources:
  - name: generic
    kind: generic
    key: \${PAGEWISE_E2E_UNSET_KEY}
`;

// Problems only cross-references find: names that point at no team.
const REFERENCE_PROBLEMS = `teams:
  - name: payments
services:
  - name: checkout
    team: paymnts
    tier: 0
sources:
  - name: generic
    kind: generic
    key: generic-key-123
    owner: platfrom
`;

/** stderr lines that list problems (`  path: reason (line N)`), trimmed. */
function problemLines(r: CliResult): string[] {
  return r.stderr
    .split("\n")
    .filter((l) => l.startsWith("  "))
    .map((l) => l.trim());
}

function envWithout(name: string): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env[name];
  return env;
}

// Each case is its own process, so they run side by side.
describe.concurrent("pagewise CLI", () => {
  const dir = tempDir("pagewise-cli-");
  const schemaBad = join(dir.path, "schema-bad.yaml");
  const referenceBad = join(dir.path, "reference-bad.yaml");
  // The database would go in a folder of its own: neither may appear when serve refuses to start.
  const dbDir = join(dir.path, "data");
  const db = join(dbDir, "pagewise.db");

  // runCli fails each test with a clear message when dist/ was not built.
  beforeAll(() => {
    writeFileSync(schemaBad, SCHEMA_PROBLEMS);
    writeFileSync(referenceBad, REFERENCE_PROBLEMS);
  });
  afterEach(() => {
    expect(existsSync(dbDir), "a refused serve created its database folder").toBe(false);
  });
  // Not in afterEach: the cases run concurrently, and runCli already awaits (or kills) its child.
  afterAll(async () => {
    await killAllChildren();
    dir.cleanup();
  });

  it("--help exits 0 and lists the commands", async () => {
    const r = await runCli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\s+serve\b/m);
    expect(r.stdout).toMatch(/^\s+policy\b/m);
  });

  it("policy validate accepts the example config", async () => {
    const r = await runCli(["policy", "validate", "examples/pagewise.yaml"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("examples/pagewise.yaml: valid");
  });

  it.each([
    {
      name: "a port that is not a number",
      args: ["--port", "abc"],
      message: /--port <n>.*'abc' is invalid.*whole number from 0 to 65535/,
    },
    {
      name: "an unknown durability",
      args: ["--durability", "foo"],
      message: /--durability <mode>.*'foo' is invalid.*normal, full/,
    },
    { name: "an unknown option", args: ["--prot", "8080"], message: /unknown option '--prot'/ },
  ])("serve refuses $name with exit 1", async ({ args, message }) => {
    const r = await runCli(["serve", "--config", "examples/pagewise.yaml", "--db", db, ...args]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe("");
  });

  it("serve without --config exits 1 naming the option", async () => {
    const r = await runCli(["serve", "--db", db]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/required option '--config <file>' not specified/);
  });

  it("an unknown command exits 1", async () => {
    const r = await runCli(["serv"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown command 'serv'/);
  });

  describe.each([
    { command: "policy validate", args: (file: string) => ["policy", "validate", file] },
    {
      command: "serve",
      args: (file: string) => ["serve", "--config", file, "--port", "0", "--host", "127.0.0.1", "--db", db],
    },
  ])("$command on a config with problems", ({ args }) => {
    it("lists an unknown key and a missing ${VAR} as path: reason (line), exit 1", async () => {
      const r = await runCli(args(schemaBad), { env: envWithout("PAGEWISE_E2E_UNSET_KEY") });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain("error: the configuration has 2 problem(s)");
      expect(problemLines(r).sort()).toEqual([
        "services[0].colour: unknown key (line 7)",
        "sources[0].key: environment variable PAGEWISE_E2E_UNSET_KEY is not set (line 11)",
      ]);
      expect(r.stdout).toBe("");
    });

    it("lists names that refer to unknown teams, exit 1", async () => {
      const r = await runCli(args(referenceBad));
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain("error: the configuration has 2 problem(s)");
      expect(problemLines(r).sort()).toEqual([
        'services[0].team: unknown team "paymnts" (line 5)',
        'sources[0].owner: unknown team "platfrom" (line 11)',
      ]);
    });
  });

  it("policy validate names a file it cannot read, exit 1", async () => {
    const missing = join(dir.path, "missing.yaml");
    const r = await runCli(["policy", "validate", missing]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`cannot read config file ${missing}`);
  });

  it("policy validate substitutes ${VAR} from the environment", async () => {
    const fixed = join(dir.path, "schema-fixed.yaml");
    writeFileSync(fixed, SCHEMA_PROBLEMS.replace("    colour: blue\n", ""));
    const r = await runCli(["policy", "validate", fixed], {
      env: { ...process.env, PAGEWISE_E2E_UNSET_KEY: "generic-key-from-env" },
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`${fixed}: valid`);
  });

  it("policy validate reports YAML syntax errors with their line, exit 1", async () => {
    const broken = join(dir.path, "broken.yaml");
    writeFileSync(broken, "teams:\n  - name: payments\n sources: [\n");
    const r = await runCli(["policy", "validate", broken]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: the configuration has \d+ problem\(s\)/);
    expect(problemLines(r).join("\n")).toMatch(/\(line \d+\)/);
  });
});

describe("how the server's node is started", () => {
  it("the bin runs as an executable with the flags on its #! line, the same ones npm start passes", async () => {
    const { execFile } = await import("node:child_process");
    const { readFileSync } = await import("node:fs");
    const root = new URL("../../", import.meta.url).pathname;
    const bin = join(root, "bin", "pagewise.js");
    const shebang = readFileSync(bin, "utf8").split("\n", 1)[0] ?? "";
    const flags = /^#!\/usr\/bin\/env -S node (.+)$/.exec(shebang)?.[1];
    expect(flags).toBe("--max-semi-space-size=64");
    const start = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts.start as string;
    expect(start.startsWith(`node ${flags} bin/pagewise.js serve `)).toBe(true);
    // Run directly, so that env -S splits the line and node accepts the flag.
    const out = await new Promise<string>((resolve, reject) =>
      execFile(bin, ["--help"], (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );
    expect(out).toMatch(/^\s+serve\b/m);
  });
});
