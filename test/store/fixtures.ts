import type { Incident } from "../../src/core/incident.js";
import type { NewAlert, NewIncident } from "../../src/engine/ports.js";

/** Rows as the engine writes them, for the store tests. */

export const T = Date.parse("2026-11-30T12:00:00Z");

export const newIncident = (over: Partial<NewIncident> = {}): NewIncident => ({
  source: "metrics",
  groupKey: "g1",
  status: "triggered",
  service: "checkout",
  serviceKnown: true,
  team: "payments",
  tier: 0,
  severity: "warning",
  summary: "p99 high",
  openedAt: T,
  lastEventAt: T,
  acknowledgedAt: null,
  acknowledgedBy: null,
  resolvedAt: null,
  resolvedBy: null,
  resolveReason: null,
  alertCount: 1,
  openAlertCount: 1,
  score: null,
  scoreModel: null,
  scoredAt: null,
  policyVersion: null,
  route: null,
  escalation: null,
  assignee: null,
  ...over,
});

export const newAlert = (incidentId: number, over: Partial<NewAlert> = {}): NewAlert => ({
  incidentId,
  source: "metrics",
  alertKey: "k1",
  status: "firing",
  summary: "p99 high",
  severity: "warning",
  service: "checkout",
  labels: { alertname: "Latency" },
  annotations: {},
  links: [],
  upstreamScore: null,
  startsAt: T,
  endsAt: null,
  firstSeen: T,
  lastSeen: T,
  resolvedAt: null,
  eventCount: 1,
  raw: {},
  ...over,
});

export const resolved = (i: Incident): Incident => ({
  ...i,
  status: "resolved",
  resolvedAt: T + 1000,
  resolvedBy: "metrics",
  resolveReason: "alerts_resolved",
  openAlertCount: 0,
});
