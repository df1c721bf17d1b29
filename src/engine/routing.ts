import { createHash } from "node:crypto";
import type { Incident } from "../core/incident.js";
import { type Matcher, matchesAll, parseMatcher } from "../core/policy/matchers.js";
import type { InhibitRule, Policy } from "../core/policy/types.js";
import { Times } from "../core/scoring/context.js";
import { type Labels, labelOf } from "../core/types.js";
import type { DecisionRecord, Silence, Tx } from "./ports.js";

const HOUR = 3_600_000;

/**
 * What routing needs to remember between decisions: the policies incidents are pinned to, the
 * teams' recent pages (peak load), active silences and the firing alerts that inhibit others.
 * In memory, written through; rebuilt from the store at start.
 */
export class RoutingState {
  policy: Policy;
  private readonly pinned = new Map<string, Policy>();
  private readonly pages = new Map<string, Times>();
  private silences: { silence: Silence; matchers: Matcher[] }[] = [];
  private inhibit = new InhibitIndex([]);

  constructor(
    policy: Policy,
    /** Loads an older policy version (from the store) for incidents opened under it. */
    private readonly load: (version: string) => Policy | null = () => null,
  ) {
    this.policy = policy;
    this.pinned.set(policy.version, policy);
  }

  /** A new active policy (reload); incidents keep the version they opened under. */
  setPolicy(policy: Policy, firing: readonly Labels[]): void {
    this.policy = policy;
    this.pinned.set(policy.version, policy);
    this.rebuildInhibitions(firing);
  }

  policyFor(version: string | null): Policy {
    if (version === null) return this.policy;
    let p = this.pinned.get(version);
    if (p === undefined) {
      p = this.load(version) ?? this.policy;
      this.pinned.set(version, p);
    }
    return p;
  }

  page(team: string | null, at: number): void {
    const key = team ?? "";
    let t = this.pages.get(key);
    if (t === undefined) {
      t = new Times(HOUR);
      this.pages.set(key, t);
    }
    t.push(at);
  }

  pages1h(team: string | null, at: number): number {
    return this.pages.get(team ?? "")?.count(at - HOUR, at) ?? 0;
  }

  setSilences(silences: readonly Silence[]): void {
    this.silences = silences.map((silence) => ({
      silence,
      matchers: silence.matchers
        .map((m) => parseMatcher(m))
        .filter((m): m is Matcher => typeof m !== "string"),
    }));
  }

  silenceFor(labels: Labels, at: number): Silence | null {
    for (const s of this.silences) {
      const { silence } = s;
      if (
        silence.expiredAt === null &&
        silence.startsAt <= at &&
        at < silence.endsAt &&
        matchesAll(s.matchers, labels)
      ) {
        return silence;
      }
    }
    return null;
  }

  rebuildInhibitions(firing: readonly Labels[]): void {
    this.inhibit = new InhibitIndex(this.policy.inhibitRules);
    for (const labels of firing) this.inhibit.add(labels, 1);
  }

  alertFiring(labels: Labels): void {
    this.inhibit.add(labels, 1);
  }

  alertResolved(labels: Labels): void {
    this.inhibit.add(labels, -1);
  }

  inhibitedBy(labels: Labels): InhibitRule | null {
    return this.inhibit.inhibitedBy(labels);
  }
}

/**
 * Alertmanager's inhibition: a firing alert matching a rule's source matchers mutes alerts that
 * match its target matchers and share the `equal` labels. Counted per (rule, equal values).
 */
class InhibitIndex {
  private readonly counts: Map<string, number>[];
  constructor(private readonly rules: readonly InhibitRule[]) {
    this.counts = rules.map(() => new Map());
  }

  add(labels: Labels, delta: number): void {
    this.rules.forEach((r, i) => {
      if (!matchesAll(r.source, labels)) return;
      const key = equalKey(r, labels);
      const m = this.counts[i] as Map<string, number>;
      const n = (m.get(key) ?? 0) + delta;
      if (n > 0) m.set(key, n);
      else m.delete(key);
    });
  }

  inhibitedBy(labels: Labels): InhibitRule | null {
    for (let i = 0; i < this.rules.length; i++) {
      const r = this.rules[i] as InhibitRule;
      if (!matchesAll(r.target, labels)) continue;
      const key = equalKey(r, labels);
      // An alert that is itself a source does not inhibit itself.
      const self = matchesAll(r.source, labels) ? 1 : 0;
      if (((this.counts[i] as Map<string, number>).get(key) ?? 0) - self > 0) return r;
    }
    return null;
  }
}

function equalKey(r: InhibitRule, labels: Labels): string {
  return r.equal.map((n) => labelOf(labels, n) ?? "").join("\u0000");
}

/** Appends a record to the hash chain, linked to the last one; returns its id. */
export function appendRecord(tx: Tx, r: Omit<DecisionRecord, "prevHash" | "hash">, hashed = true): number {
  const record = { ...r, prevHash: tx.lastDecisionHash() };
  // Records are a few KB: stringify once for the hash and the row.
  const bodyJson = JSON.stringify(record.body);
  return tx.insertDecision({ ...record, hash: hashed ? decisionHash(record, bodyJson) : "" }, bodyJson);
}

/** How a record names its incident. */
export function incidentBrief(i: Pick<Incident, "id" | "service" | "team" | "tier" | "severity">) {
  return { id: i.id, service: i.service, team: i.team, tier: i.tier, severity: i.severity };
}

/** The chain link: what a record's hash covers (every column but its own hash). */
export function decisionHash(d: Omit<DecisionRecord, "hash">, bodyJson = JSON.stringify(d.body)): string {
  return createHash("sha256")
    .update([d.prevHash, d.incidentId, d.at, d.reason, d.policyVersion, d.route, bodyJson].join("\u001f"))
    .digest("hex");
}
