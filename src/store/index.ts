/**
 * The SQLite snapshot: one factory that opens the database and prepares every statement once.
 * Only this folder holds SQL; tools, HTTP and sync use these functions.
 */
import { createAuditStore, type AuditStore } from "./audit-store.js";
import { createChangeFeed } from "./change-feed.js";
import { createChangeReads, type ChangeReads } from "./change-reads.js";
import { DEFAULT_WAL_SIZE_LIMIT_BYTES, openDatabase } from "./database.js";
import { publishOpsCopy, type OpsCopyOptions, type OpsCopyResult } from "./ops-copy.js";
import { createWalProbe, type WalProbe } from "./wal-health.js";
import { createKvMirror, type KvMirror } from "./kv-mirror.js";
import { createLagChartReads, type LagChartReads } from "./lag-chart.js";
import { createLagMetricReads, type LagMetricReads } from "./lag-metrics.js";
import { createLagEvaluator, type LagEvaluator } from "./lag-evaluator.js";
import { createLagHistory } from "./lag-history.js";
import { createLagReads, type LagReads } from "./lag-reads.js";
import { createMetricsStore, type MetricsStore } from "./metrics-store.js";
import { createReads, type Reads } from "./reads.js";
import { createReportReads, type ReportReads } from "./report-reads.js";
import { createSyncStateStore, type SyncStateStore } from "./sync-state.js";
import { createSyncWriter, type SyncWriter } from "./writer.js";
import { createTableDump, type TableDump } from "./table-dump.js";
import { DEFAULT_LAG_SETTINGS, type LagSettings } from "../kafscale/lag-status.js";
import { describeSchema, type RelationSchema } from "./schema-docs.js";
import { createUndecodableKeys, type UndecodableKeys } from "./undecodable-keys.js";

export type { SyncWriter, ResyncSession, ApplyResult, ResyncResult, DecodeProblem, DecodeReport } from "./writer.js";
export type { KeyDependencies, UndecodableKey, UndecodableKeys, LastGoodValue } from "./undecodable-keys.js";
export type { SyncState, SyncStateStore, LinkState, SyncPhase } from "./sync-state.js";
export type * from "./reads.js";
export type { KvMirror, MirroredKv, DecodeErrorRow, ChangeRow } from "./kv-mirror.js";
export type * from "./metrics-store.js";
export type { ReportReads, ReportData, GroupLagRow, TopicSummaryRow } from "./report-reads.js";
export type { AuditStore, AuditRow, AuditOutcome } from "./audit-store.js";
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
  /** Size the WAL is cut back to after a complete checkpoint (default 16 MiB). */
  walSizeLimitBytes?: number;
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

/** Opens (creating and migrating if needed) the snapshot at `path`; ":memory:" for tests. */
export function createStore(path: string, options: StoreOptions = {}): Store {
  const walSizeLimitBytes = options.walSizeLimitBytes ?? DEFAULT_WAL_SIZE_LIMIT_BYTES;
  const db = openDatabase(path, undefined, { walSizeLimitBytes });
  const clock = options.now ?? Date.now;
  const lagSettings = options.lag ?? DEFAULT_LAG_SETTINGS;
  const lagHistory = createLagHistory(db, lagSettings);
  let closed = false;
  let schema: RelationSchema[] | undefined;
  return {
    path,
    reads: createReads(db),
    writer: createSyncWriter(
      db,
      options.historyLimit ?? 10_000,
      lagHistory,
      createChangeFeed(db, {
        retentionMs: options.eventsRetentionMs ?? DEFAULT_EVENTS_RETENTION_MS,
        maxEvents: options.maxEvents ?? DEFAULT_MAX_EVENTS,
      }),
      clock,
    ),
    syncState: createSyncStateStore(db),
    mirror: createKvMirror(db),
    metrics: createMetricsStore(db),
    reports: createReportReads(db),
    tables: createTableDump(db),
    audit: createAuditStore(db),
    lag: {
      settings: lagSettings,
      reads: createLagReads(db, lagSettings),
      evaluator: createLagEvaluator(db, lagHistory, lagSettings, clock),
      chart: createLagChartReads(db),
      series: createLagMetricReads(db),
    },
    changes: createChangeReads(db),
    // The schema only changes with a migration, which runs before this: described once.
    schema: () => (schema ??= describeSchema(db)),
    publishOpsCopy: (copyOptions) => publishOpsCopy(db, copyOptions),
    probeWal: createWalProbe(db, path, walSizeLimitBytes),
    undecodable: createUndecodableKeys(db),
    close: () => {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
