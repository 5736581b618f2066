/**
 * The write path. Every batch of etcd changes is applied in one transaction together with the
 * revision it brings the mirror to, so a crash loses nothing and a resume replays nothing twice.
 * A full resync stages a fresh range read, then applies only the difference in one transaction:
 * readers see the old state until the new one is complete. The very first load into an empty store
 * has nothing to diff and no reader to protect (tools refuse to answer until it is done), so it
 * writes each page straight into the tables instead of staging every key first.
 */
import type { ChangeFeed, FeedBatch } from "./change-feed.js";
import type { Db } from "./database.js";
import { createDerivedWriter } from "./derived.js";
import { truncateWalIfIdle } from "./wal-health.js";
import { decodeEntry } from "../kafscale/decode.js";
import { parseKey } from "../kafscale/keys.js";
import type { DecodedEntry, KvChange } from "../kafscale/records.js";

export interface ApplyResult {
  applied: number;
  skipped: number;
  decodeErrors: number;
}

export interface ResyncResult {
  puts: number;
  deletes: number;
  unchanged: number;
  decodeErrors: number;
}

/** A full resync in progress: pages of a range read pinned to one revision, then one atomic commit. */
export interface ResyncSession {
  addPage(kvs: readonly KvChange[]): void;
  commit(revision: number, now?: number): ResyncResult;
  abort(): void;
}

export interface SyncWriter {
  applyChanges(changes: readonly KvChange[], revision: number, now?: number): ApplyResult;
  beginResync(): ResyncSession;
}

const PAGE = 2000;

/**
 * Creates the write path over an open database. `historyLimit` bounds change_log and decode_errors;
 * `feed` derives the semantic change events of watch batches and resyncs (change-feed.ts).
 */
export function createSyncWriter(db: Db, historyLimit: number, feed: ChangeFeed): SyncWriter {
  const derived = createDerivedWriter(db);
  const s = {
    state: db.prepare<[], { revision: number; initial_sync_done: number }>(
      "SELECT revision, initial_sync_done FROM sync_state WHERE id = 1",
    ),
    upsertKv: db.prepare(
      `INSERT INTO kv (key, value, kind, mod_revision, create_revision, version, lease, decode_error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET value = excluded.value, kind = excluded.kind,
         mod_revision = excluded.mod_revision, create_revision = excluded.create_revision,
         version = excluded.version, lease = excluded.lease, decode_error = excluded.decode_error`,
    ),
    deleteKv: db.prepare("DELETE FROM kv WHERE key = ?"),
    log: db.prepare("INSERT INTO change_log (revision, at, op, key, kind) VALUES (?, ?, ?, ?, ?)"),
    pruneLog: db.prepare("DELETE FROM change_log WHERE id <= (SELECT max(id) FROM change_log) - ?"),
    decodeError: db.prepare("INSERT INTO decode_errors (key, revision, reason, recorded_at) VALUES (?, ?, ?, ?)"),
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

  /** Applies one change; returns true if its value failed to decode. `events`: the batch's change events. */
  const applyOne = (change: KvChange, now: number, log: boolean, events: FeedBatch | null = null): boolean => {
    const key = parseKey(change.key);
    const seen = events?.before(key, change) ?? null;
    derived.remove(key);
    if (log) s.log.run(change.modRevision, now, change.type, change.key, key.kind);
    if (change.type === "delete") {
      s.deleteKv.run(change.key);
      if (seen) events?.after(seen, null);
      return false;
    }
    let entry: DecodedEntry | undefined;
    let reason: string | null = null;
    try {
      entry = decodeEntry(key, change.value);
    } catch (err) {
      reason = err instanceof Error ? err.message : String(err);
    }
    s.upsertKv.run(
      change.key,
      change.value,
      key.kind,
      change.modRevision,
      change.createRevision,
      change.version,
      change.lease,
      reason,
    );
    if (entry) derived.insert(entry, change.modRevision, change.lease);
    if (seen && entry) events?.after(seen, entry);
    if (reason !== null) s.decodeError.run(change.key, change.modRevision, reason, now);
    return reason !== null;
  };

  const prune = (): void => {
    s.pruneLog.run(historyLimit);
    s.pruneDecodeErrors.run(historyLimit);
  };

  const applyChanges = db.transaction(
    (changes: readonly KvChange[], revision: number, now: number): ApplyResult => {
      const stored = s.state.get()?.revision ?? 0;
      const result: ApplyResult = { applied: 0, skipped: 0, decodeErrors: 0 };
      const events = feed.batch("watch", now);
      for (const change of changes) {
        // Exactly-once: a change at or below the stored revision is already in the mirror.
        if (change.modRevision <= stored) {
          result.skipped++;
          continue;
        }
        if (applyOne(change, now, true, events)) result.decodeErrors++;
        result.applied++;
      }
      events.commit();
      s.advance.run(revision, now);
      prune();
      return result;
    },
  );

  /** Commits a full load: revision and "initial sync done", then folds the WAL back into the file. */
  const finishFullLoad = (commitLoad: () => ResyncResult): ResyncResult => {
    const result = commitLoad();
    // A full load leaves a write-ahead log as large as the data it wrote; fold it back into the
    // database so the snapshot does not take twice its size on disk. Without waiting for a reader
    // of the live file (that would stall the event loop for busy_timeout): if one is there, the WAL
    // monitor's next check or the next write cuts the WAL back (journal_size_limit).
    truncateWalIfIdle(db);
    return result;
  };

  /**
   * First load into an empty store: each page is applied in its own transaction, so memory and the
   * WAL stay bounded by one page. A load that fails half-way leaves initial_sync_done at 0 (tools
   * still refuse to answer) and the next attempt, finding rows, takes the staging path and diffs.
   */
  const beginDirectLoad = (): ResyncSession => {
    const result: ResyncResult = { puts: 0, deletes: 0, unchanged: 0, decodeErrors: 0 };
    const addPage = db.transaction((kvs: readonly KvChange[], now: number) => {
      for (const kv of kvs) {
        if (applyOne(kv, now, false)) result.decodeErrors++;
        result.puts++;
      }
    });
    const commit = db.transaction((revision: number, now: number): ResyncResult => {
      s.finishResync.run(revision, now);
      feed.markStart(revision, now);
      prune();
      return result;
    });
    return {
      addPage: (kvs) => addPage(kvs, Date.now()),
      commit: (revision, now = Date.now()) => finishFullLoad(() => commit(revision, now)),
      abort: () => undefined,
    };
  };

  const beginResync = (): ResyncSession => {
    if (s.state.get()?.initial_sync_done !== 1 && s.isEmpty.get() === undefined) return beginDirectLoad();
    return beginStagedResync();
  };

  const beginStagedResync = (): ResyncSession => {
    db.exec(`DROP TABLE IF EXISTS temp.resync_staging;
      CREATE TEMP TABLE resync_staging (key TEXT PRIMARY KEY, value BLOB NOT NULL, mod_revision INTEGER NOT NULL,
        create_revision INTEGER NOT NULL, version INTEGER NOT NULL, lease TEXT NOT NULL) WITHOUT ROWID`);
    const stage = db.prepare("INSERT OR REPLACE INTO temp.resync_staging VALUES (?, ?, ?, ?, ?, ?)");
    const changedPage = db.prepare<[string], StagedRow>(
      `SELECT s.* FROM temp.resync_staging s LEFT JOIN kv ON kv.key = s.key
       WHERE s.key > ? AND (kv.key IS NULL OR kv.mod_revision != s.mod_revision OR kv.value != s.value)
       ORDER BY s.key LIMIT ${PAGE}`,
    );
    const goneKeys = db.prepare<[], { key: string }>(
      "SELECT key FROM kv WHERE key NOT IN (SELECT key FROM temp.resync_staging)",
    );
    const stagedCount = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM temp.resync_staging");
    const addPage = db.transaction((kvs: readonly KvChange[]) => {
      for (const kv of kvs) stage.run(kv.key, kv.value, kv.modRevision, kv.createRevision, kv.version, kv.lease);
    });
    const commit = db.transaction((revision: number, now: number): ResyncResult => {
      const log = (s.state.get()?.initial_sync_done ?? 0) === 1;
      // A resync after the first load reports what it found as change events, stamped with its revision.
      const events = log ? feed.batch("resync", now, revision) : null;
      const result: ResyncResult = { puts: 0, deletes: 0, unchanged: 0, decodeErrors: 0 };
      for (const { key } of goneKeys.all()) {
        applyOne(
          { type: "delete", key, value: Buffer.alloc(0), modRevision: revision, createRevision: 0, version: 0, lease: "0" },
          now,
          log,
          events,
        );
        result.deletes++;
      }
      let after = "";
      for (;;) {
        const rows = changedPage.all(after);
        if (rows.length === 0) break;
        for (const row of rows) {
          const change: KvChange = {
            type: "put",
            key: row.key,
            value: row.value,
            modRevision: row.mod_revision,
            createRevision: row.create_revision,
            version: row.version,
            lease: row.lease,
          };
          if (applyOne(change, now, log, events)) result.decodeErrors++;
          result.puts++;
        }
        after = (rows.at(-1) as StagedRow).key;
      }
      result.unchanged = (stagedCount.get()?.n ?? 0) - result.puts;
      events?.commit();
      s.finishResync.run(revision, now);
      feed.markStart(revision, now);
      prune();
      return result;
    });
    const drop = (): void => {
      db.exec("DROP TABLE IF EXISTS temp.resync_staging");
    };
    return {
      addPage: (kvs) => addPage(kvs),
      commit: (revision, now = Date.now()) => {
        try {
          return finishFullLoad(() => commit(revision, now));
        } finally {
          drop();
        }
      },
      abort: drop,
    };
  };

  return {
    applyChanges: (changes, revision, now = Date.now()) => applyChanges(changes, revision, now),
    beginResync,
  };
}

interface StagedRow {
  key: string;
  value: Buffer;
  mod_revision: number;
  create_revision: number;
  version: number;
  lease: string;
}
