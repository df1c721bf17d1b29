import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERROR_CODES, type ErrorCode } from "../../src/core/errors.js";
import { STATUS } from "../../src/http/errors.js";
import { EXAMPLE_CONFIG_TEXT, KEYS, T0, type TestService, testService } from "../helpers.js";

/**
 * Fuzzing every ingest path in-process (app.inject on a real SQLite file): random JSON,
 * near-valid bodies with one field made wrong, wrong content types, truncated bodies and
 * invalid UTF-8. Every answer must be a 2xx, or a 4xx in JSON that names the problem (a catalog
 * code and a message; PagerDuty's own shape on its endpoints); never a 5xx. A rejected request
 * must leave the database exactly as it was.
 *
 * PAGEWISE_FUZZ_RUNS (default 10000) and PAGEWISE_FUZZ_SEED replay or widen a run;
 * bench/fuzz/run.mjs runs this file with 100,000+ cases.
 */

const RUNS = Number(process.env.PAGEWISE_FUZZ_RUNS ?? 10_000);
const SEED =
  process.env.PAGEWISE_FUZZ_SEED === undefined
    ? Date.now() % 2 ** 31
    : Number(process.env.PAGEWISE_FUZZ_SEED);
if (!Number.isSafeInteger(RUNS) || RUNS < 1) throw new Error(`PAGEWISE_FUZZ_RUNS must be a positive integer`);
if (!Number.isSafeInteger(SEED)) throw new Error(`PAGEWISE_FUZZ_SEED must be an integer`);

/** The example config plus a heartbeat that checks in over HTTP (the example has none). */
const CONFIG = `${EXAMPLE_CONFIG_TEXT}
heartbeats:
  - { name: nightly-backup, every: 1d, grace: 2h, service: checkout }
`;

const NOW = new Date(T0).toISOString();
const LATER = new Date(T0 + 5 * 60_000).toISOString();
const GENERAL_LIMIT = 1024 * 1024;
/** "MARK" sits inside a string of every valid body: the invalid-UTF-8 cases replace its bytes. */
const MARK = "MARK";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

interface Endpoint {
  name: string;
  /** The URL; heartbeats fuzz their name too. */
  url: string;
  /** How the sender authenticates: a header key, or PagerDuty's routing_key in the body. */
  auth: "header" | "routing_key";
  key: string;
  /** PagerDuty's endpoints answer in PagerDuty's shape, not ours. */
  pagerduty: boolean;
  limit: number;
  valid: (n: number) => Json;
}

const ENDPOINTS: Endpoint[] = [
  {
    name: "alertmanager-v2",
    url: "/api/v2/alerts",
    auth: "header",
    key: KEYS.prometheus,
    pagerduty: false,
    limit: GENERAL_LIMIT,
    valid: (n) => [
      {
        labels: { alertname: `FuzzV2_${n}`, service: "checkout", severity: "page", instance: "db-1:9100" },
        annotations: { summary: `v2 ${MARK}`, description: "disk filling", runbook_url: "http://rb" },
        startsAt: NOW,
        endsAt: LATER,
        generatorURL: "http://prometheus/graph?g0.expr=up",
      },
    ],
  },
  {
    name: "alertmanager-webhook",
    url: "/ingest/alertmanager",
    auth: "header",
    key: KEYS.alertmanager,
    pagerduty: false,
    limit: GENERAL_LIMIT,
    valid: (n) => ({
      version: "4",
      groupKey: `{}:{alertname="FuzzAm_${n}"}`,
      truncatedAlerts: 0,
      status: "firing",
      receiver: "pagewise",
      groupLabels: { alertname: `FuzzAm_${n}` },
      commonLabels: { alertname: `FuzzAm_${n}`, service: "search" },
      commonAnnotations: { summary: `am ${MARK}` },
      externalURL: "http://alertmanager:9093",
      alerts: [
        {
          status: "firing",
          labels: { alertname: `FuzzAm_${n}`, service: "search", severity: "warning" },
          annotations: { summary: `am ${MARK}` },
          startsAt: NOW,
          endsAt: "0001-01-01T00:00:00Z",
          generatorURL: "http://prometheus/graph",
          fingerprint: `f0a1b2c3d4e5f6${n}`,
        },
      ],
    }),
  },
  {
    name: "pagerduty-enqueue",
    url: "/v2/enqueue",
    auth: "routing_key",
    key: KEYS.pagerduty,
    pagerduty: true,
    limit: 512 * 1024,
    valid: (n) => ({
      routing_key: KEYS.pagerduty,
      event_action: "trigger",
      dedup_key: `fuzz-pd-${n}`,
      payload: {
        summary: `pd ${MARK}`,
        source: "db-1.example.com",
        severity: "critical",
        timestamp: NOW,
        component: "postgres",
        group: "prod",
        class: "disk",
        custom_details: { free: "1%", nested: { a: [1, 2] } },
      },
      links: [{ href: "http://grafana/d/1", text: "Dashboard" }],
      client: "fuzz",
      client_url: "http://fuzz",
    }),
  },
  {
    name: "pagerduty-change",
    url: "/v2/change/enqueue",
    auth: "routing_key",
    key: KEYS.pagerduty,
    pagerduty: true,
    limit: 512 * 1024,
    valid: (n) => ({
      routing_key: KEYS.pagerduty,
      payload: {
        summary: `deploy ${n} ${MARK}`,
        source: "ci",
        timestamp: NOW,
        custom_details: { service: "checkout", version: `v${n}` },
      },
      links: [{ href: "http://ci/builds/1", text: "Build" }],
    }),
  },
  {
    name: "generic",
    url: "/ingest/events",
    auth: "header",
    key: KEYS.generic,
    pagerduty: false,
    limit: GENERAL_LIMIT,
    valid: (n) => ({
      at: NOW,
      action: "trigger",
      dedup_key: `fuzz-gen-${n}`,
      summary: `generic ${MARK}`,
      severity: "error",
      service: "checkout",
      labels: { alertname: "FuzzGeneric", host: "web-1" },
      annotations: { z: "6.2" },
      links: [{ href: "http://logs", text: "Logs" }],
      upstream_score: 0.4,
    }),
  },
  {
    name: "heartbeat",
    url: "/api/v1/heartbeats/nightly-backup",
    auth: "header",
    key: KEYS.generic,
    pagerduty: false,
    limit: GENERAL_LIMIT,
    valid: () => ({ status: "ok", note: `backup done ${MARK}` }),
  },
];

// ---------------------------------------------------------------------------------------------
// Generators

/** Strings that break naive code: NUL, lone and reversed surrogates, BOM, controls, RTL. */
const ODD_STRINGS = [
  "\u0000",
  `a\u0000b`,
  "\ud800",
  "\udfff",
  "x\ud83d",
  "\udc00\ud800",
  "\ufeff",
  "\uffff\ufffe",
  "\u202eevil",
  "e\u0301\u0301\u0301",
  "\u2028\u2029",
  "🔥💥",
  "\u200d\u200b",
  "\u0001\u001f\u007f",
  "Ω≈ç√∫",
  "",
  " ",
  "null",
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "${ENV}",
  "{{summary}}",
  "'; DROP TABLE alerts; --",
];
const oddString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...ODD_STRINGS),
  // Any UTF-16 code unit, lone surrogates included.
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.tuple(fc.constantFrom(...ODD_STRINGS), fc.string({ maxLength: 10 })).map(([a, b]) => a + b + a),
);

const wrongType: fc.Arbitrary<Json> = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.constant<Json>([]),
  fc.constant<Json>({}),
  fc.string({ maxLength: 20 }),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
  fc.constantFrom(0, -1, -0, 1.5, 1e308, -1e308, 2 ** 53 + 1, 5e-324),
);

/** Long strings; 1.1 million characters is over every endpoint's body limit. */
const hugeString: fc.Arbitrary<string> = fc
  .oneof(
    { weight: 8, arbitrary: fc.integer({ min: 256, max: 5_000 }) },
    { weight: 2, arbitrary: fc.integer({ min: 5_000, max: 120_000 }) },
    { weight: 1, arbitrary: fc.constant(1_100_000) },
  )
  .chain((n) =>
    fc.constantFrom("x", "é", "🔥", "\u0000", "\\").map((c) => c.repeat(Math.ceil(n / c.length))),
  );

const depth = fc.oneof(fc.integer({ min: 1, max: 70 }), fc.constantFrom(63, 64, 65, 200, 1000));
function nest(d: number, leaf: Json, asArray: boolean): Json {
  let v = leaf;
  for (let i = 0; i < d; i++) v = asArray ? [v] : { k: v };
  return v;
}

type Step = string | number;
/** The path to every node of a JSON value, the root included. */
function locations(v: Json, at: Step[] = [], out: Step[][] = []): Step[][] {
  out.push(at);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) locations(v[i] as Json, [...at, i], out);
  } else if (v !== null && typeof v === "object")
    for (const [k, x] of Object.entries(v)) locations(x, [...at, k], out);
  return out;
}

type Op =
  | { op: "delete" }
  | { op: "set"; what: string; value: Json }
  | { op: "rename"; to: string }
  | { op: "addKey"; key: string; value: Json };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ op: "delete" } as Op) },
  { weight: 4, arbitrary: wrongType.map((value): Op => ({ op: "set", what: "wrong type", value })) },
  {
    weight: 2,
    arbitrary: hugeString.map((value): Op => ({ op: "set", what: "huge string", value })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(depth, fc.boolean(), fc.oneof(fc.constant<Json>("x"), wrongType))
      .map(([d, asArray, leaf]): Op => ({ op: "set", what: "deep nesting", value: nest(d, leaf, asArray) })),
  },
  { weight: 4, arbitrary: oddString.map((value): Op => ({ op: "set", what: "odd unicode", value })) },
  {
    // Names that plain-object lookups find on Object.prototype.
    weight: 2,
    arbitrary: fc
      .constantFrom("__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "__defineGetter__")
      .map((value): Op => ({ op: "set", what: "prototype name", value })),
  },
  { weight: 1, arbitrary: oddString.map((to): Op => ({ op: "rename", to })) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.oneof(oddString, fc.constantFrom("__proto__", "constructor", "prototype")), wrongType)
      .map(([key, value]): Op => ({ op: "addKey", key, value })),
  },
);

/** Applies one operation at one location (a copy; the valid body is untouched). */
function mutate(body: Json, at: Step[], op: Op): Json {
  if (at.length === 0) {
    if (op.op === "set") return op.value;
    if (op.op === "delete") return null;
    if (op.op === "rename") return body;
  }
  const root = structuredClone(body);
  if (op.op === "addKey") {
    const target = get(root, at);
    if (target !== null && typeof target === "object" && !Array.isArray(target)) {
      Object.defineProperty(target, op.key, {
        value: op.value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      return root;
    }
  }
  const parent = get(root, at.slice(0, -1)) as Record<string, Json> | Json[];
  const last = at[at.length - 1] as Step;
  if (Array.isArray(parent)) {
    const i = last as number;
    if (op.op === "delete") parent.splice(i, 1);
    else if (op.op === "set") parent[i] = op.value;
    else if (op.op === "rename" || op.op === "addKey") parent.push(parent[i] ?? null);
    return root;
  }
  const key = last as string;
  if (op.op === "delete") delete parent[key];
  else if (op.op === "set") parent[key] = op.value;
  else if (op.op === "rename" || op.op === "addKey") {
    const value = parent[key] ?? null;
    delete parent[key];
    const name = op.op === "rename" ? op.to : op.key;
    Object.defineProperty(parent, name, { value, enumerable: true, writable: true, configurable: true });
  }
  return root;
}

/** Nesting depth as the body parser counts it (JSON Lines: per line). */
function maxDepth(payload: Buffer, contentType: string): number {
  const texts =
    contentType === "application/x-ndjson"
      ? payload.toString("utf8").split("\n")
      : [payload.toString("utf8")];
  return Math.max(...texts.map((t) => depthOf(JSON.parse(t) as Json)));
}

function depthOf(v: Json): number {
  if (v === null || typeof v !== "object") return 0;
  const children = Array.isArray(v) ? v : Object.values(v);
  let deepest = 0;
  for (const c of children) deepest = Math.max(deepest, depthOf(c));
  return 1 + deepest;
}

function get(v: Json, at: Step[]): Json {
  let cur: Json = v;
  for (const s of at) cur = (cur as Record<string, Json>)[s as string] ?? null;
  return cur;
}

/** One request and what it must get, beyond "2xx or a clean 4xx". */
interface Case {
  endpoint: Endpoint;
  kind: string;
  detail: string;
  url: string;
  headers: Record<string, string>;
  payload: Buffer;
  /** Exactly this status (e.g. 415 for a wrong content type). */
  expect?: number;
  /** The credentials were left out or wrong: a 2xx would be a hole. */
  unauthenticated: boolean;
}

function describeCase(c: Case): string {
  const text = c.payload.toString("utf8");
  const shown = text.length > 300 ? `${text.slice(0, 300)}… (${c.payload.length} bytes)` : text;
  return `${c.kind} ${c.detail} -> POST ${c.url} ${JSON.stringify(c.headers)} body=${JSON.stringify(shown)}`;
}

type Auth = "ok" | "basic" | "missing" | "wrong";
const authArb: fc.Arbitrary<Auth> = fc.oneof(
  { weight: 16, arbitrary: fc.constant<Auth>("ok") },
  { weight: 1, arbitrary: fc.constant<Auth>("basic") },
  { weight: 1, arbitrary: fc.constant<Auth>("missing") },
  { weight: 1, arbitrary: fc.constant<Auth>("wrong") },
);

function headersFor(ep: Endpoint, auth: Auth, contentType: string | null): Record<string, string> {
  const h: Record<string, string> = {};
  if (contentType !== null) h["content-type"] = contentType;
  if (ep.auth === "header") {
    if (auth === "ok") h.authorization = `Bearer ${ep.key}`;
    else if (auth === "basic")
      h.authorization = `Basic ${Buffer.from(`prometheus:${ep.key}`).toString("base64")}`;
    else if (auth === "wrong") h.authorization = "Bearer not-a-key";
  }
  return h;
}

/** PagerDuty authenticates in the body: a wrong or missing routing_key. */
function withRoutingKey(ep: Endpoint, body: Json, auth: Auth): Json {
  if (ep.auth !== "routing_key" || auth === "ok" || auth === "basic") return body;
  if (body === null || typeof body !== "object" || Array.isArray(body)) return body;
  const copy = { ...body };
  if (auth === "missing") delete copy.routing_key;
  else copy.routing_key = "wrongwrongwrongwrongwrongwrong00";
  return copy;
}

const variantArb = fc.integer({ min: 0, max: 40 });

/** The heartbeat's name is part of its path: fuzz it too (percent-encoded, some malformed). */
interface Target {
  url: string;
  /** The configured heartbeat. */
  known: boolean;
  /** Answered before the body is looked at: 400 (a URL the router cannot decode) or 404 (no route). */
  first?: 400 | 404;
}
const heartbeatPath: fc.Arbitrary<Target> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ url: "/api/v1/heartbeats/nightly-backup", known: true }) },
  {
    weight: 2,
    arbitrary: oddString
      .filter((s) => s !== "")
      .map((s): Target => {
        const t: Target = {
          url: `/api/v1/heartbeats/${[...Buffer.from(s, "utf8")].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("")}`,
          known: false,
        };
        // Fastify's router refuses parameters over 100 characters.
        if (s.length > 100) t.first = 400;
        return t;
      }),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom("%", "%zz", "%ED%A0%80", "%C0%80", "a".repeat(5000))
      .map((s): Target => ({ url: `/api/v1/heartbeats/${s}`, known: false, first: 400 })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom("", "%00", "..%2F..%2Fadmin", "nightly-backup%20", "NIGHTLY-BACKUP", "nightly-backup?x=1")
      .map((s): Target => ({ url: `/api/v1/heartbeats/${s}`, known: s === "nightly-backup?x=1" })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom("nightly-backup/", "nightly-backup/x")
      .map((s): Target => ({ url: `/api/v1/heartbeats/${s}`, known: false, first: 404 })),
  },
);

function encode(body: Json): Buffer {
  return Buffer.from(JSON.stringify(body), "utf8");
}

function caseArb(ep: Endpoint): fc.Arbitrary<Case> {
  const base = (n: number) => ep.valid(n);
  const common = fc.record({ auth: authArb, n: variantArb });

  // The valid body itself: must be accepted when the credentials are right.
  const control = common.map(({ auth, n }): Case => {
    const body = withRoutingKey(ep, base(n), auth);
    const unauthenticated = auth === "missing" || auth === "wrong";
    const c: Case = {
      endpoint: ep,
      kind: "control",
      detail: `auth=${auth}`,
      url: ep.url,
      headers: headersFor(ep, auth, "application/json"),
      payload: encode(body),
      unauthenticated,
    };
    if (!unauthenticated) c.expect = ep.pagerduty || ep.name === "heartbeat" ? 202 : 200;
    else if (ep.auth === "header") c.expect = 401;
    return c;
  });

  // Random JSON of any shape.
  const random = fc
    .tuple(common, fc.jsonValue({ maxDepth: 4 }), fc.boolean())
    .map(([{ auth }, value, lines]): Case => {
      const ndjson = lines && ep.name === "generic" && Array.isArray(value) && value.length > 0;
      const payload = ndjson
        ? Buffer.from((value as Json[]).map((v) => JSON.stringify(v)).join("\n"), "utf8")
        : encode(value as Json);
      return {
        endpoint: ep,
        kind: "random-json",
        detail: ndjson ? "as JSON Lines" : "",
        url: ep.url,
        headers: headersFor(ep, auth, ndjson ? "application/x-ndjson" : "application/json"),
        payload,
        unauthenticated: auth === "missing" || auth === "wrong",
      };
    });

  // A valid body with exactly one thing wrong.
  const nearValid = fc
    .tuple(common, fc.nat(), opArb, fc.constantFrom("single", "batch", "lines"))
    .map(([{ auth, n }, pick, op, shape]): Case => {
      const valid = withRoutingKey(ep, base(n), auth);
      const where = locations(valid);
      const loc = where[pick % where.length] as Step[];
      let body = mutate(valid, loc, op);
      let contentType = "application/json";
      let payload: Buffer | undefined;
      // The generic endpoint also takes arrays and JSON Lines: a bad item among good ones.
      if (ep.name === "generic" && shape !== "single") {
        const items: Json[] = [base(n + 1), body, base(n + 2)];
        if (shape === "lines") {
          contentType = "application/x-ndjson";
          payload = Buffer.from(items.map((i) => JSON.stringify(i)).join("\n"), "utf8");
        } else body = items;
      }
      payload ??= encode(body);
      const c: Case = {
        endpoint: ep,
        kind: "near-valid",
        detail: `${op.op}${op.op === "set" ? ` (${op.what})` : ""} at ${JSON.stringify(loc)} auth=${auth} shape=${shape}`,
        url: ep.url,
        headers: headersFor(ep, auth, contentType),
        payload,
        unauthenticated: auth === "missing" || auth === "wrong",
      };
      if (payload.length > ep.limit) c.expect = 413;
      else if (maxDepth(payload, contentType) > 64) c.expect = 400; // refused before parsing
      return c;
    });

  // A valid body under a content type nobody parses.
  const wrongContentType = fc
    .tuple(
      common,
      fc.constantFrom(
        null,
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/octet-stream",
        "text/json",
        "image/png",
      ),
    )
    .map(
      ([{ auth, n }, ct]): Case => ({
        endpoint: ep,
        kind: "wrong-content-type",
        detail: String(ct),
        url: ep.url,
        headers: headersFor(ep, auth, ct),
        payload: encode(withRoutingKey(ep, base(n), auth)),
        expect: 415,
        unauthenticated: auth === "missing" || auth === "wrong",
      }),
    );

  // JSON content types that are parsed as JSON (or JSON Lines) whatever the endpoint.
  const oddJsonType = fc
    .tuple(
      common,
      fc.constantFrom(
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/json; charset=latin1",
        "application/vnd.pagewise+json",
        "application/x-ndjson",
        "application/json-seq",
      ),
    )
    .map(
      ([{ auth, n }, ct]): Case => ({
        endpoint: ep,
        kind: "json-content-type",
        detail: ct,
        url: ep.url,
        headers: headersFor(ep, auth, ct),
        payload: encode(withRoutingKey(ep, base(n), auth)),
        unauthenticated: auth === "missing" || auth === "wrong",
      }),
    );

  // A valid body cut short (at a byte, so sometimes inside a multi-byte character).
  const truncated = fc.tuple(common, fc.nat(), fc.boolean()).map(([{ auth, n }, cut, unicode]): Case => {
    let valid = withRoutingKey(ep, base(n), auth);
    if (unicode) valid = JSON.parse(JSON.stringify(valid).replaceAll(MARK, "Ωé🔥")) as Json;
    const full = encode(valid);
    const len = cut % full.length;
    return {
      endpoint: ep,
      kind: "truncated",
      detail: `${len} of ${full.length} bytes`,
      url: ep.url,
      headers: headersFor(ep, auth, "application/json"),
      payload: full.subarray(0, len),
      expect: 400,
      unauthenticated: auth === "missing" || auth === "wrong",
    };
  });

  // Bytes that are not UTF-8 inside a string: CESU surrogates, overlong NUL, 0xFF, a cut sequence.
  const badUtf8 = fc
    .tuple(
      common,
      fc.constantFrom(
        [0xed, 0xa0, 0x80],
        [0xc0, 0x80],
        [0xff],
        [0xe2, 0x82],
        [0xf4, 0x90, 0x80, 0x80],
        [0x80],
      ),
    )
    .map(([{ auth, n }, bytes]): Case => {
      const full = encode(withRoutingKey(ep, base(n), auth));
      const i = full.indexOf(MARK);
      return {
        endpoint: ep,
        kind: "invalid-utf8",
        detail: bytes.map((b) => b.toString(16)).join(" "),
        url: ep.url,
        headers: headersFor(ep, auth, "application/json"),
        payload: Buffer.concat([full.subarray(0, i), Buffer.from(bytes), full.subarray(i + MARK.length)]),
        expect: 400,
        unauthenticated: auth === "missing" || auth === "wrong",
      };
    });

  return fc.oneof(
    { weight: 2, arbitrary: control },
    { weight: 4, arbitrary: random },
    { weight: 12, arbitrary: nearValid },
    { weight: 2, arbitrary: wrongContentType },
    { weight: 1, arbitrary: oddJsonType },
    { weight: 2, arbitrary: truncated },
    { weight: 1, arbitrary: badUtf8 },
  );
}

const cases: fc.Arbitrary<Case> = fc
  .constantFrom(...ENDPOINTS)
  .chain((ep) => fc.tuple(caseArb(ep), ep.name === "heartbeat" ? heartbeatPath : fc.constant(null)))
  .map(([c, target]) => {
    if (target === null) return c;
    // A heartbeat case under another name: the body's own expectation holds for a URL that
    // routes (an unknown name is a 404 only once the body parsed); a malformed URL is a 400 first.
    const out: Case = { ...c, url: target.url, detail: `${c.detail} name=${target.url.slice(19, 80)}` };
    if (target.first === 400) out.expect = 400;
    // No route: 404, though the not-found handler still parses the body (bad JSON is a 400 first).
    else if (target.first === 404) out.expect = c.expect === 400 || c.expect === 413 ? c.expect : 404;
    else if (!target.known && (c.expect === 200 || c.expect === 202 || c.expect === 401)) delete out.expect;
    return out;
  })
  // Short counterexamples: the case's description, not megabytes of body.
  .map((c) => Object.assign(c, { [fc.toStringMethod]: () => describeCase(c) }));

// ---------------------------------------------------------------------------------------------
// The property

let svc: TestService;
let counter: () => Record<string, number>;

/**
 * Row counts of every table in one statement, and the connection's count of changed rows
 * (total_changes: an UPDATE shows there even when no count moves).
 */
function state(): string {
  return JSON.stringify(counter());
}

const tally = new Map<string, number>();
function count(key: string): void {
  tally.set(key, (tally.get(key) ?? 0) + 1);
}

async function check(c: Case): Promise<void> {
  const before = state();
  const res = await svc.app.inject({ method: "POST", url: c.url, headers: c.headers, payload: c.payload });
  const what = `${describeCase(c)}\n=> ${res.statusCode} ${res.body.slice(0, 500)}`;
  count(`${c.endpoint.name} ${res.statusCode}`);
  count(`kind ${c.kind} ${res.statusCode < 300 ? "2xx" : "4xx"}`);
  expect(res.statusCode, what).toBeGreaterThanOrEqual(200);
  expect(res.statusCode, what).toBeLessThan(500);
  expect(res.statusCode >= 300 && res.statusCode < 400, what).toBe(false);
  expect(String(res.headers["content-type"]), what).toContain("application/json");
  const body = JSON.parse(res.body) as Record<string, unknown>;
  if (c.expect !== undefined) expect(res.statusCode, what).toBe(c.expect);
  if (res.statusCode < 300) {
    expect(c.unauthenticated, `accepted without valid credentials: ${what}`).toBe(false);
    expect(body.status, what).toBe(c.endpoint.name === "heartbeat" ? "ok" : "success");
    return;
  }
  if (c.endpoint.pagerduty) {
    // PagerDuty's documented error shape: {status, message, errors: [...]}.
    expect(body.status, what).toEqual(expect.any(String));
    expect(String(body.message).length, what).toBeGreaterThan(0);
    expect(Array.isArray(body.errors) && body.errors.length > 0, what).toBe(true);
    for (const e of body.errors as unknown[]) expect(typeof e === "string" && e.length > 0, what).toBe(true);
  } else {
    const error = body.error as { code?: string; message?: string; errors?: unknown[] } | undefined;
    expect(error, what).toBeDefined();
    const code = error?.code as ErrorCode;
    expect(Object.keys(ERROR_CODES), what).toContain(code);
    expect(STATUS[code], `${code} maps to another status: ${what}`).toBe(res.statusCode);
    expect(String(error?.message).length, what).toBeGreaterThan(0);
    if (code === "PW_INVALID_EVENT") {
      // Names each problem: where and why.
      expect(error?.errors?.length ?? 0, what).toBeGreaterThan(0);
      for (const e of error?.errors ?? []) {
        const p = e as { field?: unknown; reason?: unknown };
        expect(typeof p.field === "string" && typeof p.reason === "string" && p.reason.length > 0, what).toBe(
          true,
        );
      }
    }
  }
  // Rejected: nothing stored, nothing changed.
  expect(state(), `a rejected request changed the database: ${what}`).toBe(before);
}

beforeAll(async () => {
  svc = await testService(CONFIG);
  const tables = (
    svc.store.db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
      )
      .all() as { name: string }[]
  ).map((r) => r.name);
  expect(tables).toContain("alerts");
  const stmt = svc.store.db.prepare(
    `SELECT ${tables.map((t) => `(SELECT COUNT(*) FROM "${t}") AS "${t}"`).join(", ")}, total_changes() AS total_changes`,
  );
  counter = () => stmt.get() as Record<string, number>;
});
afterAll(async () => {
  await svc?.dispose();
});

describe("fuzzing every ingest path", () => {
  it("accepts every endpoint's valid body (the control for the mutations)", async () => {
    for (const ep of ENDPOINTS) {
      const res = await svc.app.inject({
        method: "POST",
        url: ep.url,
        headers: headersFor(ep, "ok", "application/json"),
        payload: encode(ep.valid(0)),
      });
      expect(res.statusCode, `${ep.url}: ${res.body}`).toBeLessThan(300);
    }
  });

  it("keeps the answers to what fuzzing found (each was a 500 or Fastify's own error shape)", async () => {
    const inject = (url: string, headers: Record<string, string>, body: unknown) =>
      svc.app.inject({ method: "POST", url, headers, payload: JSON.stringify(body) });
    const json = { "content-type": "application/json" };
    // A severity that names an Object.prototype member is not a key of the severity map.
    const v2 = await inject("/api/v2/alerts", { ...json, authorization: `Bearer ${KEYS.prometheus}` }, [
      { labels: { alertname: "ProtoSeverity", severity: "__proto__" } },
    ]);
    expect(v2.statusCode, v2.body).toBe(200); // a free-text label: the source's default severity
    const generic = await inject(
      "/ingest/events",
      { ...json, authorization: `Bearer ${KEYS.generic}` },
      {
        summary: "s",
        severity: "constructor",
      },
    );
    expect(generic.statusCode, generic.body).toBe(400);
    expect(generic.json()).toMatchObject({
      error: { code: "PW_INVALID_EVENT", errors: [{ field: "severity" }] },
    });
    const pd = await inject("/v2/enqueue", json, {
      routing_key: KEYS.pagerduty,
      event_action: "trigger",
      payload: { summary: "s", source: "h", severity: "toString" },
    });
    expect(pd.statusCode, pd.body).toBe(400);
    expect(pd.json()).toMatchObject({
      status: "invalid event",
      errors: [expect.stringContaining("severity")],
    });
    // A URL the router cannot decode, or an over-long parameter: the catalog's JSON, not Fastify's.
    for (const url of [
      "/api/v1/heartbeats/%",
      "/api/v1/heartbeats/%C0%80",
      `/api/v1/heartbeats/${"a".repeat(150)}`,
    ]) {
      const res = await svc.app.inject({
        method: "POST",
        url,
        headers: { authorization: `Bearer ${KEYS.generic}` },
      });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json()).toMatchObject({
        error: { code: "PW_INVALID_QUERY", message: expect.stringContaining("URL") },
      });
    }
  });

  it(
    `answers ${RUNS} fuzzed requests with a 2xx or a JSON 4xx naming the problem, and a 4xx changes nothing`,
    async () => {
      const started = Date.now();
      console.log(`fuzz: ${RUNS} runs, seed ${SEED} (replay: PAGEWISE_FUZZ_SEED=${SEED})`);
      await fc.assert(fc.asyncProperty(cases, check), { numRuns: RUNS, seed: SEED });
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      console.log(
        `fuzz: ${RUNS} runs passed in ${seconds} s\n${[...tally.entries()]
          .sort()
          .map(([k, v]) => `  ${k}: ${v}`)
          .join("\n")}`,
      );
      // Every endpoint saw both outcomes, so the property tested acceptance and rejection.
      for (const ep of ENDPOINTS) {
        const seen = [...tally.keys()].filter((k) => k.startsWith(`${ep.name} `));
        expect(
          seen.some((k) => /\s2\d\d$/.test(k)),
          `${ep.name}: nothing accepted`,
        ).toBe(true);
        expect(
          seen.some((k) => /\s4\d\d$/.test(k)),
          `${ep.name}: nothing rejected`,
        ).toBe(true);
      }
      // The database is still sound after everything.
      expect(svc.store.db.pragma("integrity_check", { simple: true })).toBe("ok");
    },
    Math.max(60_000, RUNS * 10),
  );
});
