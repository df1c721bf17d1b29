#!/usr/bin/env node
// `pagewise serve` (src/cli/serve.ts) with one difference: the outbox lease is --lease-ms instead of
// the built-in 60 s. After a SIGKILL, a notification the dead process had claimed is sent again
// only when its lease lapses; the crash test (crash-load.test.ts) shortens that wait so that it
// fits in the test budget. Same compiled code (dist/): config, store, engine, HTTP and workers.
import { parseArgs } from "node:util";
import { pino } from "pino";
import { loadConfigFile } from "../../dist/config/load.js";
import { systemClock } from "../../dist/engine/clock.js";
import { createService } from "../../dist/service.js";

const { values } = parseArgs({
  options: {
    config: { type: "string" },
    port: { type: "string" },
    host: { type: "string", default: "127.0.0.1" },
    db: { type: "string" },
    "lease-ms": { type: "string" },
    "log-level": { type: "string", default: "warn" },
  },
});
const leaseMs = Number(values["lease-ms"]);
if (!Number.isSafeInteger(leaseMs) || leaseMs < 1) throw new Error("--lease-ms must be a positive integer");

const service = await createService({
  config: loadConfigFile(values.config),
  dbPath: values.db,
  durability: "normal",
  clock: systemClock,
  logger: pino({ level: values["log-level"], base: { service: "pagewise" } }),
  configPath: values.config,
  delivery: { leaseMs },
});
await service.app.listen({ port: Number(values.port), host: values.host });
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  service.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
