/** On-call schedules, compiled from the config's `schedules:` section and then trusted. */

/** ISO weekday: 1 = Monday ... 7 = Sunday. */
export type Weekday = 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** How long one participant's turn lasts, counted on the layer's wall clock. */
export type Rotation =
  | { kind: "daily" }
  | { kind: "weekly"; handoffDay: Weekday }
  | { kind: "days"; every: number }
  | { kind: "hours"; every: number };

/** A local window in which a layer has someone; outside all of them it has nobody. */
export interface Restriction {
  days: readonly Weekday[];
  /** Minutes after local midnight, 0-1439. */
  startMinute: number;
  /** 1-1440; at or before startMinute means the window runs past midnight into the next day. */
  endMinute: number;
}

export interface Layer {
  name: string;
  /** User names in turn order; a name may appear more than once. */
  participants: readonly string[];
  rotation: Rotation;
  /** Local handoff time, minutes after midnight. */
  handoffMinute: number;
  /** Local date "YYYY-MM-DD"; the first participant starts at the first handoff on or after it. */
  startDate: string;
  /** IANA zone; null means the schedule's. */
  timezone: string | null;
  restrictions: readonly Restriction[];
}

export interface Override {
  user: string;
  /** Epoch ms, half-open [start, end). */
  start: number;
  end: number;
  /** Only applies while this user would be on call; null covers whoever is. */
  replaces: string | null;
}

export interface Schedule {
  name: string;
  timezone: string;
  team: string | null;
  /** Later layers win over earlier ones when both have someone. */
  layers: readonly Layer[];
  /** Applied in order after the layers, so a later override wins over an earlier one. */
  overrides: readonly Override[];
}

export interface OnCall {
  user: string | null;
  /** The layer that put the user on call; null for an override or nobody. */
  layer: string | null;
  override: boolean;
}

export interface Shift {
  user: string;
  start: number;
  end: number;
  layer: string | null;
  override: boolean;
}
