import { timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Config } from "../../config/types.js";
import { PagewiseError } from "../../core/errors.js";
import { type OnCallAnswer, onCallAnswer } from "../../core/oncall/schedule.js";
import type { Schedule } from "../../core/oncall/types.js";
import { parseTimestamp, toIso, toIsoOrNull } from "../../core/time.js";
import type { Engine } from "../../engine/engine.js";
import { scheduleCalendar } from "../../oncall-ical.js";
import { tokenFor } from "../auth.js";

const DAY = 86_400_000;
/** The feed shows the last week (for handover notes) and the next two months. */
const FEED_PAST = 7 * DAY;
const FEED_AHEAD = 60 * DAY;

/** Who is on call (now or at a time), and each schedule's calendar feed. */
export function scheduleRoutes(app: FastifyInstance, engine: Engine): void {
  app.get("/api/v1/schedules", async (request) => {
    tokenFor(engine.config, request, "viewer");
    const now = engine.clock.now();
    return {
      schedules: [...engine.config.schedules.values()].map((s) => ({
        name: s.name,
        team: s.team,
        timezone: s.timezone,
        oncall: answerJson(engine.config, onCallAnswer(s, now)),
        ics_url: feedUrl(engine, s.name),
      })),
    };
  });

  app.get("/api/v1/schedules/:name/oncall", async (request) => {
    tokenFor(engine.config, request, "viewer");
    const s = schedule(engine.config, (request.params as { name: string }).name);
    const raw = (request.query as { at?: string }).at;
    const at = raw === undefined ? engine.clock.now() : parseTimestamp(raw);
    if (at === null) {
      throw new PagewiseError("PW_INVALID_QUERY", "at: must be an RFC 3339 time, e.g. 2026-12-24T09:00:00Z", [
        { path: "at", reason: `not an RFC 3339 time: "${raw}"` },
      ]);
    }
    return { schedule: s.name, at: toIso(at), ...answerJson(engine.config, onCallAnswer(s, at)) };
  });

  // Calendar apps cannot send a bearer token: the feed URL carries a key derived from the link secret.
  app.get("/api/v1/schedules/:file", async (request, reply) => {
    const file = (request.params as { file: string }).file;
    if (!file.endsWith(".ics")) throw new PagewiseError("PW_NOT_FOUND", `no route GET ${request.url}`);
    // Credentials first: without them, a missing schedule must look like a present one (401).
    const name = file.slice(0, -4);
    if (!feedKeyMatches(engine, request, name)) tokenFor(engine.config, request, "viewer");
    const s = schedule(engine.config, name);
    const now = engine.clock.now();
    const body = scheduleCalendar(s, engine.config.users, now - FEED_PAST, now + FEED_AHEAD, {
      ...(engine.config.publicUrl === null ? {} : { url: feedUrl(engine, s.name) ?? undefined }),
      stamp: now,
    });
    return reply
      .header("content-type", "text/calendar; charset=utf-8")
      .header("content-disposition", `inline; filename="${s.name}.ics"`)
      .send(body);
  });
}

function schedule(config: Config, name: string): Schedule {
  const s = config.schedules.get(name);
  if (s === undefined) throw new PagewiseError("PW_NOT_FOUND", `schedule "${name}" does not exist`);
  return s;
}

function answerJson(config: Config, a: OnCallAnswer) {
  const u = a.user === null ? undefined : config.users.get(a.user);
  return {
    user: a.user,
    contact: u === undefined ? null : { email: u.email, slack: u.slack, phone: u.phone },
    layer: a.layer,
    override: a.override,
    until: toIsoOrNull(a.until),
    next: a.next === null ? null : { user: a.next.user, start: toIso(a.next.start) },
  };
}

function feedUrl(engine: Engine, name: string): string | null {
  const base = engine.config.publicUrl?.replace(/\/+$/, "");
  return base === undefined
    ? null
    : `${base}/api/v1/schedules/${encodeURIComponent(name)}.ics?key=${engine.feedKey(name)}`;
}

function feedKeyMatches(engine: Engine, request: FastifyRequest, name: string): boolean {
  const key = (request.query as { key?: string }).key;
  if (key === undefined) return false;
  const want = Buffer.from(engine.feedKey(name));
  const given = Buffer.from(key);
  return given.length === want.length && timingSafeEqual(given, want);
}
