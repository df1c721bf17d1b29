/** RFC 3339 timestamps at the boundary; milliseconds since the epoch inside. */

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})$/;

/**
 * Senders repeat the same few timestamps (a batch shares startsAt/endsAt; Prometheus re-sends
 * them): the last ones parsed are remembered, as the parse is a large share of a re-send's cost.
 */
const recent = new Map<string, number | null>();
const RECENT_MAX = 64;

/** Parses an RFC 3339 (or ISO 8601 with offset) time; null when malformed. */
export function parseTimestamp(text: string): number | null {
  if (text.length > 40) return parseUncached(text); // no timestamp is this long
  const known = recent.get(text);
  if (known !== undefined) return known;
  const ms = parseUncached(text);
  if (recent.size >= RECENT_MAX) recent.clear();
  recent.set(text, ms);
  return ms;
}

function parseUncached(text: string): number | null {
  if (!RFC3339.test(text)) return null;
  // Date.parse rolls a day the month does not have over (2026-02-30 is March 2nd): refuse it.
  const month = Number(text.slice(5, 7));
  if (Number(text.slice(8, 10)) > new Date(Date.UTC(Number(text.slice(0, 4)), month, 0)).getUTCDate())
    return null;
  // Normalize "+0000" (PagerDuty style) to "+00:00" for Date.parse.
  const normalized = text.replace(/([+-]\d{2})(\d{2})$/, "$1:$2");
  const ms = Date.parse(normalized);
  return Number.isFinite(ms) ? ms : null;
}

export function toIso(ms: number): string {
  return new Date(ms).toISOString();
}

export function toIsoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
