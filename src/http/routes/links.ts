import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { PagewiseError } from "../../core/errors.js";
import type { Incident } from "../../core/incident.js";
import type { Engine, LinkOutcome } from "../../engine/engine.js";
import type { LinkClaims } from "../../engine/links.js";
import { alreadyPage, confirmPage, donePage, refusedPage } from "../link-page.js";
import { incidentJson } from "../present.js";

/**
 * Signed ack/resolve links (no API token: the signature is the authority). GET shows a
 * confirmation page, POST acts once. Refused: 403 tampered, 410 expired; 409 already taken.
 * Browsers get HTML; a client that asks for JSON only gets the catalog's error codes.
 */
export function linkRoutes(app: FastifyInstance, engine: Engine): void {
  app.get("/l/:token", async (request, reply) => {
    const r = await engine.inspectLink(tokenOf(request));
    if (r.kind === "valid") {
      if (wantsJson(request))
        return { action: r.claims.action, recipient: r.claims.recipient, incident: json(r.incident) };
      return html(reply, 200, confirmPage(r.claims, r.incident));
    }
    return answer(request, reply, r, r.kind === "refused" ? undefined : r.incident);
  });

  app.post("/l/:token", async (request, reply) => {
    const r = engine.useLink(tokenOf(request));
    return answer(request, reply, r, r.kind === "refused" ? undefined : r.incident);
  });
}

function answer(
  request: FastifyRequest,
  reply: FastifyReply,
  r: LinkOutcome,
  incident: Incident | undefined,
) {
  switch (r.kind) {
    case "refused": {
      if (wantsJson(request)) {
        throw r.reason === "expired"
          ? new PagewiseError(
              "PW_LINK_EXPIRED",
              "the link has expired; use the newest notification or the API",
            )
          : new PagewiseError("PW_LINK_INVALID", "the link is not valid: it was changed or cut short");
      }
      return html(reply, r.reason === "expired" ? 410 : 403, refusedPage(r.reason));
    }
    case "already":
      if (wantsJson(request)) throw new PagewiseError("PW_LINK_USED", alreadyText(r.claims, incident));
      return html(reply, 409, alreadyPage(r.claims, incident));
    case "done":
      if (wantsJson(request))
        return { action: r.claims.action, recipient: r.claims.recipient, incident: json(r.incident) };
      return html(reply, 200, donePage(r.claims, r.incident));
    default: {
      const never: never = r;
      return never;
    }
  }
}

function alreadyText(c: LinkClaims, incident: Incident | undefined): string {
  const state = incident === undefined ? "" : `; the incident is ${incident.status}`;
  return `this ${c.action} was already taken (a link works once)${state}`;
}

const json = (i: Incident | undefined) => (i === undefined ? null : incidentJson(i));

const tokenOf = (request: FastifyRequest) => (request.params as { token: string }).token;

function wantsJson(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? "";
  return accept.includes("application/json") && !accept.includes("text/html");
}

function html(reply: FastifyReply, status: number, body: string) {
  return reply
    .code(status)
    .header("content-type", "text/html; charset=utf-8")
    .header("cache-control", "no-store")
    .send(body);
}
