import type { FastifyInstance } from "fastify";
import { type Logger, pino } from "pino";
import type { Config } from "./config/types.js";
import type { Clock } from "./core/clock.js";
import { Engine } from "./engine/engine.js";
import { TimerWorker } from "./engine/worker.js";
import { Metrics } from "./http/metrics.js";
import { buildServer } from "./http/server.js";
import { type Durability, SqliteStore } from "./store/sqlite/store.js";

/** The composition root: store, engine, metrics, HTTP server and timer worker, wired once. */
export interface ServiceOptions {
  config: Config;
  dbPath: string;
  durability: Durability;
  clock: Clock;
  logger?: Logger;
  /** Run the wall-clock timer loop (false in tests that drive timers on a virtual clock). */
  worker?: boolean;
}

export interface Service {
  app: FastifyInstance;
  engine: Engine;
  store: SqliteStore;
  metrics: Metrics;
  logger: Logger;
  close(): Promise<void>;
}

export async function createService(opts: ServiceOptions): Promise<Service> {
  const logger = opts.logger ?? pino({ level: "silent" });
  const store = await SqliteStore.open({ path: opts.dbPath, durability: opts.durability });
  const metrics = new Metrics(store, () => opts.clock.now());
  const engine = new Engine(store, opts.clock, opts.config, {
    owner: `pid-${process.pid}`,
    observer: metrics.observer(),
  });
  engine.start();
  const app = buildServer({ engine, metrics, logger });
  const worker = new TimerWorker(engine, 250, (err) => logger.error({ err }, "timer worker pass failed"));
  if (opts.worker !== false) worker.start();
  let closed = false;
  return {
    app,
    engine,
    store,
    metrics,
    logger,
    async close() {
      if (closed) return;
      closed = true;
      worker.stop();
      await app.close();
      await store.close();
    },
  };
}
