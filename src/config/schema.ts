import { type Static, Type as T } from "@sinclair/typebox";

/** The config file's shape, as written (snake_case). Unknown keys are refused everywhere. */

const Name = T.String({ minLength: 1, maxLength: 128, pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]*$" });
const Duration = T.String({ minLength: 1, maxLength: 32 });
const SeverityName = T.Union([
  T.Literal("critical"),
  T.Literal("error"),
  T.Literal("warning"),
  T.Literal("info"),
]);
const StringMap = T.Record(T.String(), T.String());
const strict = { additionalProperties: false } as const;

const SeverityTargets = T.Object(
  { ack_within: T.Optional(Duration), restore_within: T.Optional(Duration) },
  strict,
);

export const SourceKinds = ["prometheus", "alertmanager", "pagerduty", "generic"] as const;

const SourceSchema = T.Object(
  {
    name: Name,
    kind: T.Union(SourceKinds.map((k) => T.Literal(k))),
    key: T.String({ minLength: 8, maxLength: 256 }),
    description: T.Optional(T.String()),
    /** Typical reliability: the prior for the genuine rate (high | medium | low, or a number in (0, 1)). */
    reliability: T.Optional(T.Union([T.String(), T.Number()])),
    /** The team that owns this monitoring stream. */
    owner: T.Optional(Name),
    labels: T.Optional(StringMap),
    group_by: T.Optional(T.Array(T.String({ minLength: 1 }), { maxItems: 32 })),
    service_label: T.Optional(T.Union([T.String({ minLength: 1 }), T.Array(T.String({ minLength: 1 }))])),
    default_service: T.Optional(Name),
    default_severity: T.Optional(SeverityName),
    severity_map: T.Optional(T.Record(T.String(), SeverityName)),
    /** Resolve an incident that had no trigger for this long; "never" turns it off. */
    auto_resolve_after: T.Optional(Duration),
    /** Annotation(s) holding this source's own confidence or anomaly score (e.g. z). */
    upstream_annotation: T.Optional(
      T.Union([T.String({ minLength: 1 }), T.Array(T.String({ minLength: 1 }))]),
    ),
    /** Alertmanager API v2: expiry of an alert sent without endsAt (Alertmanager's resolve_timeout). */
    resolve_timeout: T.Optional(Duration),
  },
  strict,
);

const TeamSchema = T.Object(
  {
    name: Name,
    description: T.Optional(T.String()),
    timezone: T.Optional(T.String({ minLength: 1 })),
    /** Where this team's pages escalate, and its chat channel (triage, notify, mentions). */
    chain: T.Optional(Name),
    channel: T.Optional(Name),
  },
  strict,
);

const ServiceSchema = T.Object(
  {
    name: Name,
    team: T.Optional(Name),
    tier: T.Integer({ minimum: 0, maximum: 3 }),
    regulated: T.Optional(T.Boolean()),
    timezone: T.Optional(T.String({ minLength: 1 })),
    description: T.Optional(T.String()),
    labels: T.Optional(StringMap),
  },
  strict,
);

const ApiTokenSchema = T.Object(
  {
    name: Name,
    token: T.String({ minLength: 8, maxLength: 256 }),
    role: T.Union([T.Literal("admin"), T.Literal("responder"), T.Literal("viewer")]),
  },
  strict,
);

const ServerSchema = T.Object(
  {
    public_url: T.Optional(T.String({ minLength: 1 })),
    retention: T.Optional(Duration),
    body_limit_bytes: T.Optional(T.Integer({ minimum: 1024, maximum: 64 * 1024 * 1024 })),
    /** HMAC secret of the signed ack/resolve links (default: generated once, kept in the database). */
    link_secret: T.Optional(T.String({ minLength: 16 })),
    /** How long a signed link works. */
    link_ttl: T.Optional(Duration),
    /** The email channel that carries mail to people's own addresses. */
    mail_channel: T.Optional(Name),
    /** Delivery attempts before a notification is dead-lettered. */
    delivery_max_attempts: T.Optional(T.Integer({ minimum: 1, maximum: 50 })),
    /** Serve POST /-/sink/:name, a local webhook receiver for demos (never in production). */
    demo_sink: T.Optional(T.Boolean()),
  },
  strict,
);

const ScoringSchema = T.Object(
  {
    /** Annotations read as an upstream score when a source names none (first present wins). */
    upstream_annotations: T.Optional(T.Array(T.String({ minLength: 1 }))),
  },
  strict,
);

export const ConfigSchema = T.Object(
  {
    server: T.Optional(ServerSchema),
    scoring: T.Optional(ScoringSchema),
    /** The routing policy (checked key by key in policy.ts), or a file that holds it. */
    policy: T.Optional(T.Unknown()),
    policy_file: T.Optional(T.String({ minLength: 1 })),
    /** People, on-call schedules, escalation chains and channels (checked key by key). */
    users: T.Optional(T.Unknown()),
    schedules: T.Optional(T.Unknown()),
    chains: T.Optional(T.Unknown()),
    channels: T.Optional(T.Unknown()),
    /** Runbooks, the hosts they may reach, and heartbeats (checked key by key). */
    automation: T.Optional(T.Unknown()),
    playbooks: T.Optional(T.Unknown()),
    heartbeats: T.Optional(T.Unknown()),
    severities: T.Optional(
      T.Object(
        {
          critical: T.Optional(SeverityTargets),
          error: T.Optional(SeverityTargets),
          warning: T.Optional(SeverityTargets),
          info: T.Optional(SeverityTargets),
        },
        strict,
      ),
    ),
    teams: T.Optional(T.Array(TeamSchema)),
    services: T.Optional(T.Array(ServiceSchema)),
    sources: T.Array(SourceSchema, { minItems: 1 }),
    api_tokens: T.Optional(T.Array(ApiTokenSchema)),
  },
  strict,
);

export type ConfigFile = Static<typeof ConfigSchema>;
export type SourceFile = Static<typeof SourceSchema>;
