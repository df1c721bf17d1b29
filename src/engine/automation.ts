import {
  afterStep,
  answer,
  currentStep,
  gate,
  isFinished,
  type Run,
  type StepOutcome,
} from "../core/automation/run.js";
import { PagewiseError } from "../core/errors.js";
import type { Incident } from "../core/incident.js";
import { routeJson, routeText } from "../core/policy/explain.js";
import type { Route } from "../core/policy/types.js";
import {
  announce,
  carryOut,
  type DeliveryEnv,
  enqueueTo,
  type MessageFacts,
  NO_FACTS,
  skipped,
} from "./escalation.js";
import type { Tx } from "./ports.js";
import { appendRecord, incidentBrief } from "./routing.js";

/**
 * Runbooks inside the engine's transactions: starting a run behind the confidence gate, a
 * human's approval, each step's outcome, and the fallback to the route's on_failure. The HTTP
 * itself happens outside, in the runner (src/automation/runner.ts).
 */
type RunbookRoute = Extract<Route, { kind: "runbook" }>;

export function startRun(
  tx: Tx,
  env: DeliveryEnv,
  incident: Incident,
  route: RunbookRoute,
  facts: MessageFacts,
): Incident {
  const book = env.directory.playbook(route.playbook);
  if (book === undefined) {
    note(tx, env, incident.id, {
      playbook: route.playbook,
      status: "failed",
      reason: "playbook is not configured",
    });
    return carryOut(
      tx,
      env,
      { ...incident, route: route.onFailure },
      null,
      route.onFailure,
      { also: [] },
      facts,
    );
  }
  // One run of a playbook per incident at a time; a finished one is not repeated by re-decisions.
  if (tx.runsOf(incident.id).some((r) => r.playbook === route.playbook)) return incident;
  const ask = gate(book, incident.score) === "ask";
  const fresh: Omit<Run, "id"> = {
    incidentId: incident.id,
    playbook: book.name,
    book,
    status: ask ? "awaiting_approval" : "running",
    step: 0,
    failedStep: null,
    lastError: null,
    score: incident.score,
    decidedBy: ask ? null : "pagewise",
    onFailure: route.onFailure,
    createdAt: env.now,
    updatedAt: env.now,
  };
  const id = tx.insertRun(fresh);
  const run: Run = { ...fresh, id };
  const why = ask
    ? book.autoAbove === null
      ? "this playbook always asks a human first"
      : `score ${fmt(incident.score)} is below auto_above ${book.autoAbove}: a human approves first`
    : `score ${fmt(incident.score)} >= auto_above ${book.autoAbove}: runs without waiting`;
  record(tx, env, incident, run, { event: ask ? "approval_requested" : "started", reason: why });
  if (ask) {
    tx.armTimer("runbook_approval", id, env.now + book.approvalTimeoutMs, "set");
    requestApproval(tx, env, incident, run, facts);
  }
  return incident;
}

/** The approval request goes to the team's channel, with the two API calls that answer it. */
function requestApproval(tx: Tx, env: DeliveryEnv, incident: Incident, run: Run, facts: MessageFacts): void {
  const channel = env.directory.teamChannel(incident.team);
  if (channel === null || env.directory.channel(channel) === undefined) {
    skipped(tx, env, incident.id, { run: run.id, reason: "no team channel for the approval request" });
    return;
  }
  const api = env.apiUrl(`/api/v1/runbooks/${run.id}`);
  const steps = run.book.steps.map((s) => s.name).join(", ");
  enqueueTo(
    tx,
    env,
    incident,
    channel,
    "approval",
    `${incident.id}:approval:${run.id}:${channel}`,
    facts,
    [
      `Run playbook ${run.playbook} (${steps})? Approve: POST ${api}/approve, reject: POST ${api}/reject.`,
      `Without an answer within ${Math.round(run.book.approvalTimeoutMs / 60_000)} min: ${routeText(run.onFailure)}.`,
    ].join(" "),
  );
}

/** A human approves or rejects a run waiting at the gate. */
export function answerRun(tx: Tx, env: DeliveryEnv, runId: number, approve: boolean, by: string): Run {
  const run = tx.run(runId);
  if (run === undefined) throw new PagewiseError("PW_NOT_FOUND", `runbook run ${runId} does not exist`);
  const next = answer(run, approve, by, env.now);
  if (next === null)
    throw new PagewiseError(
      "PW_ILLEGAL_TRANSITION",
      `runbook run ${runId} is ${run.status}, not awaiting approval`,
    );
  tx.saveRun(next);
  tx.cancelTimer("runbook_approval", runId);
  const incident = tx.incident(run.incidentId);
  if (incident === undefined) return next;
  record(tx, env, incident, next, { event: approve ? "approved" : "rejected", by });
  // A rejection is a human saying "not this way": the route's fallback takes over.
  if (!approve) fallback(tx, env, incident, next, `rejected by ${by}`);
  return next;
}

/** Nobody answered the gate in time: the fallback, so that an alert never waits on a silent room. */
export function approvalExpired(tx: Tx, env: DeliveryEnv, runId: number): void {
  const run = tx.run(runId);
  if (run === undefined || run.status !== "awaiting_approval") return;
  const next: Run = { ...run, status: "expired", updatedAt: env.now };
  tx.saveRun(next);
  const incident = tx.incident(run.incidentId);
  if (incident === undefined) return;
  record(tx, env, incident, next, { event: "approval_expired" });
  fallback(tx, env, incident, next, "nobody approved it in time");
}

/** A step's outcome from the runner; false when the runner's lease was lost (another took over). */
export function finishStep(
  tx: Tx,
  env: DeliveryEnv,
  runId: number,
  leaseUntil: number,
  outcome: StepOutcome & { request?: { method: string; url: string } },
): boolean {
  const run = tx.run(runId);
  if (run === undefined || run.leaseUntil !== leaseUntil) return false;
  const step = currentStep(run);
  const phase = run.status === "rolling_back" ? "rollback" : "step";
  const r = afterStep(run, outcome, env.now);
  tx.saveRun(r.run);
  const incident = tx.incident(run.incidentId);
  if (incident === undefined) return true;
  record(tx, env, incident, r.run, {
    event: outcome.ok ? `${phase}_succeeded` : `${phase}_failed`,
    step: step?.name ?? null,
    request: outcome.request ?? null,
    result: outcome.ok ? outcome.detail : outcome.reason,
  });
  if (isFinished(r.run.status))
    announce(tx, env, incident, `runbook ${run.playbook} ${r.run.status.replace("_", " ")}`);
  if (r.fallback) {
    const failed =
      r.run.failedStep === null ? "" : ` after step ${r.run.failedStep} failed (${r.run.lastError})`;
    fallback(tx, env, incident, r.run, `runbook ${r.run.status.replace("_", " ")}${failed}`);
  }
  return true;
}

function fallback(tx: Tx, env: DeliveryEnv, incident: Incident, run: Run, why: string): void {
  if (incident.status === "resolved") return;
  const route = run.onFailure;
  const routed: Incident = { ...incident, route };
  // The fallback is a decision of its own: the chain says where the incident went, and why.
  const decisionId = record(tx, env, routed, run, {
    event: "fallback",
    reason: why,
    route: routeJson(route),
  });
  const facts: MessageFacts = {
    ...NO_FACTS,
    decisionId,
    score: incident.score,
    rationale: `Playbook ${run.playbook}: ${why}. Falling back to: ${routeText(route)}.`,
  };
  if (route.kind === "page" && incident.route?.kind !== "page") env.paged?.(incident.team);
  tx.saveIncident(carryOut(tx, env, routed, null, route, { also: [] }, facts));
}

/**
 * Every run event is in the incident's timeline and in the hash-chained decision records, so an
 * auditor sees who approved what and which step did what, in order, tamper-evidently.
 */
function record(
  tx: Tx,
  env: DeliveryEnv,
  incident: Incident,
  run: Run,
  detail: Record<string, unknown>,
): number {
  const entry = {
    run: run.id,
    playbook: run.playbook,
    status: run.status,
    ...detail,
    ...(run.failedStep === null ? {} : { failed_step: run.failedStep, error: run.lastError }),
  };
  note(tx, env, incident.id, entry);
  return appendRecord(tx, {
    incidentId: incident.id,
    at: env.now,
    reason: "runbook",
    policyVersion: incident.policyVersion ?? "",
    route: incident.route?.kind ?? "runbook",
    body: {
      reason: "runbook",
      incident: incidentBrief(incident),
      runbook: entry,
      effective_route: routeJson(
        incident.route ?? { kind: "runbook", playbook: run.playbook, onFailure: run.onFailure },
      ),
      held_by: null,
      actions: [],
    },
  });
}

function note(tx: Tx, env: DeliveryEnv, incidentId: number, detail: Record<string, unknown>): void {
  tx.addTimeline({
    incidentId,
    at: env.now,
    kind: "runbook",
    actor: typeof detail.by === "string" ? detail.by : "pagewise",
    detail,
  });
}

function fmt(score: number | null): string {
  return score === null ? "unknown" : score.toFixed(2);
}
