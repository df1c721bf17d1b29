/**
 * The error catalog. Codes are stable: clients and operators may match on them.
 * The HTTP layer maps each code to a status (src/http/errors.ts) and the CLI to an exit code.
 */
export const ERROR_CODES = {
  PW_INVALID_BODY: "the request body is not valid",
  PW_INVALID_EVENT: "one or more events are invalid; nothing was stored",
  PW_BODY_TOO_LARGE: "the request body is larger than the limit",
  PW_UNSUPPORTED_MEDIA_TYPE: "the content type is not supported",
  PW_UNAUTHORIZED: "a valid key or token is required",
  PW_FORBIDDEN: "this key or token may not do that",
  PW_NOT_FOUND: "no such resource",
  PW_ILLEGAL_TRANSITION: "the incident cannot make that change from its current status",
  PW_LINK_INVALID: "the link is not valid (it was changed or cut short)",
  PW_LINK_EXPIRED: "the link has expired",
  PW_LINK_USED: "the link was already used",
  PW_INVALID_QUERY: "a query parameter is not valid",
  PW_CONFIG_INVALID: "the configuration is not valid",
  PW_STORE_UNAVAILABLE: "the database is unavailable; retry later",
  PW_INTERNAL: "an internal error occurred",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** One problem at one place in an input, e.g. `services[3].team: unknown team "paymnts"`. */
export interface Problem {
  path: string;
  reason: string;
  /** Index of the bad item in a batch, when the input is a batch. */
  index?: number;
  /** 1-based line in a config file, when known. */
  line?: number;
}

export function formatProblem(p: Problem): string {
  const where = p.line !== undefined ? ` (line ${p.line})` : "";
  return `${p.path || "(root)"}: ${p.reason}${where}`;
}

export class PagewiseError extends Error {
  readonly code: ErrorCode;
  readonly problems: readonly Problem[];

  constructor(code: ErrorCode, message?: string, problems: readonly Problem[] = []) {
    super(message ?? ERROR_CODES[code]);
    this.name = "PagewiseError";
    this.code = code;
    this.problems = problems;
  }
}
