import { existsSync, writeFileSync } from "node:fs";
import { modelFileJson, parseModelFile } from "../config/model-file.js";
import { PagewiseError } from "../core/errors.js";
import { activeScoring } from "../service.js";
import { SqliteStore } from "../store/sqlite/store.js";

/** `pagewise model export --db PATH`: the active model and the learning counts, as model.json. */
export async function exportModel(opts: { db: string; out?: string }): Promise<void> {
  if (!existsSync(opts.db)) throw new PagewiseError("PW_NOT_FOUND", `no database at ${opts.db}`);
  const store = await SqliteStore.open({ path: opts.db, durability: "normal" });
  try {
    const { model, learning } = activeScoring(store);
    const body = `${JSON.stringify(modelFileJson(model.model, learning), null, 2)}\n`;
    parseModelFile(JSON.parse(body)); // what we write must read back
    if (opts.out === undefined) process.stdout.write(body);
    else writeFileSync(opts.out, body);
  } finally {
    await store.close();
  }
}
