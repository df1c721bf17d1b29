import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  EXAMPLE_CONFIG,
  freePort,
  getIncident,
  type IncidentJson,
  killAllChildren,
  listAllIncidents,
  sleep,
  startPagewise,
  startProcess,
  tempDir,
} from "./harness.js";

/**
 * A real client: Debian's Prometheus evaluates an always-firing rule every second and sends the
 * alert to Pagewise over Alertmanager API v2 with a bearer credential, re-sending every second.
 */

const PROMETHEUS = "/usr/bin/prometheus";

function prometheusConfig(pagewisePort: number): string {
  return `global:
  evaluation_interval: 1s
  scrape_interval: 1m
rule_files:
  - rules.yml
alerting:
  alertmanagers:
    - api_version: v2
      static_configs:
        - targets: ["127.0.0.1:${pagewisePort}"]
      authorization:
        credentials: demo-prometheus-key
`;
}

const RULES = `groups:
  - name: pagewise-e2e
    rules:
      - alert: CheckoutDown
        expr: vector(1)
        labels:
          service: checkout
          severity: page
        annotations:
          summary: Checkout is down (e2e)
`;

/** Polls until check returns a value, or fails with what was last seen. */
async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}${last === undefined ? "" : `: ${String(last)}`}`);
}

describe("Prometheus -> Pagewise (Alertmanager API v2)", () => {
  const dir = tempDir("pagewise-prometheus-");

  afterEach(killAllChildren);
  afterAll(async () => {
    await killAllChildren();
    dir.cleanup();
  });

  it("opens one incident for a firing rule and folds re-sends into the same alert", async () => {
    // Fail, never skip: CI must run this against the real binary.
    if (!existsSync(PROMETHEUS)) {
      throw new Error(
        `${PROMETHEUS} is missing: this test needs Debian's prometheus package (.ci/run installs it)`,
      );
    }
    const pagewise = await startPagewise({ config: EXAMPLE_CONFIG, db: join(dir.path, "pagewise.db") });
    writeFileSync(join(dir.path, "prometheus.yml"), prometheusConfig(pagewise.port));
    writeFileSync(join(dir.path, "rules.yml"), RULES);
    const prometheus = startProcess(
      PROMETHEUS,
      [
        `--config.file=${join(dir.path, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir.path, "tsdb")}`,
        `--web.listen-address=127.0.0.1:${await freePort()}`,
        // Prometheus drops its first send while its alertmanager list is not ready, then
        // re-sends only each minute by default.
        "--rules.alert.resend-delay=1s",
      ],
      { cwd: dir.path },
    );
    const diagnostics = () =>
      `--- prometheus ---\n${prometheus.output()}\n--- pagewise ---\n${pagewise.output()}`;

    let incident: IncidentJson;
    try {
      incident = await waitFor("an incident for service checkout", 60_000, async () => {
        const found = await listAllIncidents(pagewise.url, "service=checkout");
        return found[0];
      });
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${diagnostics()}`);
    }
    expect(incident).toMatchObject({
      status: "triggered",
      source: "prometheus",
      service: "checkout",
      team: "payments",
      tier: 0,
      severity: "critical", // the source's severity_map turns "page" into critical
      summary: "Checkout is down (e2e)",
      group_key: '{alertname="CheckoutDown",service="checkout"}',
      alert_count: 1,
    });

    // Re-sends arrive every second; they must update the one alert, not add alerts or incidents.
    const resent = await waitFor("re-sends to raise event_count past 2", 20_000, async () => {
      const detail = await getIncident(pagewise.url, incident.id);
      const count = detail.alerts[0]?.event_count ?? 0;
      return count > 2 ? detail : undefined;
    }).catch((err: Error) => {
      throw new Error(`${err.message}\n${diagnostics()}`);
    });
    expect(resent.alert_count).toBe(1);
    expect(resent.open_alert_count).toBe(1);
    expect(resent.alerts).toHaveLength(1);
    const alert = resent.alerts[0];
    expect(alert?.status).toBe("firing");
    expect(alert?.labels).toEqual({ alertname: "CheckoutDown", service: "checkout", severity: "page" });
    expect(Date.parse(alert?.last_seen ?? "")).toBeGreaterThan(Date.parse(alert?.first_seen ?? ""));
    // EVENTS.md: a re-send that changes nothing writes no new decision or timeline entry.
    // The page started the payments chain once ("escalated"); delivery outcomes depend on the demo sink.
    const kinds = resent.timeline.map((t) => t.kind).filter((k) => !k.startsWith("delivery_"));
    expect(kinds).toEqual(["opened", "escalated"]);

    const all = await listAllIncidents(pagewise.url);
    expect(all.map((i) => i.id)).toEqual([incident.id]);
    expect(prometheus.child.exitCode, diagnostics()).toBeNull();
  }, 120_000);
});
