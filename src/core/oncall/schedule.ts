import { layerChanges, layerUserAt } from "./layer.js";
import type { OnCall, Schedule, Shift } from "./types.js";

/**
 * Who is on call: the last layer that has someone wins, then overrides apply in order (one with
 * `replaces` only while that user is the one on call). Pure: the instant is an argument.
 */
export function onCallAt(schedule: Schedule, at: number): OnCall {
  let result: OnCall = { user: null, layer: null, override: false };
  for (let i = schedule.layers.length - 1; i >= 0; i--) {
    const layer = schedule.layers[i];
    if (layer === undefined) continue;
    const user = layerUserAt(layer, schedule.timezone, at);
    if (user !== null) {
      result = { user, layer: layer.name, override: false };
      break;
    }
  }
  for (const o of schedule.overrides) {
    if (at < o.start || at >= o.end) continue;
    if (o.replaces === null || o.replaces === result.user) {
      result = { user: o.user, layer: null, override: true };
    }
  }
  return result;
}

/**
 * The shifts overlapping [from, to), clipped to it, in order. Gaps where nobody is on call have
 * no shift; adjacent pieces merge when the user and the reason (layer or override) stay the same.
 */
export function shifts(schedule: Schedule, from: number, to: number): Shift[] {
  if (!(to > from)) return [];
  const edges = new Set<number>([from]);
  for (const layer of schedule.layers) {
    for (const t of layerChanges(layer, schedule.timezone, from, to)) edges.add(t);
  }
  for (const o of schedule.overrides) {
    for (const t of [o.start, o.end]) if (t > from && t < to) edges.add(t);
  }
  const starts = [...edges].sort((a, b) => a - b);
  const out: Shift[] = [];
  starts.forEach((start, i) => {
    const end = starts[i + 1] ?? to;
    const now = onCallAt(schedule, start);
    if (now.user === null) return;
    const last = out.at(-1);
    if (
      last !== undefined &&
      last.end === start &&
      last.user === now.user &&
      last.layer === now.layer &&
      last.override === now.override
    ) {
      last.end = end;
    } else {
      out.push({ user: now.user, start, end, layer: now.layer, override: now.override });
    }
  });
  return out;
}

/** How far ahead "until when" and "who is next" look (a month covers weekly rotations). */
const LOOKAHEAD = 35 * 86_400_000;

/** Who is on call at `at`, until when, and who comes next: the answer a responder wants. */
export interface OnCallAnswer extends OnCall {
  /** End of the current shift; null when nobody is on call or it lasts past the lookahead. */
  until: number | null;
  next: { user: string; start: number } | null;
}

export function onCallAnswer(schedule: Schedule, at: number): OnCallAnswer {
  const now = onCallAt(schedule, at);
  const ahead = shifts(schedule, at, at + LOOKAHEAD);
  const first = ahead[0];
  const current = now.user !== null && first !== undefined && first.start === at ? first : undefined;
  const until = current === undefined || current.end >= at + LOOKAHEAD ? null : current.end;
  const upcoming = ahead.find((s) => s.start > at && s.user !== now.user);
  return {
    ...now,
    until,
    next: upcoming === undefined ? null : { user: upcoming.user, start: upcoming.start },
  };
}
