import type { FastifyInstance } from "fastify";
import { PagewiseError } from "../../core/errors.js";
import type { Engine } from "../../engine/engine.js";
import type { DeliveryStatus } from "../../engine/ports.js";
import { tokenFor } from "../auth.js";
import { deliveryJson } from "../present.js";

const STATUSES: readonly DeliveryStatus[] = ["pending", "sending", "sent", "failed", "cancelled"];

/** The outbox, as an operator sees it: what is waiting, what was sent, what died (dead letters). */
export function deliveryRoutes(app: FastifyInstance, engine: Engine): void {
  app.get("/api/v1/deliveries", async (request) => {
    tokenFor(engine.config, request, "viewer");
    const q = request.query as { status?: string; incident?: string; limit?: string };
    const status = q.status;
    if (status !== undefined && !(STATUSES as readonly string[]).includes(status)) {
      throw new PagewiseError("PW_INVALID_QUERY", `status: must be one of ${STATUSES.join(", ")}`, [
        { path: "status", reason: `unknown status "${status}"` },
      ]);
    }
    const incident =
      q.incident === undefined ? undefined : whole(q.incident, "incident", 1, Number.MAX_SAFE_INTEGER);
    const limit = q.limit === undefined ? 100 : whole(q.limit, "limit", 1, 1000);
    const rows = engine.store.deliveries({
      ...(status === undefined ? {} : { status: status as DeliveryStatus }),
      ...(incident === undefined ? {} : { incidentId: incident }),
      limit,
    });
    return { deliveries: rows.map(deliveryJson) };
  });

  // A dead letter goes out again once its channel is fixed (same idempotency key).
  app.post("/api/v1/deliveries/:id/retry", async (request) => {
    tokenFor(engine.config, request, "admin");
    const id = whole((request.params as { id: string }).id, "id", 1, Number.MAX_SAFE_INTEGER);
    const d = engine.redeliver(id);
    return { delivery: deliveryJson(d) };
  });
}

function whole(raw: string, name: string, min: number, max: number): number {
  const n = Number(raw);
  if (!/^\d{1,16}$/.test(raw) || n < min || n > max) {
    throw new PagewiseError("PW_INVALID_QUERY", `${name}: must be a whole number from ${min} to ${max}`, [
      { path: name, reason: `must be a whole number from ${min} to ${max}` },
    ]);
  }
  return n;
}
