/**
 * Which SQLite errors are about the snapshot's storage rather than about the data or the code, and
 * how to say so. better-sqlite3 throws `SqliteError` with the extended result code as `code`
 * (e.g. "SQLITE_FULL", "SQLITE_IOERR_WRITE", "SQLITE_READONLY_DBMOVED", "SQLITE_CORRUPT_INDEX").
 *
 * - unwritable (disk full, read-only file or filesystem, I/O error): the last committed snapshot is
 *   still readable, so the service keeps serving it, marked stale, and retries the writes;
 * - corrupt (malformed pages, not a database): the file cannot be trusted; it is rebuilt from etcd,
 *   which is the truth (the snapshot is a cache).
 */

export type StorageErrorKind = "full" | "readonly" | "io" | "corrupt";

export interface StorageError {
  kind: StorageErrorKind;
  /** The SQLite extended result code, e.g. SQLITE_IOERR_WRITE. */
  code: string;
  /** For agents and operators: "disk full", "read-only", "I/O error", "database file corrupt". */
  description: string;
}

const DESCRIPTIONS: Record<StorageErrorKind, string> = {
  full: "disk full",
  readonly: "read-only",
  io: "I/O error",
  corrupt: "database file corrupt",
};

/** The SQLite result code of `err`, when it is a better-sqlite3 error. */
export function sqliteCode(err: unknown): string | null {
  if (typeof err !== "object" || err === null) return null;
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" && code.startsWith("SQLITE_") ? code : null;
}

/** Classifies `err`; null when it is not a storage error (a bug, a constraint, a busy database). */
export function storageErrorOf(err: unknown): StorageError | null {
  const code = sqliteCode(err);
  if (code === null) return null;
  const kind = kindOf(code);
  return kind === null ? null : { kind, code, description: DESCRIPTIONS[kind] };
}

function kindOf(code: string): StorageErrorKind | null {
  if (code === "SQLITE_FULL") return "full";
  if (code === "SQLITE_READONLY" || code.startsWith("SQLITE_READONLY_")) return "readonly";
  if (code === "SQLITE_CORRUPT" || code.startsWith("SQLITE_CORRUPT_") || code === "SQLITE_NOTADB") return "corrupt";
  // CANTOPEN: the file (or its -wal/-shm) cannot be opened at all, e.g. a vanished or read-only directory.
  if (code === "SQLITE_IOERR" || code.startsWith("SQLITE_IOERR_") || code.startsWith("SQLITE_CANTOPEN")) return "io";
  return null;
}

/** True for errors that mean "storage cannot be written (or read) right now", corruption included. */
export function isStorageError(err: unknown): boolean {
  return storageErrorOf(err) !== null;
}

/** True when `err` says the database file is corrupt (SQLITE_CORRUPT*, SQLITE_NOTADB). */
export function isCorruption(err: unknown): boolean {
  return storageErrorOf(err)?.kind === "corrupt";
}

/**
 * A write refused because the snapshot is in the middle of an atomic multi-step write (a huge
 * revision or a resync being applied) or is open read-only after a storage failure. Callers that
 * can wait (the audit trail) keep their rows and retry; the others skip the write.
 */
export class StorageBusyError extends Error {
  constructor(reason: string) {
    super(`snapshot storage busy: ${reason}`);
    this.name = "StorageBusyError";
  }
}
