import type { Allowlist, Heartbeat, Playbook } from "../core/automation/types.js";
import type { Chain } from "../core/oncall/chain.js";
import type { Schedule } from "../core/oncall/types.js";
import type { Policy } from "../core/policy/types.js";
import type { Severity } from "../core/types.js";
import type { ChannelConfig } from "../notify/types.js";
import type { User } from "./oncall.js";
import type { SourceKinds } from "./schema.js";

/** The validated, trusted configuration (camelCase). Built once by load.ts. */

export type SourceKind = (typeof SourceKinds)[number];

export interface Source {
  name: string;
  kind: SourceKind;
  key: string;
  /** Prior genuine rate in (0, 1), from the inventory label. */
  reliability: number;
  owner: string | null;
  labels: Record<string, string>;
  /** Explicit group_by; null means the wire format's default (EVENTS.md). */
  groupBy: string[] | null;
  serviceLabels: string[];
  defaultService: string | null;
  defaultSeverity: Severity;
  severityMap: Record<string, Severity>;
  /** ms; null when incidents of this source never resolve by themselves. */
  autoResolveAfter: number | null;
  /** ms; expiry of an Alertmanager v2 alert sent without endsAt. */
  resolveTimeout: number;
  /** Annotations read as the source's own confidence, first present wins. */
  upstreamAnnotations: string[];
}

export interface Team {
  name: string;
  description: string | null;
  timezone: string;
  chain: string | null;
  channel: string | null;
}

export interface Service {
  name: string;
  team: string | null;
  tier: number;
  regulated: boolean;
  timezone: string;
  description: string | null;
  labels: Record<string, string>;
}

export type Role = "admin" | "responder" | "viewer";

export interface ApiToken {
  name: string;
  token: string;
  role: Role;
}

export interface SeverityTargets {
  ackWithin: number | null;
  restoreWithin: number | null;
}

export interface Config {
  publicUrl: string | null;
  /** Annotations read as an upstream score when a source names none. */
  upstreamAnnotations: string[];
  /** ms: raw events and resolved incidents older than this are pruned. */
  retention: number;
  bodyLimitBytes: number;
  severities: Record<Severity, SeverityTargets>;
  teams: ReadonlyMap<string, Team>;
  services: ReadonlyMap<string, Service>;
  sources: ReadonlyMap<string, Source>;
  sourcesByKey: ReadonlyMap<string, Source>;
  tokens: ReadonlyMap<string, ApiToken>;
  policy: Policy;
  users: ReadonlyMap<string, User>;
  schedules: ReadonlyMap<string, Schedule>;
  chains: ReadonlyMap<string, Chain>;
  channels: ReadonlyMap<string, ChannelConfig>;
  linkSecret: string | null;
  linkTtlMs: number;
  mailChannel: string | null;
  deliveryMaxAttempts: number;
  playbooks: ReadonlyMap<string, Playbook>;
  heartbeats: ReadonlyMap<string, Heartbeat>;
  allowlist: Allowlist;
  demoSink: boolean;
  /** The policy as loaded (JSON of the section), stored with every version that was active. */
  policyText: string;
  /** The file's text after ${VAR} substitution is NOT kept (secrets); this is its hash. */
  hash: string;
}

/** The source of incidents Pagewise opens itself (a missed heartbeat). */
export const PAGEWISE_SOURCE = "pagewise";

/** What an unknown service gets (EVENTS.md): tier 3, no team. */
export const UNKNOWN_SERVICE_TIER = 3;
