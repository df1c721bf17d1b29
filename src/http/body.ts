import { isUtf8 } from "node:buffer";
import type { FastifyInstance } from "fastify";
import { PagewiseError } from "../core/errors.js";

/** Deeper JSON than this is refused before it is parsed: no payload we accept nests so far. */
export const MAX_DEPTH = 64;

const JSON_TYPES = ["application/json"];
const JSON_SUFFIX = /^application\/[\w.-]+\+json$/;
const NDJSON_TYPES = [
  "application/x-ndjson",
  "application/jsonl",
  "application/x-jsonlines",
  "application/json-seq",
];

/** Replaces Fastify's JSON parser: UTF-8 and depth are checked, and errors are ours. */
export function registerBodyParsers(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  const json = (_req: unknown, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
    try {
      done(null, parseJson(body as Buffer));
    } catch (err) {
      done(err as Error, undefined);
    }
  };
  app.addContentTypeParser(JSON_TYPES, { parseAs: "buffer" }, json);
  app.addContentTypeParser(JSON_SUFFIX, { parseAs: "buffer" }, json);
  app.addContentTypeParser(NDJSON_TYPES, { parseAs: "buffer" }, (_req, body, done) => {
    try {
      done(null, new NdjsonBody(parseNdjson(body as Buffer)));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}

/** A form post (HTML pages); JSON endpoints refuse it as "not an object". */
export class FormBody {
  constructor(readonly fields: URLSearchParams) {}
}

/** Only the signed-link pages take forms (a bare button), so only their plugin registers this. */
export function registerFormParser(app: FastifyInstance): void {
  app.addContentTypeParser(
    "application/x-www-form-urlencoded",
    { parseAs: "string", bodyLimit: 4096 },
    (_req, body, done) => done(null, new FormBody(new URLSearchParams(body as string))),
  );
}

/** Marks a body that arrived as JSON Lines (only /ingest/events accepts it). */
export class NdjsonBody {
  constructor(readonly items: unknown[]) {}
}

function decode(buf: Buffer): string {
  if (buf.length === 0) throw new PagewiseError("PW_INVALID_BODY", "the body is empty");
  if (!isUtf8(buf)) throw new PagewiseError("PW_INVALID_BODY", "the body is not valid UTF-8");
  const text = buf.toString("utf8");
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

export function parseJson(buf: Buffer): unknown {
  const text = decode(buf);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new PagewiseError("PW_INVALID_BODY", `malformed JSON: ${(err as Error).message}`);
  }
  checkDepth(value, 0);
  return value;
}

function parseNdjson(buf: Buffer): unknown[] {
  const text = decode(buf);
  const out: unknown[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === "") continue;
    try {
      const value = JSON.parse(line);
      checkDepth(value, i + 1);
      out.push(value);
    } catch (err) {
      if (err instanceof PagewiseError) throw err;
      throw new PagewiseError(
        "PW_INVALID_BODY",
        `malformed JSON on line ${i + 1}: ${(err as Error).message}`,
      );
    }
  }
  if (out.length === 0) throw new PagewiseError("PW_INVALID_BODY", "the body holds no events");
  return out;
}

/**
 * JSON.parse is iterative and takes any depth, but JSON.stringify (raw payloads are stored) and
 * validators recurse: refuse deep values right after parsing. Walks values, not characters.
 */
function checkDepth(value: unknown, line: number): void {
  if (!tooDeep(value, 1)) return;
  const where = line > 0 ? ` on line ${line}` : "";
  throw new PagewiseError("PW_INVALID_BODY", `JSON nested deeper than ${MAX_DEPTH} levels${where}`);
}

function tooDeep(value: unknown, depth: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (depth > MAX_DEPTH) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (tooDeep(value[i], depth + 1)) return true;
    return false;
  }
  const o = value as Record<string, unknown>;
  for (const k in o) if (tooDeep(o[k], depth + 1)) return true;
  return false;
}
