import type { FastifyInstance, FastifyRequest } from "fastify";
import { RUN_STATUSES, type RunStatus } from "../../core/automation/run.js";
import { PagewiseError } from "../../core/errors.js";
import type { Engine } from "../../engine/engine.js";
import type { StoredRun } from "../../engine/ports.js";
import { credential, tokenFor } from "../auth.js";

/** Runbook runs (list, show, approve, reject) and heartbeat pings. */
export function automationRoutes(app: FastifyInstance, engine: Engine): void {
  app.get("/api/v1/runbooks", async (request) => {
    tokenFor(engine.config, request, "viewer");
    const q = request.query as { status?: string; incident?: string; limit?: string };
    if (q.status !== undefined && !(RUN_STATUSES as readonly string[]).includes(q.status)) {
      throw new PagewiseError("PW_INVALID_QUERY", `status: must be one of ${RUN_STATUSES.join(", ")}`, [
        { path: "status", reason: `unknown status "${q.status}"` },
      ]);
    }
    const incident = q.incident === undefined ? undefined : whole(q.incident, "incident");
    const limit = q.limit === undefined ? 100 : Math.min(whole(q.limit, "limit"), 1000);
    const runs = engine.store.runs({
      ...(q.status === undefined ? {} : { status: q.status as RunStatus }),
      ...(incident === undefined ? {} : { incidentId: incident }),
      limit,
    });
    return { runs: runs.map(runJson) };
  });

  app.get("/api/v1/runbooks/:run", async (request) => {
    tokenFor(engine.config, request, "viewer");
    const id = whole((request.params as { run: string }).run, "run");
    const run = engine.store.runById(id);
    if (run === undefined) throw new PagewiseError("PW_NOT_FOUND", `runbook run ${id} does not exist`);
    return { run: runJson(run) };
  });

  for (const action of ["approve", "reject"] as const) {
    app.post(`/api/v1/runbooks/:run/${action}`, async (request) => {
      const token = tokenFor(engine.config, request, "responder");
      const id = whole((request.params as { run: string }).run, "run");
      const run = engine.answerRun(id, action === "approve", token.name);
      return { run: runJson({ ...run, leaseUntil: null }) };
    });
  }

  // Cron jobs and monitors check in with their source's ingest key (or a responder token).
  app.post("/api/v1/heartbeats/:name", async (request, reply) => {
    const via = pinger(engine, request);
    const name = (request.params as { name: string }).name;
    const r = engine.heartbeat(name, via);
    return reply.code(202).send({ heartbeat: name, status: "ok", restored: r.restored });
  });

  app.get("/api/v1/heartbeats", async (request) => {
    tokenFor(engine.config, request, "viewer");
    const state = new Map(engine.store.heartbeats().map((h) => [h.name, h]));
    return {
      heartbeats: [...engine.config.heartbeats.values()].map((hb) => {
        const s = state.get(hb.name);
        return {
          name: hb.name,
          every_s: hb.everyMs / 1000,
          grace_s: hb.graceMs / 1000,
          source: hb.source,
          alertname: hb.alertname,
          last_seen: iso(s?.lastSeen ?? null),
          missed_since: iso(s?.missedAt ?? null),
          status: s?.missedAt != null ? "missed" : "ok",
        };
      }),
    };
  });
}

function pinger(engine: Engine, request: FastifyRequest): string {
  const key = credential(request);
  const source = key === null ? undefined : engine.config.sourcesByKey.get(key);
  if (source !== undefined) return source.name;
  return tokenFor(engine.config, request, "responder").name;
}

export function runJson(r: StoredRun): Record<string, unknown> {
  return {
    id: r.id,
    incident_id: r.incidentId,
    playbook: r.playbook,
    status: r.status,
    step: r.step,
    steps: r.book.steps.map((s) => s.name),
    rollback: r.book.rollback.map((s) => s.name),
    failed_step: r.failedStep,
    last_error: r.lastError,
    score: r.score,
    auto_above: r.book.autoAbove,
    decided_by: r.decidedBy,
    created_at: iso(r.createdAt),
    updated_at: iso(r.updatedAt),
  };
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function whole(raw: string, name: string): number {
  if (!/^\d{1,15}$/.test(raw) || Number(raw) < 1) {
    throw new PagewiseError("PW_INVALID_QUERY", `${name}: must be a whole number >= 1`, [
      { path: name, reason: "must be a whole number >= 1" },
    ]);
  }
  return Number(raw);
}
