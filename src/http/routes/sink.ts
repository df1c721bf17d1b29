import type { FastifyInstance } from "fastify";
import type { Engine } from "../../engine/engine.js";
import { tokenFor } from "../auth.js";

/** How many received messages the demo sink keeps (the oldest go first). */
const KEEP = 200;

/**
 * The demo's webhook receiver (server.demo_sink: true): the example config's channels post here,
 * so `npm start` shows real deliveries without any outside service. Kept in memory only.
 */
export function sinkRoutes(app: FastifyInstance, engine: Engine): void {
  const received: { at: string; name: string; idempotency_key: string | null; body: unknown }[] = [];
  app.post("/-/sink/:name", async (request, reply) => {
    received.push({
      at: new Date(engine.clock.now()).toISOString(),
      name: (request.params as { name: string }).name,
      idempotency_key: (request.headers["idempotency-key"] as string | undefined) ?? null,
      body: request.body ?? null,
    });
    if (received.length > KEEP) received.splice(0, received.length - KEEP);
    return reply.code(202).send({ status: "received" });
  });
  app.get("/-/sink", async (request) => {
    tokenFor(engine.config, request, "viewer");
    const name = (request.query as { name?: string }).name;
    return { received: received.filter((r) => name === undefined || r.name === name).reverse() };
  });
}
