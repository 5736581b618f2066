/**
 * The SQLite snapshot: one factory that opens the database and prepares every statement once.
 * Only this folder holds SQL; tools, HTTP and sync use these functions.
 *
 * The facade routes each call to the right connection (src/store/generation.ts): reads go to the
 * write connection, or to the read-only one while a long write is open; writes pass the gate
 * (refused while a long write is open or the storage is read-only) and report their outcome to the
 * in-memory storage health, which freshness and /readyz show. Callers hold on to these objects;
 * what is behind them can be reopened (after a storage failure at start, or a corrupt file).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AuditStore } from "./audit-store.js";
import type { ChangeReads } from "./change-reads.js";
import { DEFAULT_WAL_SIZE_LIMIT_BYTES } from "./database.js";
import type { CheckpointHelperStats } from "./checkpoint-worker.js";
import { openFollowerGeneration, openGeneration, type ConnectionApis, type Generation } from "./generation.js";
import type { KvMirror } from "./kv-mirror.js";
import type { MetricsStore } from "./metrics-store.js";
import { publishOpsCopy, type OpsCopyOptions, type OpsCopyResult } from "./ops-copy.js";
import type { LagChartReads } from "./lag-chart.js";
import type { LagEvaluator } from "./lag-evaluator.js";
import type { LagMetricReads } from "./lag-metrics.js";
import type { LagReads } from "./lag-reads.js";
import type { Reads } from "./reads.js";
import type { ReportReads } from "./report-reads.js";
import { isCorruption, StorageBusyError, storageErrorOf, type StorageError } from "./storage-errors.js";
import { createStorageHealth, type StorageHealth, type WritePath } from "./storage-health.js";
import type { SyncStateStore } from "./sync-state.js";
import type { TableDump } from "./table-dump.js";
import type { UndecodableKeys } from "./undecodable-keys.js";
import { createWalProbe, fileSize, type WalProbe } from "./wal-health.js";
import type { LargeApply, ResyncSession, SyncWriter } from "./writer.js";
import { DEFAULT_LAG_SETTINGS, type LagSettings } from "../kafscale/lag-status.js";
import { describeSchema, type RelationSchema } from "./schema-docs.js";

export type { SyncWriter, ResyncSession, ApplyResult, ResyncResult, LargeApply, DecodeProblem, DecodeReport } from "./writer.js";
export type { KeyDependencies, UndecodableKey, UndecodableKeys, LastGoodValue } from "./undecodable-keys.js";
export type { SyncState, SyncStateStore, LinkState, SyncPhase } from "./sync-state.js";
export type * from "./reads.js";
export type { KvMirror, MirroredKv, DecodeErrorRow, ChangeRow } from "./kv-mirror.js";
export type * from "./metrics-store.js";
export type { ReportReads, ReportData, GroupLagRow, TopicSummaryRow } from "./report-reads.js";
export type { AuditStore, AuditRow, AuditOutcome } from "./audit-store.js";
export type { StorageHealth, StorageProblem, WritePath } from "./storage-health.js";
export { StorageBusyError, isCorruption, isStorageError, storageErrorOf } from "./storage-errors.js";
export type { StorageError, StorageErrorKind } from "./storage-errors.js";
export type * from "./lag-reads.js";
export { compareGroups, matchesFilter } from "./lag-reads.js";
export type { LagEvaluator, EvaluationRun } from "./lag-evaluator.js";
export type { LagChartReads, LagPoint } from "./lag-chart.js";
export type * from "./lag-metrics.js";
export type { ChangeReads, ChangeEventRow, ChangeFilter, ChangePage, FeedWindow } from "./change-reads.js";
export type { QuerySandbox, QueryResult, QueryLimits } from "./query-sandbox.js";
export { createQuerySandbox, QueryError } from "./query-sandbox.js";
export type { RelationSchema, ColumnSchema } from "./schema-docs.js";
export type { OpsCopyOptions, OpsCopyResult, OpsCopyStatus } from "./ops-copy.js";
export { OpsCopyAborted, removeStaleOpsCopyFiles } from "./ops-copy.js";
export type { WalProbe, WalStatus, WalLimits, WalTransition, WalHealth } from "./wal-health.js";
export { createWalHealth, walReadinessProblem } from "./wal-health.js";

export interface StoreOptions {
  /** Bound on change_log and decode_errors rows. */
  historyLimit?: number;
  /** Read a snapshot another process writes: no migrations, every write refused. */
  follower?: boolean;
  /** Size the WAL is cut back to after a complete checkpoint (default 16 MiB). */
  walSizeLimitBytes?: number;
  /**
   * A checkpoint helper thread for a file store (src/store/checkpoint-worker.ts; on by default, false
   * turns it off; a private ":memory:" file never has one). When one of its passes makes SQLite skip
   * the writer's own checkpoint, the WAL guard (src/store/wal-guard.ts) runs it after the write.
   */
  checkpointHelper?: boolean;
  /** Lag history sampling and window (KAFSCALE_MCP_LAG_SAMPLE_INTERVAL, KAFSCALE_MCP_LAG_WINDOW). */
  lag?: LagSettings;
  /** The clock for changes applied without an explicit time and for lag verdicts (Date.now by default). */
  now?: () => number;
  /** How long change events are kept (default 7 days; 0 keeps them until the row cap). */
  eventsRetentionMs?: number;
  /** At most this many change events are kept (default 100,000). */
  maxEvents?: number;
}

/** Consumer lag over time: the verdicts' reads, the evaluator that writes them, and the settings. */
export interface LagStore {
  readonly settings: LagSettings;
  readonly reads: LagReads;
  readonly evaluator: LagEvaluator;
  /** A group's lag over the window, for charts. */
  readonly chart: LagChartReads;
  /** The rows of the Prometheus lag series (/metrics/lag). */
  readonly series: LagMetricReads;
}

export interface Store {
  readonly path: string;
  readonly reads: Reads;
  readonly writer: SyncWriter;
  readonly syncState: SyncStateStore;
  readonly mirror: KvMirror;
  /** Scrape results of the metrics poller and `latest()` for cluster_metrics / cluster_status. */
  readonly metrics: MetricsStore;
  /** Summaries of the reporting views, for `kafscale-mcp report`. */
  readonly reports: ReportReads;
  /** Canonical paged dumps of the read-model tables, for `verify`. */
  readonly tables: TableDump;
  /** The audit trail's table (audit_log): records, recent rows, retention prune. */
  readonly audit: AuditStore;
  /** Consumer lag history and verdicts (docs/LAG.md). */
  readonly lag: LagStore;
  /** Whether the snapshot's storage can be written (kept in memory). */
  readonly health: StorageHealth;
  /** How the file is open: normal; degraded (its storage refused writes at open); follower. */
  mode(): Generation["mode"];
  /**
   * Closes the file, lets `replace(path)` replace it on disk (nothing is open meanwhile), and opens
   * it again. Used to rebuild a corrupt snapshot (src/store/corruption.ts).
   */
  reopen(replace: (path: string) => void): void;
  /** Calls `listener` after every `reopen` (what holds its own connection to the file reopens it); returns the unsubscribe. */
  onReopen(listener: () => void): () => void;
  /** Resolves once background work (WAL checkpoints after large writes) is done. */
  idle(): Promise<void>;
  /** The file's steady-state checkpoint helper's counters (null: none, e.g. a private ":memory:" file). */
  checkpointHelperStats(): CheckpointHelperStats | null;
  /** Semantic change events (events table), newest first. */
  readonly changes: ChangeReads;
  /** Every public table and view with its columns and one-line meanings (kafscale://schema). */
  schema(): RelationSchema[];
  /**
   * Publishes a consistent copy of the snapshot for readers at `options.target` (SQLite online
   * backup in steps, rollback-journal mode, atomic rename; see ops-copy.ts).
   */
  publishOpsCopy(options: OpsCopyOptions): Promise<OpsCopyResult>;
  /** A PASSIVE checkpoint and the WAL's size, for the WAL health monitor; null for ":memory:". */
  readonly probeWal: (() => WalProbe) | null;
  /** Keys whose current value does not decode (their last good value is served), by dependency. */
  readonly undecodable: UndecodableKeys;
  close(): void;
}

/** Change events are kept this long by default (KAFSCALE_MCP_EVENTS_RETENTION). */
export const DEFAULT_EVENTS_RETENTION_MS = 7 * 24 * 3_600_000;
/** At most this many change events by default (KAFSCALE_MCP_EVENTS_LIMIT). */
export const DEFAULT_MAX_EVENTS = 100_000;

/** How long a degraded store waits between attempts to open its file for writing again. */
const REOPEN_BACKOFF = { firstMs: 1000, capMs: 30_000 };
/**
 * How often a file's checkpoint helper copies the WAL back (src/store/checkpoint-worker.ts): often
 * enough that the writer's own checkpoint finds little left at 2,000 writes/s (~4,000 pages a second).
 * A private ":memory:" file has none: tests open hundreds of them, and nothing waits on their WAL.
 */
const CHECKPOINT_HELPER_MS = 50;

/** Opens (creating and migrating if needed) the snapshot at `path`; ":memory:" for tests and the demo. */
export function createStore(path: string, options: StoreOptions = {}): Store {
  const historyLimit = options.historyLimit ?? 10_000;
  const walSizeLimitBytes = options.walSizeLimitBytes ?? DEFAULT_WAL_SIZE_LIMIT_BYTES;
  const settings = {
    historyLimit,
    lag: options.lag ?? DEFAULT_LAG_SETTINGS,
    clock: options.now ?? Date.now,
    events: {
      retentionMs: options.eventsRetentionMs ?? DEFAULT_EVENTS_RETENTION_MS,
      maxEvents: options.maxEvents ?? DEFAULT_MAX_EVENTS,
    },
  };
  // ":memory:" is a private temporary file: long writes need a second connection to the same data.
  const scratch = path === ":memory:" ? mkdtempSync(join(tmpdir(), "kafscale-mcp-memory-")) : null;
  const file = scratch === null ? path : join(scratch, "snapshot.db");
  const health = createStorageHealth();
  const helperMs = scratch === null && options.checkpointHelper !== false ? CHECKPOINT_HELPER_MS : null;
  const open = (): Generation =>
    options.follower
      ? openFollowerGeneration(file, settings)
      : openGeneration(file, settings, { walSizeLimitBytes }, helperMs);

  let gen = open();
  let closed = false;
  let schema: RelationSchema[] | undefined;
  const reopenListeners = new Set<() => void>();
  let reopenTimer: NodeJS.Timeout | null = null;
  /** The lag evaluator's schedule while started: a reopened file's evaluator takes it over. */
  let evaluating: { everyMs: number; onError: (err: unknown) => void } | null = null;
  /** What the evaluator's slices wait for (LagEvaluator.yieldTo): a reopened file's evaluator too. */
  let foregroundBusy = (): boolean => false;
  /** Stops what runs on `old`'s connections, then closes them. */
  const retire = (old: Generation): void => {
    if (evaluating !== null) void old.lagEvaluator.stop();
    old.close();
  };
  const report = (path: WritePath, err: unknown): void => {
    const storage: StorageError | null = storageErrorOf(err);
    if (storage !== null) health.failed(path, storage);
  };

  /** Takes `next` into use; a degraded one keeps trying to open its file for writing again. */
  const adopt = (next: Generation, retryDelayMs: number = REOPEN_BACKOFF.firstMs): void => {
    gen = next;
    next.lagEvaluator.yieldTo(foregroundBusy);
    if (evaluating !== null) next.lagEvaluator.start(evaluating.everyMs, evaluating.onError);
    if (next.mode === "follower") next.gate.setReadOnly("this snapshot is written by another kafscale-mcp process");
    if (next.openFailure === null) return;
    next.gate.setReadOnly(`the database could not be opened for writing (${next.openFailure.description})`);
    health.failed("sync", next.openFailure);
    reopenTimer = setTimeout(() => {
      reopenTimer = null;
      if (closed) return;
      // Our own exclusive lock would stop the attempt: close first. The sync catches up once writable.
      retire(gen);
      try {
        adopt(open(), Math.min(retryDelayMs * 2, REOPEN_BACKOFF.capMs));
      } catch (err) {
        report("sync", err);
        adopt(next, Math.min(retryDelayMs * 2, REOPEN_BACKOFF.capMs));
      }
    }, retryDelayMs);
    reopenTimer.unref();
  };

  adopt(gen);

  /** The connection readers use now: never one a long write holds. */
  const readApis = (): ConnectionApis => (gen.gate.longWriteOpen() && gen.onRead !== null ? gen.onRead : gen.onWrite);

  /** Runs a write of `path` through the gate and records its outcome in the health. */
  const guarded = <T>(path: WritePath, write: () => T, succeeds = true): T => {
    gen.gate.assertWritable();
    try {
      const out = write();
      if (succeeds) health.succeeded(path);
      gen.afterWrite();
      return out;
    } catch (err) {
      report(path, err);
      throw err;
    }
  };
  /** Sync-state bookkeeping is best effort: a refused or failed write is recorded, never thrown. */
  const bestEffort = (write: () => void, provesHealthy = false): void => {
    try {
      gen.gate.assertWritable();
      write();
      if (provesHealthy) health.succeeded("sync");
    } catch (err) {
      if (err instanceof StorageBusyError) return;
      if (storageErrorOf(err) === null) throw err;
      report("sync", err);
    }
  };
  /** Wraps a long write so its storage failures and its success reach the health. */
  const reporting = <S extends ResyncSession | LargeApply>(session: S): S => {
    const watch = <A extends unknown[], R>(fn: (...args: A) => R, succeeds = false) =>
      (...args: A): R => {
        try {
          const out = fn(...args);
          if (out instanceof Promise) {
            return out.then(
              (value: unknown) => {
                if (succeeds) health.succeeded("sync");
                return value;
              },
              (err: unknown) => {
                report("sync", err);
                throw err;
              },
            ) as R;
          }
          if (succeeds) health.succeeded("sync");
          return out;
        } catch (err) {
          report("sync", err);
          throw err;
        }
      };
    const wrapped = { ...session } as Record<string, unknown>;
    for (const [name, fn] of Object.entries(session)) {
      if (typeof fn === "function") wrapped[name] = watch(fn as (...args: unknown[]) => unknown, name === "commit");
    }
    return wrapped as S;
  };

  /** The WAL probe over the current write connection (a reopen replaces the connection). */
  let walProbe: { db: Generation["write"]; probe: () => WalProbe } | null = null;
  const probeWal = (): WalProbe => {
    // While the service's own long write holds the WAL, no checkpoint here (see longWriteHoldsWal).
    // The WAL is then the service's own doing, not a reader's: counted as a completed checkpoint so
    // no starvation is reported for it; the next probe after it measures for real.
    if (gen.longWriteHoldsWal()) {
      return { walBytes: fileSize(`${file}-wal`), complete: true, logFrames: -1, checkpointedFrames: -1 };
    }
    if (walProbe?.db !== gen.write) {
      // Never null: `file` is a real path (":memory:" became a scratch file above).
      const probe = createWalProbe(gen.write, file, walSizeLimitBytes) as () => WalProbe;
      walProbe = { db: gen.write, probe };
    }
    // Never beside a helper pass: SQLite would report this checkpoint busy, not what readers do.
    return gen.exclusiveCheckpoint(walProbe.probe);
  };

  /** A read that meets a corrupt page: the sync rebuilds the file (src/store/corruption.ts). */
  const noticeCorruption = (err: unknown): void => {
    if (isCorruption(err)) report("sync", err);
  };

  const writer: SyncWriter = {
    applyChanges: (changes, revision, now) => guarded("sync", () => gen.writer.applyChanges(changes, revision, now)),
    // Beginning proves nothing; the session reports its commit.
    beginLargeApply: (now) => reporting(guarded("sync", () => gen.writer.beginLargeApply(now), false)),
    beginResync: () => reporting(guarded("sync", () => gen.writer.beginResync(), false)),
  };

  const syncState: SyncStateStore = {
    get: () => readApis().syncState.get(),
    setLink: (state, now, error) => bestEffort(() => gen.onWrite.syncState.setLink(state, now, error)),
    setPhase: (phase) => bestEffort(() => gen.onWrite.syncState.setPhase(phase)),
    // A mirror confirmed current whose storage takes writes again: the sync path is healthy.
    markSynced: (now) => bestEffort(() => gen.onWrite.syncState.markSynced(now), true),
    setSource: (source) => bestEffort(() => gen.onWrite.syncState.setSource(source)),
  };

  const metrics: MetricsStore = {
    syncTargets: (targets) => guarded("metrics", () => gen.onWrite.metrics.syncTargets(targets)),
    recordScrape: (scrape) => guarded("metrics", () => gen.onWrite.metrics.recordScrape(scrape)),
    recordFailure: (failure) => guarded("metrics", () => gen.onWrite.metrics.recordFailure(failure)),
    prune: (olderThanMs) => guarded("metrics", () => gen.onWrite.metrics.prune(olderThanMs)),
    latest: () => readApis().metrics.latest(),
    observedAt: () => readApis().metrics.observedAt(),
    sampleHistory: (name, sinceMs, limit) => readApis().metrics.sampleHistory(name, sinceMs, limit),
  };

  const audit: AuditStore = {
    record: (row) => guarded("audit", () => gen.onWrite.audit.record(row)),
    recordMany: (rows) => guarded("audit", () => gen.onWrite.audit.recordMany(rows)),
    recent: (limit, subject) => readApis().audit.recent(limit, subject),
    prune: (before) => guarded("audit", () => gen.onWrite.audit.prune(before)),
  };

  // The evaluator of the file of the moment; its writes pass the gate (src/store/generation.ts).
  const evaluator: LagEvaluator = {
    run: () => gen.lagEvaluator.run(),
    runNow: () => gen.lagEvaluator.runNow(),
    start: (everyMs, onError) => {
      evaluating = { everyMs, onError };
      gen.lagEvaluator.start(everyMs, onError);
    },
    yieldTo: (busy) => {
      foregroundBusy = busy;
      gen.lagEvaluator.yieldTo(busy);
    },
    stop: async () => {
      evaluating = null;
      await gen.lagEvaluator.stop();
    },
  };

  return {
    path,
    reads: forwarding(() => readApis().reads, noticeCorruption),
    writer,
    syncState,
    mirror: forwarding(() => readApis().mirror, noticeCorruption),
    metrics,
    reports: forwarding(() => readApis().reports, noticeCorruption),
    tables: forwarding(() => readApis().tables, noticeCorruption),
    audit,
    lag: {
      settings: settings.lag,
      reads: forwarding(() => readApis().lag.reads, noticeCorruption),
      evaluator,
      chart: forwarding(() => readApis().lag.chart, noticeCorruption),
      series: forwarding(() => readApis().lag.series, noticeCorruption),
    },
    undecodable: forwarding(() => readApis().undecodable, noticeCorruption),
    changes: forwarding(() => readApis().changes, noticeCorruption),
    // The schema only changes with a migration, which runs before a file is used: described once.
    schema: () => (schema ??= describeSchema(gen.read ?? gen.write)),
    health,
    mode: () => gen.mode,
    reopen: (replace) => {
      retire(gen);
      try {
        replace(file);
      } finally {
        // A new file: what failed in the old one no longer does (a new failure reports itself).
        for (const path of ["sync", "metrics", "audit"] as const) health.succeeded(path);
        adopt(open());
        for (const listener of reopenListeners) listener();
      }
    },
    onReopen: (listener) => {
      reopenListeners.add(listener);
      return () => reopenListeners.delete(listener);
    },
    idle: () => gen.checkpoints.idle(),
    checkpointHelperStats: () => gen.checkpoints.helperStats(),
    // From the read-only connection when there is one: a backup through the write connection would
    // copy a long write's uncommitted pages.
    publishOpsCopy: (copyOptions) => publishOpsCopy(gen.read ?? gen.write, copyOptions),
    // On the connection of the moment (a reopen replaces it); only the file's writer checkpoints.
    probeWal: path === ":memory:" || options.follower ? null : probeWal,
    close: () => {
      if (closed) return;
      closed = true;
      if (reopenTimer !== null) clearTimeout(reopenTimer);
      const checkpointing = gen.checkpoints.busy() ? gen.checkpoints.idle() : null;
      retire(gen);
      if (scratch === null) return;
      // The checkpoint worker started after a long write (a first load) opens the file on its own:
      // opening it while rmSync empties the folder puts a -wal or -shm back (ENOTEMPTY, seen under
      // test:stress). The folder goes once that worker is done.
      const removeScratch = (): void => rmSync(scratch, { recursive: true, force: true, maxRetries: 3 });
      if (checkpointing === null) removeScratch();
      else void checkpointing.then(removeScratch).catch(() => undefined);
    },
  };
}

/**
 * An object whose every property is read from `target()` at the time of use; its methods are bound
 * to that target, and `onError` sees what they throw (then it is rethrown).
 */
function forwarding<T extends object>(target: () => T, onError: (err: unknown) => void): T {
  return new Proxy({} as T, {
    get: (_, property) => {
      const current = target();
      const value: unknown = Reflect.get(current, property);
      if (typeof value !== "function") return value;
      return (...args: unknown[]): unknown => {
        try {
          return (value as (...a: unknown[]) => unknown).apply(current, args);
        } catch (err) {
          onError(err);
          throw err;
        }
      };
    },
  });
}
