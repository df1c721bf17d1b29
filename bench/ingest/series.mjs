/**
 * Alert label sets shaped like a Prometheus fleet's: a handful of alert names across the
 * catalog's services (plus one unknown service), one series per instance. The group key is
 * [alertname, service], so many series share an incident, as in real traffic.
 */
const ALERTNAMES = [
  "HighErrorRate",
  "HighLatencyP99",
  "InstanceDown",
  "DiskWillFillIn4Hours",
  "HighMemoryUsage",
  "CPUThrottlingHigh",
  "ProbeFailed",
  "CertificateExpiresSoon",
];
const SERVICES = [
  "checkout",
  "ledger",
  "payments-api",
  "api-gateway",
  "postgres",
  "kubernetes",
  "monitoring",
  "search",
  "recommendations",
  "not-in-catalog",
];
// Fixed per series: a changing severity would take the "severity raised" path, not a plain re-send.
const SEVERITIES = ["warning", "critical", "page", "ticket"];
/** Prometheus sends endsAt = now + 4 x resend delay (1m by default). */
const ENDS_AFTER_MS = 4 * 60_000;

export function instanceOf(i) {
  return `host-${String(i).padStart(6, "0")}:9100`;
}

/** The series number back from a stored alert's instance label; null if it is not ours. */
export function seriesOfInstance(instance) {
  const m = /^host-(\d+):9100$/.exec(instance ?? "");
  return m === null ? null : Number(m[1]);
}

export function labelsOf(i) {
  const alertname = ALERTNAMES[i % ALERTNAMES.length];
  return {
    alertname,
    service: SERVICES[Math.floor(i / ALERTNAMES.length) % SERVICES.length],
    severity: SEVERITIES[Math.floor(i / 7) % SEVERITIES.length],
    job: "node",
    instance: instanceOf(i),
    cluster: `eu-west-${(i % 3) + 1}`,
  };
}

/**
 * Request bodies for `count` series. Each alert's JSON is built once; a request only splices in
 * the current endsAt, so the load generator spends its (shared) CPU on sending, not on JSON.
 */
export class SeriesSet {
  constructor(count, now = Date.now()) {
    this.count = count;
    const startsAt = new Date(now - 10 * 60_000).toISOString();
    this.prefixes = new Array(count);
    for (let i = 0; i < count; i++) {
      const labels = labelsOf(i);
      const annotations = {
        summary: `${labels.alertname} on ${labels.instance}`,
        description: `${labels.alertname} has been firing for ${labels.service} on ${labels.instance} (bench series ${i}).`,
        runbook_url: `https://runbooks.example.com/${labels.alertname}`,
      };
      const generatorURL = `http://prometheus.example.com:9090/graph?g0.expr=${labels.alertname}`;
      this.prefixes[i] =
        `{"labels":${JSON.stringify(labels)},"annotations":${JSON.stringify(annotations)},` +
        `"generatorURL":${JSON.stringify(generatorURL)},"startsAt":"${startsAt}","endsAt":"`;
    }
    this.endsAtSecond = -1;
    this.endsAtSuffix = "";
  }

  /** The body for series first, first+1, ... (round-robin), `size` of them. */
  body(first, size) {
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.endsAtSecond) {
      this.endsAtSecond = second;
      this.endsAtSuffix = `${new Date(second * 1000 + ENDS_AFTER_MS).toISOString()}"}`;
    }
    const parts = new Array(size);
    for (let k = 0; k < size; k++) parts[k] = this.prefixes[(first + k) % this.count] + this.endsAtSuffix;
    return `[${parts.join(",")}]`;
  }
}
