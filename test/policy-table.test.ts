import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadConfigFile } from "../src/config/load.js";
import { DEFAULT_MODEL } from "../src/core/scoring/model.js";
import { parseTimestamp } from "../src/core/time.js";
import { explainEvent } from "../src/replay/explain.js";

/**
 * The policy's table tests, written in YAML next to the example config. Each case runs through
 * the same code as `pagewise explain` (the live engine on a scratch store, then decide()).
 */
const TABLES = [new URL("../examples/policy-tests.yaml", import.meta.url).pathname];

interface Case {
  name: string;
  at: string;
  event: Record<string, unknown>;
  context?: Record<string, string | number | boolean>;
  expect: {
    route: string;
    rule: string;
    band?: string;
    also?: string[];
    modifiers?: string[];
    muted_by?: string | null;
    maintenance?: string;
    counterfactual?: string;
    two_person?: boolean;
    channel?: string;
  };
}

for (const table of TABLES) {
  const doc = parse(readFileSync(table, "utf8")) as { config: string; cases: Case[] };
  const config = loadConfigFile(join(dirname(table), doc.config), {});
  describe(`policy table ${table.split("/").at(-1)}`, () => {
    it("covers every route, modifier, muting path and continue", () => {
      const routes = new Set(doc.cases.map((c) => c.expect.route));
      expect([...routes].sort()).toEqual(["notify", "page", "runbook", "suppress", "triage", "validate"]);
      const modifiers = new Set(doc.cases.flatMap((c) => c.expect.modifiers ?? []));
      expect([...modifiers].sort()).toEqual(config.policy.modifiers.map((m) => m.id).sort());
      const muted = new Set(doc.cases.map((c) => c.expect.muted_by).filter((m) => m != null));
      expect([...muted].sort()).toEqual(["inhibition", "silence", "window"]);
      expect(doc.cases.some((c) => (c.expect.also ?? []).length > 0)).toBe(true);
    });

    for (const c of doc.cases) {
      it(c.name, () => {
        const at = parseTimestamp(c.at);
        expect(at, "at").not.toBeNull();
        const overrides = Object.fromEntries(Object.entries(c.context ?? {}).map(([k, v]) => [k, String(v)]));
        const { decision: d } = explainEvent({
          config,
          event: c.event,
          at: at as number,
          overrides,
          model: DEFAULT_MODEL,
        });
        const why = `rule ${d.rule.id}; tried: ${d.rulesTried.map((r) => `${r.id} (${r.whyNot})`).join("; ")}`;
        expect(d.route.kind, why).toBe(c.expect.route);
        expect(d.rule.id, why).toBe(c.expect.rule);
        if (c.expect.band !== undefined) expect(d.band).toBe(c.expect.band);
        expect(d.also.map((a) => a.rule)).toEqual(c.expect.also ?? []);
        expect(d.modifiers.map((m) => m.id)).toEqual(c.expect.modifiers ?? []);
        expect(d.mutedBy?.kind ?? null).toBe(c.expect.muted_by ?? null);
        if (c.expect.maintenance !== undefined) expect(d.maintenance).toBe(c.expect.maintenance);
        if (c.expect.counterfactual !== undefined)
          expect(d.counterfactual?.wouldRoute).toBe(c.expect.counterfactual);
        if (c.expect.two_person !== undefined)
          expect(d.route.kind === "page" && d.route.twoPerson).toBe(c.expect.two_person);
        if (c.expect.channel !== undefined)
          expect("channel" in d.route ? d.route.channel : null).toBe(c.expect.channel);
      });
    }
  });
}
