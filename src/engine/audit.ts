import type { Store } from "./ports.js";
import { decisionHash } from "./routing.js";

export type ChainCheck =
  | { ok: true; checked: number; head: string }
  | { ok: false; checked: number; brokenAt: number; reason: string };

/**
 * Walks the decision records in order: each must carry the previous record's hash, and its own
 * hash must match its content. The first break is reported: a row edited, removed or inserted.
 */
export function verifyChain(store: Store, batch = 1000): ChainCheck {
  let prev = "";
  let after = 0;
  let checked = 0;
  for (;;) {
    const rows = store.decisionsFrom(after, batch);
    if (rows.length === 0) return { ok: true, checked, head: prev };
    for (const r of rows) {
      if (r.prevHash !== prev) {
        return {
          ok: false,
          checked,
          brokenAt: r.id,
          reason: "it does not chain to the record before it (one was removed, inserted or changed)",
        };
      }
      const { hash, id: _id, ...content } = r;
      if (decisionHash(content) !== hash) {
        return {
          ok: false,
          checked,
          brokenAt: r.id,
          reason: "its content does not match its hash (the row was edited)",
        };
      }
      prev = hash;
      after = r.id;
      checked++;
    }
  }
}
