import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PRUNE_BATCH } from "../src/engine/timers.js";
import { EXAMPLE_CONFIG_TEXT, KEYS, post, type TestService, tableCounts, testService } from "./helpers.js";

const DAY = 86_400_000;
let svc: TestService;
beforeEach(async () => {
  svc = await testService(EXAMPLE_CONFIG_TEXT.replace("retention: 90d", "retention: 7d"));
});
afterEach(async () => {
  await svc.dispose();
});

describe("retention", () => {
  it("prunes old raw events and old resolved incidents in small batches, and keeps open incidents", async () => {
    const n = PRUNE_BATCH + 100;
    const batch = Array.from({ length: n }, (_, i) => ({ summary: `old ${i}`, dedup_key: `old-${i}` }));
    await post(svc.app, "/ingest/events", batch, { key: KEYS.generic });
    await post(
      svc.app,
      "/ingest/events",
      { summary: "still open", dedup_key: "open", service: "search" },
      { key: KEYS.generic },
    );
    const resolve = batch.map((e) => ({ action: "resolve", dedup_key: e.dedup_key }));
    await post(svc.app, "/ingest/events", resolve, { key: KEYS.generic });
    // Keep "open" open past the retention by re-sending it.
    for (let d = 1; d <= 8; d++) {
      svc.clock.advance(DAY);
      await post(
        svc.app,
        "/ingest/events",
        { summary: "still open", dedup_key: "open", service: "search" },
        { key: KEYS.generic },
      );
    }
    const counts = tableCounts(svc);
    expect(counts.incidents).toBe(n + 1);

    // One pass prunes at most one batch of each, then re-arms soon.
    svc.engine.runDueTimers();
    expect(tableCounts(svc).incidents).toBe(counts.incidents - PRUNE_BATCH);
    svc.clock.advance(2_000);
    svc.engine.drainTimers();
    const after = tableCounts(svc);
    expect(after.incidents).toBe(1);
    expect(after.alerts).toBe(1);
    expect(
      svc.store.db
        .prepare("SELECT COUNT(*) AS n FROM timeline WHERE incident_id <> (SELECT id FROM incidents)")
        .get(),
    ).toEqual({ n: 0 });
    // The open incident's own old events are raw events past retention: pruned too; its state stays.
    const open = svc.store.db.prepare("SELECT status, alert_count FROM incidents").get();
    expect(open).toEqual({ status: "triggered", alert_count: 1 });
  });
});
