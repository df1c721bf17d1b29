import { existsSync } from "node:fs";
import { PagewiseError } from "../core/errors.js";
import { verifyChain } from "../engine/audit.js";
import { SqliteStore } from "../store/sqlite/store.js";

/** `pagewise audit verify --db PATH`: exit 0 when the chain is whole, 1 at the first broken link. */
export async function auditVerify(opts: { db: string; json?: boolean }): Promise<void> {
  if (!existsSync(opts.db)) throw new PagewiseError("PW_NOT_FOUND", `no database at ${opts.db}`);
  const store = await SqliteStore.open({ path: opts.db, durability: "normal" });
  try {
    const r = verifyChain(store);
    if (opts.json === true) process.stdout.write(`${JSON.stringify(r)}\n`);
    else if (r.ok)
      console.log(
        `audit chain intact: ${r.checked} decision records, head ${r.head.slice(0, 16) || "(empty)"}`,
      );
    else
      console.log(
        `audit chain BROKEN at decision ${r.brokenAt}: ${r.reason} (${r.checked} records verified before it)`,
      );
    if (!r.ok) process.exitCode = 1;
  } finally {
    await store.close();
  }
}
