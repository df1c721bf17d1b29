import type { FastifyInstance } from "fastify";
import type { Config } from "../../config/types.js";
import { parseDuration } from "../../core/duration.js";
import { PagewiseError, type Problem } from "../../core/errors.js";
import { parseMatcher } from "../../core/policy/matchers.js";
import { parseTimestamp, toIso, toIsoOrNull } from "../../core/time.js";
import type { Engine } from "../../engine/engine.js";
import type { Silence } from "../../engine/ports.js";
import { ajvProblems, compile } from "../../validation/ajv.js";
import { tokenFor } from "../auth.js";
import { explainStored } from "../explain.js";
import { decisionRecordJson } from "../present.js";

interface SilenceBody {
  matchers: string[];
  starts_at?: string;
  ends_at?: string;
  duration?: string;
  comment: string;
}

const validateSilence = compile<SilenceBody>({
  type: "object",
  required: ["matchers", "comment"],
  additionalProperties: false,
  properties: {
    matchers: {
      type: "array",
      minItems: 1,
      maxItems: 50,
      items: { type: "string", minLength: 1, maxLength: 1024 },
    },
    starts_at: { type: "string" },
    ends_at: { type: "string" },
    duration: { type: "string" },
    comment: { type: "string", minLength: 1, maxLength: 2000 },
  },
});

/** Decisions, silences and reload: the policy side of the API. */
export function policyRoutes(app: FastifyInstance, engine: Engine, reload: (() => Config) | null): void {
  app.get("/api/v1/decisions/:id", async (request) => {
    tokenFor(engine.config, request, "viewer");
    const raw = (request.params as { id: string }).id;
    const d = /^\d{1,15}$/.test(raw) ? await engine.store.decision(Number(raw)) : undefined;
    if (d === undefined) throw new PagewiseError("PW_NOT_FOUND", `decision "${raw}" does not exist`);
    return { decision: decisionRecordJson(d, explainStored(d)) };
  });

  app.post("/api/v1/silences", async (request, reply) => {
    const token = tokenFor(engine.config, request, "responder");
    const body = request.body ?? {};
    if (!validateSilence(body)) {
      throw new PagewiseError(
        "PW_INVALID_EVENT",
        "the silence is not valid; nothing was stored",
        ajvProblems(validateSilence.errors),
      );
    }
    const now = engine.clock.now();
    const problems: Problem[] = [];
    body.matchers.forEach((m, i) => {
      const parsed = parseMatcher(m);
      if (typeof parsed === "string") problems.push({ path: `matchers[${i}]`, reason: parsed });
    });
    const startsAt = body.starts_at === undefined ? now : parseTimestamp(body.starts_at);
    if (startsAt === null) problems.push({ path: "starts_at", reason: "must be an RFC 3339 time" });
    let endsAt: number | null = null;
    if (body.ends_at !== undefined && body.duration !== undefined) {
      problems.push({ path: "ends_at", reason: "give ends_at or duration, not both" });
    } else if (body.ends_at !== undefined) {
      endsAt = parseTimestamp(body.ends_at);
      if (endsAt === null) problems.push({ path: "ends_at", reason: "must be an RFC 3339 time" });
    } else if (body.duration !== undefined) {
      const d = parseDuration(body.duration);
      if (d === null || d <= 0) problems.push({ path: "duration", reason: "must be a duration such as 2h" });
      else endsAt = (startsAt ?? now) + d;
    } else problems.push({ path: "ends_at", reason: "a silence needs an end: ends_at or duration" });
    if (startsAt !== null && endsAt !== null && endsAt <= startsAt)
      problems.push({ path: "ends_at", reason: "must be after starts_at" });
    if (problems.length > 0 || startsAt === null || endsAt === null) {
      throw new PagewiseError("PW_INVALID_EVENT", "the silence is not valid; nothing was stored", problems);
    }
    const s = engine.addSilence({
      matchers: body.matchers,
      startsAt,
      endsAt,
      author: token.name,
      comment: body.comment,
    });
    return reply.code(201).send({ silence: silenceJson(s, now) });
  });

  app.get("/api/v1/silences", async (request) => {
    tokenFor(engine.config, request, "viewer");
    const all = (request.query as { expired?: string }).expired === "true";
    const now = engine.clock.now();
    return { silences: engine.store.silences(all).map((s) => silenceJson(s, now)) };
  });

  app.delete("/api/v1/silences/:id", async (request) => {
    tokenFor(engine.config, request, "responder");
    const raw = (request.params as { id: string }).id;
    if (!/^\d{1,15}$/.test(raw)) throw new PagewiseError("PW_NOT_FOUND", `silence "${raw}" does not exist`);
    return { silence: silenceJson(engine.expireSilence(Number(raw)), engine.clock.now()) };
  });

  // Alertmanager's path: reload the config file; a bad one is refused and the old one keeps running.
  app.post("/-/reload", async (request) => {
    tokenFor(engine.config, request, "admin");
    if (reload === null)
      throw new PagewiseError("PW_NOT_FOUND", "this server was not started from a config file");
    const config = reload();
    return { status: "reloaded", policy_version: config.policy.version };
  });
}

function silenceJson(s: Silence, now: number) {
  const state = s.expiredAt !== null || now >= s.endsAt ? "expired" : now < s.startsAt ? "pending" : "active";
  return {
    id: s.id,
    matchers: s.matchers,
    starts_at: toIso(s.startsAt),
    ends_at: toIso(s.endsAt),
    author: s.author,
    comment: s.comment,
    created_at: toIso(s.createdAt),
    expired_at: toIsoOrNull(s.expiredAt),
    state,
  };
}
