import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { type ErrorCode, formatProblem, PagewiseError, type Problem } from "../core/errors.js";

/** One place maps error codes to HTTP statuses (exhaustive over the catalog). */
export const STATUS: Record<ErrorCode, number> = {
  PW_INVALID_BODY: 400,
  PW_INVALID_EVENT: 400,
  PW_INVALID_QUERY: 400,
  PW_BODY_TOO_LARGE: 413,
  PW_UNSUPPORTED_MEDIA_TYPE: 415,
  PW_UNAUTHORIZED: 401,
  PW_FORBIDDEN: 403,
  PW_NOT_FOUND: 404,
  PW_ILLEGAL_TRANSITION: 409,
  PW_LINK_INVALID: 403,
  PW_LINK_EXPIRED: 410,
  PW_LINK_USED: 409,
  PW_CONFIG_INVALID: 400,
  PW_STORE_UNAVAILABLE: 503,
  PW_INTERNAL: 500,
};

/** Fastify's own errors, translated into the catalog so every answer has the same shape. */
export function toPagewiseError(err: unknown): PagewiseError {
  if (err instanceof PagewiseError) return err;
  const e = err as FastifyError;
  switch (e.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new PagewiseError(
        "PW_BODY_TOO_LARGE",
        "the request body is larger than the limit for this endpoint",
      );
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return new PagewiseError(
        "PW_UNSUPPORTED_MEDIA_TYPE",
        "send JSON with Content-Type: application/json (or application/x-ndjson for /ingest/events)",
      );
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new PagewiseError("PW_INVALID_BODY", "the body is empty");
    case "FST_ERR_VALIDATION":
      return new PagewiseError("PW_INVALID_QUERY", e.message);
    // Raised before routing (through `frameworkErrors`), e.g. `/api/v1/heartbeats/%`.
    case "FST_ERR_BAD_URL":
    case "FST_ERR_MAX_PARAM_LENGTH":
      return new PagewiseError("PW_INVALID_QUERY", `the URL is not valid: ${e.message}`);
    default:
      if (typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
        return new PagewiseError("PW_INVALID_BODY", e.message);
      }
      return new PagewiseError("PW_INTERNAL");
  }
}

export interface ErrorBody {
  error: {
    code: ErrorCode;
    message: string;
    /** Each problem: where (index of the bad item, field path) and why. */
    errors?: { index?: number; field: string; reason: string; text: string }[];
  };
}

export function errorBody(err: PagewiseError): ErrorBody {
  const body: ErrorBody = { error: { code: err.code, message: err.message } };
  if (err.problems.length > 0) body.error.errors = err.problems.map(problemJson);
  return body;
}

function problemJson(p: Problem): { index?: number; field: string; reason: string; text: string } {
  const field =
    p.index === undefined ? p.path : p.path.replace(/^\[\d+\]\.?/, "").replace(/^alerts\[\d+\]\.?/, "");
  const out: { index?: number; field: string; reason: string; text: string } = {
    field,
    reason: p.reason,
    text: formatProblem(p),
  };
  if (p.index !== undefined) out.index = p.index;
  return out;
}

export function sendError(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const pe = toPagewiseError(err);
  const status = STATUS[pe.code];
  if (status >= 500) request.log.error({ err, code: pe.code, url: request.url }, "request failed");
  if (pe.code === "PW_UNAUTHORIZED") reply.header("www-authenticate", 'Bearer realm="pagewise"');
  if (pe.code === "PW_STORE_UNAVAILABLE") reply.header("retry-after", "5");
  return reply.code(status).type("application/json").send(errorBody(pe));
}
