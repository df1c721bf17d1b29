import { isMap, isSeq, LineCounter, parseDocument } from "yaml";
import type { Config } from "../config/types.js";
import { PagewiseError, type Problem } from "../core/errors.js";
import { parseTimestamp } from "../core/time.js";
import { Checker } from "./check.js";
import { parseEvents, parseHttpAnswer } from "./parse-events.js";
import { parseExpectation } from "./parse-expect.js";
import type { Scenario } from "./scenario.js";

/**
 * Reads a scenario file and checks it against the config, as the config loader does: unknown keys
 * are refused, names are cross-checked, and every problem is reported as `path: reason (line N)`.
 */
export function parseScenario(text: string, config: Config, file = "the scenario"): Scenario {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw invalid(
      file,
      doc.errors.map((e) => ({
        path: "",
        reason: e.message.split("\n")[0] ?? e.message,
        line: lines.linePos(e.pos[0]).line,
      })),
    );
  }
  const c = new Checker(config);
  const parsed = scenario(c, doc.toJS());
  if (c.problems.length > 0 || parsed === undefined) {
    throw invalid(
      file,
      c.problems
        .map((p) => {
          const line = lineOf(doc, lines, p.path);
          return line === undefined ? p : { ...p, line };
        })
        .sort((a, b) => (a.line ?? 0) - (b.line ?? 0)),
    );
  }
  return parsed;
}

function invalid(file: string, problems: Problem[]): PagewiseError {
  return new PagewiseError("PW_CONFIG_INVALID", `${file} has ${problems.length} problem(s)`, problems);
}

function scenario(c: Checker, raw: unknown): Scenario | undefined {
  const o = c.object(raw, "", ["name", "description", "start", "duration", "http", "events", "expect"]);
  if (o === undefined) return undefined;
  const name = c.text(o.name, "name");
  const description = c.optionalText(o.description, "description");
  let start: number | undefined;
  if (o.start === undefined) c.bad("start", "is required");
  else {
    const t = typeof o.start === "string" ? parseTimestamp(o.start) : null;
    if (t === null) c.bad("start", "must be an RFC 3339 time, e.g. 2026-12-01T03:00:00Z");
    else start = t;
  }
  const durationMs = c.positive(o.duration, "duration");
  if (durationMs !== undefined) c.durationMs = durationMs;
  const http = c.list(o.http, "http").flatMap(([h, path]) => parseHttpAnswer(c, h, path) ?? []);
  if (o.events === undefined) c.bad("events", "is required (a list of things that happen)");
  const events = parseEvents(c, o.events);
  const expect = c.list(o.expect, "expect").flatMap(([e, path]) => parseExpectation(c, e, path) ?? []);
  if (name === undefined || description === undefined || start === undefined || durationMs === undefined)
    return undefined;
  return { name, description, start, durationMs, http, events, expect };
}

/** The 1-based line of the deepest YAML node that exists on the path. */
function lineOf(doc: ReturnType<typeof parseDocument>, lines: LineCounter, path: string): number | undefined {
  let node: unknown = doc.contents;
  let offset = (node as { range?: [number] } | null)?.range?.[0];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    const key: string | number = m[2] !== undefined ? Number(m[2]) : (m[1] as string);
    let next: { range?: [number] } | undefined;
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
      next = pair?.key as { range?: [number] } | undefined;
      node = pair?.value;
    } else if (isSeq(node) && typeof key === "number") {
      node = node.items[key];
      next = node as { range?: [number] } | undefined;
    } else break;
    if (next === undefined) break;
    offset = next.range?.[0] ?? offset;
  }
  return offset === undefined ? undefined : lines.linePos(offset).line;
}
