import type { Layer, Restriction } from "./types.js";
import {
  DAY,
  firstReach,
  HOUR,
  instantsOf,
  MIN,
  midnightOf,
  transitions,
  wallOf,
  weekdayOf,
} from "./zone.js";

/**
 * One layer's rotation on its own wall clock: handoff k is at wall time anchor + k * period,
 * happening the first time the clock reaches it. So a daily 09:00 handoff stays at 09:00 across
 * daylight-saving changes (that day is 23 or 25 hours long).
 */
interface Plan {
  zone: string;
  anchor: number;
  period: number;
}

function plan(layer: Layer, scheduleZone: string): Plan {
  const [y, m, d] = layer.startDate.split("-").map(Number);
  let start = Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1);
  const r = layer.rotation;
  if (r.kind === "weekly") start += ((r.handoffDay - weekdayOf(start) + 7) % 7) * DAY;
  const period =
    r.kind === "daily"
      ? DAY
      : r.kind === "weekly"
        ? 7 * DAY
        : r.kind === "days"
          ? r.every * DAY
          : r.every * HOUR;
  return { zone: layer.timezone ?? scheduleZone, anchor: start + layer.handoffMinute * MIN, period };
}

const handoff = (p: Plan, k: number): number => firstReach(p.anchor + k * p.period, p.zone);

/** k such that handoff k <= at < handoff k+1, or -1 before the first handoff. */
function turnAt(p: Plan, at: number): number {
  let k = Math.floor((wallOf(at, p.zone) - p.anchor) / p.period);
  // The wall clock runs backwards in a repeated hour: correct the estimate against instants.
  while (handoff(p, k + 1) <= at) k++;
  while (k >= 0 && handoff(p, k) > at) k--;
  return Math.max(k, -1);
}

function inWindow(r: Restriction, wall: number): boolean {
  const minute = (wall - midnightOf(wall)) / MIN;
  const day = weekdayOf(wall);
  const prev = day === 1 ? 7 : day - 1;
  const has = (d: number) => r.days.some((x) => x === d);
  if (r.endMinute > r.startMinute) return has(day) && minute >= r.startMinute && minute < r.endMinute;
  return (has(day) && minute >= r.startMinute) || (has(prev) && minute < r.endMinute);
}

/** Who this layer has at `at`, or null (before its start, outside its restrictions). */
export function layerUserAt(layer: Layer, scheduleZone: string, at: number): string | null {
  const p = plan(layer, scheduleZone);
  const k = turnAt(p, at);
  if (k < 0 || layer.participants.length === 0) return null;
  if (layer.restrictions.length > 0) {
    const wall = wallOf(at, p.zone);
    if (!layer.restrictions.some((r) => inWindow(r, wall))) return null;
  }
  return layer.participants[k % layer.participants.length] ?? null;
}

/** Every instant in (from, to) at which this layer's answer may change. */
export function layerChanges(layer: Layer, scheduleZone: string, from: number, to: number): number[] {
  const p = plan(layer, scheduleZone);
  const out: number[] = [];
  for (let k = Math.max(turnAt(p, from) + 1, 0); ; k++) {
    const h = handoff(p, k);
    if (h >= to) break;
    if (h > from) out.push(h);
  }
  if (layer.restrictions.length === 0) return out;
  // Restriction edges, each reading of them (twice in a repeated hour), and clock jumps.
  out.push(...transitions(from, to, p.zone));
  const last = midnightOf(wallOf(to, p.zone)) + DAY;
  for (let day = midnightOf(wallOf(from, p.zone)) - DAY; day <= last; day += DAY) {
    for (const r of layer.restrictions) {
      const end = r.endMinute > r.startMinute ? r.endMinute : r.endMinute + 1440;
      for (const w of [day + r.startMinute * MIN, day + end * MIN]) {
        for (const t of instantsOf(w, p.zone)) if (t > from && t < to) out.push(t);
      }
    }
  }
  return out;
}
