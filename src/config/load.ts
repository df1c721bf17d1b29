import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { isMap, isSeq, LineCounter, parseDocument } from "yaml";
import { parseDuration } from "../core/duration.js";
import { PagewiseError, type Problem } from "../core/errors.js";
import type { Severity } from "../core/types.js";
import { ajvProblems, compile } from "../validation/ajv.js";
import { compileAllowlist, compileHeartbeats, compilePlaybooks } from "./automation.js";
import { compileChains, compileChannels } from "./escalation.js";
import { compileOnCall } from "./oncall.js";
import { compilePolicy, DEFAULT_POLICY_SOURCE } from "./policy.js";
import { type ConfigFile, ConfigSchema, type SourceFile } from "./schema.js";
import {
  type ApiToken,
  type Config,
  PAGEWISE_SOURCE,
  type Service,
  type Source,
  type SourceKind,
  type Team,
} from "./types.js";

const validateFile = compile<ConfigFile>(ConfigSchema);

/** Documented defaults (README "Configuration"). */
export const DEFAULT_RETENTION = "90d";
export const DEFAULT_BODY_LIMIT = 1024 * 1024;
export const RELIABILITY_PRIOR = { high: 0.6, medium: 0.3, low: 0.1 } as const;
/** How long an incident may go without a trigger before it resolves itself, per source kind. */
export const AUTO_RESOLVE_DEFAULT: Record<SourceKind, string | null> = {
  prometheus: null, // endsAt expiry resolves Prometheus alerts
  alertmanager: "12h", // three times Alertmanager's default repeat_interval (4h)
  pagerduty: "24h", // PagerDuty clients usually resolve; this catches the ones that never do
  generic: "1h",
};
const SEVERITY_DEFAULTS: Record<Severity, { ack_within: string; restore_within: string }> = {
  critical: { ack_within: "5m", restore_within: "1h" },
  error: { ack_within: "15m", restore_within: "4h" },
  warning: { ack_within: "1h", restore_within: "1d" },
  info: { ack_within: "1d", restore_within: "7d" },
};

export function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new PagewiseError("PW_CONFIG_INVALID", `cannot read config file ${path}`, [
      { path: "", reason: (err as Error).message },
    ]);
  }
  return parseConfig(text, env, dirname(path));
}

/** Parses, substitutes ${VAR}, validates and cross-checks; throws with every problem found. */
export function parseConfig(
  text: string,
  env: NodeJS.ProcessEnv = process.env,
  baseDir = process.cwd(),
): Config {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw invalid(
      doc.errors.map((e) => ({
        path: "",
        reason: e.message.split("\n")[0] ?? e.message,
        line: lines.linePos(e.pos[0]).line,
      })),
    );
  }
  const problems: Problem[] = [];
  const data = substitute(doc.toJS(), "", env, problems);
  const shapeOk = validateFile(data);
  if (!shapeOk) problems.push(...ajvProblems(validateFile.errors));
  const policyFile = readPolicyFile(data, baseDir, env, problems);
  const hash = createHash("sha256").update(text).digest("hex");
  if (shapeOk) {
    const config = build(data as ConfigFile, problems, hash, policyFile?.data);
    if (problems.length === 0) return config;
  } else {
    // Cross-references are checked too, so one run lists every problem; a shape too broken to
    // walk is left to the schema's messages.
    try {
      build(data as ConfigFile, problems, hash, policyFile?.data);
    } catch {}
  }
  throw invalid(
    problems.map((p) => {
      if (p.line !== undefined) return p;
      // Problems in an included policy file point into that file.
      if (policyFile !== undefined && p.path.startsWith("policy")) {
        const line = lineOf(policyFile.doc, policyFile.lines, p.path.replace(/^policy\.?/, ""));
        return {
          ...p,
          reason: `${p.reason} (in ${policyFile.path})`,
          ...(line === undefined ? {} : { line }),
        };
      }
      return { ...p, line: lineOf(doc, lines, p.path) };
    }),
  );
}

interface PolicyFile {
  path: string;
  data: unknown;
  doc: ReturnType<typeof parseDocument>;
  lines: LineCounter;
}

/** `policy_file:` puts the policy in its own YAML file, relative to the config file. */
function readPolicyFile(
  data: unknown,
  baseDir: string,
  env: NodeJS.ProcessEnv,
  problems: Problem[],
): PolicyFile | undefined {
  const d = data as { policy?: unknown; policy_file?: unknown } | null;
  if (d === null || typeof d !== "object" || typeof d.policy_file !== "string") return undefined;
  if (d.policy !== undefined) {
    problems.push({ path: "policy_file", reason: "give the policy inline or in policy_file, not both" });
    return undefined;
  }
  const path = resolve(baseDir, d.policy_file);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    problems.push({ path: "policy_file", reason: `cannot read ${path}: ${(err as Error).message}` });
    return undefined;
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  for (const e of doc.errors) {
    problems.push({
      path: "policy_file",
      reason: `${path}: ${e.message.split("\n")[0]} (line ${lines.linePos(e.pos[0]).line})`,
    });
  }
  if (doc.errors.length > 0) return undefined;
  return { path, data: substitute(doc.toJS(), "policy", env, problems), doc, lines };
}

function invalid(problems: Problem[]): PagewiseError {
  return new PagewiseError(
    "PW_CONFIG_INVALID",
    `the configuration has ${problems.length} problem(s)`,
    problems,
  );
}

/** ${VAR} in any string value is replaced from the environment; a missing variable is an error. */
function substitute(value: unknown, path: string, env: NodeJS.ProcessEnv, problems: Problem[]): unknown {
  if (typeof value === "string") {
    return value.replace(/\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (match, name: string | undefined) => {
      if (name === undefined) return "${"; // "$${" escapes a literal "${"
      const v = env[name];
      if (v === undefined) {
        problems.push({ path, reason: `environment variable ${name} is not set` });
        return match;
      }
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, `${path}[${i}]`, env, problems));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = substitute(v, path === "" ? k : `${path}.${k}`, env, problems);
    }
    return out;
  }
  return value;
}

function build(file: ConfigFile, problems: Problem[], hash: string, policyFromFile?: unknown): Config {
  const dur = (text: string | undefined, path: string, fallback: string | null): number | null => {
    const t = text ?? fallback;
    if (t === null || t === "never") return null;
    const ms = parseDuration(t);
    if (ms === null) problems.push({ path, reason: `"${t}" is not a duration (e.g. 30s, 5m, 1h30m, 90d)` });
    return ms;
  };

  const teams = new Map<string, Team>();
  (file.teams ?? []).forEach((t, i) => {
    if (teams.has(t.name)) problems.push({ path: `teams[${i}].name`, reason: `duplicate team "${t.name}"` });
    checkZone(t.timezone, `teams[${i}].timezone`, problems);
    teams.set(t.name, {
      name: t.name,
      description: t.description ?? null,
      timezone: t.timezone ?? "UTC",
      chain: t.chain ?? null,
      channel: t.channel ?? null,
    });
  });

  const services = new Map<string, Service>();
  (file.services ?? []).forEach((s, i) => {
    if (services.has(s.name))
      problems.push({ path: `services[${i}].name`, reason: `duplicate service "${s.name}"` });
    if (s.team !== undefined && !teams.has(s.team)) {
      problems.push({ path: `services[${i}].team`, reason: `unknown team "${s.team}"` });
    }
    checkZone(s.timezone, `services[${i}].timezone`, problems);
    const team = s.team === undefined ? undefined : teams.get(s.team);
    services.set(s.name, {
      name: s.name,
      team: s.team ?? null,
      tier: s.tier,
      regulated: s.regulated ?? false,
      timezone: s.timezone ?? team?.timezone ?? "UTC",
      description: s.description ?? null,
      labels: s.labels ?? {},
    });
  });

  const sources = new Map<string, Source>();
  const sourcesByKey = new Map<string, Source>();
  file.sources.forEach((s, i) => {
    const at = `sources[${i}]`;
    if (sources.has(s.name)) problems.push({ path: `${at}.name`, reason: `duplicate source "${s.name}"` });
    if (sourcesByKey.has(s.key)) {
      problems.push({ path: `${at}.key`, reason: `same key as source "${sourcesByKey.get(s.key)?.name}"` });
    }
    if (s.kind === "pagerduty" && !/^[A-Za-z0-9]{32}$/.test(s.key)) {
      problems.push({
        path: `${at}.key`,
        reason:
          "a pagerduty source's key is a 32-character routing key (letters and digits), as clients check",
      });
    }
    if (s.owner !== undefined && !teams.has(s.owner)) {
      problems.push({ path: `${at}.owner`, reason: `unknown team "${s.owner}"` });
    }
    if (s.default_service !== undefined && !services.has(s.default_service)) {
      problems.push({ path: `${at}.default_service`, reason: `unknown service "${s.default_service}"` });
    }
    const source: Source = {
      name: s.name,
      kind: s.kind,
      key: s.key,
      reliability: reliability(s, `${at}.reliability`, problems),
      owner: s.owner ?? null,
      labels: s.labels ?? {},
      groupBy: s.group_by ?? null,
      serviceLabels:
        s.service_label === undefined
          ? ["service", "job"]
          : typeof s.service_label === "string"
            ? [s.service_label]
            : s.service_label,
      defaultService: s.default_service ?? null,
      defaultSeverity: s.default_severity ?? "warning",
      severityMap: s.severity_map ?? {},
      autoResolveAfter: dur(s.auto_resolve_after, `${at}.auto_resolve_after`, AUTO_RESOLVE_DEFAULT[s.kind]),
      resolveTimeout: dur(s.resolve_timeout, `${at}.resolve_timeout`, "5m") ?? 5 * 60_000,
      upstreamAnnotations:
        s.upstream_annotation === undefined
          ? (file.scoring?.upstream_annotations ?? [])
          : typeof s.upstream_annotation === "string"
            ? [s.upstream_annotation]
            : s.upstream_annotation,
    };
    sources.set(s.name, source);
    sourcesByKey.set(s.key, source);
  });

  const tokens = new Map<string, ApiToken>();
  const tokenNames = new Set<string>();
  (file.api_tokens ?? []).forEach((t, i) => {
    if (tokenNames.has(t.name))
      problems.push({ path: `api_tokens[${i}].name`, reason: `duplicate token "${t.name}"` });
    if (tokens.has(t.token) || sourcesByKey.has(t.token)) {
      problems.push({
        path: `api_tokens[${i}].token`,
        reason: "must differ from every other token and source key",
      });
    }
    tokenNames.add(t.name);
    tokens.set(t.token, { name: t.name, token: t.token, role: t.role });
  });

  const severities = {} as Config["severities"];
  for (const sev of Object.keys(SEVERITY_DEFAULTS) as Severity[]) {
    const given = file.severities?.[sev];
    const def = SEVERITY_DEFAULTS[sev];
    severities[sev] = {
      ackWithin: dur(given?.ack_within, `severities.${sev}.ack_within`, def.ack_within),
      restoreWithin: dur(given?.restore_within, `severities.${sev}.restore_within`, def.restore_within),
    };
  }

  const { users, schedules } = compileOnCall({ users: file.users, schedules: file.schedules }, problems, {
    teams: new Set(teams.keys()),
  });
  const channelNames = new Set<string>();
  const channels = compileChannels(file.channels, problems, channelNames);
  const chains = compileChains(file.chains, problems, {
    users: new Set(users.keys()),
    schedules: new Set(schedules.keys()),
    channels: channelNames,
  });
  (file.teams ?? []).forEach((t, i) => {
    if (t.chain !== undefined && !chains.has(t.chain))
      problems.push({ path: `teams[${i}].chain`, reason: `unknown chain "${t.chain}"` });
    if (t.channel !== undefined && !channelNames.has(t.channel)) {
      problems.push({ path: `teams[${i}].channel`, reason: `unknown channel "${t.channel}"` });
    }
  });
  const mailChannel = file.server?.mail_channel ?? null;
  if (mailChannel !== null && channels.get(mailChannel)?.kind !== "email") {
    problems.push({ path: "server.mail_channel", reason: `"${mailChannel}" is not an email channel` });
  }

  const allowlist = compileAllowlist(file.automation, problems);
  const playbooks = compilePlaybooks(file.playbooks, problems, allowlist);
  const heartbeats = compileHeartbeats(file.heartbeats, problems, {
    sources: new Set(sources.keys()),
    services: new Set(services.keys()),
  });
  // Missed heartbeats are facts, not guesses: their source is trusted unless declared otherwise.
  if (heartbeats.size > 0 && !sources.has(PAGEWISE_SOURCE)) sources.set(PAGEWISE_SOURCE, pagewiseSource());

  const policyRaw = policyFromFile ?? file.policy ?? DEFAULT_POLICY_SOURCE;
  const policy = compilePolicy(policyRaw, problems, {
    teams: new Set(teams.keys()),
    services: new Set(services.keys()),
    sources: new Set(sources.keys()),
    chains: new Set(chains.keys()),
    channels: channelNames,
    playbooks: new Set(playbooks.keys()),
  });

  return {
    playbooks,
    heartbeats,
    allowlist,
    publicUrl: file.server?.public_url ?? null,
    policy,
    policyText: JSON.stringify(policyRaw),
    users,
    schedules,
    chains,
    channels,
    linkSecret: file.server?.link_secret ?? null,
    linkTtlMs: dur(file.server?.link_ttl, "server.link_ttl", "24h") ?? 86_400_000,
    mailChannel,
    deliveryMaxAttempts: file.server?.delivery_max_attempts ?? 12,
    demoSink: file.server?.demo_sink ?? false,
    upstreamAnnotations: file.scoring?.upstream_annotations ?? [],
    retention: dur(file.server?.retention, "server.retention", DEFAULT_RETENTION) ?? 90 * 86_400_000,
    bodyLimitBytes: file.server?.body_limit_bytes ?? DEFAULT_BODY_LIMIT,
    severities,
    teams,
    services,
    sources,
    sourcesByKey,
    tokens,
    hash,
  };
}

/** The implicit source of missed-heartbeat incidents: no key (nobody sends as it), never auto-resolved. */
function pagewiseSource(): Source {
  return {
    name: PAGEWISE_SOURCE,
    kind: "generic",
    key: "",
    reliability: RELIABILITY_PRIOR.high,
    owner: null,
    labels: {},
    groupBy: null,
    serviceLabels: ["service"],
    defaultService: null,
    defaultSeverity: "critical",
    severityMap: {},
    autoResolveAfter: null,
    resolveTimeout: 5 * 60_000,
    upstreamAnnotations: [],
  };
}

function reliability(s: SourceFile, path: string, problems: Problem[]): number {
  const r = s.reliability ?? "medium";
  if (typeof r === "number") {
    if (r > 0 && r < 1) return r;
    problems.push({ path, reason: "must be high, medium, low, or a number between 0 and 1 (exclusive)" });
    return RELIABILITY_PRIOR.medium;
  }
  if (r in RELIABILITY_PRIOR) return RELIABILITY_PRIOR[r as keyof typeof RELIABILITY_PRIOR];
  problems.push({ path, reason: `must be high, medium, low, or a number between 0 and 1; got "${r}"` });
  return RELIABILITY_PRIOR.medium;
}

function checkZone(zone: string | undefined, path: string, problems: Problem[]): void {
  if (zone === undefined) return;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
  } catch {
    problems.push({ path, reason: `unknown time zone "${zone}" (use an IANA name such as Europe/Berlin)` });
  }
}

/** The 1-based line of the deepest YAML node that exists on the path. */
function lineOf(doc: ReturnType<typeof parseDocument>, lines: LineCounter, path: string): number | undefined {
  const keys: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]/g)) {
    if (m[2] !== undefined) keys.push(Number(m[2]));
    else if (m[3] !== undefined) keys.push(JSON.parse(`"${m[3]}"`) as string);
    else if (m[1] !== undefined) keys.push(m[1]);
  }
  let node: unknown = doc.contents;
  let offset: number | undefined = (node as { range?: [number] } | null)?.range?.[0];
  for (const key of keys) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
      if (pair === undefined) break;
      offset = (pair.key as { range?: [number] }).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof key === "number") {
      const item = node.items[key];
      if (item === undefined) break;
      node = item;
      offset = (item as { range?: [number] }).range?.[0] ?? offset;
    } else break;
  }
  return offset === undefined ? undefined : lines.linePos(offset).line;
}
