import { describe, expect, it } from "vitest";
import { DeliveryWorker } from "../../src/engine/delivery.js";
import { post, testService } from "../helpers.js";

/** The delivery worker is woken by a commit that queued messages, instead of waiting for its poll. */

const HOUR = 3_600_000;
const settle = () => new Promise((r) => setTimeout(r, 20));

describe("DeliveryWorker.wake", () => {
  it("runs a pass at once when woken, and once more when woken during a pass", async () => {
    let passes = 0;
    let release: () => void = () => {};
    const worker = new DeliveryWorker(
      {
        drain: () => {
          passes++;
          return new Promise<number>((resolve) => {
            release = () => resolve(0);
          });
        },
      },
      HOUR, // the poll alone would not run in this test
    );
    worker.start();
    await settle();
    expect(passes).toBe(0);
    worker.wake();
    await settle();
    expect(passes).toBe(1);
    worker.wake(); // during the pass: remembered, not lost
    worker.wake();
    release();
    await settle();
    expect(passes).toBe(2);
    release();
    await settle();
    expect(passes).toBe(2);
    const stopping = worker.stop();
    release();
    await stopping;
    worker.wake(); // stopped: nothing more runs
    await settle();
    expect(passes).toBe(2);
  });

  it("a commit that queues a notification wakes the service's worker; one that queues none does not", async () => {
    const svc = await testService();
    let woken = 0;
    svc.store.onOutbox = () => woken++;
    try {
      const res = await post(
        svc.app,
        "/api/v2/alerts",
        [{ labels: { alertname: "CheckoutDown", service: "checkout", severity: "page" } }],
        { key: "demo-prometheus-key" },
      );
      expect(res.statusCode).toBe(200);
      expect(woken).toBeGreaterThanOrEqual(1);
      const before = woken;
      // A re-send touches one row and queues nothing.
      await post(
        svc.app,
        "/api/v2/alerts",
        [{ labels: { alertname: "CheckoutDown", service: "checkout", severity: "page" } }],
        { key: "demo-prometheus-key" },
      );
      expect(woken).toBe(before);
    } finally {
      await svc.dispose();
    }
  });
});
