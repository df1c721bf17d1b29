import { existsSync, mkdirSync, realpathSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import { PagewiseError } from "../../core/errors.js";

/**
 * One process serves a SQLite file: the alert-head cache and the release of leases at start
 * depend on it. The owner holds an exclusive lock on `<db>.lock` (a small SQLite file in
 * exclusive locking mode) for as long as it runs; the operating system drops the lock when the
 * process ends, kill -9 included. Readers of the database itself are not affected.
 */
export class OwnerLock {
  private constructor(private readonly db: Database.Database) {}

  static take(dbPath: string): OwnerLock {
    // The file, not the name it was given: a symlink or a relative path reaches the same lock.
    const real = existsSync(dbPath) ? realpathSync(dbPath) : resolve(dbPath);
    const path = `${real}.lock`;
    mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    try {
      db.pragma("busy_timeout = 0");
      db.pragma("locking_mode = EXCLUSIVE");
      // The first write takes the lock; exclusive mode keeps it until the connection closes.
      db.exec("CREATE TABLE IF NOT EXISTS owner (pid INTEGER NOT NULL); DELETE FROM owner;");
      db.prepare("INSERT INTO owner (pid) VALUES (?)").run(process.pid);
    } catch (err) {
      db.close();
      if ((err as { code?: unknown }).code === "SQLITE_BUSY")
        throw new PagewiseError(
          "PW_STORE_UNAVAILABLE",
          `${dbPath} is already served by another process (it holds ${path}); one process serves a database file`,
        );
      throw err;
    }
    return new OwnerLock(db);
  }

  release(): void {
    if (this.db.open) this.db.close();
  }
}
