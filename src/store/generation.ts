/**
 * The open connections to one snapshot file and the statements prepared on them.
 *
 * - `write`: every write, and the reads while no long write is open (its page cache stays warm
 *   across its own commits, which a second connection's would not).
 * - `read`: a read-only connection for the reads while a long write holds `write` (src/store/
 *   long-write.ts): WAL gives it the last committed state, so nobody sees half a revision.
 *
 * Three ways to open: normal; `degraded` when the file cannot be written (disk full, read-only
 * file or filesystem): one connection serving the last committed snapshot, writes refused; and
 * `follower`: read-only, for a process that reads a file another kafscale-mcp writes.
 *
 * A WAL database needs its -shm file even to be read, and on a full disk or a read-only filesystem
 * that file may not be creatable, so the degraded open tries, in order: a plain read-only
 * connection (works when -shm exists or can be made); exclusive locking mode, whose WAL index lives
 * in memory (a full disk); an in-memory copy of the file (a read-only filesystem: costs its size in
 * memory, and only when no unfinished -wal would be left out).
 */
import { accessSync, constants, existsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { createAuditStore, type AuditStore } from "./audit-store.js";
import { createChangeFeed, type ChangeFeedOptions } from "./change-feed.js";
import { createChangeReads, type ChangeReads } from "./change-reads.js";
import { startCheckpointHelper, type CheckpointHelper } from "./checkpoint-worker.js";
import {
  assertCurrentSchema,
  autocheckpointPages,
  DEFAULT_WAL_SIZE_LIMIT_BYTES,
  openDatabase,
  type Db,
  type OpenOptions,
} from "./database.js";
import { createKvMirror, type KvMirror } from "./kv-mirror.js";
import { createLagChartReads, type LagChartReads } from "./lag-chart.js";
import { createLagEvaluator, type LagEvaluator } from "./lag-evaluator.js";
import { createLagHistory } from "./lag-history.js";
import { createLagMetricReads, type LagMetricReads } from "./lag-metrics.js";
import { createLagReads, type LagReads } from "./lag-reads.js";
import { inMemoryCopy } from "./in-memory-copy.js";
import { createCheckpointScheduler, createWriteGate, type CheckpointScheduler, type WriteGate } from "./long-write.js";
import { createWalGuard } from "./wal-guard.js";
import { createMetricsStore, type MetricsStore } from "./metrics-store.js";
import { createReads, type Reads } from "./reads.js";
import { createReportReads, type ReportReads } from "./report-reads.js";
import { Database } from "./sqlite-driver.js";
import { storageErrorOf, type StorageError } from "./storage-errors.js";
import { createSyncStateStore, type SyncStateStore } from "./sync-state.js";
import { createTableDump, type TableDump } from "./table-dump.js";
import { createUndecodableKeys, type UndecodableKeys } from "./undecodable-keys.js";
import { createSyncWriter, type SyncWriter } from "./writer.js";
import type { LagSettings } from "../kafscale/lag-status.js";

/** What every generation of one store is opened with. */
export interface GenerationSettings {
  /** Bound on change_log and decode_errors rows. */
  historyLimit: number;
  lag: LagSettings;
  /** Stamps changes applied without an explicit time, and lag verdicts. */
  clock: () => number;
  /** Retention and row cap of the change events (src/store/change-feed.ts). */
  events: ChangeFeedOptions;
}

/** Everything prepared over one connection. */
export interface ConnectionApis {
  reads: Reads;
  syncState: SyncStateStore;
  mirror: KvMirror;
  metrics: MetricsStore;
  reports: ReportReads;
  tables: TableDump;
  audit: AuditStore;
  undecodable: UndecodableKeys;
  changes: ChangeReads;
  lag: { reads: LagReads; chart: LagChartReads; series: LagMetricReads };
}

export type GenerationMode = "normal" | "degraded" | "follower";

export interface Generation {
  mode: GenerationMode;
  write: Db;
  /** Null when the mode allows only one connection (degraded, follower). */
  read: Db | null;
  onWrite: ConnectionApis;
  onRead: ConnectionApis | null;
  writer: SyncWriter;
  /** Judges lag on the write connection; its write transactions pass the gate. */
  lagEvaluator: LagEvaluator;
  gate: WriteGate;
  checkpoints: CheckpointScheduler;
  /**
   * Call after a write transaction: with a checkpoint helper, runs the writer's automatic checkpoint
   * if SQLite skipped it because the helper was in a pass (src/store/wal-guard.ts). Cheap otherwise.
   */
  afterWrite(): void;
  /** Runs a checkpoint on the write connection with no helper pass at the same time. */
  exclusiveCheckpoint<T>(checkpoint: () => T): T;
  /**
   * A long write or its background checkpoint holds the WAL: a checkpoint on the event loop now
   * could copy up to the whole write (100+ MB), seconds without /healthz. That one is the worker's.
   */
  longWriteHoldsWal(): boolean;
  /** Why the file could not be opened for writing (degraded), else null. */
  openFailure: StorageError | null;
  close(): void;
}

function apisOver(db: Db, settings: GenerationSettings): ConnectionApis {
  return {
    reads: createReads(db),
    syncState: createSyncStateStore(db),
    mirror: createKvMirror(db),
    metrics: createMetricsStore(db),
    reports: createReportReads(db),
    tables: createTableDump(db),
    audit: createAuditStore(db),
    undecodable: createUndecodableKeys(db),
    changes: createChangeReads(db),
    lag: { reads: createLagReads(db, settings.lag), chart: createLagChartReads(db), series: createLagMetricReads(db) },
  };
}

function assemble(
  mode: GenerationMode,
  write: Db,
  read: Db | null,
  settings: GenerationSettings,
  openFailure: StorageError | null,
  helper: CheckpointHelper | null = null,
): Generation {
  const gate = createWriteGate();
  const checkpoints = createCheckpointScheduler(write, helper);
  const lagHistory = createLagHistory(write, settings.lag);
  const guard =
    helper === null
      ? null
      : createWalGuard(write, write.name, write.pragma("wal_autocheckpoint", { simple: true }) as number, helper);
  const longWriteHoldsWal = (): boolean => gate.longWriteOpen() || checkpoints.busy();
  const afterWrite = (): void => {
    if (guard !== null && !longWriteHoldsWal()) guard.afterWrite();
  };
  return {
    mode,
    write,
    read,
    onWrite: apisOver(write, settings),
    onRead: read === null ? null : apisOver(read, settings),
    writer: createSyncWriter(
      write,
      settings.historyLimit,
      { gate, checkpoints },
      lagHistory,
      createChangeFeed(write, settings.events),
      settings.clock,
    ),
    lagEvaluator: createLagEvaluator(write, lagHistory, settings.lag, settings.clock, () => {
      gate.assertWritable();
      afterWrite();
    }),
    gate,
    checkpoints,
    afterWrite,
    longWriteHoldsWal,
    exclusiveCheckpoint: (checkpoint) => (helper === null ? checkpoint() : helper.exclusive(checkpoint)),
    openFailure,
    close: () => {
      // The helper first: the last connection to close folds the WAL back and removes it.
      helper?.stop();
      guard?.close();
      read?.close();
      write.close();
    },
  };
}

/**
 * Opens `file` for writing; if its storage refuses (full, read-only, I/O error), opens it degraded
 * instead. Corruption and every other error are thrown (the caller rebuilds or reports).
 */
export function openGeneration(
  file: string,
  settings: GenerationSettings,
  options: OpenOptions = {},
  checkpointHelperMs: number | null = null,
): Generation {
  // A non-empty -wal left behind means the last writer did not close cleanly (a reader may leave an
  // empty one): worth an integrity check before trusting the file.
  const uncleanStop = existsSync(`${file}-wal`) && statSync(`${file}-wal`).size > 0;
  let write: Db | null = null;
  try {
    write = openDatabase(file, undefined, options);
    if (uncleanStop) assertIntact(write, file);
    // The first read creates (and sizes) the -shm file; a write transaction proves the file is writable.
    write.prepare("SELECT revision FROM sync_state WHERE id = 1").get();
    write.exec("BEGIN IMMEDIATE");
    write.exec("ROLLBACK");
    const read = new Database(file, { readonly: true, fileMustExist: true });
    const helper = checkpointHelperMs === null ? null : startCheckpointHelper(file, checkpointHelperMs);
    // The writer's own automatic checkpoint then mostly finds the frames copied already: it may wait
    // for more of them (half the WAL size limit, as boundWal allows), so it syncs less often.
    if (helper !== null) {
      const limit = options.walSizeLimitBytes ?? DEFAULT_WAL_SIZE_LIMIT_BYTES;
      try {
        write.pragma(`wal_autocheckpoint = ${autocheckpointPages(write, limit, Number.POSITIVE_INFINITY)}`);
      } catch (err) {
        helper.stop();
        read.close();
        throw err;
      }
    }
    return assemble("normal", write, read, settings, null, helper);
  } catch (err) {
    write?.close();
    const storage = storageErrorOf(err);
    if (storage === null || storage.kind === "corrupt") throw err;
    return assemble("degraded", openDegraded(file), null, settings, refine(storage, file));
  }
}

/**
 * SQLite says CANTOPEN when it cannot create the -wal/-shm beside a file it could read: on a
 * read-only filesystem or directory that is "read-only", which says more to an operator.
 */
function refine(error: StorageError, file: string): StorageError {
  if (!error.code.startsWith("SQLITE_CANTOPEN")) return error;
  try {
    accessSync(dirname(file), constants.W_OK);
    return error;
  } catch {
    return { ...error, kind: "readonly", description: "read-only" };
  }
}

/** One connection that can read the snapshot whose storage refuses writes (see the module comment). */
function openDegraded(file: string): Db {
  const attempts: (() => Db)[] = [
    () => new Database(file, { readonly: true, fileMustExist: true }),
    () => {
      const db = new Database(file, { fileMustExist: true });
      db.pragma("locking_mode = EXCLUSIVE");
      return db;
    },
    () => inMemoryCopy(file),
  ];
  let failure: unknown = null;
  for (const attempt of attempts) {
    let db: Db | null = null;
    try {
      db = attempt();
      db.prepare("SELECT revision FROM sync_state WHERE id = 1").get();
      assertCurrentSchema(db, file);
      return db;
    } catch (err) {
      db?.close();
      failure ??= err;
    }
  }
  throw failure;
}

/** Throws an SQLITE_CORRUPT error when SQLite's quick integrity check finds damage. */
function assertIntact(db: Db, file: string): void {
  const problems = (db.pragma("quick_check(5)") as { quick_check: string }[]).map((r) => r.quick_check);
  if (problems.length === 1 && problems[0] === "ok") return;
  throw Object.assign(new Error(`${file} failed its integrity check: ${problems.join("; ")}`), { code: "SQLITE_CORRUPT" });
}

/** Opens a snapshot another process writes, read-only (no migrations, no writes). */
export function openFollowerGeneration(file: string, settings: GenerationSettings): Generation {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma("busy_timeout = 5000");
    assertCurrentSchema(db, file);
  } catch (err) {
    db.close();
    throw err;
  }
  return assemble("follower", db, null, settings, null);
}
