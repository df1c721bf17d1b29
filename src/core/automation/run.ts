import type { Route } from "../policy/types.js";
import type { ActionStep, Allowlist, Playbook } from "./types.js";

/**
 * A runbook run as a state machine. Pure: the engine stores the run, the runner does the HTTP,
 * and each outcome comes back here to say what happens next.
 */
export type RunStatus =
  | "awaiting_approval"
  | "running"
  | "rolling_back"
  | "succeeded"
  | "rolled_back"
  | "failed"
  | "rejected"
  | "expired";

export const RUN_STATUSES: readonly RunStatus[] = [
  "awaiting_approval",
  "running",
  "rolling_back",
  "succeeded",
  "rolled_back",
  "failed",
  "rejected",
  "expired",
];

/** Statuses in which the runner has a step to carry out. */
export function isActive(status: RunStatus): boolean {
  return status === "running" || status === "rolling_back";
}

export function isFinished(status: RunStatus): boolean {
  return !isActive(status) && status !== "awaiting_approval";
}

export interface Run {
  id: number;
  incidentId: number;
  playbook: string;
  /** The playbook as it was when the run started: a reload does not change a run under way. */
  book: Playbook;
  status: RunStatus;
  /** Index of the next step of the current phase (steps while running, rollback while rolling back). */
  step: number;
  /** The step that failed, once one did. */
  failedStep: string | null;
  lastError: string | null;
  /** The score the gate saw. */
  score: number | null;
  /** Who approved or rejected, or "pagewise" when the score let it run at once. */
  decidedBy: string | null;
  /** The route's on_failure, snapshotted: a reload cannot change what a failure does. */
  onFailure: Route;
  createdAt: number;
  updatedAt: number;
}

/** The approval gate: confidence decides whether a human is asked first. */
export function gate(playbook: Playbook, score: number | null): "run" | "ask" {
  return playbook.autoAbove !== null && score !== null && score >= playbook.autoAbove ? "run" : "ask";
}

/** The step the runner should carry out now, or null when the run has none. */
export function currentStep(run: Run): ActionStep | null {
  if (run.status === "running") return run.book.steps[run.step] ?? null;
  if (run.status === "rolling_back") return run.book.rollback[run.step] ?? null;
  return null;
}

export type StepOutcome = { ok: true; detail: string } | { ok: false; reason: string };

/** What a finished step leads to; `fallback` says the route's on_failure must now run. */
export interface StepResult {
  run: Run;
  fallback: boolean;
}

export function afterStep(run: Run, outcome: StepOutcome, now: number): StepResult {
  const playbook = run.book;
  const step = currentStep(run);
  const at = { ...run, updatedAt: now };
  if (step === null) return { run: at, fallback: false };
  if (run.status === "running") {
    if (outcome.ok) {
      const next = run.step + 1;
      return next < playbook.steps.length
        ? { run: { ...at, step: next }, fallback: false }
        : { run: { ...at, step: next, status: "succeeded" }, fallback: false };
    }
    const failed = { ...at, failedStep: step.name, lastError: outcome.reason };
    // Undo what ran before (the failed step may have half-run too, so rollback always runs).
    return playbook.rollback.length > 0
      ? { run: { ...failed, status: "rolling_back", step: 0 }, fallback: false }
      : { run: { ...failed, status: "failed" }, fallback: true };
  }
  // Rolling back: a rollback step that fails leaves the system in an unknown state, so stop
  // there and hand over to a human at once.
  if (!outcome.ok)
    return {
      run: { ...at, status: "failed", lastError: `rollback ${step.name}: ${outcome.reason}` },
      fallback: true,
    };
  const next = run.step + 1;
  return next < playbook.rollback.length
    ? { run: { ...at, step: next }, fallback: false }
    : { run: { ...at, step: next, status: "rolled_back" }, fallback: true };
}

/** A human's answer to the gate; only a run awaiting approval takes one. */
export function answer(run: Run, approve: boolean, by: string, now: number): Run | null {
  if (run.status !== "awaiting_approval") return null;
  return { ...run, status: approve ? "running" : "rejected", decidedBy: by, updatedAt: now };
}

/** Whether a URL's host may be reached. Hosts match exactly (case-insensitively), with the port
 * when the entry names one; "*.example.com" matches subdomains only. */
export function allowed(list: Allowlist, url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") return false;
  const host = u.hostname.toLowerCase();
  const port = u.port === "" ? (u.protocol === "https:" ? "443" : "80") : u.port;
  return list.hosts.some((entry) => {
    const e = entry.toLowerCase();
    const colon = e.lastIndexOf(":");
    const hasPort = colon > 0 && /^\d+$/.test(e.slice(colon + 1)) && !e.endsWith("]");
    const name = hasPort ? e.slice(0, colon) : e;
    if (hasPort && e.slice(colon + 1) !== port) return false;
    const bare = name.replace(/^\[|\]$/g, "");
    if (bare.startsWith("*.")) return host.endsWith(bare.slice(1)) && host.length > bare.length - 1;
    return host.replace(/^\[|\]$/g, "") === bare;
  });
}
