import type { Engine } from "./engine.js";

/**
 * Runs due timers on the wall clock. One loop per process; on SQLite the process holds the only
 * lease, on PostgreSQL several processes may share the table (leases keep them apart).
 */
export class TimerWorker {
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  lastRunAt: number | null = null;

  constructor(
    private readonly engine: Engine,
    private readonly pollMs = 250,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.tick(), this.pollMs);
    this.timer.unref();
  }

  private tick(): void {
    try {
      this.engine.drainTimers();
      this.lastRunAt = this.engine.clock.now();
    } catch (err) {
      this.onError(err);
    }
    this.schedule();
  }
}
