import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { evaluate } from "../../src/sim/expect.js";
import { parseScenario } from "../../src/sim/parse.js";
import { runGameDay } from "../../src/sim/run.js";
import { EXAMPLE_CONFIG_TEXT } from "../helpers.js";

/**
 * Every game day shipped in examples/scenarios runs against the example config and passes. New
 * files in the folder are picked up without touching this test.
 */

const DIR = new URL("../../examples/scenarios/", import.meta.url).pathname;
const files = readdirSync(DIR)
  .filter((f) => f.endsWith(".yaml") || f.endsWith(".yml"))
  .sort();
const config = parseConfig(EXAMPLE_CONFIG_TEXT, {});

describe("example game days", () => {
  it("ships the four basic game days", () => {
    for (const name of [
      "tier0-outage-no-ack.yaml",
      "page-during-maintenance.yaml",
      "alert-storm-peak-load.yaml",
      "channel-outage-recovers.yaml",
    ]) {
      expect(files).toContain(name);
    }
  });

  it.each(files)("%s: every expectation holds", async (file) => {
    const scenario = parseScenario(readFileSync(join(DIR, file), "utf8"), config, file);
    expect(scenario.expect.length, "a game day without expectations proves nothing").toBeGreaterThan(0);
    const day = await runGameDay({ config, scenario, deliver: false });
    const failed = evaluate(day, config)
      .filter((v) => !v.passed)
      .map((v) => `${v.expectation.path}: expected ${v.text}; ${v.detail}`);
    expect(failed).toEqual([]);
  });
});
