import type { Generated } from "kysely";

/** Table shapes as stored (snake_case, times in ms since the epoch, JSON as text). */

export interface IncidentsTable {
  id: Generated<number>;
  source: string;
  group_key: string;
  status: string;
  service: string | null;
  service_known: number;
  team: string | null;
  tier: number;
  severity: string;
  summary: string;
  opened_at: number;
  last_event_at: number;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
  resolved_at: number | null;
  resolved_by: string | null;
  resolve_reason: string | null;
  alert_count: number;
  open_alert_count: number;
  score: number | null;
  score_model: string | null;
  scored_at: number | null;
  policy_version: string | null;
  route: string | null;
  escalation: string | null;
  assignee: string | null;
}

export interface AlertsTable {
  id: Generated<number>;
  incident_id: number;
  source: string;
  alert_key: string;
  status: string;
  summary: string;
  severity: string;
  service: string | null;
  labels: string;
  annotations: string;
  links: string;
  upstream_score: number | null;
  starts_at: number;
  ends_at: number | null;
  first_seen: number;
  last_seen: number;
  resolved_at: number | null;
  event_count: number;
  raw: string;
}

export interface EventsTable {
  id: Generated<number>;
  received_at: number;
  at: number;
  source: string;
  action: string;
  alert_key: string | null;
  incident_id: number | null;
  service: string | null;
  summary: string;
  raw: string;
}

export interface TimelineTable {
  id: Generated<number>;
  incident_id: number;
  at: number;
  kind: string;
  actor: string | null;
  detail: string;
}

export interface TimersTable {
  id: Generated<number>;
  kind: string;
  ref: number;
  due_at: number;
  attempts: number;
  lease_owner: string | null;
  lease_until: number | null;
  payload: string | null;
}

export interface SignalsTable {
  id: Generated<number>;
  at: number;
  kind: string;
  body: string;
}

export interface ScoresTable {
  id: Generated<number>;
  incident_id: number;
  at: number;
  reason: string;
  value: number;
  model_version: string;
  features: string;
  contributions: string;
}

export interface FeedbackTable {
  id: Generated<number>;
  incident_id: number;
  at: number;
  author: string;
  verdict: string;
  route_fit: string | null;
  note: string | null;
}

export interface LearningTable {
  source: string;
  alertname: string;
  genuine: number;
  false_alarms: number;
  recent_genuine: number;
  recent_false_alarms: number;
  recent_at: number;
}

export interface ModelsTable {
  version: string;
  created_at: number;
  body: string;
  active: number;
}

export interface DecisionsTable {
  id: Generated<number>;
  incident_id: number;
  at: number;
  reason: string;
  policy_version: string;
  route: string;
  body: string;
  prev_hash: string;
  hash: string;
}

export interface SilencesTable {
  id: Generated<number>;
  matchers: string;
  starts_at: number;
  ends_at: number;
  author: string;
  comment: string;
  created_at: number;
  expired_at: number | null;
}

export interface PoliciesTable {
  version: string;
  text: string;
  loaded_at: number;
}

export interface OutboxTable {
  id: Generated<number>;
  incident_id: number;
  channel: string;
  recipient: string | null;
  adhoc_url: string | null;
  message: string;
  idempotency_key: string;
  status: string;
  attempts: number;
  next_attempt_at: number;
  lease_until: number | null;
  last_error: string | null;
  created_at: number;
  sent_at: number | null;
}

export interface Tables {
  outbox: OutboxTable;
  decisions: DecisionsTable;
  silences: SilencesTable;
  policies: PoliciesTable;
  signals: SignalsTable;
  scores: ScoresTable;
  feedback: FeedbackTable;
  learning: LearningTable;
  models: ModelsTable;
  incidents: IncidentsTable;
  alerts: AlertsTable;
  events: EventsTable;
  timeline: TimelineTable;
  timers: TimersTable;
}
