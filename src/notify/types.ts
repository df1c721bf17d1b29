/**
 * Channels: one small interface, one file per channel. A channel turns a Message into its wire
 * format, sends it, and says what happened; one place (http.ts) decides that 2xx is delivered,
 * 429 and 5xx are retried (honouring Retry-After) and any other 4xx fails for good.
 */

export type ChannelKind = "webhook" | "slack" | "teams" | "email" | "pagerduty" | "ticket";

/** What every notification says (the issue lists it): enough to act on from a phone. */
export interface Message {
  /** page | triage | notify | update (state change) | approval (runbook gate) | test */
  kind: "page" | "triage" | "notify" | "update" | "approval" | "test";
  incidentId: number;
  /** Stable per notification: channels that accept one get it (PagerDuty dedup_key, Idempotency-Key). */
  idempotencyKey: string;
  title: string;
  summary: string;
  status: string;
  service: string | null;
  team: string | null;
  severity: string;
  score: number | null;
  band: string | null;
  rule: string | null;
  rationale: string | null;
  /** The largest contributions in words, e.g. "+0.84 corroborated by 2 other sources". */
  reasons: string[];
  /** The alert's own links, the decision, the runbook. */
  links: { href: string; text: string }[];
  /** Signed one-time links; null when no public URL is configured. */
  ackUrl: string | null;
  resolveUrl: string | null;
  /** Who it is for, when it is for a person (a page to the on-call). */
  recipient: Recipient | null;
  /** Extra lines for updates ("acknowledged by alice"). */
  note: string | null;
}

export interface Recipient {
  user: string;
  email: string | null;
  slack: string | null;
  phone: string | null;
  webhook: string | null;
}

export type DeliveryResult =
  | { kind: "delivered"; detail: string | null }
  | { kind: "retry"; reason: string; afterMs: number | null }
  | { kind: "failed"; reason: string };

/** Channel settings from the config, by kind (validated in src/config before they get here). */
export type ChannelConfig =
  | { kind: "webhook"; name: string; url: string; headers: Record<string, string> }
  | { kind: "slack"; name: string; url: string }
  | { kind: "teams"; name: string; url: string }
  | {
      kind: "email";
      name: string;
      host: string;
      port: number;
      secure: boolean;
      user: string | null;
      pass: string | null;
      from: string;
      to: string[];
    }
  | { kind: "pagerduty"; name: string; url: string; routingKey: string }
  | {
      kind: "ticket";
      name: string;
      url: string;
      method: "POST" | "PUT" | "PATCH";
      headers: Record<string, string>;
      /** A JSON template; {{field}} is replaced with the message's field (JSON-escaped). */
      body: string;
      /** Acknowledged / resolved updates (e.g. a comment on PW-{{incident_id}}); none: updates are not sent. */
      update?: { url: string; method: "POST" | "PUT" | "PATCH"; body: string } | null;
    };

export interface Channel {
  readonly name: string;
  readonly kind: ChannelKind;
  /** Never throws: every outcome is a DeliveryResult. Must finish within `timeoutMs`. */
  send(message: Message, timeoutMs: number): Promise<DeliveryResult>;
  close?(): Promise<void>;
}
