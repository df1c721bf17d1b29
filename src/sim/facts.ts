import type { IncidentStatus } from "../core/incident.js";
import type { RouteKind } from "../core/policy/types.js";
import type { Store } from "../engine/ports.js";

/** What a game day reads back from the store after the run: incidents, decisions, timelines. */
export interface IncidentFacts {
  id: number;
  summary: string;
  service: string | null;
  team: string | null;
  status: IncidentStatus;
  openedAt: number;
  /** Where it is routed at the end: the latest decision's route, or a failed runbook's fallback. */
  route: RouteKind | null;
  decisions: DecisionFacts[];
  timeline: TimelineFacts[];
}

export interface DecisionFacts {
  id: number;
  incidentId: number;
  at: number;
  reason: string;
  /** The route in force after it (the no-downgrade rule may hold a higher one). */
  route: RouteKind;
  rule: string | null;
  score: number | null;
  band: string | null;
  modifiers: string[];
  /** What muted it ("window postgres-sunday-maintenance"), or null. */
  mutedBy: string | null;
  held: boolean;
}

export interface TimelineFacts {
  id: number;
  incidentId: number;
  at: number;
  /** A timeline kind; kept as text so entries added later (runbook, validated, ...) pass through. */
  kind: string;
  actor: string | null;
  detail: Record<string, unknown>;
}

const ALL = 1_000_000;

export async function collectIncidents(store: Store): Promise<IncidentFacts[]> {
  const incidents = (await store.listIncidents({ limit: ALL })).reverse();
  return Promise.all(
    incidents.map(async (i) => ({
      id: i.id,
      summary: i.summary,
      service: i.service,
      team: i.team,
      status: i.status,
      openedAt: i.openedAt,
      route: i.route?.kind ?? null,
      decisions: (await store.incidentDecisions(i.id)).map((d) =>
        decisionFacts(d.id, d.incidentId, d.at, d.reason, d.route, d.body),
      ),
      timeline: (await store.incidentTimeline(i.id)).map((t) => ({
        id: t.id,
        incidentId: t.incidentId,
        at: t.at,
        kind: t.kind,
        actor: t.actor,
        detail: t.detail,
      })),
    })),
  );
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v !== null && typeof v === "object" ? (v as Obj) : {});
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

/** Reads the few facts a timeline shows out of a decision record's body. */
export function decisionFacts(
  id: number,
  incidentId: number,
  at: number,
  reason: string,
  route: RouteKind,
  body: Obj,
): DecisionFacts {
  const d = obj(body.decision);
  const muted = body.decision === undefined ? null : d.muted_by;
  const score = obj(body.score).value;
  return {
    id,
    incidentId,
    at,
    reason,
    route,
    rule: str(obj(d.rule).id),
    score: typeof score === "number" ? score : null,
    band: str(d.band),
    modifiers: Array.isArray(d.modifiers) ? d.modifiers.flatMap((m) => str(obj(m).id) ?? []) : [],
    mutedBy: muted === null || muted === undefined ? null : `${str(obj(muted).kind)} ${str(obj(muted).id)}`,
    held: body.held_by !== null && body.held_by !== undefined,
  };
}
