import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { parseScenario } from "../../src/sim/parse.js";
import { runGameDay } from "../../src/sim/run.js";
import { EXAMPLE_CONFIG_TEXT } from "../helpers.js";

const MIN = 60_000;
const FILE = new URL("../../examples/scenarios/channel-outage-recovers.yaml", import.meta.url).pathname;

describe("a channel outage in a game day", () => {
  it("retries through the real outbox and delivers the message exactly once, after recovery", async () => {
    const config = parseConfig(EXAMPLE_CONFIG_TEXT, {});
    const scenario = parseScenario(readFileSync(FILE, "utf8"), config);
    const day = await runGameDay({ config, scenario, deliver: false });
    const start = scenario.start;
    const chat = day.attempts.filter((a) => a.channel === "payments-chat");
    const delivered = chat.filter((a) => a.outcome === "delivered");
    const retried = chat.filter((a) => a.outcome === "retry");

    expect(delivered).toHaveLength(1);
    expect(delivered[0]?.at).toBeGreaterThanOrEqual(start + 10 * MIN);
    // Every try before recovery was answered 503 and retried, each later than the one before.
    expect(retried.length).toBeGreaterThan(3);
    for (const a of retried) expect(a.at).toBeLessThan(start + 10 * MIN);
    const times = chat.map((a) => a.at);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(new Set(times).size).toBe(times.length);
    // One notification throughout: the same idempotency key on every try, nothing dead-lettered.
    expect(new Set(chat.map((a) => a.message.idempotencyKey)).size).toBe(1);
    expect(chat.some((a) => a.outcome === "failed")).toBe(false);
    const timeline = day.incidents.flatMap((i) => i.timeline.map((t) => t.kind));
    expect(timeline).not.toContain("delivery_failed");
  });
});
