/**
 * Opens the SQLite snapshot: WAL (so `sqlite3 kafscale-mcp.db` works while the service runs),
 * foreign-free normalised tables, and numbered migrations applied in one transaction each.
 */
import Database from "better-sqlite3";
import { MIGRATIONS, type Migration } from "./migrations.js";

export type Db = Database.Database;

/** Opens (creating if needed) and migrates the database at `path` (":memory:" for tests). */
export function openDatabase(path: string, migrations: readonly Migration[] = MIGRATIONS): Db {
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
