import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { shippedNodeFlags } from "../ingest/server.mjs";
import { GROUP_BY, routes, SERVICES, TEAMS } from "./alerts.mjs";
import { cpuSeconds, peakRssKiB, removeDir, startProcess, tempDir } from "./proc.mjs";

/** This checkout; --pagewise-root may name another build (e.g. one commit, built on its own). */
export const ROOT = new URL("../../", import.meta.url).pathname;
export const TOKEN = "bench-prometheus-key";
const q = (s) => JSON.stringify(s);

/**
 * The same routing tree as Alertmanager's: each rule `notify`s a webhook channel (sent at once,
 * through the outbox), whatever the score, so every new series is told to the sink once.
 */
export function pagewiseYaml(sinkUrl) {
  const rs = routes();
  const channels = ["default", ...rs.map((r) => r.name)];
  const lines = [
    "server:",
    "  public_url: http://127.0.0.1:8080",
    "teams:",
    ...TEAMS.map((t) => `  - { name: ${t} }`),
    "services:",
    ...Object.entries(SERVICES)
      .filter(([, team]) => team !== null)
      .map(([name, team]) => `  - { name: ${name}, team: ${team}, tier: 1 }`),
    "channels:",
    ...channels.map((c) => `  - { name: ${c}, kind: webhook, url: ${q(`${sinkUrl}/pw/${c}`)} }`),
    "sources:",
    "  - name: prometheus",
    "    kind: prometheus",
    `    key: ${TOKEN}`,
    `    group_by: [${GROUP_BY.join(", ")}]`,
    "policy:",
    "  rules:",
  ];
  for (const r of rs) {
    const m = [];
    if (r.service) m.push(`service: ${r.service}`);
    if (r.team) m.push(`team: ${r.team}`);
    m.push(`severity: [${r.severity.join(", ")}]`);
    lines.push(
      `    - id: ${r.name}`,
      `      match: { ${m.join(", ")} }`,
      `      route: { kind: notify, channel: ${r.name} }`,
      "      rationale: Benchmark route, the same as the Alertmanager receiver of this name.",
    );
  }
  lines.push(
    "    - id: default",
    "      route: { kind: notify, channel: default }",
    "      rationale: Everything else, as Alertmanager's root receiver.",
  );
  return `${lines.join("\n")}\n`;
}

/** `pagewise serve` on a fresh SQLite file and generated config in a temp dir, port 0 on 127.0.0.1. */
export async function startPagewise({ sinkUrl, durability, root = ROOT }) {
  const main = join(root, "dist", "cli", "main.js");
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build in ${root}`);
  const dir = tempDir("pw-compare-");
  const config = join(dir, "pagewise.yaml");
  writeFileSync(config, pagewiseYaml(sinkUrl));
  let onAddress;
  const address = new Promise((r) => (onAddress = r));
  const proc = startProcess(
    process.execPath,
    [
      ...shippedNodeFlags(root),
      join(root, "bin", "pagewise.js"),
      "serve",
      "--config",
      config,
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--db",
      join(dir, "pw.db"),
      "--durability",
      durability,
      "--log-level",
      "info",
    ],
    {
      cwd: root,
      onLine(line) {
        if (!line.startsWith("{")) return;
        try {
          const e = JSON.parse(line);
          if (e.msg === "pagewise listening") onAddress(e.address);
        } catch {}
      },
    },
  );
  let timer;
  const url = await Promise.race([
    address,
    proc.exited.then(({ code, signal }) => {
      throw new Error(`pagewise exited (code ${code}, signal ${signal}):\n${proc.output()}`);
    }),
    new Promise(
      (_, reject) =>
        (timer = setTimeout(() => reject(new Error(`pagewise did not listen:\n${proc.output()}`)), 30_000)),
    ),
  ]).catch(async (err) => {
    await proc.stop();
    removeDir(dir);
    throw err;
  });
  clearTimeout(timer);
  return {
    system: durability === "full" ? "pw-full" : "pw",
    label: durability === "full" ? "Pagewise (full)" : "Pagewise",
    pid: proc.pid,
    url,
    ingestPath: "/api/v2/alerts",
    token: TOKEN,
    peakRssKiB: () => peakRssKiB(proc.pid),
    cpuSeconds: () => cpuSeconds(proc.pid),
    output: proc.output,
    async stop() {
      await proc.stop("SIGKILL");
      removeDir(dir);
    },
  };
}
