import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import type { Logger } from "pino";
import type { Config } from "../config/types.js";
import { PagewiseError } from "../core/errors.js";
import type { Engine } from "../engine/engine.js";
import { registerBodyParsers, registerFormParser } from "./body.js";
import { sendError } from "./errors.js";
import type { Metrics } from "./metrics.js";
import { automationRoutes } from "./routes/automation.js";
import { deliveryRoutes } from "./routes/deliveries.js";
import { healthRoutes } from "./routes/health.js";
import { incidentRoutes } from "./routes/incidents.js";
import { ingestRoutes } from "./routes/ingest.js";
import { linkRoutes } from "./routes/links.js";
import { pagerDutyRoutes } from "./routes/pagerduty.js";
import { policyRoutes } from "./routes/policy.js";
import { scheduleRoutes } from "./routes/schedules.js";
import { sinkRoutes } from "./routes/sink.js";

export interface ServerDeps {
  engine: Engine;
  metrics: Metrics;
  logger: Logger;
  /** Re-reads and swaps the config (POST /-/reload); null when there is no config file. */
  reload?: (() => Config) | null;
}

export function buildServer({ engine, metrics, logger, reload = null }: ServerDeps): FastifyInstance {
  const app: FastifyInstance = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Per-request logs cost more than the request at high rates; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: engine.config.bodyLimitBytes,
    return503OnClosing: true,
    keepAliveTimeout: 65_000,
    // A malformed URL (bad percent-encoding, an over-long parameter) is answered before routing:
    // in the catalog's shape too, not Fastify's own.
    frameworkErrors: (err, request, reply) => sendError(request, reply, err),
  });
  registerBodyParsers(app);
  app.setErrorHandler((err, request, reply) => sendError(request, reply, err));
  app.setNotFoundHandler((request, reply) =>
    sendError(request, reply, new PagewiseError("PW_NOT_FOUND", `no route ${request.method} ${request.url}`)),
  );
  app.addHook("onResponse", (request, reply, done) => {
    metrics.httpDuration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? "unmatched",
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
    done();
  });

  healthRoutes(app, engine, metrics);
  ingestRoutes(app, engine, metrics);
  pagerDutyRoutes(app, engine, metrics);
  incidentRoutes(app, engine);
  policyRoutes(app, engine, reload);
  // Encapsulated: the form parser applies to the link pages only, JSON endpoints still say 415.
  app.register(async (links) => {
    registerFormParser(links);
    linkRoutes(links, engine);
  });
  deliveryRoutes(app, engine);
  automationRoutes(app, engine);
  scheduleRoutes(app, engine);
  if (engine.config.demoSink) sinkRoutes(app, engine);
  return app;
}
