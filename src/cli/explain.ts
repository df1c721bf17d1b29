import { readFileSync } from "node:fs";
import { loadConfigFile } from "../config/load.js";
import { readModelFile } from "../config/model-file.js";
import { PagewiseError } from "../core/errors.js";
import { DEFAULT_MODEL } from "../core/scoring/model.js";
import { parseTimestamp } from "../core/time.js";
import { explainEvent, explainedJson } from "../replay/explain.js";

export interface ExplainCliOptions {
  config: string;
  event: string;
  at?: string;
  context?: string[];
  model?: string;
  json?: boolean;
}

/** `pagewise explain`: Pagewise's `amtool config routes test`, with the score and the why. */
export async function explain(opts: ExplainCliOptions): Promise<void> {
  const config = loadConfigFile(opts.config);
  let event: unknown;
  try {
    event = JSON.parse(readFileSync(opts.event, "utf8"));
  } catch (err) {
    throw new PagewiseError(
      "PW_INVALID_BODY",
      `cannot read --event ${opts.event}: ${(err as Error).message}`,
    );
  }
  let at: number | undefined;
  if (opts.at !== undefined) {
    const t = parseTimestamp(opts.at);
    if (t === null) throw new PagewiseError("PW_INVALID_QUERY", `--at ${opts.at}: must be an RFC 3339 time`);
    at = t;
  }
  const overrides: Record<string, string> = {};
  for (const kv of opts.context ?? []) {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw new PagewiseError("PW_INVALID_QUERY", `--context ${kv}: write key=value`);
    overrides[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const file = opts.model === undefined ? null : readModelFile(opts.model);
  const e = explainEvent({
    config,
    event,
    ...(at === undefined ? {} : { at }),
    overrides,
    model: file?.model ?? DEFAULT_MODEL,
    ...(file?.learning == null ? {} : { learning: file.learning }),
  });
  const json = explainedJson(e);
  if (opts.json === true) {
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
    return;
  }
  console.log(json.explanation);
  const tried = e.decision.rulesTried;
  if (tried.length > 0) {
    console.log("Rules tried before it:");
    for (const r of tried) console.log(`  ${r.id}: ${r.whyNot}`);
  }
}
