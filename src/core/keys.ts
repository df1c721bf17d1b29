import { fingerprint } from "./fingerprint.js";
import { type Labels, labelOf } from "./types.js";

/** Alertmanager-style group key: `{alertname="X",service="Y"}` over the group_by names. */
export function groupKeyOf(labels: Labels, groupBy: readonly string[], service: string | null): string {
  let out = "{";
  for (let i = 0; i < groupBy.length; i++) {
    const name = groupBy[i] as string;
    // `service` groups by the resolved service when no label carries it (EVENTS.md).
    const value = labelOf(labels, name) ?? (name === "service" ? (service ?? "") : "");
    if (i > 0) out += ",";
    out += `${name}=${JSON.stringify(value)}`;
  }
  return `${out}}`;
}

/** Generic events without a dedup_key: fingerprint of the service plus the sorted labels. */
export function genericAlertKey(labels: Labels, service: string | null): string {
  return fingerprint(service === null ? labels : { ...labels, service });
}
