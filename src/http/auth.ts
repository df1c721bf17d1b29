import type { FastifyRequest } from "fastify";
import type { ApiToken, Config, Role, Source } from "../config/types.js";
import { PagewiseError } from "../core/errors.js";

/**
 * Two kinds of credential: a source's ingest key (may only ingest) and an API token with a role.
 * Both arrive as `Authorization: Bearer X`; Basic auth is accepted with X as the password, so
 * Prometheus' `basic_auth` works too.
 */
export function credential(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (header === undefined) return null;
  const space = header.indexOf(" ");
  if (space < 0) return null;
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === "bearer") return value === "" ? null : value;
  if (scheme === "basic") {
    const decoded = Buffer.from(value, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    return colon < 0 ? null : decoded.slice(colon + 1) || null;
  }
  return null;
}

export function sourceFor(config: Config, request: FastifyRequest): Source {
  const key = credential(request);
  if (key === null) {
    throw new PagewiseError("PW_UNAUTHORIZED", "missing ingest key: send Authorization: Bearer <source key>");
  }
  const source = config.sourcesByKey.get(key);
  if (source === undefined) throw new PagewiseError("PW_UNAUTHORIZED", "unknown ingest key");
  return source;
}

const RANK: Record<Role, number> = { viewer: 0, responder: 1, admin: 2 };

export function tokenFor(config: Config, request: FastifyRequest, needs: Role): ApiToken {
  const value = credential(request);
  if (value === null) {
    throw new PagewiseError("PW_UNAUTHORIZED", "missing API token: send Authorization: Bearer <token>");
  }
  const token = config.tokens.get(value);
  if (token === undefined) {
    if (config.sourcesByKey.has(value)) {
      throw new PagewiseError(
        "PW_FORBIDDEN",
        "this is a source's ingest key: it can only ingest, not read or act",
      );
    }
    throw new PagewiseError("PW_UNAUTHORIZED", "unknown API token");
  }
  if (RANK[token.role] < RANK[needs]) {
    throw new PagewiseError(
      "PW_FORBIDDEN",
      `this needs the ${needs} role; token "${token.name}" is ${token.role}`,
    );
  }
  return token;
}
