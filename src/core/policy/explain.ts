import type { Decision, Route } from "./types.js";

/** One line per route, as people read them in notifications and the API. */
export function routeText(r: Route): string {
  switch (r.kind) {
    case "page":
      return `page${r.chain === null ? "" : ` via chain ${r.chain}`}${r.twoPerson ? ", two people at once" : ""}`;
    case "runbook":
      return `run playbook ${r.playbook} (if it fails: ${routeText(r.onFailure)})`;
    case "triage":
      return `open a triage${r.team === null ? " with the owning team" : ` with team ${r.team}`}${r.channel === null ? "" : ` in ${r.channel}`}`;
    case "validate":
      return `hold for validation for ${Math.round(r.forMs / 60_000)} min, then ${routeText(r.after)}`;
    case "notify":
      return `notify${r.channel === null ? " the secondary channel" : ` ${r.channel}`}`;
    case "suppress":
      return "record only";
    default: {
      const never: never = r;
      return String(never);
    }
  }
}

/** The human-readable explanation of a decision (GET /api/v1/decisions/:id, `explain`). */
export function explainDecision(d: Decision, contributions: readonly { text: string }[] = []): string {
  const lines: string[] = [];
  lines.push(`${capital(routeText(d.route))}: rule ${d.rule.id}. ${sentence(d.rule.rationale)}`);
  const t = d.thresholds;
  const shifted = d.modifiers.filter((m) => m.effect.startsWith("thresholds"));
  lines.push(
    `Confidence ${d.score.toFixed(2)} is ${d.band} (high >= ${t.high.toFixed(2)}, medium >= ${t.medium.toFixed(2)}${
      shifted.length > 0 ? `, after ${shifted.map((m) => m.id).join(", ")}` : ""
    }).`,
  );
  if (contributions.length > 0)
    lines.push(
      `Why: ${contributions
        .slice(0, 5)
        .map((c) => c.text)
        .join("; ")}.`,
    );
  for (const m of d.modifiers) lines.push(`Modifier ${m.id}: ${m.effect}. ${sentence(m.rationale)}`);
  for (const a of d.also) lines.push(`Also (rule ${a.rule}, continue): ${routeText(a.route)}.`);
  if (d.counterfactual !== null) lines.push(`Counterfactual: ${d.counterfactual.text}.`);
  if (d.maintenance !== null) lines.push(`In maintenance window ${d.maintenance}.`);
  if (d.mutedBy !== null)
    lines.push(`Muted by ${d.mutedBy.kind} ${d.mutedBy.id}: ${sentence(d.mutedBy.reason)} Nothing is sent.`);
  return lines.join("\n");
}

/** Ends with a full stop unless it already ends a sentence. */
function sentence(s: string): string {
  const t = s.trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** A route on the wire and in records (snake_case). */
export function routeJson(r: Route): Record<string, unknown> {
  switch (r.kind) {
    case "page":
      return { kind: r.kind, chain: r.chain, two_person: r.twoPerson };
    case "runbook":
      return { kind: r.kind, playbook: r.playbook, on_failure: routeJson(r.onFailure) };
    case "triage":
      return { kind: r.kind, team: r.team, channel: r.channel };
    case "validate":
      return {
        kind: r.kind,
        for_s: r.forMs / 1000,
        after: routeJson(r.after),
        confirm_above: r.confirmAbove,
      };
    case "notify":
      return { kind: r.kind, channel: r.channel };
    case "suppress":
      return { kind: r.kind };
    default: {
      const never: never = r;
      return { kind: String(never) };
    }
  }
}

/** The inverse of routeJson, for records read back (they were written by routeJson). */
export function routeFromJson(j: Record<string, unknown>): Route {
  const name = (v: unknown) => (typeof v === "string" ? v : null);
  switch (j.kind) {
    case "page":
      return { kind: "page", chain: name(j.chain), twoPerson: j.two_person === true };
    case "runbook":
      return {
        kind: "runbook",
        playbook: String(j.playbook),
        onFailure: routeFromJson((j.on_failure ?? { kind: "page" }) as Record<string, unknown>),
      };
    case "triage":
      return { kind: "triage", team: name(j.team), channel: name(j.channel) };
    case "validate":
      return {
        kind: "validate",
        forMs: Math.round(Number(j.for_s) * 1000),
        after: routeFromJson((j.after ?? { kind: "page" }) as Record<string, unknown>),
        confirmAbove: typeof j.confirm_above === "number" ? j.confirm_above : null,
      };
    case "notify":
      return { kind: "notify", channel: name(j.channel) };
    default:
      return { kind: "suppress" };
  }
}
