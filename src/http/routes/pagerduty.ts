import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Source } from "../../config/types.js";
import { formatProblem, type PagewiseError } from "../../core/errors.js";
import type { InboundEvent } from "../../core/types.js";
import type { Engine } from "../../engine/engine.js";
import type { BatchOutcome } from "../../engine/ingest.js";
import type { ParseResult } from "../../ingest/common.js";
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

  /** Shape first (400), then the routing key (401), then the event (400), then store (202). */
  const route =
    <E extends InboundEvent>(
      change: boolean,
      parse: (body: unknown, source: Source) => ParseResult<E>,
      answer: (o: BatchOutcome) => Record<string, unknown>,
    ) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const shape = checkPagerDutyShape(request.body, change);
      if (Array.isArray(shape)) return pdInvalid(reply, shape.map(formatProblem), metrics);
      const source = engine.config.sourcesByKey.get(shape.routingKey);
      if (source === undefined) return pdUnknownKey(reply, metrics);
      const parsed = parse(request.body, source);
      if (!parsed.ok) return pdInvalid(reply, parsed.problems.map(formatProblem), metrics, source.name);
      const outcome = await engine.ingestShared(parsed.events);
      metrics.ingestRequests.inc({ source: source.name, format: "pagerduty", result: "accepted" });
      countOutcomes(metrics, source.name, "pagerduty", outcome);
      return reply.code(202).send(answer(outcome));
    };

  app.post(
    "/v2/enqueue",
    opts,
    route(false, parsePagerDutyEvent, (o) => ({
      status: "success",
      message: "Event processed",
      dedup_key: o.results[0]?.alertKey ?? null,
    })),
  );
  app.post(
    "/v2/change/enqueue",
    opts,
    route(true, parsePagerDutyChange, () => ({ status: "success", message: "Change event processed" })),
  );
}

function pdInvalid(reply: FastifyReply, errors: string[], metrics: Metrics, source = "unknown") {
  metrics.ingestRequests.inc({ source, format: "pagerduty", result: "rejected" });
  return reply.code(400).send({ status: "invalid event", message: "Event object is invalid", errors });
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
