import { statSync } from "node:fs";
import Database from "better-sqlite3";
import { seriesOfInstance } from "./series.mjs";

/**
 * Opens the stopped server's SQLite file and checks that every alert the server acknowledged
 * is there: one stored alert per acknowledged series (re-sends update it, they add no row), and
 * its event_count adds up to at least the number of acknowledged sends.
 */
export function checkDurability(dbPath, state, source = "prometheus") {
  // Sizes as the server left them: opening and closing the file checkpoints the WAL away.
  const dbBytes = sizeOf(dbPath);
  const walBytes = sizeOf(`${dbPath}-wal`);
  // Read-write on purpose: after a SIGKILL the WAL must be replayed, which needs write access.
  const db = new Database(dbPath, { fileMustExist: true });
  try {
    const rows = db
      .prepare(
        "SELECT json_extract(labels, '$.instance') AS instance, event_count FROM alerts WHERE source = ?",
      )
      .all(source);
    const stored = new Uint8Array(state.series.count);
    let storedSeries = 0;
    let foreign = 0;
    let duplicates = 0;
    let eventCountSum = 0;
    for (const row of rows) {
      const i = seriesOfInstance(row.instance);
      if (i === null || i >= stored.length) {
        foreign++;
        continue;
      }
      if (stored[i] === 1) duplicates++;
      else storedSeries++;
      stored[i] = 1;
      eventCountSum += row.event_count;
    }
    let missing = 0; // acknowledged, not stored: a lost alert
    let unacked = 0; // stored, never acknowledged: harmless (its request failed after commit)
    for (let i = 0; i < stored.length; i++) {
      if (state.acked[i] === 1 && stored[i] === 0) missing++;
      if (state.acked[i] === 0 && stored[i] === 1) unacked++;
    }
    const ackedSeries = state.ackedSeries();
    const sendsOk =
      eventCountSum >= state.ackedSends && eventCountSum <= state.ackedSends + state.unsureSends;
    return {
      ok: missing === 0 && duplicates === 0 && foreign === 0 && storedSeries === ackedSeries && sendsOk,
      ackedSeries,
      storedSeries,
      missing,
      unacked,
      duplicates,
      foreign,
      ackedSends: state.ackedSends,
      eventCountSum,
      dbBytes,
      walBytes,
    };
  } finally {
    db.close();
  }
}

export function describeDurability(d) {
  const verdict = d.ok ? "OK: every acknowledged alert is durable" : "FAILED";
  return (
    `${verdict}; acknowledged series ${d.ackedSeries}, stored alerts ${d.storedSeries}` +
    ` (missing ${d.missing}, unacknowledged ${d.unacked}, duplicate rows ${d.duplicates}, foreign ${d.foreign});` +
    ` acknowledged sends ${d.ackedSends}, sum of event_count ${d.eventCountSum};` +
    ` database ${mib(d.dbBytes)} MiB + WAL ${mib(d.walBytes)} MiB`
  );
}

function sizeOf(path) {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function mib(bytes) {
  return (bytes / 1024 / 1024).toFixed(1);
}
