import { guard, postJson } from "./http.js";
import { renderText } from "./render.js";
import type { Channel, ChannelConfig, DeliveryResult, Message } from "./types.js";

type WebhookConfig = Extract<ChannelConfig, { kind: "webhook" }>;

/**
 * The documented webhook body (version 1). Keys are snake_case; every Message fact is here, plus
 * `text`, the same plain-text rendering the email carries. The recipient's own webhook URL is
 * left out: it may hold a secret.
 */
export function webhookBody(m: Message): Record<string, unknown> {
  return {
    version: 1,
    kind: m.kind,
    idempotency_key: m.idempotencyKey,
    incident_id: m.incidentId,
    title: m.title,
    summary: m.summary,
    status: m.status,
    service: m.service,
    team: m.team,
    severity: m.severity,
    score: m.score,
    band: m.band,
    rule: m.rule,
    rationale: m.rationale,
    reasons: m.reasons,
    links: m.links.map((l) => ({ href: l.href, text: l.text })),
    ack_url: m.ackUrl,
    resolve_url: m.resolveUrl,
    recipient:
      m.recipient === null
        ? null
        : {
            user: m.recipient.user,
            email: m.recipient.email,
            slack: m.recipient.slack,
            phone: m.recipient.phone,
          },
    note: m.note,
    text: renderText(m),
  };
}

export class WebhookChannel implements Channel {
  readonly kind = "webhook";
  readonly name: string;

  constructor(private readonly config: WebhookConfig) {
    this.name = config.name;
  }

  send(message: Message, timeoutMs: number): Promise<DeliveryResult> {
    // The key overrides any configured header of that name: it must be this notification's.
    return guard(() =>
      postJson(this.config.url, webhookBody(message), this.config.headers, timeoutMs, {
        "Idempotency-Key": message.idempotencyKey,
      }),
    );
  }
}
