import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PagewiseError } from "../../src/core/errors.js";
import { KEYS, type TestService, testService } from "../helpers.js";

/** Group commit: concurrent batches share a transaction; a failed group is retried batch by batch. */

let svc: TestService;
beforeEach(async () => {
  svc = await testService();
});
afterEach(async () => {
  await svc.dispose();
});

function send(n: number, size = 1) {
  return svc.app.inject({
    method: "POST",
    url: "/api/v2/alerts",
    headers: { authorization: `Bearer ${KEYS.prometheus}`, "content-type": "application/json" },
    payload: JSON.stringify(
      Array.from({ length: size }, (_, k) => ({
        labels: { alertname: `GroupCommit${n}`, service: "checkout", severity: "page", instance: `i${k}` },
      })),
    ),
  });
}

/** Counts the store's transactions, failing the first `failFirst` of them. */
function watchTransactions(failFirst = 0): { count: () => number } {
  const store = svc.store;
  const original = store.transaction.bind(store);
  let calls = 0;
  store.transaction = ((fn: Parameters<typeof original>[0]) => {
    calls++;
    if (calls <= failFirst) throw new PagewiseError("PW_STORE_UNAVAILABLE", "injected: the database is busy");
    return original(fn);
  }) as typeof store.transaction;
  return { count: () => calls };
}

const stored = () =>
  (
    svc.store.db.prepare("SELECT COUNT(*) AS n FROM alerts WHERE labels LIKE '%GroupCommit%'").get() as {
      n: number;
    }
  ).n;

describe("group commit", () => {
  it("answers 20 concurrent senders from fewer transactions, each only after its data is stored", async () => {
    const tx = watchTransactions();
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => send(i)));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(20).fill(200));
    expect(stored()).toBe(20);
    expect(tx.count()).toBeLessThan(20);
  });

  it("a group stops at 200 events: six concurrent batches of 90 take three transactions, all stored", async () => {
    const tx = watchTransactions();
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => send(200 + i, 90)));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(6).fill(200));
    expect(stored()).toBe(6 * 90);
    expect(tx.count()).toBe(3);
  });

  it("while the outbox sends, groups stop at 50 events, so that claims and records get their turns", async () => {
    const tx = watchTransactions();
    svc.engine.sending = () => true;
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => send(300 + i, 30)));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(6).fill(200));
    expect(stored()).toBe(6 * 30);
    expect(tx.count()).toBe(6);
    svc.engine.sending = () => false;
    await Promise.all(Array.from({ length: 6 }, (_, i) => send(400 + i, 30)));
    expect(tx.count()).toBe(6 + 1);
  });

  it("a group whose transaction fails is retried one batch at a time: nobody gets the group's error", async () => {
    const tx = watchTransactions(1);
    const answers = await Promise.all(Array.from({ length: 5 }, (_, i) => send(100 + i)));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(5).fill(200));
    expect(stored()).toBe(5);
    expect(tx.count()).toBe(1 + 5);
  });

  it("a batch that fails on its own answers 503 alone", async () => {
    watchTransactions(2);
    const answers = await Promise.all(Array.from({ length: 3 }, (_, i) => send(200 + i)));
    // The group failed, then the first batch failed alone; the other two committed.
    expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 200, 503]);
    expect(stored()).toBe(2);
  });
});
