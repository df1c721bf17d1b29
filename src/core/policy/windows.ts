import { instantOfWallTime, localClock } from "../scoring/local-time.js";
import type { Labels } from "../types.js";
import { matchesAll } from "./matchers.js";
import type { MaintenanceWindow } from "./types.js";

const DAY = 86_400_000;
const MIN = 60_000;

/** The first window in force for this service and these labels at `at`, if any. */
export function windowAt(
  windows: readonly MaintenanceWindow[],
  at: number,
  service: string | null,
  labels: Labels,
): MaintenanceWindow | null {
  for (const w of windows) {
    const scoped =
      (w.services.length === 0 || (service !== null && w.services.includes(service))) &&
      matchesAll(w.matchers, labels);
    if (scoped && inForce(w, at)) return w;
  }
  return null;
}

/**
 * A weekly window starts at its local time and lasts its duration in real time, so "02:00 for 2h"
 * is two hours on the nights the clocks change too (a start skipped by spring-forward begins when
 * the clock resumes).
 */
export function inForce(w: MaintenanceWindow, at: number): boolean {
  if (w.once !== null && at >= w.once.start && at < w.once.end) return true;
  const r = w.recurring;
  if (r === null) return false;
  const local = localClock(at, r.timezone);
  const spanDays = Math.ceil((r.startMinute * MIN + r.durationMs) / DAY) + 1;
  for (let back = 0; back <= spanDays; back++) {
    const midnight = Date.UTC(local.year, local.month - 1, local.day - back);
    const weekday = ((new Date(midnight).getUTCDay() + 6) % 7) + 1;
    if (!r.days.includes(weekday)) continue;
    const start = instantOfWallTime(midnight + r.startMinute * MIN, r.timezone);
    if (at >= start && at < start + r.durationMs) return true;
  }
  return false;
}
