/** Time is injected: core and engine read it only through a Clock. */
export interface Clock {
  now(): number;
}

/** A clock that moves only when told to; tests and simulations run on it. */
export class VirtualClock implements Clock {
  private t: number;
  constructor(start: number) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  set(ms: number): void {
    this.t = ms;
  }
  advance(ms: number): number {
    this.t += ms;
    return this.t;
  }
}
