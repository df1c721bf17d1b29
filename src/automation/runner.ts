import type { Config } from "../config/types.js";
import { allowed, currentStep, type StepOutcome } from "../core/automation/run.js";
import { fillShape, fillText, fillUrl, type TemplateContext } from "../core/automation/template.js";
import type { ActionStep } from "../core/automation/types.js";
import type { Clock } from "../core/clock.js";
import type { Engine } from "../engine/engine.js";
import type { StoredRun } from "../engine/ports.js";
import { excerpt } from "../notify/http.js";
import { type ActionHttp, fetchAction } from "./action-http.js";

/**
 * Carries runbook steps out: claims runs with a step due (under a lease), fills the step's
 * templates, checks the host against the allowlist, makes the request and reports the outcome
 * to the engine, which decides what comes next. A runner that dies mid-step leaves its lease to
 * lapse; the step is then made again, with the same Idempotency-Key (at least once, like the
 * outbox).
 */
export interface RunnerOptions {
  leaseMs?: number;
  batch?: number;
  http?: ActionHttp;
  observer?: { step?(playbook: string, ok: boolean): void };
}

export class RunbookRunner {
  private readonly leaseMs: number;
  private readonly batch: number;
  private readonly http: ActionHttp;
  lastRunAt: number | null = null;

  constructor(
    private readonly engine: Engine,
    private readonly clock: Clock,
    private readonly config: () => Config,
    private readonly opts: RunnerOptions = {},
  ) {
    this.batch = opts.batch ?? 10;
    this.http = opts.http ?? fetchAction;
    // Longer than any step's timeout, so a live runner never loses its lease mid-request.
    this.leaseMs = opts.leaseMs ?? 11 * 60_000;
  }

  async runOnce(): Promise<number> {
    const claimed = this.engine.store.claimRuns(this.clock.now(), this.leaseMs, this.batch);
    await Promise.all(claimed.map((run) => this.step(run)));
    this.lastRunAt = this.clock.now();
    return claimed.length;
  }

  /** Runs until no run has a step due (tests and game days on a virtual clock). */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.runOnce();
      total += n;
      if (n === 0) return total;
    }
  }

  private async step(run: StoredRun): Promise<void> {
    const step = currentStep(run);
    const lease = run.leaseUntil ?? 0;
    if (step === null) {
      this.engine.finishRunStep(run.id, lease, { ok: false, reason: "the run has no step here" });
      return;
    }
    const ctx = await this.context(run);
    const url = fillUrl(step.url, ctx);
    const request = { method: step.method, url };
    const outcome = allowed(this.config().allowlist, url)
      ? await this.send(step, url, ctx, run)
      : ({ ok: false, reason: `host of ${url} is not in automation.allowed_hosts; not sent` } as StepOutcome);
    this.opts.observer?.step?.(run.playbook, outcome.ok);
    this.engine.finishRunStep(run.id, lease, { ...outcome, request });
  }

  private async send(
    step: ActionStep,
    url: string,
    ctx: TemplateContext,
    run: StoredRun,
  ): Promise<StepOutcome> {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(step.headers)) headers[k] = fillText(v, ctx);
    const phase = run.status === "rolling_back" ? "rollback" : "step";
    headers["idempotency-key"] ??= `pagewise-run-${run.id}-${phase}-${run.step}`;
    let body: string | null = null;
    if (step.body !== null) {
      if (typeof step.body === "string") body = fillText(step.body, ctx);
      else {
        body = JSON.stringify(fillShape(step.body, ctx));
        headers["content-type"] ??= "application/json";
      }
    }
    const res = await this.http({ method: step.method, url, headers, body, timeoutMs: step.timeoutMs });
    if (res.kind === "error") return { ok: false, reason: res.reason };
    const text = excerpt(res.body);
    const detail = text === "" ? `HTTP ${res.status}` : `HTTP ${res.status}: ${text}`;
    return res.status >= 200 && res.status < 300 ? { ok: true, detail } : { ok: false, reason: detail };
  }

  /** What templates see: the incident, its first alert's labels and annotations, the score. */
  private async context(run: StoredRun): Promise<TemplateContext> {
    const incident = await this.engine.store.getIncident(run.incidentId);
    const alerts = await this.engine.store.incidentAlerts(run.incidentId);
    const first = alerts.find((a) => a.status === "firing") ?? alerts[0];
    return {
      incident:
        incident === undefined
          ? { id: run.incidentId }
          : {
              id: incident.id,
              service: incident.service,
              team: incident.team,
              tier: incident.tier,
              severity: incident.severity,
              status: incident.status,
              summary: incident.summary,
              source: incident.source,
            },
      labels: first?.labels ?? {},
      annotations: first?.annotations ?? {},
      score: incident?.score ?? run.score,
      playbook: run.playbook,
      run: run.id,
    };
  }
}
