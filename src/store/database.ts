/**
 * Opens the SQLite snapshot: WAL (readers never block the writer), a bounded WAL file,
 * foreign-free normalised tables, and numbered migrations applied in one transaction each.
 */
import { closeSync, openSync } from "node:fs";
import { Database } from "./sqlite-driver.js";
import { MIGRATIONS, type Migration } from "./migrations.js";

export type Db = Database;

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

/** Default bound of the write-ahead log after a checkpoint (KAFSCALE_MCP_WAL_SIZE_LIMIT). */
export const DEFAULT_WAL_SIZE_LIMIT_BYTES = 16 * 1024 * 1024;

export interface OpenOptions {
  /** Size the WAL file is cut back to once a checkpoint has completed (journal_size_limit). */
  walSizeLimitBytes?: number;
}

/** Opens (creating if needed) and migrates the database at `path` (":memory:" for tests). */
export function openDatabase(
  path: string,
  migrations: readonly Migration[] = MIGRATIONS,
  options: OpenOptions = {},
): Db {
  createPrivateFile(path);
  const db = new Database(path);
  try {
    db.pragma("journal_mode = WAL");
    boundWal(db, options.walSizeLimitBytes ?? DEFAULT_WAL_SIZE_LIMIT_BYTES);
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

/**
 * A reader that holds a transaction open pins the WAL: no checkpoint can pass it, so the file grows
 * with every write, and SQLite never shrinks it by itself. journal_size_limit cuts it back to the
 * limit when the log restarts after the next complete checkpoint. The automatic checkpoint runs at
 * half the limit at most (SQLite's 1000 pages otherwise), so in steady state the WAL stays below
 * the limit and the cut only happens after a pinned reader let go.
 */
function boundWal(db: Db, limitBytes: number): void {
  db.pragma(`journal_size_limit = ${Math.floor(limitBytes)}`);
  db.pragma(`wal_autocheckpoint = ${autocheckpointPages(db, limitBytes, SQLITE_AUTOCHECKPOINT_PAGES)}`);
}

/** SQLite's own default for wal_autocheckpoint. */
const SQLITE_AUTOCHECKPOINT_PAGES = 1000;

/** The automatic checkpoint's threshold in pages: half the WAL size limit, at most `capPages`. */
export function autocheckpointPages(db: Db, limitBytes: number, capPages: number): number {
  const pageSize = db.pragma("page_size", { simple: true }) as number;
  return Math.max(16, Math.min(capPages, Math.floor(limitBytes / pageSize / 2)));
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
      migration.data?.(db);
      db.pragma(`user_version = ${migration.version}`);
    })();
  }
}
