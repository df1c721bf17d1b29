import { type Kysely, type Migration, type MigrationProvider, sql } from "kysely";

/**
 * Schema migrations, written with Kysely's schema builder so that a PostgreSQL dialect can run
 * the same list. Append only: never edit a migration that has shipped.
 */
export const migrations: Record<string, Migration> = {
  "0001_incidents_alerts_events_timers": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("incidents")
        .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
        .addColumn("source", "text", (c) => c.notNull())
        .addColumn("group_key", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("service", "text")
        .addColumn("service_known", "integer", (c) => c.notNull())
        .addColumn("team", "text")
        .addColumn("tier", "integer", (c) => c.notNull())
        .addColumn("severity", "text", (c) => c.notNull())
        .addColumn("summary", "text", (c) => c.notNull())
        .addColumn("opened_at", "bigint", (c) => c.notNull())
        .addColumn("last_event_at", "bigint", (c) => c.notNull())
        .addColumn("acknowledged_at", "bigint")
        .addColumn("acknowledged_by", "text")
        .addColumn("resolved_at", "bigint")
        .addColumn("resolved_by", "text")
        .addColumn("resolve_reason", "text")
        .addColumn("alert_count", "integer", (c) => c.notNull())
        .addColumn("open_alert_count", "integer", (c) => c.notNull())
        .execute();
      // At most one open incident per (source, group key): EVENTS.md.
      await db.schema
        .createIndex("incidents_open_group")
        .on("incidents")
        .columns(["source", "group_key"])
        .unique()
        .where(sql.ref("status"), "<>", "resolved")
        .execute();
      await db.schema.createIndex("incidents_status").on("incidents").columns(["status", "id"]).execute();
      await db.schema.createIndex("incidents_service").on("incidents").columns(["service", "id"]).execute();
      await db.schema.createIndex("incidents_resolved").on("incidents").columns(["resolved_at"]).execute();

      await db.schema
        .createTable("alerts")
        .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
        .addColumn("incident_id", "integer", (c) => c.notNull())
        .addColumn("source", "text", (c) => c.notNull())
        .addColumn("alert_key", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("summary", "text", (c) => c.notNull())
        .addColumn("severity", "text", (c) => c.notNull())
        .addColumn("service", "text")
        .addColumn("labels", "text", (c) => c.notNull())
        .addColumn("annotations", "text", (c) => c.notNull())
        .addColumn("links", "text", (c) => c.notNull())
        .addColumn("upstream_score", "real")
        .addColumn("starts_at", "bigint", (c) => c.notNull())
        .addColumn("ends_at", "bigint")
        .addColumn("first_seen", "bigint", (c) => c.notNull())
        .addColumn("last_seen", "bigint", (c) => c.notNull())
        .addColumn("resolved_at", "bigint")
        .addColumn("event_count", "integer", (c) => c.notNull())
        .addColumn("raw", "text", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("alerts_key").on("alerts").columns(["source", "alert_key", "id"]).execute();
      await db.schema.createIndex("alerts_incident").on("alerts").columns(["incident_id"]).execute();

      await db.schema
        .createTable("events")
        .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
        .addColumn("received_at", "bigint", (c) => c.notNull())
        .addColumn("at", "bigint", (c) => c.notNull())
        .addColumn("source", "text", (c) => c.notNull())
        .addColumn("action", "text", (c) => c.notNull())
        .addColumn("alert_key", "text")
        .addColumn("incident_id", "integer")
        .addColumn("service", "text")
        .addColumn("summary", "text", (c) => c.notNull())
        .addColumn("raw", "text", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("events_received").on("events").columns(["received_at"]).execute();
      await db.schema.createIndex("events_incident").on("events").columns(["incident_id"]).execute();
      await db.schema.createIndex("events_service_at").on("events").columns(["service", "at"]).execute();

      await db.schema
        .createTable("timeline")
        .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
        .addColumn("incident_id", "integer", (c) => c.notNull())
        .addColumn("at", "bigint", (c) => c.notNull())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("actor", "text")
        .addColumn("detail", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("timeline_incident")
        .on("timeline")
        .columns(["incident_id", "id"])
        .execute();

      await db.schema
        .createTable("timers")
        .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("ref", "bigint", (c) => c.notNull())
        .addColumn("due_at", "bigint", (c) => c.notNull())
        .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("lease_owner", "text")
        .addColumn("lease_until", "bigint")
        .execute();
      await db.schema.createIndex("timers_kind_ref").on("timers").columns(["kind", "ref"]).unique().execute();
      await db.schema.createIndex("timers_due").on("timers").columns(["due_at"]).execute();
    },
  },
};

migrations["0002_scoring"] = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable("incidents").addColumn("score", "real").execute();
    await db.schema.alterTable("incidents").addColumn("score_model", "text").execute();
    await db.schema.alterTable("incidents").addColumn("scored_at", "bigint").execute();

    // What the in-memory context is folded from; a restart folds them again (a week at most).
    await db.schema
      .createTable("signals")
      .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
      .addColumn("at", "bigint", (c) => c.notNull())
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("body", "text", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("signals_at").on("signals").columns(["at", "id"]).execute();

    await db.schema
      .createTable("scores")
      .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
      .addColumn("incident_id", "integer", (c) => c.notNull())
      .addColumn("at", "bigint", (c) => c.notNull())
      .addColumn("reason", "text", (c) => c.notNull())
      .addColumn("value", "real", (c) => c.notNull())
      .addColumn("model_version", "text", (c) => c.notNull())
      .addColumn("features", "text", (c) => c.notNull())
      .addColumn("contributions", "text", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("scores_incident").on("scores").columns(["incident_id", "id"]).execute();

    await db.schema
      .createTable("feedback")
      .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
      .addColumn("incident_id", "integer", (c) => c.notNull())
      .addColumn("at", "bigint", (c) => c.notNull())
      .addColumn("author", "text", (c) => c.notNull())
      .addColumn("verdict", "text", (c) => c.notNull())
      .addColumn("route_fit", "text")
      .addColumn("note", "text")
      .execute();
    await db.schema.createIndex("feedback_incident").on("feedback").columns(["incident_id", "id"]).execute();

    // Fast-learning counts; they outlive incidents (retention prunes incidents, not what they taught).
    await db.schema
      .createTable("learning")
      .addColumn("source", "text", (c) => c.notNull())
      .addColumn("alertname", "text", (c) => c.notNull())
      .addColumn("genuine", "real", (c) => c.notNull())
      .addColumn("false_alarms", "real", (c) => c.notNull())
      .addPrimaryKeyConstraint("learning_pk", ["source", "alertname"])
      .execute();

    await db.schema
      .createTable("models")
      .addColumn("version", "text", (c) => c.primaryKey())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("body", "text", (c) => c.notNull())
      .addColumn("active", "integer", (c) => c.notNull())
      .execute();
  },
};

migrations["0003_recent_outcomes"] = {
  async up(db: Kysely<unknown>) {
    // The fading "recent" rate survives a restart instead of starting cold.
    await db.schema
      .alterTable("learning")
      .addColumn("recent_genuine", "real", (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .alterTable("learning")
      .addColumn("recent_false_alarms", "real", (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .alterTable("learning")
      .addColumn("recent_at", "bigint", (c) => c.notNull().defaultTo(0))
      .execute();
  },
};

migrations["0004_policy"] = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable("incidents").addColumn("policy_version", "text").execute();
    await db.schema.alterTable("incidents").addColumn("route", "text").execute();

    // Append-only and hash-chained: each row carries the previous row's hash.
    await db.schema
      .createTable("decisions")
      .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
      .addColumn("incident_id", "integer", (c) => c.notNull())
      .addColumn("at", "bigint", (c) => c.notNull())
      .addColumn("reason", "text", (c) => c.notNull())
      .addColumn("policy_version", "text", (c) => c.notNull())
      .addColumn("route", "text", (c) => c.notNull())
      .addColumn("body", "text", (c) => c.notNull())
      .addColumn("prev_hash", "text", (c) => c.notNull())
      .addColumn("hash", "text", (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("decisions_incident")
      .on("decisions")
      .columns(["incident_id", "id"])
      .execute();
    await db.schema.createIndex("decisions_at").on("decisions").columns(["at"]).execute();

    await db.schema
      .createTable("silences")
      .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
      .addColumn("matchers", "text", (c) => c.notNull())
      .addColumn("starts_at", "bigint", (c) => c.notNull())
      .addColumn("ends_at", "bigint", (c) => c.notNull())
      .addColumn("author", "text", (c) => c.notNull())
      .addColumn("comment", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("expired_at", "bigint")
      .execute();

    // Every policy version that was ever active, with its text.
    await db.schema
      .createTable("policies")
      .addColumn("version", "text", (c) => c.primaryKey())
      .addColumn("text", "text", (c) => c.notNull())
      .addColumn("loaded_at", "bigint", (c) => c.notNull())
      .execute();
  },
};

migrations["0005_escalation"] = {
  async up(db: Kysely<unknown>) {
    // Escalation snapshot (chain, step, fence) and a human's reassignment, on the incident.
    await db.schema.alterTable("incidents").addColumn("escalation", "text").execute();
    await db.schema.alterTable("incidents").addColumn("assignee", "text").execute();
    // Timers carry data their handler checks (an escalation step's fence).
    await db.schema.alterTable("timers").addColumn("payload", "text").execute();

    // The outbox: written in the decision's transaction, delivered at least once, visibly.
    await db.schema
      .createTable("outbox")
      .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
      .addColumn("incident_id", "integer", (c) => c.notNull())
      .addColumn("channel", "text", (c) => c.notNull())
      .addColumn("recipient", "text")
      .addColumn("adhoc_url", "text")
      .addColumn("message", "text", (c) => c.notNull())
      .addColumn("idempotency_key", "text", (c) => c.notNull().unique())
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("next_attempt_at", "bigint", (c) => c.notNull())
      .addColumn("lease_until", "bigint")
      .addColumn("last_error", "text")
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("sent_at", "bigint")
      .execute();
    await db.schema.createIndex("outbox_due").on("outbox").columns(["status", "next_attempt_at"]).execute();
    await db.schema.createIndex("outbox_incident").on("outbox").columns(["incident_id", "id"]).execute();

    // Signed links work once.
    await db.schema
      .createTable("link_uses")
      .addColumn("token", "text", (c) => c.primaryKey())
      .addColumn("used_at", "bigint", (c) => c.notNull())
      .addColumn("incident_id", "integer", (c) => c.notNull())
      .execute();
    await db.schema
      .createTable("meta")
      .addColumn("key", "text", (c) => c.primaryKey())
      .addColumn("value", "text", (c) => c.notNull())
      .execute();
  },
};

migrations["0006_automation"] = {
  async up(db: Kysely<unknown>) {
    // Runbook runs: the columns the runner claims by, and the run itself as JSON.
    await db.schema
      .createTable("runbook_runs")
      .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
      .addColumn("incident_id", "integer", (c) => c.notNull())
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("lease_until", "bigint")
      .addColumn("body", "text", (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("runbook_runs_due")
      .on("runbook_runs")
      .columns(["status", "lease_until"])
      .execute();
    await db.schema
      .createIndex("runbook_runs_incident")
      .on("runbook_runs")
      .columns(["incident_id", "id"])
      .execute();
    await db.schema
      .createTable("heartbeats")
      .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
      .addColumn("name", "text", (c) => c.notNull().unique())
      .addColumn("last_seen", "bigint")
      .addColumn("missed_at", "bigint")
      .execute();
  },
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};

export const LATEST_MIGRATION = Object.keys(migrations).sort().at(-1) as string;
