import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fingerprint } from "../../src/core/fingerprint.js";
import { genericAlertKey, groupKeyOf } from "../../src/core/keys.js";

/** Reference FNV-1a 64 over BigInt, exactly as Prometheus' labels fingerprint is defined. */
function reference(labels: Record<string, string>): string {
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  const mask = (1n << 64n) - 1n;
  const add = (b: number) => {
    h ^= BigInt(b);
    h = (h * prime) & mask;
  };
  for (const name of Object.keys(labels).sort()) {
    for (const b of Buffer.from(name, "utf8")) add(b);
    add(0xff);
    for (const b of Buffer.from(labels[name] as string, "utf8")) add(b);
    add(0xff);
  }
  return h.toString(16).padStart(16, "0");
}

describe("fingerprint", () => {
  it("matches known values (empty set is the FNV offset basis)", () => {
    expect(fingerprint({})).toBe("cbf29ce484222325");
    expect(fingerprint({ alertname: "Watchdog" })).toBe("003b0a0f7d3fa569");
    expect(fingerprint({ a: "ü", b: "x" })).toBe("df8f6a0bbb7c4c19");
  });

  it("equals the BigInt reference for any label set, including non-ASCII", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ unit: "grapheme", maxLength: 12 }), fc.string({ unit: "grapheme" })),
        (labels) => {
          expect(fingerprint(labels)).toBe(reference(labels));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("does not depend on key order", () => {
    expect(fingerprint({ a: "1", b: "2" })).toBe(fingerprint({ b: "2", a: "1" }));
  });
});

describe("keys", () => {
  it("builds Alertmanager-style group keys, taking service from the resolved service when no label has it", () => {
    expect(groupKeyOf({ alertname: "X", service: "api" }, ["alertname", "service"], "api")).toBe(
      '{alertname="X",service="api"}',
    );
    expect(groupKeyOf({ alertname: "X" }, ["alertname", "service"], "db")).toBe(
      '{alertname="X",service="db"}',
    );
    expect(groupKeyOf({}, ["cluster"], null)).toBe('{cluster=""}');
  });

  it("keys generic alerts by service plus labels", () => {
    expect(genericAlertKey({ a: "1" }, "svc")).toBe(fingerprint({ a: "1", service: "svc" }));
    expect(genericAlertKey({ a: "1" }, "svc")).not.toBe(genericAlertKey({ a: "1" }, "other"));
  });
});
