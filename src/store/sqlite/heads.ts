import type { AlertHead } from "../../engine/ports.js";

/** Entries kept at most; past this the cache starts over (it only saves lookups). */
const MAX_HEADS = 200_000;

/**
 * The heads of alerts in unresolved incidents, by source and key, as the `alertHead` query
 * returns them: a re-send (most of Prometheus' traffic) then reads nothing from SQLite. Only
 * valid because one process owns the database and every write to `alerts` and `incidents`
 * goes through SqliteTx, which tells this cache; a rolled-back transaction clears it.
 */
export class HeadCache {
  private readonly byKey = new Map<string, AlertHead>();
  private readonly keyById = new Map<number, string>();
  private readonly keysByIncident = new Map<number, Set<string>>();

  static key(source: string, alertKey: string): string {
    return `${source}\u0000${alertKey}`;
  }

  get(key: string): AlertHead | undefined {
    return this.byKey.get(key);
  }

  put(key: string, head: AlertHead): void {
    if (this.byKey.size >= MAX_HEADS) this.clear();
    this.forgetKey(key);
    this.byKey.set(key, head);
    this.keyById.set(head.id, key);
    const keys = this.keysByIncident.get(head.incidentId);
    if (keys === undefined) this.keysByIncident.set(head.incidentId, new Set([key]));
    else keys.add(key);
  }

  /** A re-send's write: a new object, as the caller may still read the old one. */
  touched(id: number, patch: Pick<AlertHead, "eventCount" | "endsAt">, annotationsJson?: string): void {
    const key = this.keyById.get(id);
    if (key === undefined) return;
    const head = this.byKey.get(key) as AlertHead;
    // A literal, not a spread: this runs for every re-send.
    this.byKey.set(key, {
      id: head.id,
      incidentId: head.incidentId,
      status: head.status,
      severity: head.severity,
      endsAt: patch.endsAt,
      eventCount: patch.eventCount,
      service: head.service,
      annotationsJson: annotationsJson ?? head.annotationsJson,
    });
  }

  forgetKey(key: string): void {
    const head = this.byKey.get(key);
    if (head === undefined) return;
    this.byKey.delete(key);
    this.keyById.delete(head.id);
    const keys = this.keysByIncident.get(head.incidentId);
    keys?.delete(key);
    if (keys?.size === 0) this.keysByIncident.delete(head.incidentId);
  }

  forgetIncident(incidentId: number): void {
    const keys = this.keysByIncident.get(incidentId);
    if (keys === undefined) return;
    for (const key of [...keys]) this.forgetKey(key);
  }

  clear(): void {
    this.byKey.clear();
    this.keyById.clear();
    this.keysByIncident.clear();
  }

  get size(): number {
    return this.byKey.size;
  }
}
