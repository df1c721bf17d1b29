import { localClock } from "../scoring/local-time.js";
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

export function inForce(w: MaintenanceWindow, at: number): boolean {
  if (w.once !== null && at >= w.once.start && at < w.once.end) return true;
  const r = w.recurring;
  if (r === null) return false;
  // A window may run past midnight: look at today's start and the days before it still covers.
  const local = localClock(at, r.timezone);
  const minuteOfDay = local.hour * 60 + local.minute;
  const spanDays = Math.ceil((r.startMinute * MIN + r.durationMs) / DAY);
  for (let back = 0; back <= spanDays; back++) {
    const day = ((local.weekday - 1 - back + 7 * 10) % 7) + 1;
    if (!r.days.includes(day)) continue;
    const sinceStart = (back * 1440 + minuteOfDay - r.startMinute) * MIN;
    if (sinceStart >= 0 && sinceStart < r.durationMs) return true;
  }
  return false;
}
