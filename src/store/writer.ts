/**
 * The write path. Every batch of etcd changes is applied in one transaction together with the
 * revision it brings the mirror to, so a crash loses nothing and a resume replays nothing twice.
 * Batches too large for one synchronous transaction (a revision deleting 400k keys) and full
 * resyncs are applied as one long write (src/store/long-write.ts, src/store/long-apply.ts): one
 * transaction in time slices, invisible to readers until it commits. The very first load into an
 * empty store has nothing to diff and no reader to protect (tools refuse to answer until it is
 * done), so it writes each page straight into the tables, a slice per transaction.
 */
import type { ChangeFeed, FeedBatch } from "./change-feed.js";
import type { Db } from "./database.js";
import { addDecodeProblem, emptyDecodeReport, type DecodeProblem, type DecodeReport } from "./decode-report.js";
import { createDerivedWriter } from "./derived.js";
import type { LagHistory } from "./lag-history.js";
import { beginLargeApply, beginMergeResync, type LargeApply } from "./long-apply.js";
import { nextTurn, SLICE_MS, type CheckpointScheduler, type WriteGate } from "./long-write.js";
import { createUndecodableKeysWriter } from "./undecodable-keys.js";
import { decodeEntry } from "../kafscale/decode.js";
import { parseKey } from "../kafscale/keys.js";
import type { DecodedEntry } from "../kafscale/kinds.js";
import type { KvChange } from "../kafscale/records.js";

export type { LargeApply } from "./long-apply.js";
export type { DecodeProblem, DecodeReport } from "./decode-report.js";

export interface ApplyResult extends DecodeReport {
  applied: number;
  skipped: number;
}

export interface ResyncResult extends DecodeReport {
  puts: number;
  deletes: number;
  unchanged: number;
}

/**
 * A full resync in progress: pages of a range read pinned to one revision (in key order, as etcd
 * returns them), then one atomic commit. Each call gives the event loop turns while it works.
 */
export interface ResyncSession {
  /** Adds the next page of the range read pinned to `revision`. */
  addPage(kvs: readonly KvChange[], revision: number): Promise<void>;
  commit(revision: number, now?: number): Promise<ResyncResult>;
  abort(): void;
}

export interface SyncWriter {
  /** Applies a batch in one synchronous transaction (keep batches small: it blocks while it runs). */
  applyChanges(changes: readonly KvChange[], revision: number, now?: number): ApplyResult;
  /** Starts one long write for a batch of any size (a huge revision); see LargeApply. */
  beginLargeApply(now?: number): LargeApply;
  beginResync(): ResyncSession;
}

/** What the long writes of src/store/long-apply.ts share with the ordinary write path. */
export interface WriterCore {
  db: Db;
  gate: WriteGate;
  checkpoints: CheckpointScheduler;
  /** The writer's clock (Date.now unless the store was given one). */
  now(): number;
  /** Call first in every write transaction (see UndecodableKeysWriter.begin). */
  beginTransaction(): void;
  /**
   * Applies one change (no transaction of its own). A value that does not decode keeps its key's
   * last good rows; it and a value decoded with a warning are added to `report`. `events`: the
   * change events of the transaction (null: none, as in the first load).
   */
  applyOne(change: KvChange, now: number, log: boolean, report: DecodeReport, events: FeedBatch | null, isNew?: boolean): void;
  /** Derives change events in the write transactions (src/store/change-feed.ts). */
  feed: ChangeFeed;
  /** Trims change_log and decode_errors to the history limit. */
  prune(): void;
  stored(): { revision: number; initialSyncDone: boolean };
  /** Moves the stored revision forward (never back) and stamps synced_at. */
  advance(revision: number, now: number): void;
  /** Records a completed full sync at `revision`; the change feed is complete from a first load on. */
  finishResync(revision: number, now: number): void;
}

/** A kv row's values, named as the kv statements bind them. */
interface KvRow {
  key: string;
  value: Uint8Array;
  kind: string;
  modRevision: number;
  createRevision: number;
  version: number;
  lease: string;
  reason: string | null;
  warning: string | null;
}

/** The write connection's long-write support: the gate shared with the other writers, and checkpoints. */
export interface LongWriteSupport {
  gate: WriteGate;
  checkpoints: CheckpointScheduler;
}

/**
 * Creates the write path over an open database. `historyLimit` bounds change_log and decode_errors;
 * `lag` records the lag history in the same transactions; `feed` derives the semantic change events of
 * watch batches and resyncs (change-feed.ts); `clock` stamps changes applied without an explicit time.
 */
export function createSyncWriter(
  db: Db,
  historyLimit: number,
  longWrites: LongWriteSupport,
  lag: LagHistory,
  feed: ChangeFeed,
  clock: () => number = Date.now,
): SyncWriter {
  const derived = createDerivedWriter(db);
  const undecodable = createUndecodableKeysWriter(db);
  const s = {
    state: db.prepare<[], { revision: number; initial_sync_done: number }>(
      "SELECT revision, initial_sync_done FROM sync_state WHERE id = 1",
    ),
    upsertKv: db.prepare<KvRow>(
      `INSERT INTO kv (key, value, kind, mod_revision, create_revision, version, lease, decode_error, decode_warning)
       VALUES (@key, @value, @kind, @modRevision, @createRevision, @version, @lease, @reason, @warning)
       ON CONFLICT(key) DO UPDATE SET value = excluded.value, kind = excluded.kind,
         mod_revision = excluded.mod_revision, create_revision = excluded.create_revision,
         version = excluded.version, lease = excluded.lease, decode_error = excluded.decode_error,
         decode_warning = excluded.decode_warning`,
    ),
    // A key's kind follows from the key, so a key's next value almost always keeps it: updating the
    // row without naming `kind` leaves the kv_kind index alone, which the upsert (it names every
    // column) rewrites on every change — 29% of the pages a watch batch wrote at size L (2026-11-26:
    // 1.04 of 3.60 WAL frames a change, bench/write-pages.ts). The upsert stays for new keys and
    // for a kind this build classifies differently from the one that stored the row.
    updateKvSameKind: db.prepare<KvRow>(
      `UPDATE kv SET value = @value, mod_revision = @modRevision, create_revision = @createRevision, version = @version,
         lease = @lease, decode_error = @reason, decode_warning = @warning WHERE key = @key AND kind = @kind`,
    ),
    deleteKv: db.prepare("DELETE FROM kv WHERE key = ?"),
    log: db.prepare("INSERT INTO change_log (revision, at, op, key, kind) VALUES (?, ?, ?, ?, ?)"),
    pruneLog: db.prepare("DELETE FROM change_log WHERE id <= (SELECT max(id) FROM change_log) - ?"),
    decodeError: db.prepare(
      "INSERT INTO decode_errors (key, revision, reason, recorded_at, severity) VALUES (?, ?, ?, ?, ?)",
    ),
    pruneDecodeErrors: db.prepare("DELETE FROM decode_errors WHERE id <= (SELECT max(id) FROM decode_errors) - ?"),
    advance: db.prepare(
      "UPDATE sync_state SET revision = max(revision, ?), synced_at = ? WHERE id = 1",
    ),
    isEmpty: db.prepare<[], { one: number }>("SELECT 1 AS one FROM kv LIMIT 1"),
    finishResync: db.prepare(
      `UPDATE sync_state SET revision = ?, synced_at = ?, resync_count = resync_count + initial_sync_done,
         initial_sync_done = 1 WHERE id = 1`,
    ),
  };

  const recordProblem = (
    report: DecodeReport,
    change: KvChange,
    severity: DecodeProblem["severity"],
    reason: string,
    now: number,
  ): void => {
    s.decodeError.run(change.key, change.modRevision, reason, now, severity);
    addDecodeProblem(report, { key: change.key, revision: change.modRevision, severity, reason });
  };

  /**
   * Applies one change. A value that does not decode leaves the key's derived rows as its last good
   * value made them (undecodable_keys remembers which), so answers keep the last truth and say it is
   * held, rather than lose it silently. `events`: the batch's change events, which read the key's
   * rows before they change and diff them with a value that decodes (an undecodable one makes none).
   * `isNew`: the key has no rows yet (the first load into an empty store, where a range read names
   * each key once), so its kv row and lag series are written without looking for old ones first: a
   * committed or end offset took seven statements, three of them lookups that found nothing (the
   * derived row's two are gone for every write: replace() upserts offsets).
   */
  const applyOne = (
    change: KvChange,
    now: number,
    log: boolean,
    report: DecodeReport,
    events: FeedBatch | null,
    isNew = false,
  ): void => {
    const key = parseKey(change.key);
    const seen = events?.before(key, change) ?? null;
    if (log) s.log.run(change.modRevision, now, change.type, change.key, key.kind);
    if (change.type === "delete") {
      derived.remove(key);
      if (key.kind !== "unknown") undecodable.release(change.key);
      s.deleteKv.run(change.key);
      lag.forget(key);
      if (seen) events?.after(seen, null);
      return;
    }
    let entry: DecodedEntry | undefined;
    let reason: string | null = null;
    const warnings: string[] = [];
    try {
      entry = decodeEntry(key, change.value, warnings);
    } catch (err) {
      reason = err instanceof Error ? err.message : String(err);
    }
    // Before the kv row changes: hold reads the value it replaces.
    if (reason !== null) undecodable.hold(change.key, key.kind);
    const warning = warnings.length > 0 ? warnings.join("; ") : null;
    const row: KvRow = {
      key: change.key,
      value: change.value,
      kind: key.kind,
      modRevision: change.modRevision,
      createRevision: change.createRevision,
      version: change.version,
      lease: change.lease,
      reason,
      warning,
    };
    if (isNew || s.updateKvSameKind.run(row).changes === 0) s.upsertKv.run(row);
    if (entry && entry.kind !== "unknown") {
      derived.replace(key, entry, change.modRevision, change.lease);
      undecodable.release(change.key);
      lag.record(entry, now, isNew);
    }
    if (seen && entry) events?.after(seen, entry);
    if (reason !== null) recordProblem(report, change, "error", reason, now);
    if (warning !== null) recordProblem(report, change, "warning", warning, now);
  };

  const prune = (): void => {
    s.pruneLog.run(historyLimit);
    s.pruneDecodeErrors.run(historyLimit);
  };

  const finishResync = (revision: number, now: number): void => {
    s.finishResync.run(revision, now);
    feed.markStart(revision, now);
  };

  const core: WriterCore = {
    db,
    ...longWrites,
    now: clock,
    beginTransaction: () => undecodable.begin(),
    applyOne,
    feed,
    prune,
    stored: () => {
      const row = s.state.get();
      return { revision: row?.revision ?? 0, initialSyncDone: row?.initial_sync_done === 1 };
    },
    advance: (revision, now) => {
      s.advance.run(revision, now);
    },
    finishResync: (revision, now) => finishResync(revision, now),
  };

  const applyChanges = db.transaction(
    (changes: readonly KvChange[], revision: number, now: number): ApplyResult => {
      const stored = s.state.get()?.revision ?? 0;
      undecodable.begin();
      const result: ApplyResult = { applied: 0, skipped: 0, ...emptyDecodeReport() };
      const events = feed.batch("watch", now);
      for (const change of changes) {
        // Exactly-once: a change at or below the stored revision is already in the mirror.
        if (change.modRevision <= stored) {
          result.skipped++;
          continue;
        }
        applyOne(change, now, true, result, events);
        result.applied++;
      }
      events.commit();
      s.advance.run(revision, now);
      prune();
      return result;
    },
  );

  /**
   * First load into an empty store: pages are written a time slice at a time, each slice its own
   * transaction, so memory and the WAL stay bounded and the event loop keeps turning. A load that
   * fails half-way leaves initial_sync_done at 0 (tools still refuse to answer) and the next
   * attempt, finding rows, takes the resync path and converges.
   */
  const beginDirectLoad = (): ResyncSession => {
    const result: ResyncResult = { puts: 0, deletes: 0, unchanged: 0, ...emptyDecodeReport() };
    /** Applies kvs from `from` on until the slice's time is up; returns where it stopped. */
    const applySlice = db.transaction((kvs: readonly KvChange[], from: number, now: number): number => {
      undecodable.begin();
      const started = performance.now();
      let i = from;
      while (i < kvs.length) {
        applyOne(kvs[i++] as KvChange, now, false, result, null, true);
        result.puts++;
        if (performance.now() - started >= SLICE_MS) break;
      }
      return i;
    });
    const commit = db.transaction((revision: number, now: number): ResyncResult => {
      finishResync(revision, now);
      prune();
      return result;
    });
    return {
      addPage: async (kvs) => {
        let next = 0;
        while (next < kvs.length) {
          longWrites.gate.assertWritable();
          next = applySlice.immediate(kvs, next, clock());
          if (next < kvs.length) await nextTurn();
        }
      },
      commit: async (revision, now = clock()) => {
        longWrites.gate.assertWritable();
        // A full load leaves a write-ahead log as large as the data it wrote (less what automatic
        // checkpoints already moved); it is folded back into the file off the main thread.
        longWrites.checkpoints.pause();
        try {
          return commit.immediate(revision, now);
        } finally {
          longWrites.checkpoints.resumeInBackground();
        }
      },
      abort: () => undefined,
    };
  };

  const beginResync = (): ResyncSession => {
    if (s.state.get()?.initial_sync_done !== 1 && s.isEmpty.get() === undefined) return beginDirectLoad();
    return beginMergeResync(core);
  };

  return {
    applyChanges: (changes, revision, now = clock()) => {
      longWrites.gate.assertWritable();
      // IMMEDIATE: the transaction reads before it writes, and SQLite never waits (busy_timeout) to
      // turn a read into a write; a background checkpoint holding the write lock for a moment
      // (src/store/checkpoint-worker.ts) would fail the batch at once with "database is locked".
      return applyChanges.immediate(changes, revision, now);
    },
    beginLargeApply: (now = clock()) => beginLargeApply(core, now),
    beginResync,
  };
}
