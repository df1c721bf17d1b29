import { type Labels, labelOf } from "../types.js";

/**
 * Alertmanager's matcher syntax, so operators feel at home: `name="value"`, `name!="value"`,
 * `name=~"regex"`, `name!~"regex"`. Regexes are anchored (as in Alertmanager) and compiled once;
 * a missing label matches as the empty string.
 */
export type MatchOp = "=" | "!=" | "=~" | "!~";

export interface Matcher {
  name: string;
  op: MatchOp;
  value: string;
  /** Compiled for =~ and !~. */
  re: RegExp | null;
  /** The matcher as written, for explanations. */
  text: string;
}

// An unquoted value cannot start with "~" or hold quotes: `name=~"(` (a broken regex) must not
// read as `name = '~"('`.
const SYNTAX =
  /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^"'\s~][^\s"']*))?\s*$/;

/** Parses one matcher; returns a reason string when it is not valid. */
export function parseMatcher(text: string): Matcher | string {
  const m = SYNTAX.exec(text);
  if (m === null)
    return `"${text}" is not a matcher (name="value", name!="value", name=~"regex" or name!~"regex")`;
  const name = m[1] as string;
  const op = m[2] as MatchOp;
  const quoted = m[3] ?? m[4];
  const value = quoted !== undefined ? quoted.replace(/\\(.)/g, "$1") : (m[5] ?? "");
  let re: RegExp | null = null;
  if (op === "=~" || op === "!~") {
    try {
      re = new RegExp(`^(?:${value})$`);
    } catch (err) {
      return `"${text}": ${(err as Error).message}`;
    }
  }
  return { name, op, value, re, text: text.trim() };
}

export function matches(m: Matcher, labels: Labels): boolean {
  const v = labelOf(labels, m.name) ?? "";
  switch (m.op) {
    case "=":
      return v === m.value;
    case "!=":
      return v !== m.value;
    case "=~":
      return (m.re as RegExp).test(v);
    case "!~":
      return !(m.re as RegExp).test(v);
    default: {
      const never: never = m.op;
      throw new Error(`unknown matcher op ${String(never)}`);
    }
  }
}

/** All must match (an empty list matches everything). */
export function matchesAll(ms: readonly Matcher[], labels: Labels): boolean {
  for (const m of ms) if (!matches(m, labels)) return false;
  return true;
}

/** The first matcher that does not match, for "why not" explanations. */
export function firstMismatch(ms: readonly Matcher[], labels: Labels): Matcher | null {
  for (const m of ms) if (!matches(m, labels)) return m;
  return null;
}
