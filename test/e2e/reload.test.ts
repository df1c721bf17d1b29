import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { EXAMPLE_CONFIG, killAllChildren, sleep, startPagewise, tempDir } from "./harness.js";

/** SIGHUP reloads the config in the real process; a bad file is refused and the old one stays. */
afterAll(async () => {
  await killAllChildren();
});

function policyVersions(db: string): string[] {
  const conn = new Database(db, { readonly: true });
  try {
    return conn.prepare("SELECT version FROM policies ORDER BY loaded_at, version").pluck().all() as string[];
  } finally {
    conn.close();
  }
}

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await sleep(50);
  }
}

describe("reload on SIGHUP", () => {
  it("swaps a valid config, refuses a bad one with its problems, and keeps serving", async () => {
    const dir = tempDir("pagewise-reload-");
    try {
      const config = join(dir.path, "pagewise.yaml");
      const text = readFileSync(EXAMPLE_CONFIG, "utf8");
      writeFileSync(config, text);
      const db = join(dir.path, "p.db");
      const pw = await startPagewise({ config, db });
      expect(policyVersions(db)).toHaveLength(1);

      writeFileSync(
        config,
        text.replace('"0": { high: 0.5, medium: 0.2 }', '"0": { high: 0.9, medium: 0.8 }'),
      );
      pw.child.kill("SIGHUP");
      await until(() => policyVersions(db).length === 2);

      writeFileSync(config, text.replace("team: payments\n    tier: 0", "team: nobody\n    tier: 0"));
      pw.child.kill("SIGHUP");
      await until(() => pw.output().includes("reload refused"));
      expect(pw.output()).toContain('unknown team \\"nobody\\"');
      expect(policyVersions(db)).toHaveLength(2);
      expect(pw.child.exitCode).toBeNull();
      expect((await fetch(`${pw.url}/healthz`)).status).toBe(200);
    } finally {
      await killAllChildren();
      dir.cleanup();
    }
  });
});
