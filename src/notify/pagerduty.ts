import { guard, postJson } from "./http.js";
import { clip, scoreText } from "./render.js";
import type { Channel, ChannelConfig, DeliveryResult, Message } from "./types.js";

type PagerDutyConfig = Extract<ChannelConfig, { kind: "pagerduty" }>;

export type PagerDutyAction = "trigger" | "acknowledge" | "resolve";
type PagerDutySeverity = "critical" | "error" | "warning" | "info";

const SEVERITIES = new Set<string>(["critical", "error", "warning", "info"]);

/** Our severities are PD's four; anything unexpected pages as an error rather than being lost. */
export function pagerDutySeverity(severity: string): PagerDutySeverity {
  return SEVERITIES.has(severity) ? (severity as PagerDutySeverity) : "error";
}

/** Per incident, not per notification: PD ties trigger, acknowledge and resolve to one alert by it. */
export function dedupKey(incidentId: number): string {
  return `pagewise-${incidentId}`;
}

export function pagerDutyAction(m: Message): PagerDutyAction {
  if (m.kind === "update" && m.status === "acknowledged") return "acknowledge";
  if (m.kind === "update" && m.status === "resolved") return "resolve";
  return "trigger";
}

/** An Events API v2 event. Acknowledge and resolve carry only what PD reads for them. */
export function pagerDutyEvent(m: Message, routingKey: string): Record<string, unknown> {
  const action = pagerDutyAction(m);
  const head = { routing_key: routingKey, event_action: action, dedup_key: dedupKey(m.incidentId) };
  if (action !== "trigger") return head;
  return {
    ...head,
    payload: {
      summary: clip(`${m.title} [score ${scoreText(m)}]`, 1024),
      source: m.service ?? "pagewise",
      severity: pagerDutySeverity(m.severity),
      component: m.service ?? undefined,
      group: m.team ?? undefined,
      class: m.rule ?? undefined,
      custom_details: {
        summary: m.summary,
        score: m.score,
        band: m.band,
        rule: m.rule,
        rationale: m.rationale,
        reasons: m.reasons,
        status: m.status,
        note: m.note,
        incident_id: m.incidentId,
        ack_url: m.ackUrl,
        resolve_url: m.resolveUrl,
        idempotency_key: m.idempotencyKey,
      },
    },
    client: "Pagewise",
    links: m.links.map((l) => ({ href: l.href, text: l.text })),
  };
}

export class PagerDutyChannel implements Channel {
  readonly kind = "pagerduty";
  readonly name: string;

  constructor(private readonly config: PagerDutyConfig) {
    this.name = config.name;
  }

  send(message: Message, timeoutMs: number): Promise<DeliveryResult> {
    // PD dedups by dedup_key; the per-notification key rides along as a header for proxies.
    return guard(() =>
      postJson(this.config.url, pagerDutyEvent(message, this.config.routingKey), {}, timeoutMs, {
        "Idempotency-Key": message.idempotencyKey,
      }),
    );
  }
}
