import type { Template } from "./types.js";

/**
 * Fills {{path}} holes from a context (incident, labels, annotations, score). Missing values
 * fill as "" so that a label absent on one alert does not stop a remediation.
 */
const HOLE = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_./-]+)?)\s*\}\}/g;

export const TEMPLATE_ROOTS = ["incident", "labels", "annotations", "score", "playbook", "run"] as const;

export type TemplateContext = Record<(typeof TEMPLATE_ROOTS)[number], unknown>;

function lookup(ctx: TemplateContext, path: string): string {
  const [root, ...rest] = path.split(".");
  // Own keys only: {{constructor}} or {{__proto__}} must not reach Object.prototype.
  let v: unknown = Object.hasOwn(ctx, root ?? "") ? (ctx as Record<string, unknown>)[root ?? ""] : undefined;
  // Labels may contain dots in their names only through the whole rest of the path.
  if ((root === "labels" || root === "annotations") && rest.length > 0) {
    const bag = v as Record<string, unknown> | undefined;
    const key = rest.join(".");
    v = bag !== undefined && Object.hasOwn(bag, key) ? bag[key] : undefined;
  } else {
    for (const k of rest) {
      if (v === null || typeof v !== "object" || !Object.hasOwn(v, k)) return "";
      v = (v as Record<string, unknown>)[k];
    }
  }
  if (v === undefined || v === null) return "";
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

export function fillText(text: string, ctx: TemplateContext, encode?: (s: string) => string): string {
  return text.replace(HOLE, (_, path: string) => {
    const v = lookup(ctx, path);
    return encode === undefined ? v : encode(v);
  });
}

/** Lone surrogates (valid in JSON labels) make encodeURIComponent throw; they become U+FFFD. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** A URL's holes are percent-encoded: a label value cannot change the host or add a query. */
export function fillUrl(text: string, ctx: TemplateContext): string {
  return fillText(text, ctx, (v) => encodeURIComponent(v.replace(LONE_SURROGATE, "\uFFFD")));
}

/** A JSON shape's strings are filled one by one, so values cannot break its structure. */
export function fillShape(t: Template, ctx: TemplateContext): Template {
  if (typeof t === "string") return fillText(t, ctx);
  if (Array.isArray(t)) return t.map((x) => fillShape(x, ctx));
  if (t !== null && typeof t === "object") {
    const out: { [k: string]: Template } = {};
    for (const [k, v] of Object.entries(t)) out[k] = fillShape(v, ctx);
    return out;
  }
  return t;
}

/** Holes whose root is not one a template can see (checked when the config loads). */
export function unknownHoles(t: Template): string[] {
  const bad: string[] = [];
  const visit = (x: Template): void => {
    if (typeof x === "string") {
      for (const m of x.matchAll(HOLE)) {
        const root = (m[1] ?? "").split(".")[0] ?? "";
        if (!(TEMPLATE_ROOTS as readonly string[]).includes(root)) bad.push(m[1] ?? "");
      }
    } else if (Array.isArray(x)) x.forEach(visit);
    else if (x !== null && typeof x === "object") Object.values(x).forEach(visit);
  };
  visit(t);
  return bad;
}
