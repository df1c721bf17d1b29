import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Source } from "../../config/types.js";
import { PagewiseError, type Problem } from "../../core/errors.js";
import type { InboundEvent, WireFormat } from "../../core/types.js";
import type { Engine } from "../../engine/engine.js";
import type { BatchOutcome } from "../../engine/ingest.js";
import { parseAlertmanagerV2 } from "../../ingest/alertmanager-v2.js";
import { parseAlertmanagerWebhook } from "../../ingest/alertmanager-webhook.js";
import type { ParseResult } from "../../ingest/common.js";
import { parseGenericBatch } from "../../ingest/generic.js";
import { sourceFor } from "../auth.js";
import { NdjsonBody } from "../body.js";
import type { Metrics } from "../metrics.js";

/**
 * Ingest endpoints for the senders that authenticate with a header. Each request is one
 * transaction: all of it is stored before the 2xx, or none of it with a 4xx/503.
 */
export function ingestRoutes(app: FastifyInstance, engine: Engine, metrics: Metrics): void {
  const ingest = (
    format: WireFormat,
    parse: (body: unknown, source: Source) => ParseResult<InboundEvent>,
    respond: (outcome: BatchOutcome, reply: FastifyReply) => unknown,
  ) => {
    return async (request: FastifyRequest, reply: FastifyReply) => {
      let source: Source;
      try {
        source = sourceFor(engine.config, request);
      } catch (err) {
        metrics.ingestRequests.inc({ source: "unknown", format, result: "unauthorized" });
        throw err;
      }
      const parsed = parse(request.body, source);
      if (!parsed.ok) {
        metrics.ingestRequests.inc({ source: source.name, format, result: "rejected" });
        throw invalidEvents(parsed.problems);
      }
      let outcome: BatchOutcome;
      try {
        outcome = await engine.ingestShared(parsed.events);
      } catch (err) {
        metrics.ingestRequests.inc({ source: source.name, format, result: "unavailable" });
        throw err;
      }
      metrics.ingestRequests.inc({ source: source.name, format, result: "accepted" });
      countOutcomes(metrics, source.name, format, outcome);
      return respond(outcome, reply);
    };
  };

  // Prometheus (and anything else speaking Alertmanager API v2).
  app.post(
    "/api/v2/alerts",
    ingest(
      "alertmanager_v2",
      (body, source) => parseAlertmanagerV2(body, source, engine.clock.now()),
      (o, reply) => reply.code(200).send({ status: "success", accepted: o.results.length }),
    ),
  );

  // Alertmanager webhook_configs (payload version 4).
  app.post(
    "/ingest/alertmanager",
    ingest("alertmanager_webhook", parseAlertmanagerWebhook, (o, reply) =>
      reply.code(200).send({ status: "success", accepted: o.results.length, incidents: incidentIds(o) }),
    ),
  );

  // The generic event: one object, an array, or JSON Lines.
  app.post(
    "/ingest/events",
    ingest(
      "generic",
      (body, source) => {
        const items = body instanceof NdjsonBody ? body.items : Array.isArray(body) ? body : [body];
        if (items.length === 0) return { ok: false, problems: [{ path: "", reason: "holds no events" }] };
        return parseGenericBatch(items, { kind: "live", source });
      },
      (o, reply) =>
        reply.code(200).send({
          status: "success",
          results: o.results.map((r) => ({
            dedup_key: r.alertKey,
            outcome: r.outcome,
            incident_id: r.incidentId,
            ...(r.note === undefined ? {} : { note: r.note }),
          })),
        }),
    ),
  );
}

export function invalidEvents(problems: Problem[]): PagewiseError {
  const items = new Set(problems.map((p) => p.index).filter((i) => i !== undefined));
  const message =
    items.size > 0
      ? `${items.size} invalid item(s) in the batch; nothing was stored`
      : "the body is not valid; nothing was stored";
  return new PagewiseError("PW_INVALID_EVENT", message, problems);
}

export function countOutcomes(metrics: Metrics, source: string, format: WireFormat, o: BatchOutcome): void {
  const counts = new Map<string, number>();
  for (const r of o.results) counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
  for (const [outcome, n] of counts) metrics.ingestEvents.inc({ source, format, outcome }, n);
}

function incidentIds(o: BatchOutcome): number[] {
  return [...new Set(o.results.map((r) => r.incidentId).filter((id): id is number => id !== null))];
}
