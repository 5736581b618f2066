/**
 * `verify`: compares the local snapshot with a fresh range read of etcd.
 *
 * The fresh read is pinned to the revision the local snapshot says it holds, so a service that keeps
 * applying changes while we compare causes no false differences; the local side is read inside one
 * read transaction for the same reason. Both sides are then streamed table by table in primary-key
 * order and merged, so memory stays flat however large the cluster is.
 */
import type { LastGoodValue, Store, UndecodableKey } from "../../store/index.js";
import { createStore } from "../../store/index.js";
import { compareKeys, type DumpRow, type ReadModelTable, type TableDump } from "../../store/table-dump.js";
import type { Logger } from "../../log.js";
import { createEtcdSync } from "./etcd-sync.js";
import type { EtcdSource } from "./member-connector.js";

export type VerifyOptions = VerifySettings & EtcdSource;

export interface VerifySettings {
  /** The local snapshot, on a connection nobody writes through while verify runs (see TableDump). */
  store: Store;
  logger: Logger;
  /** Keys per range request of the fresh read. */
  pageSize?: number;
  /** Deadline of each etcd request, so an unreachable etcd fails instead of hanging. */
  requestTimeoutMs?: number;
  /** Examples kept per table (default 10). */
  exampleLimit?: number;
}

/** How one table differs: `missing` = in etcd but not local, `extra` = local only, `changed` = same key, other values. */
export interface TableDiff {
  table: ReadModelTable;
  /** Rows in the local snapshot. */
  local: number;
  /** Rows in the fresh read from etcd. */
  fresh: number;
  missing: number;
  extra: number;
  changed: number;
  /** The first differences, human-readable. */
  examples: string[];
}

export interface VerifyReport {
  /** The revision the local snapshot holds (sync_state.revision). */
  localRevision: number;
  /** The revision the fresh read was taken at. */
  etcdRevision: number;
  /** True when the fresh read was taken at `localRevision`, so every difference is a real divergence. */
  pinned: boolean;
  /** Why the read could not be pinned (compacted, future revision, no initial sync), else null. */
  note: string | null;
  initialSyncDone: boolean;
  /** Problems with the snapshot as a whole (each one also counts as a difference). */
  problems: string[];
  /**
   * Keys whose current value in etcd does not decode (the first `exampleLimit`): the snapshot serves
   * the last value of each that did. Not differences: the fresh read derives the same rows from the
   * same last good values, so the comparison still checks them; etcd holds values nobody can read.
   */
  undecodable: UndecodableKey[];
  undecodableTotal: number;
  tables: TableDiff[];
  /** Total differing rows over all tables, plus one per problem; 0 means the snapshot equals etcd. */
  differences: number;
}

/** Compares the local snapshot with etcd; see the module comment for the guarantees. */
export async function verifySnapshot(options: VerifyOptions): Promise<VerifyReport> {
  const { store, logger } = options;
  const exampleLimit = options.exampleLimit ?? 10;
  const fresh = createStore(":memory:");
  try {
    return await store.tables.withReadSnapshot(async () => {
      // First read inside the transaction: it fixes the local state the whole comparison sees.
      const state = store.syncState.get();
      const problems: string[] = [];
      if (!state.initialSyncDone) {
        problems.push(
          `the local snapshot never completed its initial etcd sync (revision ${state.revision}); ` +
            "its tables do not describe the cluster yet",
        );
      }
      const undecodable = store.undecodable.all(exampleLimit);
      const read = await freshRead(
        options,
        fresh,
        state.initialSyncDone ? state.revision : null,
        store.undecodable.lastGoodValues(),
      );
      logger.info("verify: fresh etcd read done", { localRevision: state.revision, ...read });
      const tables = store.tables
        .names()
        .map((table) => diffTable(table, store.tables, fresh.tables, exampleLimit));
      const differences =
        problems.length + tables.reduce((sum, t) => sum + t.missing + t.extra + t.changed, 0);
      return {
        localRevision: state.revision,
        etcdRevision: read.etcdRevision,
        pinned: read.pinned,
        note: read.note,
        initialSyncDone: state.initialSyncDone,
        problems,
        undecodable: undecodable.keys,
        undecodableTotal: undecodable.total,
        tables,
        differences,
      };
    });
  } finally {
    fresh.close();
  }
}

interface FreshRead {
  etcdRevision: number;
  pinned: boolean;
  note: string | null;
}

/**
 * Range-reads etcd into `fresh`, at `revision` when etcd still has it, else at the current revision.
 * The local snapshot's last good values go in first, at their own revisions, so a key whose value
 * in etcd does not decode is held in `fresh` exactly as the service holds it (etcd may no longer
 * have that value: compaction), and its kept rows are compared like every other row.
 */
async function freshRead(
  options: VerifyOptions,
  fresh: Store,
  revision: number | null,
  lastGood: readonly LastGoodValue[],
): Promise<FreshRead> {
  if (lastGood.length > 0) {
    const seeds = lastGood.map((v) => ({
      type: "put" as const,
      key: v.key,
      value: v.value,
      modRevision: v.revision,
      createRevision: v.revision,
      version: 1,
      lease: "0",
    }));
    fresh.writer.applyChanges(seeds, Math.max(...lastGood.map((v) => v.revision)));
  }
  // The caller's etcd source (client or connector) with the fresh store; the settings pass through.
  const sync = createEtcdSync({ ...options, store: fresh });
  if (revision === null) {
    const etcdRevision = await sync.syncOnce();
    return { etcdRevision, pinned: false, note: "no local revision to pin to; compared with etcd's current state" };
  }
  try {
    return { etcdRevision: await sync.syncOnce(revision), pinned: true, note: null };
  } catch (err) {
    const reason = unpinnableReason(err);
    if (reason === null) throw new Error(`reading etcd at revision ${revision}: ${messageOf(err)}`);
    const etcdRevision = await sync.syncOnce();
    return {
      etcdRevision,
      pinned: false,
      note:
        `local revision ${revision} ${reason}; compared with the current revision ${etcdRevision} instead, ` +
        "so changes made in between show up as differences",
    };
  }
}

/** Why etcd cannot serve a read at a given revision, or null for any other error (which is fatal). */
function unpinnableReason(err: unknown): string | null {
  const message = messageOf(err);
  if (/required revision has been compacted/.test(message)) return "was compacted by etcd";
  // A snapshot ahead of etcd: etcd was restored from a backup, or this is another cluster's file.
  if (/required revision is a future revision/.test(message)) return "is ahead of etcd (restored etcd or another cluster?)";
  return null;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Merges the two key-ordered streams of one table and counts what differs. */
function diffTable(table: ReadModelTable, local: TableDump, fresh: TableDump, exampleLimit: number): TableDiff {
  const columns = local.columns(table);
  if (columns.join(",") !== fresh.columns(table).join(",")) {
    throw new Error(`verify: table ${table} has different columns locally and in the fresh read (schema mismatch)`);
  }
  const keyColumns = local.keyColumns(table);
  const keyIndexes = keyColumns.map((name) => columns.indexOf(name));
  const diff: TableDiff = { table, local: 0, fresh: 0, missing: 0, extra: 0, changed: 0, examples: [] };
  const example = (text: string): void => {
    if (diff.examples.length < exampleLimit) diff.examples.push(text);
  };
  const describeKey = (row: DumpRow): string =>
    `${table} (${keyColumns.map((name, i) => `${name}=${row.cells[keyIndexes[i] as number]}`).join(", ")})`;

  const localRows = ordered(table, "local", local.rows(table));
  const freshRows = ordered(table, "etcd", fresh.rows(table));
  let l = localRows.next();
  let f = freshRows.next();
  while (!l.done || !f.done) {
    const order = l.done ? 1 : f.done ? -1 : compareKeys(l.value.key, f.value.key);
    if (order < 0 && !l.done) {
      diff.local++;
      diff.extra++;
      example(`extra   ${describeKey(l.value)}: in the local snapshot, not in etcd`);
      l = localRows.next();
    } else if (order > 0 && !f.done) {
      diff.fresh++;
      diff.missing++;
      example(`missing ${describeKey(f.value)}: in etcd, not in the local snapshot`);
      f = freshRows.next();
    } else if (!l.done && !f.done) {
      diff.local++;
      diff.fresh++;
      const changes = changedCells(columns, l.value.cells, f.value.cells);
      if (changes.length > 0) {
        diff.changed++;
        example(`changed ${describeKey(l.value)}: ${changes.join("; ")}`);
      }
      l = localRows.next();
      f = freshRows.next();
    }
  }
  return diff;
}

/** "column: local X, etcd Y" for every differing column (long values shortened). */
function changedCells(columns: readonly string[], local: readonly string[], fresh: readonly string[]): string[] {
  const out: string[] = [];
  columns.forEach((name, i) => {
    const a = local[i] as string;
    const b = fresh[i] as string;
    if (a !== b) out.push(`${name}: local ${shorten(a)}, etcd ${shorten(b)}`);
  });
  return out;
}

function shorten(text: string, max = 80): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * Passes rows through, failing loudly if they are not strictly ascending: the merge is only correct
 * if compareKeys agrees with SQLite's ORDER BY, and a silent disagreement would report false diffs.
 */
function* ordered(table: string, side: string, rows: Generator<DumpRow>): Generator<DumpRow> {
  let previous: DumpRow | undefined;
  for (const row of rows) {
    if (previous && compareKeys(previous.key, row.key) >= 0) {
      throw new Error(`verify: ${side} rows of ${table} are not in key order; cannot compare`);
    }
    previous = row;
    yield row;
  }
}
