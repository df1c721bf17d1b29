import { describe, expect, it } from "vitest";
import { MAX_DEPTH, parseJson } from "../../src/http/body.js";

const nest = (depth: number, open = "[", close = "]") => `${open.repeat(depth)}${close.repeat(depth)}`;
const objects = (depth: number) => `${'{"a":'.repeat(depth - 1)}{}${"}".repeat(depth - 1)}`;

describe("JSON depth at the boundary", () => {
  it(`takes ${MAX_DEPTH} levels of arrays or objects and refuses one more, naming the limit`, () => {
    expect(() => parseJson(Buffer.from(nest(MAX_DEPTH)))).not.toThrow();
    expect(() => parseJson(Buffer.from(objects(MAX_DEPTH)))).not.toThrow();
    for (const text of [nest(MAX_DEPTH + 1), objects(MAX_DEPTH + 1), `{"x":[${nest(MAX_DEPTH)}]}`])
      expect(() => parseJson(Buffer.from(text))).toThrow(`JSON nested deeper than ${MAX_DEPTH} levels`);
  });

  it("brackets inside strings are text, not depth", () => {
    const text = JSON.stringify({ s: "[".repeat(1000), t: "{".repeat(1000) });
    expect(parseJson(Buffer.from(text))).toEqual({ s: "[".repeat(1000), t: "{".repeat(1000) });
  });

  it("a million levels is refused as too deep, not a crash", () => {
    expect(() => parseJson(Buffer.from(nest(1_000_000)))).toThrow("nested deeper");
  });
});
