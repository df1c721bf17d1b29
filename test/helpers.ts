import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { parseConfig } from "../src/config/load.js";
import type { Config } from "../src/config/types.js";
import { VirtualClock } from "../src/core/clock.js";
import { createService, type Service } from "../src/service.js";

export const EXAMPLE_CONFIG_PATH = new URL("../examples/pagewise.yaml", import.meta.url).pathname;
export const EXAMPLE_CONFIG_TEXT = readFileSync(EXAMPLE_CONFIG_PATH, "utf8");

export const KEYS = {
  prometheus: "demo-prometheus-key",
  alertmanager: "demo-alertmanager-key",
  pagerduty: "demopagerdutykey0000000000000000",
  generic: "demo-generic-key",
  admin: "demo-admin-token",
} as const;

export const T0 = Date.parse("2026-11-29T03:00:00Z");

export function tempDir(prefix = "pagewise-test-"): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

export interface TestService extends Service {
  clock: VirtualClock;
  dir: string;
  dbPath: string;
  /** Closes the service and removes its temp dir. */
  dispose(): Promise<void>;
}

/** A real service on a real SQLite file in a temp dir, on a virtual clock, without the timer loop. */
export async function testService(configText = EXAMPLE_CONFIG_TEXT, start = T0): Promise<TestService> {
  const dir = tempDir();
  const clock = new VirtualClock(start);
  const config: Config = parseConfig(configText, {});
  const dbPath = join(dir.path, "pagewise.db");
  const service = await createService({ config, dbPath, durability: "normal", clock, worker: false });
  return {
    ...service,
    clock,
    dir: dir.path,
    dbPath,
    async dispose() {
      await service.close();
      dir.cleanup();
    },
  };
}

export function post(
  app: FastifyInstance,
  url: string,
  body: unknown,
  opts: { key?: string; contentType?: string; raw?: string | Buffer } = {},
): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = { "content-type": opts.contentType ?? "application/json" };
  if (opts.key !== undefined) headers.authorization = `Bearer ${opts.key}`;
  return app.inject({
    method: "POST",
    url,
    headers,
    payload: opts.raw ?? JSON.stringify(body),
  });
}

export function get(
  app: FastifyInstance,
  url: string,
  key: string = KEYS.admin,
): Promise<LightMyRequestResponse> {
  return app.inject({ method: "GET", url, headers: { authorization: `Bearer ${key}` } });
}

/** Row counts of every table, to prove that a rejected request changed nothing. */
type Table = "incidents" | "alerts" | "events" | "timeline" | "timers";
export function tableCounts(service: Service): Record<Table, number> {
  const out = {} as Record<Table, number>;
  for (const t of ["incidents", "alerts", "events", "timeline", "timers"] as const) {
    out[t] = (service.store.db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n;
  }
  return out;
}

/** A digest of all stored rows, stronger than counts: any change to any row shows. */
export function snapshot(service: Service): string {
  const parts: string[] = [];
  for (const t of ["incidents", "alerts", "events", "timeline", "timers"]) {
    parts.push(JSON.stringify(service.store.db.prepare(`SELECT * FROM ${t} ORDER BY id`).all()));
  }
  return parts.join("\n");
}

export function promAlert(labels: Record<string, string>, extra: Record<string, unknown> = {}) {
  return { labels, annotations: { summary: `${labels.alertname ?? "alert"} firing` }, ...extra };
}
