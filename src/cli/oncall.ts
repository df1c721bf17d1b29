import { loadConfigFile } from "../config/load.js";
import { PagewiseError } from "../core/errors.js";
import { onCallAnswer } from "../core/oncall/schedule.js";
import { parseTimestamp, toIso } from "../core/time.js";

/** `pagewise oncall --config FILE --schedule S [--at TIME]`: who is on call, until when, who is next. */
export function oncall(opts: { config: string; schedule: string; at?: string; json?: boolean }): void {
  const config = loadConfigFile(opts.config);
  const s = config.schedules.get(opts.schedule);
  if (s === undefined) {
    const known = [...config.schedules.keys()].join(", ") || "none";
    throw new PagewiseError("PW_NOT_FOUND", `schedule "${opts.schedule}" does not exist (known: ${known})`);
  }
  // The CLI is the boundary where the wall clock is read; the answer itself is pure.
  const at = opts.at === undefined ? Date.now() : parseTimestamp(opts.at);
  if (at === null) throw new PagewiseError("PW_INVALID_QUERY", `--at: not an RFC 3339 time: "${opts.at}"`);
  const a = onCallAnswer(s, at);
  if (opts.json === true) {
    console.log(
      JSON.stringify({
        schedule: s.name,
        at: toIso(at),
        user: a.user,
        layer: a.layer,
        override: a.override,
        until: a.until === null ? null : toIso(a.until),
        next: a.next === null ? null : { user: a.next.user, start: toIso(a.next.start) },
      }),
    );
    return;
  }
  if (a.user === null) console.log(`${s.name}: nobody is on call at ${toIso(at)}`);
  else {
    const why = a.override ? "override" : `layer ${a.layer}`;
    const until = a.until === null ? "" : ` until ${toIso(a.until)}`;
    console.log(`${s.name}: ${a.user} (${why})${until}`);
  }
  if (a.next !== null) console.log(`next: ${a.next.user} from ${toIso(a.next.start)}`);
}
