import { createHash } from "node:crypto";
import ical from "ical-generator";
import type { User } from "./config/oncall.js";
import { shifts } from "./core/oncall/schedule.js";
import type { Schedule } from "./core/oncall/types.js";

/**
 * A schedule's shifts in [from, to) as an iCal feed, one VEVENT per shift, times in UTC so every
 * calendar shows them in its own zone. A UID depends on the schedule, user and start only, so a
 * shift keeps its UID when its end moves (an override) and calendars update it in place.
 */
export function scheduleCalendar(
  schedule: Schedule,
  users: ReadonlyMap<string, User>,
  from: number,
  to: number,
  opts: { url?: string; stamp?: number } = {},
): string {
  const cal = ical({
    name: `On call: ${schedule.name}`,
    prodId: { company: "pagewise", product: "pagewise", language: "EN" },
    url: opts.url ?? null,
  });
  for (const s of shifts(schedule, from, to)) {
    const user = users.get(s.user);
    const why = s.override ? "override" : `layer ${s.layer ?? "?"}`;
    const contact = [user?.email, user?.slack && `Slack ${user.slack}`].filter(Boolean).join(", ");
    cal.createEvent({
      id: `${createHash("sha256").update(`${schedule.name}\u0000${s.user}\u0000${s.start}`).digest("hex").slice(0, 24)}@pagewise`,
      start: new Date(s.start),
      end: new Date(s.end),
      // Deterministic by default (the same inputs give the same bytes, e.g. for an ETag).
      stamp: new Date(opts.stamp ?? from),
      summary: `On call: ${s.user} (${schedule.name})`,
      description: `${s.user} is on call for ${schedule.name} (${why}).${contact ? ` Contact: ${contact}.` : ""}`,
      ...(opts.url === undefined ? {} : { url: opts.url }),
    });
  }
  return cal.toString();
}
