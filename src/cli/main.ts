import { Command, InvalidArgumentError, Option } from "commander";
import { loadConfigFile } from "../config/load.js";
import { formatProblem, PagewiseError } from "../core/errors.js";

const program = new Command();
program
  .name("pagewise")
  .description("Alert escalation and incident routing with calibrated confidence scores")
  .version("0.1.0")
  .showHelpAfterError();

program
  .command("serve")
  .description("run the HTTP server: ingest alerts, keep incidents, run timers")
  .requiredOption("--config <file>", "config file (YAML)")
  .option("--port <n>", "TCP port to listen on", port, 8080)
  .option("--host <addr>", "address to listen on", "0.0.0.0")
  .option("--db <path>", "SQLite database file", "data/pagewise.db")
  .addOption(
    new Option("--durability <mode>", "normal survives kill -9; full also survives power loss")
      .choices(["normal", "full"])
      .default("normal"),
  )
  .addOption(
    new Option("--log-level <level>", "log level")
      .choices(["fatal", "error", "warn", "info", "debug"])
      .default("info"),
  )
  .action(async (opts) => {
    // Loaded on demand so that --help and policy validate start fast.
    const { serve } = await import("./serve.js");
    await serve(opts);
  });

program
  .command("train")
  .description("fit a scoring model from labelled histories; prints held-out quality")
  .requiredOption("--config <file>", "config file (YAML)")
  .requiredOption("--history <files...>", "labelled history files (.jsonl or .jsonl.gz)")
  .option("--out <file>", "where to write the model", "model.json")
  .option("--feedback-delay <duration>", "when outcomes become known after an incident opens", "1h")
  .option("--json", "print the result as JSON")
  .action(async (opts) => {
    const { train } = await import("./train.js");
    await train(opts);
  });

program
  .command("score")
  .description("measure a model on a labelled history, scoring each incident before its outcome is known")
  .requiredOption("--config <file>", "config file (YAML)")
  .requiredOption("--history <files...>", "labelled history files (.jsonl or .jsonl.gz)")
  .option("--model <file>", "model.json (default: the cold-start model)")
  .option("--learn", "reveal outcomes after --feedback-delay; they feed fast learning and online refits")
  .option("--no-refit", "with --learn: update fast learning only, never refit the model")
  .option("--feedback-delay <duration>", "when outcomes become known after an incident opens", "1h")
  .option("--json", "print one JSON object with stable keys alert and incident")
  .action(async (opts) => {
    const { score } = await import("./score.js");
    await score(opts);
  });

program
  .command("replay")
  .description("replay a labelled history through the live engine code: routes, pages, precision and recall")
  .requiredOption("--config <file>", "config file (YAML)")
  .requiredOption("--history <files...>", "labelled history files (.jsonl or .jsonl.gz)")
  .option("--model <file>", "model.json (default: the cold-start model)")
  .option("--learn", "reveal outcomes after --feedback-delay, as responder feedback would")
  .option("--feedback-delay <duration>", "when outcomes become known after an incident opens", "1h")
  .option("--report <file>", "write a self-contained HTML report")
  .option("--json", "print one JSON object (schema in the README)")
  .action(async (opts) => {
    const { replay } = await import("./replay.js");
    await replay(opts);
  });

program
  .command("tune")
  .description("find band thresholds (per tier) and validation windows that cost least on a labelled history")
  .requiredOption("--config <file>", "config file (YAML)")
  .requiredOption("--history <files...>", "labelled history files (.jsonl or .jsonl.gz)")
  .option("--model <file>", "model.json (default: the cold-start model)")
  .option("--learn", "reveal outcomes after --feedback-delay, as responder feedback would")
  .option("--feedback-delay <duration>", "when outcomes become known after an incident opens", "1h")
  .option("--report <file>", "write a self-contained HTML report with the tuning charts")
  .option("--cost-false-page <n>", "cost of paging for a false alarm", "1")
  .option("--cost-missed <n>", "cost of not paging a genuine incident", "20")
  .option("--cost-delay-per-min <n>", "cost of each minute a genuine page waited", "0.1")
  .option("--min-recall <r>", "paging recall floor (0..1)", "0.95")
  .option("--json", "print one JSON object")
  .action(async (opts) => {
    const { tuneCommand } = await import("./tune.js");
    await tuneCommand(opts);
  });

const model = program.command("model").description("the scoring model stored in a database");
model
  .command("export")
  .description("write the active model (with its fast-learning counts) as JSON")
  .requiredOption("--db <path>", "SQLite database file")
  .option("--out <file>", "file to write (default: stdout)")
  .action(async (opts) => {
    const { exportModel } = await import("./model.js");
    await exportModel(opts);
  });

program
  .command("explain")
  .description("score and decide one event as the live service would, and say why (amtool's routes test)")
  .requiredOption("--config <file>", "config file (YAML)")
  .requiredOption("--event <file>", "one generic event as JSON (needs a source; `at` or --at)")
  .option("--at <time>", "when it happens (RFC 3339); decides maintenance windows and business hours")
  .option(
    "--context <key=value...>",
    "override the moment: score, business_hours, maintenance, recent_deploy, team_pages_1h, team_load, incident_alerts, silenced, inhibited",
  )
  .option("--model <file>", "model.json (default: the cold-start model)")
  .option("--json", "print the stable JSON schema documented in the README")
  .action(async (opts) => {
    const { explain } = await import("./explain.js");
    await explain(opts);
  });

const silence = program
  .command("silence")
  .description("mute incidents by matchers, on a running server (like amtool)");
const apiOpts = (c: Command) =>
  c
    .option("--url <url>", "the server (default PAGEWISE_URL or http://127.0.0.1:8080)")
    .option("--token <token>", "an API token (default PAGEWISE_TOKEN)");
apiOpts(
  silence
    .command("add")
    .description("add a silence")
    .requiredOption(
      "--matcher <matcher...>",
      'Alertmanager matchers, e.g. service="checkout" alertname=~"Disk.*"',
    )
    .requiredOption("--comment <text>", "why (it is shown on every muted decision)")
    .option("--duration <duration>", "how long (default 1h)")
    .option("--start <time>", "RFC 3339 start (default now)")
    .option("--end <time>", "RFC 3339 end (instead of --duration)"),
).action(async (opts) => {
  const { silenceAdd } = await import("./silence.js");
  await silenceAdd(opts);
});
apiOpts(
  silence.command("list").description("list silences").option("--expired", "include expired ones"),
).action(async (opts) => {
  const { silenceList } = await import("./silence.js");
  await silenceList(opts);
});
apiOpts(silence.command("expire").description("end a silence now").argument("<id>", "silence id")).action(
  async (id: string, opts) => {
    const { silenceExpire } = await import("./silence.js");
    await silenceExpire({ ...opts, id });
  },
);

program
  .command("audit")
  .description("check the decision records")
  .command("verify")
  .description("walk the hash chain of decision records; exit 1 at the first broken link")
  .requiredOption("--db <path>", "SQLite database file")
  .option("--json", "print the result as JSON")
  .action(async (opts) => {
    const { auditVerify } = await import("./audit.js");
    await auditVerify(opts);
  });

program
  .command("oncall")
  .description("say who is on call for a schedule (now or --at a time), until when, and who is next")
  .requiredOption("--config <file>", "config file (YAML)")
  .requiredOption("--schedule <name>", "schedule name")
  .option("--at <time>", "RFC 3339 time (default now)")
  .option("--json", "print one JSON object")
  .action(async (opts) => {
    const { oncall } = await import("./oncall.js");
    oncall(opts);
  });

program
  .command("simulate")
  .description(
    "run a game day scenario on a virtual clock through the real engine; exit 1 if an expectation fails",
  )
  .requiredOption("--config <file>", "config file (YAML)")
  .argument("<scenario>", "scenario file (YAML): events at offsets and expectations")
  .option("--deliver", "send messages for real through the configured channels (default: capture them)")
  .option("--json", "print the stable JSON document documented in the README")
  .action(async (file: string, opts) => {
    const { simulate } = await import("./simulate.js");
    await simulate(file, opts);
  });

const policy = program.command("policy").description("check a configuration before it goes live");
policy
  .command("validate")
  .description("validate a whole config file; prints every problem as path: reason")
  .argument("<file>", "config file (YAML)")
  .action((file: string) => {
    loadConfigFile(file);
    console.log(`${file}: valid`);
  });

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535)
    throw new InvalidArgumentError("must be a whole number from 0 to 65535");
  return n;
}

program.exitOverride((err) => {
  // Help and version exit 0; every usage error exits 1 (commander already printed why).
  process.exit(err.exitCode === 0 ? 0 : 1);
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof PagewiseError) {
    console.error(`error: ${err.message}`);
    for (const p of err.problems) console.error(`  ${formatProblem(p)}`);
  } else {
    console.error(`error: ${(err as Error).message ?? String(err)}`);
  }
  process.exit(1);
}
