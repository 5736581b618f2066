/**
 * Opens the SQLite snapshot: WAL (so `sqlite3 kafscale-mcp.db` works while the service runs),
 * foreign-free normalised tables, and numbered migrations applied in one transaction each.
 */
import Database from "better-sqlite3";
import { closeSync, openSync } from "node:fs";
import { MIGRATIONS, type Migration } from "./migrations.js";

export type Db = Database.Database;

/**
 * Creates `path` empty with mode 0600 unless it exists: the snapshot holds the audit log (who
 * called what), so only the service's user may read it. SQLite gives the -wal and -shm files the
 * mode of the database file, so they are private too.
 */
export function createPrivateFile(path: string): void {
  if (path === ":memory:" || path === "") return;
  try {
    closeSync(openSync(path, "wx", 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
}

/** Opens (creating if needed) and migrates the database at `path` (":memory:" for tests). */
export function openDatabase(path: string, migrations: readonly Migration[] = MIGRATIONS): Db {
  createPrivateFile(path);
  const db = new Database(path);
  try {
    db.pragma("journal_mode = WAL");
    // NORMAL under WAL is durable across process crashes (SIGKILL); only an OS crash can lose the
    // last transactions, and the stored revision is in the same transaction, so a resume never skips.
    db.pragma("synchronous = NORMAL");
    db.pragma("busy_timeout = 5000");
    db.pragma("foreign_keys = OFF");
    migrate(db, migrations);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Throws unless the schema of `db` is exactly this build's (a database opened without migrating). */
export function assertCurrentSchema(db: Db, path: string, migrations: readonly Migration[] = MIGRATIONS): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  const latest = migrations.at(-1)?.version ?? 0;
  if (current !== latest) {
    throw new Error(
      `${path} has schema version ${current}; this build reads version ${latest} and cannot migrate it now ` +
        "(the file is read-only or another process writes it)",
    );
  }
}

function migrate(db: Db, migrations: readonly Migration[]): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new Error(
      `database schema version ${current} is newer than this build understands (${latest}); ` +
        "use a newer kafscale-mcp or a fresh KAFSCALE_MCP_DB_PATH",
    );
  }
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    })();
  }
}
