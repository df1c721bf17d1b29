/**
 * Local hour, minute and weekday in an IANA zone, for the time-of-day features. Zone offsets
 * change on quarter-hour boundaries of UTC (zones such as America/St_Johns change at :30), so the
 * offset is cached per (zone, UTC quarter hour): the hot path does one Map lookup instead of an
 * Intl call. A bounded memo of pure results.
 */
export interface LocalClock {
  year: number;
  /** 1-12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  /** 1 = Monday ... 7 = Sunday (ISO). */
  weekday: number;
}

const QUARTER = 900_000;
const formatters = new Map<string, Intl.DateTimeFormat>();
const offsets = new Map<string, number>();
const MAX_CACHED = 100_000;

export function localClock(at: number, zone: string): LocalClock {
  const offset = zone === "UTC" ? 0 : offsetAt(at, zone);
  const local = new Date(at + offset);
  const day = local.getUTCDay();
  return {
    year: local.getUTCFullYear(),
    month: local.getUTCMonth() + 1,
    day: local.getUTCDate(),
    hour: local.getUTCHours(),
    minute: local.getUTCMinutes(),
    weekday: day === 0 ? 7 : day,
  };
}

/**
 * The instant at which a zone's wall clock shows `wall` (a wall time written as if it were UTC
 * milliseconds). A wall time skipped by a spring-forward change maps to the first instant after
 * the gap; one repeated by a fall-back change maps to its first occurrence.
 */
export function instantOfWallTime(wall: number, zone: string): number {
  if (zone === "UTC") return wall;
  const a = offsetAt(wall, zone);
  const t = wall - a;
  const b = offsetAt(t, zone);
  if (b === a) return earliest(wall, t, zone);
  const t2 = wall - b;
  return offsetAt(t2, zone) === b ? earliest(wall, t2, zone) : Math.max(t, t2);
}

/** In a repeated hour the same wall time happens twice: take the earlier instant. */
function earliest(wall: number, t: number, zone: string): number {
  const before = t - 3_600_000;
  return before + offsetAt(before, zone) === wall ? before : t;
}

function offsetAt(at: number, zone: string): number {
  const bucket = Math.floor(at / QUARTER);
  const key = `${zone}\u0000${bucket}`;
  const cached = offsets.get(key);
  if (cached !== undefined) return cached;
  let f = formatters.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(zone, f);
  }
  const probe = bucket * QUARTER;
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(probe)) if (part.type !== "literal") p[part.type] = Number(part.value);
  const asUtc = Date.UTC(
    p.year ?? 1970,
    (p.month ?? 1) - 1,
    p.day ?? 1,
    p.hour ?? 0,
    p.minute ?? 0,
    p.second ?? 0,
  );
  const offset = asUtc - probe;
  if (offsets.size >= MAX_CACHED) offsets.clear();
  offsets.set(key, offset);
  return offset;
}

/** Monday to Friday, 09:00 to 17:00 local: the working day features and policy rules mean. */
export function isBusinessHours(at: number, zone: string): boolean {
  const l = localClock(at, zone);
  return l.weekday <= 5 && l.hour >= 9 && l.hour < 17;
}
