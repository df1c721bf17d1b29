import type { Clock } from "../core/clock.js";

/** The wall clock, for live serving. Everything else takes a Clock so tests can use a virtual one. */
export const systemClock: Clock = { now: () => Date.now() };
