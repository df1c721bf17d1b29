import type { FastifyInstance } from "fastify";
import { compileRoute } from "../../config/policy.js";
import { PagewiseError, type Problem } from "../../core/errors.js";
import { INCIDENT_STATUSES, type IncidentStatus } from "../../core/incident.js";
import type { Engine } from "../../engine/engine.js";
import type { RouteFit, Verdict } from "../../engine/ports.js";
import { ajvProblems, compile } from "../../validation/ajv.js";
import { tokenFor } from "../auth.js";
import { explainStored } from "../explain.js";
import {
  alertJson,
  decisionRecordJson,
  feedbackJson,
  incidentJson,
  scoreJson,
  timelineJson,
} from "../present.js";
import { runJson } from "./automation.js";

const MAX_PAGE = 500;

const validateFeedback = compile<{ verdict: Verdict; route_fit?: RouteFit; note?: string }>({
  type: "object",
  required: ["verdict"],
  additionalProperties: false,
  properties: {
    verdict: { enum: ["genuine", "false_alarm"] },
    route_fit: { enum: ["too_high", "right", "too_low"] },
    note: { type: "string", maxLength: 4000 },
  },
});

// Blankness is checked by hand (blankReason): ajv would say 'must match pattern "\S"', twice.
const reason = { type: "string", maxLength: 2000 } as const;
const validateReassign = compile<{ to_user?: string; to_team?: string; reason: string }>({
  type: "object",
  required: ["reason"],
  additionalProperties: false,
  properties: {
    to_user: { type: "string", minLength: 1 },
    to_team: { type: "string", minLength: 1 },
    reason,
  },
});
const validateReroute = compile<{ route: unknown; reason: string }>({
  type: "object",
  required: ["route", "reason"],
  additionalProperties: false,
  properties: { route: { type: "object" }, reason },
});

/** The incident API (API tokens only; a source's ingest key cannot read). */
export function incidentRoutes(app: FastifyInstance, engine: Engine): void {
  app.get("/api/v1/incidents", async (request) => {
    tokenFor(engine.config, request, "viewer");
    const q = request.query as Record<string, string | undefined>;
    const status = parseStatuses(q.status);
    const limit = parseIntParam(q.limit, "limit", 50, 1, MAX_PAGE);
    const before =
      q.cursor === undefined ? undefined : parseIntParam(q.cursor, "cursor", 0, 1, Number.MAX_SAFE_INTEGER);
    const incidents = await engine.listIncidents({
      ...(status === undefined ? {} : { status }),
      ...(q.service === undefined ? {} : { service: q.service }),
      ...(q.source === undefined ? {} : { source: q.source }),
      ...(before === undefined ? {} : { before }),
      limit,
    });
    const last = incidents.at(-1);
    return {
      incidents: incidents.map(incidentJson),
      next_cursor: incidents.length === limit && last !== undefined ? String(last.id) : null,
    };
  });

  app.get("/api/v1/incidents/:id", async (request) => {
    tokenFor(engine.config, request, "viewer");
    const id = incidentId(request.params);
    const incident = await engine.store.getIncident(id);
    if (incident === undefined) throw new PagewiseError("PW_NOT_FOUND", `incident ${id} does not exist`);
    const [alerts, timeline, scores, feedback] = await Promise.all([
      engine.store.incidentAlerts(id),
      engine.store.incidentTimeline(id),
      engine.store.incidentDecisions(id),
      engine.store.incidentFeedback(id),
    ]);
    return {
      incident: {
        ...incidentJson(incident),
        alerts: alerts.map(alertJson),
        timeline: timeline.map(timelineJson),
        scores: scores.flatMap((d) => scoreJson(d) ?? []),
        decisions: scores.map((d) => decisionRecordJson(d, explainStored(d))),
        feedback: feedback.map(feedbackJson),
        runbooks: engine.store.runs({ incidentId: id, limit: 50 }).map(runJson),
      },
    };
  });

  app.post("/api/v1/incidents/:id/acknowledge", async (request) => {
    const token = tokenFor(engine.config, request, "responder");
    return { incident: incidentJson(engine.acknowledge(incidentId(request.params), token.name)) };
  });

  app.post("/api/v1/incidents/:id/feedback", async (request, reply) => {
    const token = tokenFor(engine.config, request, "responder");
    const id = incidentId(request.params);
    const body = request.body ?? {};
    if (!validateFeedback(body)) {
      throw new PagewiseError(
        "PW_INVALID_EVENT",
        "the feedback is not valid; nothing was stored",
        ajvProblems(validateFeedback.errors),
      );
    }
    const f = engine.feedback(id, token.name, {
      verdict: body.verdict,
      routeFit: body.route_fit ?? null,
      note: body.note ?? null,
    });
    return reply.code(201).send({ feedback: feedbackJson(f) });
  });

  // Handoffs: a human decision with an author and a reason, recorded in the decision chain.
  app.post("/api/v1/incidents/:id/reassign", async (request) => {
    const token = tokenFor(engine.config, request, "responder");
    const id = incidentId(request.params);
    const body = request.body ?? {};
    if (!validateReassign(body)) throw invalid("the reassignment", ajvProblems(validateReassign.errors));
    const problems: Problem[] = blankReason(body.reason);
    if ((body.to_user === undefined) === (body.to_team === undefined))
      problems.push({ path: "", reason: "give exactly one of to_user and to_team" });
    if (body.to_user !== undefined && !engine.config.users.has(body.to_user))
      problems.push({ path: "to_user", reason: `unknown user "${body.to_user}"` });
    if (body.to_team !== undefined && !engine.config.teams.has(body.to_team))
      problems.push({ path: "to_team", reason: `unknown team "${body.to_team}"` });
    if (problems.length > 0) throw invalid("the reassignment", problems);
    const to = body.to_user !== undefined ? { user: body.to_user } : { team: body.to_team as string };
    return {
      incident: incidentJson(
        engine.override(id, { kind: "reassign", to, author: token.name, reason: body.reason }),
      ),
    };
  });

  app.post("/api/v1/incidents/:id/reroute", async (request) => {
    const token = tokenFor(engine.config, request, "responder");
    const id = incidentId(request.params);
    const body = request.body ?? {};
    if (!validateReroute(body)) throw invalid("the reroute", ajvProblems(validateReroute.errors));
    const c = engine.config;
    const problems: Problem[] = blankReason(body.reason);
    const route = compileRoute(
      body.route,
      problems,
      {
        teams: new Set(c.teams.keys()),
        services: new Set(c.services.keys()),
        sources: new Set(c.sources.keys()),
        chains: new Set(c.chains.keys()),
        channels: new Set(c.channels.keys()),
      },
      "route",
    );
    if (route?.kind === "runbook" || route?.kind === "validate")
      problems.push({ path: "route.kind", reason: "a human reroute takes page, triage, notify or suppress" });
    if (route === undefined || problems.length > 0) throw invalid("the reroute", problems);
    return {
      incident: incidentJson(
        engine.override(id, { kind: "reroute", route, author: token.name, reason: body.reason }),
      ),
    };
  });

  app.post("/api/v1/incidents/:id/resolve", async (request) => {
    const token = tokenFor(engine.config, request, "responder");
    return { incident: incidentJson(engine.resolve(incidentId(request.params), token.name)) };
  });
}

/** A handoff needs a reason in words: empty or only spaces is none. */
function blankReason(text: string): Problem[] {
  return text.trim() === "" ? [{ path: "reason", reason: "must not be blank: say why, in words" }] : [];
}

function invalid(what: string, problems: Problem[]): PagewiseError {
  return new PagewiseError("PW_INVALID_BODY", `${what} is not valid; nothing changed`, problems);
}

function incidentId(params: unknown): number {
  const raw = (params as { id?: string }).id ?? "";
  if (!/^\d{1,15}$/.test(raw)) throw new PagewiseError("PW_NOT_FOUND", `incident "${raw}" does not exist`);
  return Number(raw);
}

function parseStatuses(raw: string | undefined): IncidentStatus[] | undefined {
  if (raw === undefined || raw === "") return undefined;
  const out: IncidentStatus[] = [];
  for (const s of raw.split(",")) {
    if (s === "open") out.push("triggered", "validating", "acknowledged", "suppressed");
    else if ((INCIDENT_STATUSES as readonly string[]).includes(s)) out.push(s as IncidentStatus);
    else {
      throw new PagewiseError(
        "PW_INVALID_QUERY",
        `status: "${s}" is not one of open, ${INCIDENT_STATUSES.join(", ")}`,
        [{ path: "status", reason: `unknown status "${s}"` }],
      );
    }
  }
  return out;
}

function parseIntParam(
  raw: string | undefined,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) {
    throw new PagewiseError("PW_INVALID_QUERY", `${name}: must be a whole number from ${min} to ${max}`, [
      { path: name, reason: `must be a whole number from ${min} to ${max}` },
    ]);
  }
  return n;
}
