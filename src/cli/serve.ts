import { pino } from "pino";
import { loadConfigFile } from "../config/load.js";
import { readModelFile } from "../config/model-file.js";
import { systemClock } from "../engine/clock.js";
import { createService } from "../service.js";
import type { Durability } from "../store/sqlite/store.js";

export interface ServeOptions {
  config: string;
  port: number;
  host: string;
  db: string;
  durability: Durability;
  logLevel: string;
  model?: string;
}

export async function serve(opts: ServeOptions): Promise<void> {
  const config = loadConfigFile(opts.config);
  const modelFile = opts.model === undefined ? undefined : readModelFile(opts.model);
  const logger = pino({ level: opts.logLevel, base: { service: "pagewise" } });
  const service = await createService({
    config,
    dbPath: opts.db,
    durability: opts.durability,
    clock: systemClock,
    logger,
    ...(modelFile === undefined ? {} : { modelFile }),
    configPath: opts.config,
  });
  const address = await service.app.listen({ port: opts.port, host: opts.host });
  logger.info(
    {
      address,
      db: opts.db,
      durability: opts.durability,
      sources: config.sources.size,
      services: config.services.size,
    },
    "pagewise listening",
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    service.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  // As Alertmanager: SIGHUP reloads the config; a bad one is logged and the old one keeps running.
  process.on("SIGHUP", () => {
    try {
      service.reload?.();
    } catch (err) {
      const problems = (err as { problems?: unknown[] }).problems ?? [];
      logger.error(
        { err: (err as Error).message, problems },
        "reload refused; the previous configuration stays",
      );
    }
  });
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}
