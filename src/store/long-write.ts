/**
 * Atomic writes too large for one synchronous transaction: a revision that deletes 400k keys, or a
 * resync of a 400k-key cluster. They run as ONE SQLite write transaction on the write connection,
 * in slices of ~20 ms with the event loop free in between (so /healthz and tool calls keep being
 * answered), and become visible only at COMMIT:
 *  - in-process readers are routed to a second, read-only connection meanwhile (src/store/index.ts);
 *    WAL gives that connection the last committed state, so an answer never mixes two revisions;
 *  - other processes (sqlite3, `verify`, `report`) see the last committed state too, for the same reason;
 *  - a crash before COMMIT leaves the last committed state (SQLite discards the unfinished transaction);
 *  - memory stays flat: SQLite spills the transaction's dirty pages into the WAL beyond its page cache.
 * Every other write meanwhile is refused with StorageBusyError (the gate), so none of them can join
 * or be lost with this transaction; after COMMIT the large WAL is checkpointed on a worker thread.
 */
import type { Db } from "./database.js";
import { checkpointInBackground, type CheckpointHelper, type CheckpointHelperStats } from "./checkpoint-worker.js";
import { StorageBusyError } from "./storage-errors.js";

/** Who may write now. One per database file (per store generation). */
export interface WriteGate {
  /** Why writes other than the current long write are refused now, or null when they may go ahead. */
  busyReason(): string | null;
  /** True while a long write holds the write connection: readers must use the read connection. */
  longWriteOpen(): boolean;
  /** Throws StorageBusyError when writes are refused (a long write, or storage opened read-only). */
  assertWritable(): void;
  /** Marks the storage read-only (reason) or writable again (null). */
  setReadOnly(reason: string | null): void;
  /** Taken by beginLongWrite for the length of one long write (throws StorageBusyError if refused). */
  acquire(what: string): void;
  release(): void;
}

/** Creates the gate for one database file. */
export function createWriteGate(): WriteGate {
  let holder: string | null = null;
  let readOnly: string | null = null;
  const busyReason = (): string | null => readOnly ?? (holder === null ? null : `${holder} in progress`);
  return {
    busyReason,
    longWriteOpen: () => holder !== null,
    assertWritable: () => {
      const reason = busyReason();
      if (reason !== null) throw new StorageBusyError(reason);
    },
    setReadOnly: (reason) => {
      readOnly = reason;
    },
    acquire: (what) => {
      const reason = busyReason();
      if (reason !== null) throw new StorageBusyError(reason);
      holder = what;
    },
    release: () => {
      holder = null;
    },
  };
}

/** One atomic write spanning many event-loop turns. */
export interface LongWrite {
  /**
   * Runs `work` for every item inside the transaction, giving the event loop a turn every
   * SLICE_MS; `afterSlice` runs at the end of each slice (e.g. to prune a history table).
   */
  each<T>(items: Iterable<T>, work: (item: T) => void, afterSlice?: () => void): Promise<void>;
  /** Commits (readers see everything at once), then checkpoints the WAL off the main thread. */
  commit(): void;
  /** Discards everything written (safe to call twice, or after a failed commit). */
  rollback(): void;
}

/** Work done between two event-loop turns. Short enough for /healthz, long enough to amortise. */
export const SLICE_MS = 20;

/** Gives the event loop a turn (timers, I/O, requests) before the next slice of work. */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Defers WAL checkpoints while large transactions commit: SQLite would otherwise copy the whole
 * transaction back into the database file inside COMMIT (wal_autocheckpoint), synchronously.
 */
export interface CheckpointScheduler {
  /** Turns automatic checkpoints off; call before committing a large transaction. */
  pause(): void;
  /** Checkpoints in the background, then restores automatic checkpoints. */
  resumeInBackground(): void;
  /** Resolves when no background checkpoint is running (tests, shutdown). */
  idle(): Promise<void>;
  /** Whether checkpoints are paused: a large commit, or its background checkpoint, is under way. */
  busy(): boolean;
  /** The steady-state checkpoint helper's counters (null: this file has none). */
  helperStats(): CheckpointHelperStats | null;
}

/**
 * Creates the scheduler for the write connection `db` (a file database). `helper`, the file's
 * steady-state checkpoint worker (checkpoint-worker.ts), pauses with the writer's own checkpoints
 * while a long write commits and its background checkpoint runs.
 */
export function createCheckpointScheduler(db: Db, helper: CheckpointHelper | null = null): CheckpointScheduler {
  let paused = 0;
  let saved = 0;
  let running: Promise<unknown> = Promise.resolve();
  return {
    pause: () => {
      if (paused++ === 0) {
        helper?.pause();
        saved = db.pragma("wal_autocheckpoint", { simple: true }) as number;
        db.pragma("wal_autocheckpoint = 0");
      }
    },
    resumeInBackground: () => {
      const done = checkpointInBackground(db.name).finally(() => {
        if (--paused !== 0) return;
        helper?.resume();
        if (db.open) db.pragma(`wal_autocheckpoint = ${saved}`);
      });
      running = Promise.all([running, done]);
    },
    idle: async () => {
      await running;
    },
    busy: () => paused > 0,
    helperStats: () => helper?.stats() ?? null,
  };
}

/** Begins a long write named `what` (for logs and StorageBusyError); throws if writes are refused. */
export function beginLongWrite(db: Db, gate: WriteGate, checkpoints: CheckpointScheduler, what: string): LongWrite {
  gate.acquire(what);
  try {
    db.exec("BEGIN IMMEDIATE");
  } catch (err) {
    gate.release();
    throw err;
  }
  let finished = false;
  // SQLite rolls a transaction back by itself on some errors (SQLITE_FULL, IOERR, NOMEM): a later
  // statement would then run in autocommit mode and commit half the change. Never let one run.
  const assertOpen = (): void => {
    if (finished) throw new Error(`${what}: already finished`);
    if (!db.inTransaction) throw new Error(`${what}: SQLite rolled the transaction back`);
  };
  const finish = (): void => {
    finished = true;
    gate.release();
  };
  return {
    each: async (items, work, afterSlice) => {
      let sliceStart = performance.now();
      assertOpen();
      for (const item of items) {
        work(item);
        if (performance.now() - sliceStart < SLICE_MS) continue;
        afterSlice?.();
        await nextTurn();
        assertOpen();
        sliceStart = performance.now();
      }
      afterSlice?.();
    },
    commit: () => {
      assertOpen();
      checkpoints.pause();
      try {
        db.exec("COMMIT");
      } catch (err) {
        if (db.inTransaction) db.exec("ROLLBACK");
        throw err;
      } finally {
        finish();
        checkpoints.resumeInBackground();
      }
    },
    rollback: () => {
      if (finished) return;
      try {
        if (db.inTransaction) db.exec("ROLLBACK");
      } finally {
        finish();
      }
    },
  };
}
