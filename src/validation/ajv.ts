import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import type { Problem } from "../core/errors.js";

/** One Ajv for the process: schemas are compiled once at start-up and then trusted. */
export const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });

export function compile<T>(schema: object): ValidateFunction<T> {
  return ajv.compile<T>(schema);
}

/** JSON pointer segments to a readable path: `/services/3/team` -> `services[3].team`. */
export function pointerToPath(pointer: string, extra?: string): string {
  const parts = pointer === "" ? [] : pointer.slice(1).split("/");
  if (extra !== undefined) parts.push(extra);
  let out = "";
  for (const raw of parts) {
    const part = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (/^\d+$/.test(part)) out += `[${part}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(part)) out += out === "" ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

/** Ajv errors as problems, one per place, with reasons a person can act on. */
export function ajvProblems(errors: readonly ErrorObject[] | null | undefined): Problem[] {
  const out: Problem[] = [];
  const seen = new Set<string>();
  for (const e of errors ?? []) {
    const { path, reason } = describe(e);
    const key = `${path}\u0000${reason}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path, reason });
  }
  return out;
}

function describe(e: ErrorObject): { path: string; reason: string } {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "required":
      return { path: pointerToPath(e.instancePath, String(p.missingProperty)), reason: "is required" };
    case "additionalProperties":
      return { path: pointerToPath(e.instancePath, String(p.additionalProperty)), reason: "unknown key" };
    case "type":
      return { path: pointerToPath(e.instancePath), reason: `must be ${article(String(p.type))}` };
    case "enum":
      return {
        path: pointerToPath(e.instancePath),
        reason: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`,
      };
    case "const":
      return { path: pointerToPath(e.instancePath), reason: `must be ${JSON.stringify(p.allowedValue)}` };
    case "maxLength":
      return { path: pointerToPath(e.instancePath), reason: `must be at most ${p.limit} characters` };
    case "minLength":
      return {
        path: pointerToPath(e.instancePath),
        reason: p.limit === 1 ? "must not be empty" : `must be at least ${p.limit} characters`,
      };
    case "minProperties":
      return {
        path: pointerToPath(e.instancePath),
        reason: p.limit === 1 ? "must not be empty" : `must have at least ${p.limit} keys`,
      };
    case "maxItems":
      return { path: pointerToPath(e.instancePath), reason: `must have at most ${p.limit} items` };
    case "minItems":
      return { path: pointerToPath(e.instancePath), reason: `must have at least ${p.limit} items` };
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return { path: pointerToPath(e.instancePath), reason: `must be ${p.comparison} ${p.limit}` };
    case "pattern":
      return { path: pointerToPath(e.instancePath), reason: e.message ?? "has the wrong format" };
    default:
      return { path: pointerToPath(e.instancePath), reason: e.message ?? "is not valid" };
  }
}

function article(type: string): string {
  const t = type.replace(/,/g, " or ");
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}
