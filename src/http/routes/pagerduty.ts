import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { formatProblem, type PagewiseError } from "../../core/errors.js";
import type { Engine } from "../../engine/engine.js";
import {
  checkPagerDutyShape,
  PAGERDUTY_BODY_LIMIT,
  parsePagerDutyChange,
  parsePagerDutyEvent,
} from "../../ingest/pagerduty.js";
import { STATUS, toPagewiseError } from "../errors.js";
import type { Metrics } from "../metrics.js";
import { countOutcomes } from "./ingest.js";

/**
 * PagerDuty Events API v2. Answers are shaped like PagerDuty's, so existing clients keep working:
 * `202 {status: "success", message, dedup_key}` and `400 {status: "invalid event", message, errors}`.
 */
export function pagerDutyRoutes(app: FastifyInstance, engine: Engine, metrics: Metrics): void {
  const opts = { bodyLimit: PAGERDUTY_BODY_LIMIT, errorHandler: pdErrorHandler };

  app.post("/v2/enqueue", opts, async (request, reply) => {
    const shape = checkPagerDutyShape(request.body, false);
    if (Array.isArray(shape))
      return pdInvalid(reply, "Event object is invalid", shape.map(formatProblem), metrics);
    const source = engine.config.sourcesByKey.get(shape.routingKey);
    if (source === undefined) return pdUnknownKey(reply, metrics);
    const parsed = parsePagerDutyEvent(request.body, source);
    if (!parsed.ok)
      return pdInvalid(
        reply,
        "Event object is invalid",
        parsed.problems.map(formatProblem),
        metrics,
        source.name,
      );
    const outcome = engine.ingest(parsed.events);
    metrics.ingestRequests.inc({ source: source.name, format: "pagerduty", result: "accepted" });
    countOutcomes(metrics, source.name, "pagerduty", outcome);
    const first = outcome.results[0];
    return reply
      .code(202)
      .send({ status: "success", message: "Event processed", dedup_key: first?.alertKey ?? null });
  });

  app.post("/v2/change/enqueue", opts, async (request, reply) => {
    const shape = checkPagerDutyShape(request.body, true);
    if (Array.isArray(shape))
      return pdInvalid(reply, "Event object is invalid", shape.map(formatProblem), metrics);
    const source = engine.config.sourcesByKey.get(shape.routingKey);
    if (source === undefined) return pdUnknownKey(reply, metrics);
    const parsed = parsePagerDutyChange(request.body, source);
    if (!parsed.ok)
      return pdInvalid(
        reply,
        "Event object is invalid",
        parsed.problems.map(formatProblem),
        metrics,
        source.name,
      );
    const outcome = engine.ingest(parsed.events);
    metrics.ingestRequests.inc({ source: source.name, format: "pagerduty", result: "accepted" });
    countOutcomes(metrics, source.name, "pagerduty", outcome);
    return reply.code(202).send({ status: "success", message: "Change event processed" });
  });
}

function pdInvalid(
  reply: FastifyReply,
  message: string,
  errors: string[],
  metrics: Metrics,
  source = "unknown",
) {
  metrics.ingestRequests.inc({ source, format: "pagerduty", result: "rejected" });
  return reply.code(400).send({ status: "invalid event", message, errors });
}

function pdUnknownKey(reply: FastifyReply, metrics: Metrics) {
  metrics.ingestRequests.inc({ source: "unknown", format: "pagerduty", result: "unauthorized" });
  return reply.code(401).send({
    status: "unauthorized",
    message: "Unknown routing key",
    errors: ["'routing_key' is not a known source key"],
  });
}

function pdErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const pe: PagewiseError = toPagewiseError(error);
  const status = STATUS[pe.code];
  if (status >= 500) request.log.error({ err: error }, "pagerduty ingest failed");
  if (pe.code === "PW_STORE_UNAVAILABLE") reply.header("retry-after", "5");
  const statusText = status === 400 ? "invalid event" : status >= 500 ? "error" : "invalid request";
  return reply.code(status).send({ status: statusText, message: pe.message, errors: [pe.message] });
}
