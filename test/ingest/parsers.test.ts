import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { fingerprint } from "../../src/core/fingerprint.js";
import type { SignalEvent } from "../../src/core/types.js";
import { parseAlertmanagerV2 } from "../../src/ingest/alertmanager-v2.js";
import { parseAlertmanagerWebhook } from "../../src/ingest/alertmanager-webhook.js";
import { parseGenericBatch, parseGenericEvent } from "../../src/ingest/generic.js";
import {
  checkPagerDutyShape,
  parsePagerDutyChange,
  parsePagerDutyEvent,
} from "../../src/ingest/pagerduty.js";
import { EXAMPLE_CONFIG_TEXT, T0 } from "../helpers.js";

const config = parseConfig(EXAMPLE_CONFIG_TEXT, {});
const src = (name: string) => {
  const s = config.sources.get(name);
  if (s === undefined) throw new Error(name);
  return s;
};

function ok<E>(r: { ok: true; events: E[] } | { ok: false; problems: unknown[] }): E[] {
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r.problems)}`);
  return r.events;
}
function problems(r: { ok: boolean; problems?: { path: string; reason: string; index?: number }[] }) {
  if (r.ok) throw new Error("expected problems");
  return r.problems ?? [];
}

describe("Alertmanager API v2 (what Prometheus sends)", () => {
  // The shape Prometheus 2.x posts: labels include alertname; endsAt = eval time + 4 x resend delay.
  const body = [
    {
      labels: {
        alertname: "HighErrorRate",
        job: "payments-api",
        instance: "10.0.0.5:9090",
        severity: "page",
      },
      annotations: { summary: "5xx above 5%", runbook_url: "https://runbooks/errors" },
      startsAt: "2026-11-29T02:58:00.000Z",
      endsAt: "2026-11-29T03:04:00.000Z",
      generatorURL: "http://prometheus:9090/graph?g0.expr=rate",
    },
  ];

  it("normalizes labels, keys, service, severity and links", () => {
    const [ev] = ok(parseAlertmanagerV2(body, src("prometheus"), T0)) as SignalEvent[];
    expect(ev).toMatchObject({
      kind: "signal",
      action: "trigger",
      source: "prometheus",
      alertKey: fingerprint(body[0]?.labels ?? {}),
      groupKey: '{alertname="HighErrorRate",service="payments-api"}',
      service: "payments-api", // from the job label: service_label defaults to service, then job
      severity: "critical", // severity_map page -> critical
      summary: "5xx above 5%",
      startsAt: Date.parse("2026-11-29T02:58:00Z"),
      endsAt: Date.parse("2026-11-29T03:04:00Z"),
    });
    expect(ev?.links).toEqual([
      { href: "http://prometheus:9090/graph?g0.expr=rate", text: "Source" },
      { href: "https://runbooks/errors", text: "Runbook" },
    ]);
  });

  it("gives an alert without endsAt the source's resolve_timeout, and treats Go's zero time as unset", () => {
    const [ev] = ok(
      parseAlertmanagerV2(
        [{ labels: { alertname: "A" }, endsAt: "0001-01-01T00:00:00Z" }],
        src("prometheus"),
        T0,
      ),
    );
    expect(ev?.endsAt).toBe(T0 + 5 * 60_000);
    expect(ev?.startsAt).toBeNull();
  });

  it("falls back to the default severity for unknown severity labels", () => {
    const [ev] = ok(
      parseAlertmanagerV2([{ labels: { alertname: "A", severity: "P3" } }], src("prometheus"), T0),
    );
    expect(ev?.severity).toBe("warning");
  });

  it("rejects the whole batch, naming each bad item's index and field", () => {
    const bad = [
      { labels: { alertname: "ok" } },
      { labels: {} },
      { annotations: {} },
      { labels: { a: 1 } },
      { labels: { a: "b" }, startsAt: "yesterday" },
      { labels: { a: "b" }, startsAt: "2026-11-29T03:00:00Z", endsAt: "2026-11-29T02:00:00Z" },
    ];
    const first = problems(parseAlertmanagerV2(bad, src("prometheus"), T0));
    expect(first.map((p) => [p.index, p.path, p.reason])).toEqual([
      [1, "[1].labels", "must not be empty"],
      [2, "[2].labels", "is required"],
      [3, "[3].labels.a", "must be a string"],
    ]);
    // Time problems are found once the shape is right.
    const times = problems(parseAlertmanagerV2(bad.slice(4), src("prometheus"), T0));
    expect(times.map((p) => [p.index, p.path, p.reason])).toEqual([
      [0, "[0].startsAt", "must be an RFC 3339 time"],
      [1, "[1].endsAt", "must not be before startsAt"],
    ]);
  });

  it("requires an array", () => {
    expect(problems(parseAlertmanagerV2({ labels: {} }, src("prometheus"), T0))[0]).toMatchObject({
      path: "",
      reason: "must be an array",
    });
  });
});

describe("Alertmanager webhook v4", () => {
  // As Alertmanager 0.25+ sends it, including fields newer than version 4's documentation.
  const payload = {
    receiver: "pagewise",
    status: "firing",
    alerts: [
      {
        status: "firing",
        labels: { alertname: "DiskFull", instance: "db1", job: "postgres", severity: "critical" },
        annotations: { summary: "disk 95% full" },
        startsAt: "2026-11-29T02:50:00Z",
        endsAt: "0001-01-01T00:00:00Z",
        generatorURL: "http://prometheus/graph",
        fingerprint: "c6f4b4e5b4c1c0a1",
      },
      {
        status: "resolved",
        labels: { alertname: "DiskFull", instance: "db2", job: "postgres", severity: "critical" },
        annotations: { summary: "disk 95% full" },
        startsAt: "2026-11-29T02:40:00Z",
        endsAt: "2026-11-29T02:55:00Z",
        generatorURL: "http://prometheus/graph",
        fingerprint: "d00d",
      },
    ],
    groupLabels: { alertname: "DiskFull" },
    commonLabels: { alertname: "DiskFull", job: "postgres" },
    commonAnnotations: {},
    externalURL: "http://alertmanager:9093",
    version: "4",
    groupKey: '{}:{alertname="DiskFull"}',
    truncatedAlerts: 0,
    notification_reason: "new",
    routeLabels: { team: "platform" },
  };

  it("uses Alertmanager's fingerprint and groupKey, and maps status to trigger/resolve", () => {
    const events = ok(parseAlertmanagerWebhook(payload, src("alertmanager")));
    expect(events.map((e) => [e.action, e.alertKey, e.groupKey, e.service, e.endsAt])).toEqual([
      ["trigger", "c6f4b4e5b4c1c0a1", '{}:{alertname="DiskFull"}', "postgres", null],
      ["resolve", "d00d", '{}:{alertname="DiskFull"}', "postgres", null],
    ]);
    expect(events[1]?.at).toBe(Date.parse("2026-11-29T02:55:00Z"));
    expect((events[0]?.raw as { groupKey?: string } | undefined)?.groupKey).toBe(payload.groupKey);
  });

  it("computes the fingerprint when the sender left it out", () => {
    const p = { ...payload, alerts: [{ status: "firing", labels: { alertname: "X" } }] };
    expect(ok(parseAlertmanagerWebhook(p, src("alertmanager")))[0]?.alertKey).toBe(
      fingerprint({ alertname: "X" }),
    );
  });

  it("rejects bad alerts with their index", () => {
    const p = { ...payload, alerts: [payload.alerts[0], { status: "exploded", labels: { a: "b" } }] };
    const ps = problems(parseAlertmanagerWebhook(p, src("alertmanager")));
    expect(ps).toEqual([expect.objectContaining({ index: 1, path: "alerts[1].status" })]);
    expect(problems(parseAlertmanagerWebhook({ alerts: [] }, src("alertmanager")))[0]?.path).toBe("groupKey");
  });
});

describe("PagerDuty Events v2", () => {
  const trigger = {
    routing_key: "demopagerdutykey0000000000000000",
    event_action: "trigger",
    dedup_key: "db1-disk",
    payload: {
      summary: "Disk full on db1",
      source: "db1.example.com",
      severity: "critical",
      timestamp: "2026-11-29T02:59:00.000+0000",
      component: "postgres",
      group: "prod-db",
      class: "disk",
      custom_details: { free: 0.5, mount: "/data", nested: { a: 1 } },
    },
    links: [{ href: "https://grafana/d/1", text: "Dashboard" }],
    client: "Nagios",
    client_url: "https://nagios",
  };

  it("maps payload fields, keeps dedup_key, one alert one incident", () => {
    const [ev] = ok(parsePagerDutyEvent(trigger, src("pagerduty")));
    expect(ev).toMatchObject({
      action: "trigger",
      alertKey: "db1-disk",
      groupKey: "db1-disk",
      keyGenerated: false,
      service: "postgres", // from payload.component
      severity: "critical",
      labels: { alertname: "disk", component: "postgres", group: "prod-db", host: "db1.example.com" },
      annotations: { free: "0.5", mount: "/data", nested: '{"a":1}' },
      at: Date.parse("2026-11-29T02:59:00Z"),
    });
    expect(ev?.links).toEqual([
      { href: "https://grafana/d/1", text: "Dashboard" },
      { href: "https://nagios", text: "Nagios" },
    ]);
  });

  it("generates a dedup_key for a trigger without one", () => {
    const { dedup_key: _, ...noKey } = trigger;
    const [ev] = ok(parsePagerDutyEvent(noKey, src("pagerduty")));
    expect(ev?.keyGenerated).toBe(true);
    expect(ev?.alertKey).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("validates like PagerDuty: required fields, severity, dedup_key for acknowledge/resolve", () => {
    expect(checkPagerDutyShape({ event_action: "trigger" }, false)).toEqual([
      { path: "routing_key", reason: "is required" },
    ]);
    const shape = checkPagerDutyShape({ ...trigger, payload: { summary: "", source: "x" } }, false);
    expect(shape).toEqual(
      expect.arrayContaining([
        { path: "payload.severity", reason: "is required" },
        { path: "payload.summary", reason: "must not be empty" },
      ]),
    );
    expect(
      problems(parsePagerDutyEvent({ routing_key: "k", event_action: "resolve" }, src("pagerduty"))),
    ).toEqual([{ path: "dedup_key", reason: "is required to resolve" }]);
    expect(
      problems(
        parsePagerDutyEvent(
          { ...trigger, payload: { ...trigger.payload, severity: "sev1" } },
          src("pagerduty"),
        ),
      ),
    ).toEqual([{ path: "payload.severity", reason: "must be critical, error, warning or info" }]);
  });

  it("parses change events, taking the service from custom_details", () => {
    const [ev] = ok(
      parsePagerDutyChange(
        {
          routing_key: "k",
          payload: { summary: "Deployed v42", source: "ci", custom_details: { service: "checkout" } },
          links: [{ href: "https://ci/42" }],
        },
        src("pagerduty"),
      ),
    );
    expect(ev).toMatchObject({ kind: "change", service: "checkout", summary: "Deployed v42" });
  });
});

describe("generic events", () => {
  const live = { kind: "live" as const, source: src("generic") };
  const grouped = { kind: "live" as const, source: { ...src("generic"), groupBy: ["alertname", "service"] } };

  it("groups by the source's group_by when it has one, else by the alert key", () => {
    const item = { summary: "a", dedup_key: "k1", service: "search", labels: { alertname: "Slow" } };
    expect(ok(parseGenericBatch([item], grouped))[0]).toMatchObject({
      groupKey: '{alertname="Slow",service="search"}',
    });
    expect(ok(parseGenericBatch([item], live))[0]).toMatchObject({ groupKey: "k1" });
  });

  it("defaults action to trigger and keys by dedup_key, else service + labels", () => {
    const events = ok(
      parseGenericBatch(
        [
          { summary: "a", dedup_key: "k1", service: "search", labels: { alertname: "Slow" } },
          { summary: "b", labels: { alertname: "Slow", service: "search" } },
          { action: "change", summary: "deploy 7", service: "search" },
        ],
        live,
      ),
    );
    expect(events[0]).toMatchObject({ kind: "signal", action: "trigger", alertKey: "k1", service: "search" });
    expect(events[1]).toMatchObject({ alertKey: fingerprint({ alertname: "Slow", service: "search" }) });
    expect(events[2]).toMatchObject({ kind: "change", service: "search" });
  });

  it("ignores outcome live, keeps it from history, and keeps unknown fields raw", () => {
    const item = { summary: "x", outcome: "genuine", future_field: 1 };
    const [liveEv] = ok(parseGenericBatch([item], live));
    expect(liveEv?.kind === "signal" && liveEv.outcome).toBeNull();
    expect((liveEv?.raw as Record<string, unknown> | undefined)?.future_field).toBe(1);
    const hist = parseGenericEvent(
      { ...item, at: "2026-11-29T01:00:00Z", source: "nab" },
      { kind: "history", sourceFor: () => src("generic") },
    );
    expect(hist.ok && hist.event.kind === "signal" && hist.event.outcome).toBe("genuine");
  });

  it("requires at and source in history files", () => {
    const r = parseGenericEvent({ summary: "x" }, { kind: "history", sourceFor: () => src("generic") });
    expect(r.ok ? [] : r.problems.map((p) => p.path)).toEqual(["source", "at"]);
  });

  it("rejects every bad item with its index and field, and a source other than the key's", () => {
    const ps = problems(
      parseGenericBatch(
        [
          { summary: "fine" },
          { summary: "x", source: "prometheus" },
          { action: "trigger" },
          { summary: "x", severity: "urgent" },
          { summary: "x", at: "not a time" },
          { summary: "x", upstream_score: 1.5 },
        ],
        live,
      ),
    );
    // Shape errors come first (the whole batch is checked against the schema before semantics).
    expect(ps).toEqual([expect.objectContaining({ index: 5, path: "[5].upstream_score" })]);
    const sem = problems(
      parseGenericBatch(
        [
          { summary: "x", source: "prometheus" },
          { action: "trigger" },
          { summary: "x", severity: "urgent" },
          { summary: "x", at: "soon" },
        ],
        live,
      ),
    );
    expect(sem.map((p) => [p.index, p.path])).toEqual([
      [0, "[0].source"],
      [1, "[1].summary"],
      [2, "[2].severity"],
      [3, "[3].at"],
    ]);
  });
});
