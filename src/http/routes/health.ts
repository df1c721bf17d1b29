import type { FastifyInstance } from "fastify";
import type { Engine } from "../../engine/engine.js";
import type { Metrics } from "../metrics.js";

/** Liveness, readiness and metrics: unauthenticated, as scrapers and orchestrators expect. */
export function healthRoutes(app: FastifyInstance, engine: Engine, metrics: Metrics): void {
  app.get("/healthz", async () => ({ status: "ok" }));

  app.get("/readyz", async (_request, reply) => {
    const r = await engine.store.ready();
    if (r.ok) return { status: "ready" };
    return reply.code(503).send({ status: "not ready", reason: r.reason });
  });

  app.get("/metrics", async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
