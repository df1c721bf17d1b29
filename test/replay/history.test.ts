import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { PagewiseError } from "../../src/core/errors.js";
import type { InboundEvent } from "../../src/core/types.js";
import {
  type HistoryProgress,
  HistorySources,
  readHistory,
  undeclaredSource,
} from "../../src/replay/history.js";
import { tempDir } from "../helpers.js";

const CONFIG = `
scoring:
  upstream_annotations: [z]
services:
  - name: checkout
    tier: 0
sources:
  - name: metrics
    kind: generic
    key: metrics-key-123
    reliability: high
    group_by: [alertname, service]
`;

const T = Date.parse("2026-11-30T12:00:00Z");
const iso = (minutes: number) => new Date(T + minutes * 60_000).toISOString();
const line = (minutes: number, over: Record<string, unknown> = {}) =>
  JSON.stringify({
    at: iso(minutes),
    source: "metrics",
    summary: `event at ${minutes}`,
    service: "checkout",
    labels: { alertname: "Latency" },
    ...over,
  });

let dir: { path: string; cleanup: () => void };
beforeEach(() => {
  dir = tempDir("pagewise-history-");
});
afterEach(() => dir.cleanup());

function write(name: string, lines: string[], gzip = false): string {
  const path = join(dir.path, name);
  const text = `${lines.join("\n")}\n`;
  writeFileSync(path, gzip ? gzipSync(text) : text);
  return path;
}

async function readAll(
  files: string[],
  sources = new HistorySources(parseConfig(CONFIG, {})),
  onProgress?: (p: HistoryProgress) => void,
): Promise<(InboundEvent & { at: number })[]> {
  const out: (InboundEvent & { at: number })[] = [];
  for await (const ev of readHistory(files, sources, onProgress)) out.push(ev);
  return out;
}

/** The error a read fails with (the test fails if it does not fail). */
async function failure(files: string[]): Promise<PagewiseError> {
  try {
    await readAll(files);
  } catch (err) {
    expect(err).toBeInstanceOf(PagewiseError);
    return err as PagewiseError;
  }
  throw new Error("expected the read to fail");
}

const summaries = (evs: InboundEvent[]) => evs.map((e) => e.summary);

describe("readHistory", () => {
  it("reads .jsonl: generic events with their time, outcome, upstream score and keys", async () => {
    const file = write("a.jsonl", [
      line(0, { outcome: "genuine", upstream_score: 0.7, dedup_key: "d1" }),
      "",
      line(1, { action: "resolve", dedup_key: "d1", summary: undefined }),
      line(2, { action: "change", summary: "deploy v2" }),
      line(3, { severity: "critical", outcome: "false_alarm" }),
    ]);
    const evs = await readAll([file]);
    expect(evs.map((e) => e.at)).toEqual([T, T + 60_000, T + 120_000, T + 180_000]);
    const [first, resolve, change, last] = evs;
    expect(first).toMatchObject({
      kind: "signal",
      action: "trigger",
      source: "metrics",
      alertKey: "d1",
      service: "checkout",
      severity: "warning",
      upstreamScore: 0.7,
      outcome: "genuine",
    });
    expect(resolve).toMatchObject({ kind: "signal", action: "resolve", alertKey: "d1" });
    expect(change).toMatchObject({ kind: "change", service: "checkout", summary: "deploy v2" });
    expect(last).toMatchObject({ kind: "signal", severity: "critical", outcome: "false_alarm" });
    // group_by [alertname, service]: both triggers share a group key, not an alert key.
    if (first?.kind === "signal" && last?.kind === "signal") {
      expect(first.groupKey).toBe(last.groupKey);
      expect(first.alertKey).not.toBe(last.alertKey);
    } else {
      throw new Error("expected signals");
    }
  });

  it("reads .jsonl.gz the same as .jsonl", async () => {
    const lines = [line(0, { outcome: "genuine" }), line(5, { labels: { alertname: "Disk" } }), line(9)];
    const plain = await readAll([write("p.jsonl", lines)]);
    const gz = await readAll([write("g.jsonl.gz", lines, true)]);
    expect(gz).toEqual(plain);
    expect(gz).toHaveLength(3);
  });

  it("merges several files by time", async () => {
    const a = write("a.jsonl", [
      line(0, { summary: "a0" }),
      line(2, { summary: "a2" }),
      line(4, { summary: "a4" }),
    ]);
    const b = write(
      "b.jsonl.gz",
      [line(1, { summary: "b1" }), line(3, { summary: "b3" }), line(9, { summary: "b9" })],
      true,
    );
    const c = write("c.jsonl", [line(2.5, { summary: "c2.5" })]);
    const empty = write("empty.jsonl", []);
    const evs = await readAll([a, b, empty, c]);
    expect(summaries(evs)).toEqual(["a0", "b1", "a2", "c2.5", "b3", "a4", "b9"]);
    for (let i = 1; i < evs.length; i++) expect(evs[i]?.at).toBeGreaterThanOrEqual(evs[i - 1]?.at as number);
  });

  it("reports progress per file, ending with every byte read", async () => {
    const file = write("a.jsonl", [line(0), line(1), line(2)]);
    const seen: HistoryProgress[] = [];
    await readAll([file], undefined, (p) => seen.push(p));
    const last = seen.at(-1);
    expect(last?.file).toBe(file);
    expect(last?.events).toBe(3);
    expect(last?.bytesRead).toBe(last?.bytesTotal);
    expect(last?.bytesTotal).toBeGreaterThan(0);
  });
});

describe("readHistory errors", () => {
  it("a bad field: `file:line: field: reason`", async () => {
    const file = write("bad.jsonl", [line(0), "", line(1, { severity: "bogus" })]);
    const err = await failure([file]);
    expect(err.code).toBe("PW_INVALID_EVENT");
    expect(err.message.startsWith(`${file}:3: severity: `)).toBe(true);
    expect(err.problems[0]?.path).toBe(`${file}:3: severity`);
  });

  it("a schema violation names its field too", async () => {
    const file = write("bad.jsonl", [line(0, { upstream_score: 2 })]);
    const err = await failure([file]);
    expect(err.message.startsWith(`${file}:1: upstream_score: `)).toBe(true);
  });

  it("a missing time or source in a history file", async () => {
    const noAt = write("noat.jsonl", [JSON.stringify({ source: "metrics", summary: "x" })]);
    expect((await failure([noAt])).message).toBe(`${noAt}:1: at: is required in a history file`);
    const noSource = write("nosource.jsonl", [line(0), JSON.stringify({ at: iso(1), summary: "x" })]);
    expect((await failure([noSource])).message).toBe(`${noSource}:2: source: is required in a history file`);
  });

  it("malformed JSON", async () => {
    const file = write("json.jsonl", [line(0), "{not json"]);
    const err = await failure([file]);
    expect(err.message.startsWith(`${file}:2: malformed JSON: `)).toBe(true);
  });

  it("rejects an event earlier than the one before it in the same file", async () => {
    const file = write("order.jsonl", [line(0), line(5), line(4)]);
    const err = await failure([file]);
    expect(err.message).toBe(
      `${file}:3: at: is earlier than the previous event (history must be in time order)`,
    );
    expect(err.problems).toEqual([
      { path: `${file}:3: at`, reason: "is earlier than the previous event (history must be in time order)" },
    ]);
  });

  it("events at the same time are in order", async () => {
    const file = write("same.jsonl", [line(0, { summary: "x" }), line(0, { summary: "y" })]);
    expect(summaries(await readAll([file]))).toEqual(["x", "y"]);
  });

  it("a missing file", async () => {
    const err = await failure([join(dir.path, "nope.jsonl")]);
    expect(err.message).toMatch(/^cannot read history file .*nope\.jsonl: /);
  });

  it("a corrupt .gz file fails with the file's name instead of hanging or ending quietly", async () => {
    const path = join(dir.path, "corrupt.jsonl.gz");
    const good = gzipSync(`${line(0)}\n${line(1)}\n`);
    writeFileSync(path, Buffer.concat([good.subarray(0, 20), Buffer.from("garbage that is not deflate")]));
    const err = await failure([path]);
    expect(err.message.startsWith(`${path}:`)).toBe(true);
  });
});

describe("undeclared sources", () => {
  it("get the documented defaults and are recorded; the caller's declared ones are untouched", async () => {
    const config = parseConfig(CONFIG, {});
    const sources = new HistorySources(config);
    const file = write("u.jsonl", [
      line(0, { source: "mystery", labels: { alertname: "Odd", severity: "page" }, dedup_key: undefined }),
      line(1),
      line(2, { source: "mystery", labels: { alertname: "Odd" } }),
    ]);
    const evs = await readAll([file], sources);
    expect([...sources.undeclared]).toEqual(["mystery"]);
    const made = config.sources.get("mystery");
    expect(made).toEqual({ ...undeclaredSource("mystery"), upstreamAnnotations: ["z"] });
    expect(made).toMatchObject({
      reliability: 0.1,
      groupBy: null,
      defaultSeverity: "warning",
      autoResolveAfter: 5 * 60_000,
      serviceLabels: ["service", "job"],
    });
    const first = evs[0];
    if (first?.kind !== "signal") throw new Error("expected a signal");
    // No group_by: each alert key is its own incident; an unknown severity label means the default.
    expect(first.groupKey).toBe(first.alertKey);
    expect(first.severity).toBe("warning");
    expect(first.source).toBe("mystery");
    // The declared source is the configured one.
    expect(config.sources.get("metrics")?.reliability).toBe(0.6);
  });
});
