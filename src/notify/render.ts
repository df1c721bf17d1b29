import type { Message } from "./types.js";

/**
 * Shared wording of a Message, so every channel carries the same facts: summary, service,
 * severity, score and band, the rule's rationale, the top reasons, links and ack/resolve links.
 */

export const TOP_REASONS = 5;

const KIND_LABEL: Record<Message["kind"], string> = {
  page: "PAGE",
  triage: "TRIAGE",
  notify: "NOTICE",
  update: "UPDATE",
  approval: "APPROVAL NEEDED",
  test: "TEST",
};

export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, Math.max(0, max - 1))}…` : text;
}

/** "[PAGE] Checkout error rate high" */
export function titleLine(m: Message): string {
  return `[${KIND_LABEL[m.kind]}] ${m.title}`;
}

/** "0.93 (high)", "0.93", "n/a (high)" or "n/a". */
export function scoreText(m: Message): string {
  const value = m.score === null ? "n/a" : m.score.toFixed(2);
  return m.band === null ? value : `${value} (${m.band})`;
}

export function serviceText(m: Message): string {
  const service = m.service ?? "unknown service";
  return m.team === null ? service : `${service} (team ${m.team})`;
}

/** Label and value pairs, in the order every channel shows them. */
export function facts(m: Message): [string, string][] {
  const rows: [string, string][] = [
    ["Service", serviceText(m)],
    ["Severity", m.severity],
    ["Score", scoreText(m)],
    ["Status", m.status],
  ];
  if (m.rule !== null) rows.push(["Rule", m.rule]);
  if (m.recipient !== null) rows.push(["For", m.recipient.user]);
  return rows;
}

export function topReasons(m: Message): string[] {
  return m.reasons.slice(0, TOP_REASONS);
}

export interface Action {
  action: "ack" | "resolve";
  text: string;
  href: string;
}

/** The ack/resolve links that are present, labelled. */
export function actions(m: Message): Action[] {
  const out: Action[] = [];
  if (m.ackUrl !== null) out.push({ action: "ack", text: "Acknowledge", href: m.ackUrl });
  if (m.resolveUrl !== null) out.push({ action: "resolve", text: "Resolve", href: m.resolveUrl });
  return out;
}

/** The whole message as plain text: the email body and the chat fallback. */
export function renderText(m: Message): string {
  const lines = [titleLine(m), "", m.summary, ""];
  for (const [label, value] of facts(m)) lines.push(`${label}: ${value}`);
  if (m.note !== null) lines.push("", m.note);
  if (m.rationale !== null) lines.push("", `Why this route: ${m.rationale}`);
  const reasons = topReasons(m);
  if (reasons.length > 0) lines.push("", "Top reasons:", ...reasons.map((r) => `  - ${r}`));
  if (m.links.length > 0) lines.push("", "Links:", ...m.links.map((l) => `  - ${l.text}: ${l.href}`));
  const acts = actions(m);
  if (acts.length > 0) lines.push("", ...acts.map((a) => `${a.text}: ${a.href}`));
  lines.push("", `Incident #${m.incidentId}`);
  return lines.join("\n");
}
