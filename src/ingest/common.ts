import type { Source } from "../config/types.js";
import type { Problem } from "../core/errors.js";
import { isSeverity, type Labels, type Link, type Severity } from "../core/types.js";

/** Every parser answers with normalized events, or every problem it found (nothing is stored). */
export type ParseResult<E> = { ok: true; events: E[] } | { ok: false; problems: Problem[] };

/** Most events one request may carry. */
export const MAX_BATCH = 10_000;

/**
 * Service, per EVENTS.md: the explicit field, else the first label named by the source's
 * service_label (default service, then job), else a format-specific fallback, else the source's
 * default service. Null means unknown (the incident then says so).
 */
export function resolveService(
  source: Source,
  explicit: string | undefined,
  labels: Labels,
  fallback?: string,
): string | null {
  if (explicit !== undefined && explicit !== "") return explicit;
  for (const name of source.serviceLabels) {
    const v = labels[name];
    if (v !== undefined && v !== "") return v;
  }
  if (fallback !== undefined && fallback !== "") return fallback;
  return source.defaultService;
}

/** A severity through the source's severity_map; null when it names no known severity. */
export function mapSeverity(source: Source, raw: string): Severity | null {
  // Own keys only: a sender's "__proto__" or "constructor" is not a key of the map.
  const map = source.severityMap;
  const lower = raw.toLowerCase();
  const mapped = Object.hasOwn(map, raw) ? map[raw] : Object.hasOwn(map, lower) ? map[lower] : undefined;
  if (mapped !== undefined) return mapped;
  return isSeverity(lower) ? lower : null;
}

/** From a label: unknown values fall back to the source's default (labels are free text). */
export function severityFromLabel(source: Source, raw: string | undefined): Severity {
  if (raw === undefined) return source.defaultSeverity;
  return mapSeverity(source, raw) ?? source.defaultSeverity;
}

export function severityHint(source: Source): string {
  const mapped = Object.keys(source.severityMap);
  const base = "critical, error, warning or info";
  return mapped.length === 0
    ? `must be ${base}`
    : `must be ${base}, or one of the source's severity_map keys`;
}

/** Alertmanager-style links: the generator, plus runbook and dashboard annotations when present. */
export function alertLinks(generatorUrl: string | undefined, annotations: Labels): Link[] {
  const links: Link[] = [];
  if (generatorUrl) links.push({ href: generatorUrl, text: "Source" });
  if (annotations.runbook_url) links.push({ href: annotations.runbook_url, text: "Runbook" });
  if (annotations.dashboard_url) links.push({ href: annotations.dashboard_url, text: "Dashboard" });
  return links;
}

/** Problems on a batch (paths like `[3].labels`) carry the item's index for the response. */
export function indexed(problems: Problem[]): Problem[] {
  return problems.map((p) => {
    const m = /^\[(\d+)\]/.exec(p.path);
    return m === null ? p : { ...p, index: Number(m[1]) };
  });
}

/** Timestamps as senders write them; Go's zero time and anything before 1970 mean "not set". */
export function senderTime(
  text: string | undefined,
  parse: (t: string) => number | null,
): number | null | "bad" {
  if (text === undefined || text === "") return null;
  const ms = parse(text);
  if (ms === null) return "bad";
  return ms <= 0 ? null : ms;
}
