import { IANAZone } from "luxon";

/**
 * Wall times are local clock readings written as if they were UTC epoch ms, so calendar
 * arithmetic is plain addition; these helpers map them to and from real instants.
 */
export const MIN = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

const zones = new Map<string, IANAZone>();

function zoneOf(name: string): IANAZone {
  let z = zones.get(name);
  if (z === undefined) {
    z = IANAZone.create(name);
    if (!z.isValid) throw new Error(`unknown time zone "${name}"`);
    zones.set(name, z);
  }
  return z;
}

export function isZone(name: string): boolean {
  return IANAZone.isValidZone(name);
}

// Offsets change on quarter hours of UTC in every zone still in use, so a memo per quarter hour
// is exact and saves an Intl call on most lookups (bounded: it is cleared when full).
const QUARTER = 15 * MIN;
const memo = new Map<string, number>();

function offset(at: number, zone: string): number {
  const bucket = Math.floor(at / QUARTER);
  const key = `${zone}\u0000${bucket}`;
  let o = memo.get(key);
  if (o === undefined) {
    o = zoneOf(zone).offset(bucket * QUARTER) * MIN;
    if (memo.size >= 100_000) memo.clear();
    memo.set(key, o);
  }
  return o;
}

export function wallOf(at: number, zone: string): number {
  return at + offset(at, zone);
}

/** ISO weekday of a wall time. */
export function weekdayOf(wall: number): number {
  return ((new Date(wall).getUTCDay() + 6) % 7) + 1;
}

export function midnightOf(wall: number): number {
  return Math.floor(wall / DAY) * DAY;
}

/** Every instant at which the clock reads `wall`: none in a skipped hour, two in a repeated one. */
export function instantsOf(wall: number, zone: string): number[] {
  const out: number[] = [];
  // Real zones change offset at most once a day, so the offsets a day apart are the candidates.
  for (const o of new Set([offset(wall - DAY, zone), offset(wall + DAY, zone)])) {
    const t = wall - o;
    if (offset(t, zone) === o) out.push(t);
  }
  return out.sort((a, b) => a - b);
}

/**
 * The first instant the clock reaches `wall`: its earlier reading when it is repeated, or the
 * moment the clock jumps past it when it is skipped.
 */
export function firstReach(wall: number, zone: string): number {
  const seen = instantsOf(wall, zone);
  if (seen[0] !== undefined) return seen[0];
  const before = offset(wall - DAY, zone);
  const after = offset(wall + DAY, zone);
  return transitionIn(wall - after, wall - before, zone);
}

/** The first instant in (lo, hi] whose offset differs from lo's (there must be one). */
function transitionIn(lo: number, hi: number, zone: string): number {
  const o = offset(lo, zone);
  let a = lo;
  let b = hi;
  while (b - a > 1) {
    const m = Math.floor((a + b) / 2);
    if (offset(m, zone) === o) a = m;
    else b = m;
  }
  return b;
}

/** The instants in (from, to) at which the zone's offset changes. */
export function transitions(from: number, to: number, zone: string): number[] {
  const out: number[] = [];
  const step = 6 * HOUR;
  for (let a = from; a < to; a += step) {
    const b = Math.min(a + step, to);
    if (offset(a, zone) !== offset(b, zone)) out.push(transitionIn(a, b, zone));
  }
  return out;
}
