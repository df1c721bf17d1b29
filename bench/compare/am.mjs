import { execFileSync, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { GROUP_BY, routes } from "./alerts.mjs";
import { cpuSeconds, freePort, peakRssKiB, removeDir, startProcess, tempDir, waitFor } from "./proc.mjs";

const BIN = "prometheus-alertmanager";
const INSTALL = "apt-get install -y --no-install-recommends prometheus-alertmanager";

/** Finds the binary; as root installs Debian's package, else says what to install and exits. */
export function ensureAlertmanager() {
  if (spawnSync("sh", ["-c", `command -v ${BIN}`]).status !== 0) {
    if (process.getuid?.() !== 0) {
      console.error(`${BIN} is missing; install it as root:\n  ${INSTALL}`);
      process.exit(2);
    }
    console.error(`installing ${BIN}: ${INSTALL}`);
    execFileSync("sh", ["-c", INSTALL], {
      stdio: "inherit",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  }
  return execFileSync(BIN, ["--version"], { encoding: "utf8" }).split("\n")[0].trim();
}

const q = (s) => JSON.stringify(s);

/** The routing tree of alerts.mjs as alertmanager.yml; every receiver is a webhook to the sink. */
export function alertmanagerYaml(sinkUrl, groupInterval = "1s") {
  const rs = routes();
  const lines = [
    "route:",
    "  receiver: default",
    `  group_by: [${GROUP_BY.join(", ")}]`,
    "  group_wait: 0s",
    `  group_interval: ${groupInterval}`,
    "  repeat_interval: 24h",
    "  routes:",
  ];
  for (const r of rs) {
    const m = [];
    if (r.service) m.push(`service="${r.service}"`);
    if (r.team) m.push(`team="${r.team}"`);
    m.push(r.severity.length === 1 ? `severity="${r.severity[0]}"` : `severity=~"${r.severity.join("|")}"`);
    lines.push(`    - receiver: ${r.name}`, `      matchers: [${m.map(q).join(", ")}]`);
  }
  lines.push("receivers:");
  for (const name of ["default", ...rs.map((r) => r.name)])
    lines.push(
      `  - name: ${name}`,
      "    webhook_configs:",
      `      - url: ${q(`${sinkUrl}/am/${name}`)}`,
      "        send_resolved: false",
    );
  return `${lines.join("\n")}\n`;
}

/**
 * Runs the binary directly (not the Debian service) on its own config and data dir in a temp
 * dir, on a loopback port, with clustering off (otherwise it waits for peers to settle).
 */
export async function startAlertmanager({ sinkUrl, groupInterval }) {
  const dir = tempDir("am-compare-");
  const config = join(dir, "alertmanager.yml");
  writeFileSync(config, alertmanagerYaml(sinkUrl, groupInterval));
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const proc = startProcess(BIN, [
      `--config.file=${config}`,
      `--storage.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--cluster.listen-address=",
      "--log.level=warn",
    ]);
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitFor(
        async () => {
          if (!proc.alive()) throw new Error(`alertmanager exited:\n${proc.output()}`);
          try {
            return (await fetch(`${url}/-/ready`)).ok;
          } catch {
            return false;
          }
        },
        15_000,
        "alertmanager /-/ready",
      );
    } catch (err) {
      await proc.stop();
      if (attempt < 3) continue; // the port was taken in between: try another
      removeDir(dir);
      throw err;
    }
    return {
      system: "am",
      label: "Alertmanager",
      pid: proc.pid,
      url,
      ingestPath: "/api/v2/alerts",
      token: null,
      peakRssKiB: () => peakRssKiB(proc.pid),
      cpuSeconds: () => cpuSeconds(proc.pid),
      output: proc.output,
      async stop() {
        await proc.stop("SIGKILL");
        removeDir(dir);
      },
    };
  }
}
