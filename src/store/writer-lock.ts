/**
 * One writer per snapshot file. Two services writing one file (say `serve` and `stdio`, both with the
 * default path) interleave their syncs and each marks the shared state as it sees fit — `stopped`
 * when one exits while the other still watches.
 *
 * The lock is a small SQLite database beside the snapshot (`<db>-lock`) holding who writes: pid,
 * host, command, since. The writer keeps a read transaction open on it for its whole life, i.e. an
 * fcntl SHARED lock. A candidate records itself in a write transaction, whose COMMIT needs an
 * EXCLUSIVE lock and so fails at once while any writer lives. The kernel drops fcntl locks when a
 * process dies, however it dies (SIGKILL, OOM kill), so a lock is never stale; and the lock works
 * across containers that share the volume, where pids mean nothing.
 *
 * (fcntl locks belong to the process: nothing else in it may open and close the lock file.)
 */
import { Database } from "./sqlite-driver.js";
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { createPrivateFile, type Db } from "./database.js";
import { storageErrorOf } from "./storage-errors.js";

/** Who writes a snapshot. */
export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  /** ISO-8601 time the writer took the lock. */
  since: string;
}

/** The snapshot is written by another live process. */
export class SnapshotInUseError extends Error {
  constructor(
    readonly dbPath: string,
    readonly holder: LockHolder | null,
  ) {
    super(
      `${dbPath} is being written by another kafscale-mcp (${describeHolder(holder)}); ` +
        "only one process may write a snapshot: stop that one, or give this one its own KAFSCALE_MCP_DB_PATH",
    );
    this.name = "SnapshotInUseError";
  }
}

export function describeHolder(holder: LockHolder | null): string {
  if (holder === null) return "holder unknown";
  return `pid ${holder.pid} on ${holder.host}, "${holder.command}", since ${holder.since}`;
}

export interface WriterLock {
  readonly holder: LockHolder;
  /**
   * Null when the lock is really held; else why it could not be (the lock file cannot be written:
   * a full disk or a read-only filesystem, where nobody can write the snapshot either).
   */
  readonly unavailable: string | null;
  release(): void;
}

/** The lock file of the snapshot at `dbPath`. */
export function lockPathOf(dbPath: string): string {
  return `${dbPath}-lock`;
}

const ATTEMPTS = 5;

function openLockDb(dbPath: string): Db {
  const path = lockPathOf(dbPath);
  createPrivateFile(path);
  const db = new Database(path);
  // Never wait: a busy lock means another live writer (or a candidate at this very moment).
  db.pragma("busy_timeout = 0");
  db.exec(`CREATE TABLE IF NOT EXISTS holder (
    id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL, host TEXT NOT NULL, command TEXT NOT NULL,
    since TEXT NOT NULL, token TEXT NOT NULL)`);
  return db;
}

const codeOf = (err: unknown): string => String((err as { code?: unknown }).code ?? "");
const isBusy = (err: unknown): boolean => /^SQLITE_(BUSY|LOCKED)/.test(codeOf(err));
/** The lock file itself cannot be created or written (full disk, read-only filesystem). */
const isUnwritable = (err: unknown): boolean =>
  /^(EROFS|ENOSPC|EACCES|EPERM|EDQUOT)$/.test(codeOf(err)) || storageErrorOf(err)?.kind !== undefined;

interface HolderRow extends LockHolder {
  /** Tells two attempts apart, also two of one process (tests open several stores in one). */
  token: string;
}

function readHolder(db: Db): HolderRow | null {
  try {
    return db.prepare<[], HolderRow>("SELECT pid, host, command, since, token FROM holder WHERE id = 1").get() ?? null;
  } catch {
    return null;
  }
}

const publicHolder = (row: HolderRow | null): LockHolder | null =>
  row === null ? null : { pid: row.pid, host: row.host, command: row.command, since: row.since };

/** Takes the writer lock of the snapshot at `dbPath`, or throws SnapshotInUseError naming the holder. */
export function acquireWriterLock(dbPath: string, command: string): WriterLock {
  const me = publicHolder(self(command)) as LockHolder;
  if (dbPath === ":memory:") return { holder: me, unavailable: null, release: () => undefined };
  let db: Db;
  try {
    db = openLockDb(dbPath);
  } catch (err) {
    // Creating the table needs a write; a live writer's shared lock refuses it.
    if (isBusy(err)) throw new SnapshotInUseError(dbPath, null);
    if (isUnwritable(err)) return { holder: me, unavailable: (err as Error).message, release: () => undefined };
    throw err;
  }
  try {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const me = self(command);
      try {
        db.exec("BEGIN IMMEDIATE");
        db.prepare(
          "INSERT OR REPLACE INTO holder (id, pid, host, command, since, token) VALUES (1, @pid, @host, @command, @since, @token)",
        ).run(me);
        db.exec("COMMIT");
      } catch (err) {
        if (db.inTransaction) db.exec("ROLLBACK");
        if (isUnwritable(err)) return holdWithoutRecord(db, dbPath, me, err as Error);
        if (!isBusy(err)) throw err;
        throw new SnapshotInUseError(dbPath, publicHolder(readHolder(db)));
      }
      // Hold a shared lock from now on; it is ours only if nobody recorded themselves in between.
      db.exec("BEGIN");
      const holder = readHolder(db);
      if (holder?.token === me.token) {
        const locked = db;
        return { holder: publicHolder(holder) as LockHolder, unavailable: null, release: () => closeLock(locked) };
      }
      db.exec("COMMIT");
    }
    throw new SnapshotInUseError(dbPath, publicHolder(readHolder(db)));
  } catch (err) {
    closeLock(db);
    throw err;
  }
}

function closeLock(db: Db): void {
  if (!db.open) return;
  if (db.inTransaction) db.exec("ROLLBACK");
  db.close();
}

/**
 * The holder cannot be recorded (the disk is full): hold the file exclusively instead, which needs
 * no write. Other candidates are refused as usual but cannot read who holds it. If even that fails
 * (a read-only filesystem, where no process can write the snapshot), go on without a lock.
 */
function holdWithoutRecord(db: Db, dbPath: string, me: LockHolder, cause: Error): WriterLock {
  try {
    db.exec("BEGIN EXCLUSIVE");
    return { holder: me, unavailable: null, release: () => closeLock(db) };
  } catch (err) {
    if (isBusy(err)) {
      const holder = publicHolder(readHolder(db));
      closeLock(db);
      throw new SnapshotInUseError(dbPath, holder);
    }
    closeLock(db);
    return { holder: me, unavailable: cause.message, release: () => undefined };
  }
}

/** Who holds the writer lock of `dbPath` now; null when nobody does (or there is no lock file). */
export function currentWriter(dbPath: string): LockHolder | null {
  if (dbPath === ":memory:") return null;
  let db: Db;
  try {
    db = new Database(lockPathOf(dbPath), { fileMustExist: true });
  } catch {
    return null;
  }
  try {
    db.pragma("busy_timeout = 0");
    // An exclusive lock is granted only when no writer holds its shared one.
    db.exec("BEGIN EXCLUSIVE");
    db.exec("ROLLBACK");
    return null;
  } catch (err) {
    if (!isBusy(err)) return null;
    return publicHolder(readHolder(db)) ?? { pid: 0, host: "unknown", command: "unknown", since: "unknown" };
  } finally {
    if (db.inTransaction) db.exec("ROLLBACK");
    db.close();
  }
}

function self(command: string): HolderRow {
  return { pid: process.pid, host: hostname(), command, since: new Date().toISOString(), token: randomUUID() };
}
