import { allowed } from "../core/automation/run.js";
import { unknownHoles } from "../core/automation/template.js";
import type { ActionStep, Allowlist, Heartbeat, Playbook, Template } from "../core/automation/types.js";
import type { Problem } from "../core/errors.js";
import { SEVERITIES, type Severity } from "../core/types.js";
import { Check } from "./escalation.js";

/** `automation:`, `playbooks:` and `heartbeats:`, checked key by key and compiled. */
export interface AutomationRefs {
  sources: ReadonlySet<string>;
  services: ReadonlySet<string>;
}

const STEP_TIMEOUT = 30_000;
const APPROVAL_TIMEOUT = 15 * 60_000;
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];

export function compileAllowlist(raw: unknown, problems: Problem[]): Allowlist {
  const c = new Check(problems);
  if (raw === undefined) return { hosts: [] };
  const o = c.obj(raw, "automation", ["allowed_hosts"]);
  const hosts: string[] = [];
  for (const [v, path] of c.list(o?.allowed_hosts, "automation.allowed_hosts")) {
    if (typeof v !== "string" || !/^(\*\.)?[A-Za-z0-9.[\]:_-]+$/.test(v))
      c.bad(path, "must be a host name, host:port, or *.domain");
    else hosts.push(v);
  }
  return { hosts };
}

export function compilePlaybooks(raw: unknown, problems: Problem[], allow: Allowlist): Map<string, Playbook> {
  const c = new Check(problems);
  const out = new Map<string, Playbook>();
  for (const [v, path] of c.list(raw, "playbooks")) {
    const o = c.obj(v, path, ["name", "description", "auto_above", "approval_timeout", "steps", "rollback"]);
    if (o === undefined) continue;
    const name = c.name(o.name, `${path}.name`);
    if (name !== undefined && out.has(name)) c.bad(`${path}.name`, `duplicate playbook "${name}"`);
    let autoAbove: number | null = null;
    if (o.auto_above !== undefined) {
      // Written so that NaN (YAML .nan) is refused too.
      if (typeof o.auto_above !== "number" || !(o.auto_above >= 0 && o.auto_above <= 1))
        c.bad(`${path}.auto_above`, "must be a probability between 0 and 1 (leave it out to always ask)");
      else autoAbove = o.auto_above;
    }
    const approvalTimeoutMs =
      o.approval_timeout === undefined
        ? APPROVAL_TIMEOUT
        : (c.duration(o.approval_timeout, `${path}.approval_timeout`, 60_000) ?? APPROVAL_TIMEOUT);
    const steps = c.list(o.steps, `${path}.steps`).flatMap(([s, p]) => step(c, s, p, allow) ?? []);
    // A steps that is not a list was reported by list() already.
    if (o.steps === undefined || (Array.isArray(o.steps) && o.steps.length === 0))
      c.bad(`${path}.steps`, "is required: at least one step");
    const rollback = c.list(o.rollback, `${path}.rollback`).flatMap(([s, p]) => step(c, s, p, allow) ?? []);
    const description =
      o.description === undefined ? null : (c.str(o.description, `${path}.description`) ?? null);
    if (name !== undefined)
      out.set(name, { name, description, autoAbove, approvalTimeoutMs, steps, rollback });
  }
  return out;
}

function step(c: Check, v: unknown, path: string, allow: Allowlist): ActionStep | undefined {
  const o = c.obj(v, path, ["name", "method", "url", "headers", "body", "timeout"]);
  if (o === undefined) return undefined;
  const name = c.name(o.name, `${path}.name`);
  const method = o.method === undefined ? "POST" : o.method;
  if (typeof method !== "string" || !METHODS.includes(method.toUpperCase()))
    c.bad(`${path}.method`, `must be one of ${METHODS.join(", ")}`);
  const url = typeof o.url === "string" ? o.url : undefined;
  if (url === undefined) c.bad(`${path}.url`, "is required: an http(s) URL (may hold {{...}} holes)");
  else if (!/^https?:\/\//i.test(url))
    // Any other scheme is refused at run time anyway, and a hole there is percent-encoded.
    c.bad(`${path}.url`, "must be an http(s) URL (may hold {{...}} holes after http(s)://)");
  else {
    for (const h of unknownHoles(url)) c.bad(`${path}.url`, `unknown template value {{${h}}}`);
    // A host fixed in the config is checked now; one filled from a template, when it runs.
    // Schemes are case-insensitive; the host ends at a path (/ or \), a query or a fragment.
    const fixed = /^https?:\/\/[^/?#\\{]+([/?#\\]|$)/i.test(url) ? url : null;
    if (fixed !== null && !allowed(allow, fixed))
      c.bad(`${path}.url`, `host of ${fixed} is not in automation.allowed_hosts`);
  }
  const headers = c.headers(o.headers, `${path}.headers`);
  // Header values are filled at run time too.
  for (const [k, v] of Object.entries(headers))
    for (const h of unknownHoles(v)) c.bad(`${path}.headers.${k}`, `unknown template value {{${h}}}`);
  const body = o.body === undefined ? null : (o.body as Template);
  if (body !== null)
    for (const h of unknownHoles(body)) c.bad(`${path}.body`, `unknown template value {{${h}}}`);
  const timeoutMs =
    o.timeout === undefined ? STEP_TIMEOUT : (c.duration(o.timeout, `${path}.timeout`) ?? STEP_TIMEOUT);
  if (timeoutMs <= 0 || timeoutMs > 10 * 60_000) c.bad(`${path}.timeout`, "must be between 1ms and 10m");
  if (name === undefined || url === undefined || typeof method !== "string") return undefined;
  return { name, method: method.toUpperCase(), url, headers, body, timeoutMs };
}

export function compileHeartbeats(
  raw: unknown,
  problems: Problem[],
  refs: AutomationRefs,
): Map<string, Heartbeat> {
  const c = new Check(problems);
  const out = new Map<string, Heartbeat>();
  for (const [v, path] of c.list(raw, "heartbeats")) {
    const o = c.obj(v, path, ["name", "every", "grace", "source", "alertname", "service", "severity"]);
    if (o === undefined) continue;
    const name = c.name(o.name, `${path}.name`);
    if (name !== undefined && out.has(name)) c.bad(`${path}.name`, `duplicate heartbeat "${name}"`);
    const everyMs = c.duration(o.every, `${path}.every`, 60_000);
    const graceMs = o.grace === undefined ? (everyMs ?? 0) : c.duration(o.grace, `${path}.grace`);
    const source = o.source === undefined ? null : c.str(o.source, `${path}.source`);
    if (typeof source === "string" && !refs.sources.has(source))
      c.bad(`${path}.source`, `unknown source "${source}"`);
    const service = o.service === undefined ? null : c.str(o.service, `${path}.service`);
    if (typeof service === "string" && !refs.services.has(service))
      c.bad(`${path}.service`, `unknown service "${service}"`);
    const alertname = o.alertname === undefined ? "Watchdog" : c.str(o.alertname, `${path}.alertname`);
    const severity = o.severity === undefined ? "critical" : o.severity;
    if (!(SEVERITIES as readonly unknown[]).includes(severity))
      c.bad(`${path}.severity`, `must be one of ${SEVERITIES.join(", ")}`);
    if (
      name === undefined ||
      everyMs === undefined ||
      graceMs === undefined ||
      source === undefined ||
      service === undefined ||
      alertname === undefined
    )
      continue;
    out.set(name, { name, everyMs, graceMs, source, alertname, service, severity: severity as Severity });
  }
  return out;
}
