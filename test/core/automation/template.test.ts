import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  fillShape,
  fillText,
  fillUrl,
  type TemplateContext,
  unknownHoles,
} from "../../../src/core/automation/template.js";
import type { Template } from "../../../src/core/automation/types.js";

const CTX: TemplateContext = {
  incident: {
    id: 42,
    service: "checkout",
    tier: 0,
    summary: "Disk full on node-1",
    team: null,
    nested: { a: { b: "deep" } },
  },
  labels: {
    alertname: "DiskFull",
    instance: "node-1:9100",
    "app.kubernetes.io/name": "web",
    "app.kubernetes.io": "short",
    "topology.kubernetes.io/zone": "eu-west-1a",
  },
  annotations: { "runbook.url": "https://wiki/disk" },
  score: 0.83,
  playbook: "disk-cleanup",
  run: 7,
};

const withLabel = (h: string): TemplateContext => ({ ...CTX, labels: { h } });

/** What a string becomes once lone surrogates (which no URL or UTF-8 can carry) are replaced. */
const wellFormed = (s: string): string =>
  s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");

describe("fillText", () => {
  it("fills incident fields, nested ones, the score, the playbook and the run", () => {
    expect(fillText("#{{incident.id}} {{incident.service}} tier {{incident.tier}}", CTX)).toBe(
      "#42 checkout tier 0",
    );
    expect(fillText("{{ incident.summary }}", CTX)).toBe("Disk full on node-1");
    expect(fillText("{{incident.nested.a.b}}", CTX)).toBe("deep");
    expect(fillText("{{incident.nested.a}}", CTX)).toBe('{"b":"deep"}');
    expect(fillText("{{score}} {{playbook}} {{run}}", CTX)).toBe("0.83 disk-cleanup 7");
  });

  it("takes the whole rest of the path as a label or annotation name, dots and slashes included", () => {
    expect(fillText("{{labels.app.kubernetes.io/name}}", CTX)).toBe("web");
    expect(fillText("{{labels.app.kubernetes.io}}", CTX)).toBe("short");
    expect(fillText("zone={{labels.topology.kubernetes.io/zone}}", CTX)).toBe("zone=eu-west-1a");
    expect(fillText("{{annotations.runbook.url}}", CTX)).toBe("https://wiki/disk");
    expect(fillText("{{labels.alertname}}@{{labels.instance}}", CTX)).toBe("DiskFull@node-1:9100");
  });

  it("fills missing and null values as empty", () => {
    for (const t of [
      "{{labels.nope}}",
      "{{annotations.nope}}",
      "{{incident.nope}}",
      "{{incident.team}}",
      "{{incident.id.x}}",
      "{{incident.nested.a.b.c}}",
      "{{labels.alertname.x}}",
    ])
      expect(fillText(t, CTX), t).toBe("");
    expect(fillText("[{{score}}]", { ...CTX, score: null })).toBe("[]");
    expect(fillText("[{{labels.x}}]", { ...CTX, labels: {} })).toBe("[]");
  });

  it("never reaches into prototypes", () => {
    for (const t of [
      "{{labels.constructor}}",
      "{{labels.__proto__}}",
      "{{labels.toString}}",
      "{{labels.hasOwnProperty}}",
      "{{annotations.valueOf}}",
      "{{incident.__proto__}}",
      "{{incident.constructor}}",
      "{{incident.constructor.name}}",
      "{{incident.nested.__proto__}}",
      "{{constructor}}",
      "{{__proto__}}",
      "{{toString}}",
      "{{hasOwnProperty}}",
    ]) {
      expect(fillText(`[${t}]`, CTX), t).toBe("[]");
    }
  });

  it("does not fill holes inside filled values, nor treat $ specially", () => {
    const ctx: TemplateContext = { ...CTX, labels: { a: "{{labels.b}}", b: "secret", d: "$& $1 $$ $'" } };
    expect(fillText("{{labels.a}}", ctx)).toBe("{{labels.b}}");
    expect(fillText("{{labels.d}}", ctx)).toBe("$& $1 $$ $'");
  });
});

describe("fillUrl", () => {
  it("percent-encodes values", () => {
    expect(fillUrl("http://runbooks.internal/hosts/{{labels.instance}}?a={{labels.alertname}}", CTX)).toBe(
      "http://runbooks.internal/hosts/node-1%3A9100?a=DiskFull",
    );
    expect(fillUrl("http://runbooks.internal/x?host={{labels.h}}", withLabel("a&b=c#d/../e f"))).toBe(
      "http://runbooks.internal/x?host=a%26b%3Dc%23d%2F..%2Fe%20f",
    );
  });

  const TEMPLATE = "http://runbooks.internal/x?host={{labels.h}}";
  const check = (value: string): void => {
    const url = new URL(fillUrl(TEMPLATE, withLabel(value)));
    expect(url.hostname).toBe("runbooks.internal");
    expect(url.port).toBe("");
    expect(url.username).toBe("");
    expect(url.pathname).toBe("/x");
    expect(url.hash).toBe("");
    expect([...url.searchParams.keys()]).toEqual(["host"]);
    expect(url.searchParams.get("host")).toBe(wellFormed(value));
  };

  it("a label value cannot change the host, path or query (any string)", () => {
    fc.assert(fc.property(fc.string({ unit: "grapheme" }), (v) => check(v)));
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("&", "=", "#", "?", "/", "@", ":", "%", "+", " ", "\\", ".", "a", "\n"), {
          maxLength: 20,
        }),
        (parts) => check(parts.join("")),
      ),
    );
  });

  it("does not throw on a label value with a lone surrogate (valid in JSON, not in a URL)", () => {
    for (const v of ["\uD800", "a\uDC00b", "\uDBFF\uD800x"]) check(v);
    fc.assert(fc.property(fc.string({ unit: "binary" }), (v) => check(v)));
  });
});

describe("fillShape", () => {
  it("fills every string, leaves other values and the keys alone, and does not change its input", () => {
    const shape: Template = {
      host: "{{labels.instance}}",
      "{{labels.alertname}}": "key kept",
      n: 15,
      on: true,
      none: null,
      list: ["{{incident.id}}", 2, ["x{{score}}"]],
      deep: { s: "{{labels.app.kubernetes.io/name}}" },
    };
    const copy = structuredClone(shape);
    expect(fillShape(shape, CTX)).toEqual({
      host: "node-1:9100",
      "{{labels.alertname}}": "key kept",
      n: 15,
      on: true,
      none: null,
      list: ["42", 2, ["x0.83"]],
      deep: { s: "web" },
    });
    expect(shape).toEqual(copy);
  });

  it("a label value cannot break the JSON structure (any string)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "grapheme" }), fc.string({ unit: "binary" })), (v) => {
        const out = JSON.parse(
          JSON.stringify(fillShape({ a: "{{labels.h}}", b: ["x{{labels.h}}"] }, withLabel(v))),
        );
        expect(Object.keys(out).sort()).toEqual(["a", "b"]);
        expect(out.a).toBe(v);
        expect(out.b).toEqual([`x${v}`]);
      }),
    );
  });
});

describe("unknownHoles", () => {
  it("finds holes whose root a template cannot see, anywhere in a shape", () => {
    expect(unknownHoles("http://x/{{foo.bar}}")).toEqual(["foo.bar"]);
    expect(unknownHoles("{{foo}} and {{ secrets.token }}")).toEqual(["foo", "secrets.token"]);
    expect(unknownHoles({ a: ["ok", { b: "{{env.HOME}}" }], c: 1, d: null })).toEqual(["env.HOME"]);
    expect(unknownHoles("{{constructor}}")).toEqual(["constructor"]);
  });

  it("accepts every known root", () => {
    expect(
      unknownHoles({
        a: "{{incident.id}} {{labels.x}} {{annotations.y}} {{score}} {{playbook}} {{run}}",
        b: ["{{labels.app.kubernetes.io/name}}", "{{incident.nested.a.b}}"],
      }),
    ).toEqual([]);
    expect(unknownHoles(42)).toEqual([]);
    expect(unknownHoles(null)).toEqual([]);
  });
});
