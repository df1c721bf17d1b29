import type { FastifyInstance } from "fastify";
import { type Logger, pino } from "pino";
import type { ActionHttp } from "./automation/action-http.js";
import { RunbookRunner } from "./automation/runner.js";
import { loadConfigFile } from "./config/load.js";
import { type ModelFile, modelFileJson, parseModelFile } from "./config/model-file.js";
import type { Config } from "./config/types.js";
import type { Clock } from "./core/clock.js";
import { emptyOutcome, Learning } from "./core/scoring/learning.js";
import { type CompiledModel, compileModel, DEFAULT_MODEL } from "./core/scoring/model.js";
import { Deliverer, type DelivererOptions, DeliveryWorker } from "./engine/delivery.js";
import { Engine } from "./engine/engine.js";
import { TimerWorker } from "./engine/worker.js";
import { Metrics } from "./http/metrics.js";
import { buildServer } from "./http/server.js";
import { OwnerLock } from "./store/sqlite/owner.js";
import { type Durability, SqliteStore } from "./store/sqlite/store.js";

/** The composition root: store, engine, metrics, HTTP server and timer worker, wired once. */
export interface ServiceOptions {
  config: Config;
  dbPath: string;
  durability: Durability;
  clock: Clock;
  logger?: Logger;
  /** Run the wall-clock timer and delivery loops (false in tests that drive them on a virtual clock). */
  worker?: boolean;
  /** Delivery settings (tests shorten the lease, inject faults or a seeded jitter). */
  delivery?: DelivererOptions;
  /** A model file to import and make active (`serve --model`). */
  modelFile?: ModelFile;
  /** Where the config came from: SIGHUP and POST /-/reload read it again. */
  configPath?: string;
  /** How runbook steps make HTTP requests (a game day answers from its scenario). */
  automation?: { http?: ActionHttp };
}

export interface Service {
  app: FastifyInstance;
  engine: Engine;
  store: SqliteStore;
  metrics: Metrics;
  deliverer: Deliverer;
  runner: RunbookRunner;
  logger: Logger;
  /** Reads the config file again; a bad one throws with its problems and changes nothing. */
  reload: (() => Config) | null;
  close(): Promise<void>;
}

export async function createService(opts: ServiceOptions): Promise<Service> {
  const logger = opts.logger ?? pino({ level: "silent" });
  const owner = opts.dbPath === ":memory:" ? null : OwnerLock.take(opts.dbPath);
  let store: SqliteStore | undefined;
  try {
    store = await SqliteStore.open({ path: opts.dbPath, durability: opts.durability });
    return assemble(opts, logger, store, owner);
  } catch (err) {
    // Nothing half-built keeps the file: a caller in the same process may try again.
    await store?.close();
    owner?.release();
    throw err;
  }
}

function assemble(
  opts: ServiceOptions,
  logger: Logger,
  store: SqliteStore,
  owner: OwnerLock | null,
): Service {
  const released = store.releaseLeases(opts.clock.now());
  if (released.deliveries + released.timers + released.runs > 0)
    logger.warn(released, "took over what a previous process had claimed: due now");
  const metrics = new Metrics(store, () => opts.clock.now());
  if (opts.modelFile !== undefined) importModel(store, opts.modelFile, opts.clock.now());
  const engine = new Engine(store, opts.clock, opts.config, {
    owner: `pid-${process.pid}`,
    observer: metrics.observer(),
    scoring: activeScoring(store),
  });
  engine.start();
  const deliverer = new Deliverer(store, opts.clock, () => engine.config, {
    ...opts.delivery,
    observer: metrics.deliveryObserver(),
  });
  metrics.watchWorkers(() => ({
    delivery: deliverer.lastRunAt,
    timers: worker.lastRunAt,
    runbooks: runner.lastRunAt,
  }));
  const configPath = opts.configPath;
  const reload =
    configPath === undefined
      ? null
      : () => {
          const config = loadConfigFile(configPath);
          engine.reload(config);
          void deliverer.reset();
          logger.info({ policy: config.policy.version }, "configuration reloaded");
          return config;
        };
  const app = buildServer({ engine, metrics, logger, reload });
  const worker = new TimerWorker(engine, 250, (err) => logger.error({ err }, "timer worker pass failed"));
  const sender = new DeliveryWorker(deliverer, 250, (err) => logger.error({ err }, "delivery pass failed"));
  const runner = new RunbookRunner(engine, opts.clock, () => engine.config, {
    ...(opts.automation?.http === undefined ? {} : { http: opts.automation.http }),
    observer: metrics.runbookObserver(),
  });
  const automation = new DeliveryWorker(runner, 250, (err) => logger.error({ err }, "runbook pass failed"));
  store.onOutbox = () => sender.wake();
  engine.sending = () => sender.sending;
  if (opts.worker !== false) {
    worker.start();
    sender.start();
    automation.start();
  }
  let closed = false;
  return {
    app,
    engine,
    store,
    metrics,
    deliverer,
    runner,
    logger,
    reload,
    async close() {
      if (closed) return;
      closed = true;
      worker.stop();
      await sender.stop();
      await automation.stop();
      await deliverer.reset();
      try {
        await app.close();
        await store.close();
      } finally {
        owner?.release();
      }
    },
  };
}

/** Stores the model as the active one; its learning counts seed a database that has none yet. */
function importModel(store: SqliteStore, file: ModelFile, now: number): void {
  store.activateModel(file.model.version, JSON.stringify(modelFileJson(file.model, null)), now);
  if (file.learning === null || store.outcomes().length > 0) return;
  const rules = file.learning.toJSON().rules;
  store.transaction((tx) => {
    // Trained counts seed the all-time rates; "recent" starts empty (history is not recent).
    for (const [source, alertname, c] of rules) {
      tx.saveOutcome({ ...emptyOutcome(source, alertname), genuine: c.genuine, falseAlarms: c.falseAlarms });
    }
  });
}

/** The active model (or the cold-start default) and the learning counts kept in the database. */
export function activeScoring(store: SqliteStore): { model: CompiledModel; learning: Learning } {
  const body = store.activeModel();
  const model = body === null ? DEFAULT_MODEL : parseModelFile(JSON.parse(body), "the active model").model;
  return { model: compileModel(model), learning: Learning.restore(store.outcomes()) };
}
