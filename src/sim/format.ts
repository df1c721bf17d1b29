import { formatDuration } from "../core/duration.js";
import type { IncidentRef, Who } from "./scenario.js";

/** An offset from the game day's start as people read a timeline: +5m00s, +1h05m00s. */
export function offsetText(ms: number): string {
  const s = Math.floor(Math.max(0, ms) / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `+${h}h${String(m).padStart(2, "0")}m${sec}s` : `+${m}m${sec}s`;
}

export function durationText(ms: number): string {
  return formatDuration(ms);
}

export function whoText(w: Who): string {
  switch (w.kind) {
    case "user":
      return w.name;
    case "schedule":
      return `the on-call of ${w.name}`;
    case "team":
      return `team ${w.name}`;
    case "channel":
      return `channel ${w.name}`;
    default: {
      const never: never = w;
      return never;
    }
  }
}

export function refText(r: IncidentRef): string {
  return r.nth === null ? r.ref : `${r.ref}#${r.nth}`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
