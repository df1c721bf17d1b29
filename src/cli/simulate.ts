import { readFileSync } from "node:fs";
import { loadConfigFile } from "../config/load.js";
import { PagewiseError } from "../core/errors.js";
import { evaluate } from "../sim/expect.js";
import { parseScenario } from "../sim/parse.js";
import { jsonReport, summary, textReport } from "../sim/report.js";
import { runGameDay } from "../sim/run.js";

export interface SimulateCliOptions {
  config: string;
  deliver?: boolean;
  json?: boolean;
}

/** `pagewise simulate`: a game day on a virtual clock; exit 1 when an expectation fails. */
export async function simulate(file: string, opts: SimulateCliOptions): Promise<void> {
  const config = loadConfigFile(opts.config);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new PagewiseError("PW_CONFIG_INVALID", `cannot read scenario ${file}`, [
      { path: "", reason: (err as Error).message },
    ]);
  }
  const scenario = parseScenario(text, config, file);
  const day = await runGameDay({ config, scenario, deliver: opts.deliver === true });
  const verdicts = evaluate(day, config);
  if (opts.json === true) process.stdout.write(`${JSON.stringify(jsonReport(day, verdicts), null, 2)}\n`);
  else process.stdout.write(textReport(day, verdicts));
  if (summary(verdicts).failed > 0) process.exitCode = 1;
}
