/**
 * The alert sets and the routing tree both systems get. Every series is its own group
 * (group_by includes `instance`), so each new series makes exactly one first notification in
 * both systems and the sink can time it per alert.
 */

const ALERTNAMES = [
  "HighErrorRate",
  "HighLatencyP99",
  "InstanceDown",
  "DiskWillFillIn4Hours",
  "HighMemoryUsage",
];
/** service -> team; the last service is unknown to Pagewise's catalog and has no team label. */
export const SERVICES = {
  checkout: "payments",
  ledger: "payments",
  "payments-api": "payments",
  "api-gateway": "platform",
  postgres: "platform",
  kubernetes: "platform",
  monitoring: "platform",
  search: "search",
  recommendations: "search",
  "not-in-catalog": null,
};
const SERVICE_NAMES = Object.keys(SERVICES);
export const TEAMS = ["payments", "platform", "search"];
const SEVERITIES = ["critical", "error", "warning", "info"];
export const GROUP_BY = ["alertname", "service", "instance"];
/** Prometheus sends endsAt = now + 4 x its resend delay (1m). */
const ENDS_AFTER_MS = 4 * 60_000;

export const instanceOf = (i) => `host-${String(i).padStart(6, "0")}:9100`;

/** The series number in an instance label or a summary; null when there is none. */
export function seriesIn(text) {
  const m = /host-(\d{6}):9100/.exec(text ?? "");
  return m === null ? null : Number(m[1]);
}

export function labelsOf(i) {
  const service = SERVICE_NAMES[Math.floor(i / ALERTNAMES.length) % SERVICE_NAMES.length];
  const labels = {
    alertname: ALERTNAMES[i % ALERTNAMES.length],
    service,
    severity: SEVERITIES[Math.floor(i / 3) % SEVERITIES.length],
    job: "node",
    instance: instanceOf(i),
    cluster: `eu-west-${(i % 3) + 1}`,
  };
  if (SERVICES[service] !== null) labels.team = SERVICES[service];
  return labels;
}

/**
 * The routing tree, first match wins, as data: 19 routes plus the default. Alertmanager matches
 * the `team` label; Pagewise matches the team its catalog gives the service (the same value).
 */
export function routes() {
  const out = [];
  for (const service of SERVICE_NAMES.filter((s) => SERVICES[s] !== null))
    out.push({ name: `svc-${service}-critical`, service, severity: ["critical"] });
  for (const severity of ["error", "warning", "info"])
    for (const team of TEAMS) out.push({ name: `team-${team}-${severity}`, team, severity: [severity] });
  out.push({ name: "unowned-severe", severity: ["critical", "error"] });
  return out; // the default receiver ("default") takes the rest
}

/** Request bodies (API v2 JSON arrays) for `count` series; each alert's JSON is built once. */
export class SeriesSet {
  constructor(count, now = Date.now()) {
    this.count = count;
    const startsAt = new Date(now - 60_000).toISOString();
    this.prefixes = new Array(count);
    for (let i = 0; i < count; i++) {
      const labels = labelsOf(i);
      const annotations = {
        summary: `${labels.alertname} on ${labels.instance}`,
        description: `${labels.alertname} is firing for ${labels.service} on ${labels.instance}.`,
      };
      const generatorURL = `http://prometheus.example.com:9090/graph?g0.expr=${labels.alertname}`;
      this.prefixes[i] =
        `{"labels":${JSON.stringify(labels)},"annotations":${JSON.stringify(annotations)},` +
        `"generatorURL":${JSON.stringify(generatorURL)},"startsAt":"${startsAt}","endsAt":"`;
    }
    this.second = -1;
    this.suffix = "";
  }

  /** The body for series first, first+1, ... (round-robin), `size` of them. */
  body(first, size) {
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.second) {
      this.second = second;
      this.suffix = `${new Date(second * 1000 + ENDS_AFTER_MS).toISOString()}"}`;
    }
    const parts = new Array(size);
    for (let k = 0; k < size; k++) parts[k] = this.prefixes[(first + k) % this.count] + this.suffix;
    return `[${parts.join(",")}]`;
  }
}
