import type { Severity } from "../types.js";

/** Playbooks (runbooks) and heartbeats, compiled from the config and then trusted. */

/** A template: text with {{path}} holes, or a JSON shape whose strings are templates. */
export type Template = string | number | boolean | null | Template[] | { [k: string]: Template };

export interface ActionStep {
  name: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  /** null: no body. A string is sent as is (after filling); any other shape is sent as JSON. */
  body: Template | null;
  timeoutMs: number;
}

export interface Playbook {
  name: string;
  description: string | null;
  /** Run without asking at a score at or above this; null: always ask a human first. */
  autoAbove: number | null;
  /** How long a run waits for approval before its route's on_failure takes over. */
  approvalTimeoutMs: number;
  steps: ActionStep[];
  /** Run, in order, when a step fails (undo what the steps before it did). */
  rollback: ActionStep[];
}

export interface Heartbeat {
  name: string;
  everyMs: number;
  /** Extra time after `every` before a check-in counts as missed. */
  graceMs: number;
  /** Alerts of this alertname from this source count as check-ins (Alertmanager's Watchdog). */
  source: string | null;
  alertname: string;
  service: string | null;
  severity: Severity;
}

/** Outgoing hosts runbook steps may reach: "host", "host:port" or "*.domain". */
export interface Allowlist {
  hosts: readonly string[];
}
