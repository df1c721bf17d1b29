import type { Config } from "../config/types.js";
import { parseDuration } from "../core/duration.js";
import type { Problem } from "../core/errors.js";
import { type Matcher, parseMatcher } from "../core/policy/matchers.js";

export type Obj = Record<string, unknown>;

/** Shared checks; each returns undefined after reporting a problem. */
export class Checker {
  readonly problems: Problem[] = [];
  /** Where each alert ref first fires (offset), for acks, resolves and expectations. */
  readonly refs = new Map<string, number>();
  durationMs = Number.POSITIVE_INFINITY;

  constructor(readonly config: Config) {}

  bad(path: string, reason: string): undefined {
    this.problems.push({ path, reason });
    return undefined;
  }

  object(v: unknown, path: string, keys: readonly string[]): Obj | undefined {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return this.bad(path, "must be an object");
    for (const k of Object.keys(v)) {
      if (!keys.includes(k)) this.bad(join(path, k), `unknown key (expected one of: ${keys.join(", ")})`);
    }
    return v as Obj;
  }

  list(v: unknown, path: string): [unknown, string][] {
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      this.bad(path, "must be a list");
      return [];
    }
    return v.map((item, i) => [item, `${path}[${i}]`]);
  }

  text(v: unknown, path: string): string | undefined {
    if (v === undefined) return this.bad(path, "is required");
    if (typeof v !== "string" || v.trim() === "") return this.bad(path, "must be a non-empty string");
    return v;
  }

  optionalText(v: unknown, path: string): string | null | undefined {
    return v === undefined ? null : this.text(v, path);
  }

  duration(v: unknown, path: string): number | undefined {
    if (v === undefined) return this.bad(path, "is required");
    const ms = v === 0 ? 0 : typeof v === "string" ? parseDuration(v) : null;
    if (ms === null) return this.bad(path, "must be a duration such as 30s, 5m or 1h30m");
    return ms;
  }

  /** An offset from the start that must fall inside the run. */
  offset(v: unknown, path: string): number | undefined {
    const ms = this.duration(v, path);
    if (ms !== undefined && ms > this.durationMs)
      return this.bad(path, "is after the end of the run (see duration)");
    return ms;
  }

  positive(v: unknown, path: string): number | undefined {
    const ms = this.duration(v, path);
    if (ms === 0) return this.bad(path, "must be longer than 0s");
    return ms;
  }

  count(v: unknown, path: string): number | null | undefined {
    if (v === undefined) return null;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0)
      return this.bad(path, "must be a whole number, 0 or more");
    return v;
  }

  oneOf<T extends string>(v: unknown, path: string, allowed: readonly T[]): T | undefined {
    if (typeof v === "string" && (allowed as readonly string[]).includes(v)) return v as T;
    return this.bad(path, `must be one of: ${allowed.join(", ")}`);
  }

  user(v: unknown, path: string): string | undefined {
    const name = this.text(v, path);
    if (name !== undefined && !this.config.users.has(name)) return this.bad(path, `unknown user "${name}"`);
    return name;
  }

  service(v: unknown, path: string): string | undefined {
    const name = this.text(v, path);
    if (name !== undefined && !this.config.services.has(name))
      return this.bad(path, `unknown service "${name}"`);
    return name;
  }

  matchers(v: unknown, path: string): { text: string[]; compiled: Matcher[] } | undefined {
    if (!Array.isArray(v) || v.length === 0)
      return this.bad(path, 'must be a non-empty list of matchers, e.g. ["service=\\"search\\""]');
    const text: string[] = [];
    const compiled: Matcher[] = [];
    v.forEach((m, i) => {
      const parsed = typeof m === "string" ? parseMatcher(m) : "must be a string";
      if (typeof parsed === "string") this.bad(`${path}[${i}]`, parsed);
      else {
        text.push(m as string);
        compiled.push(parsed);
      }
    });
    return text.length === v.length ? { text, compiled } : undefined;
  }

  /** The ref of an alert that fires in the scenario. */
  ref(v: unknown, path: string): string | undefined {
    const ref = this.text(v, path);
    if (ref !== undefined && !this.refs.has(ref)) return this.bad(path, `no alert has ref "${ref}"`);
    return ref;
  }
}

export function join(path: string, key: string): string {
  if (key === "") return path;
  if (path === "") return key;
  return key.startsWith("[") ? `${path}${key}` : `${path}.${key}`;
}
