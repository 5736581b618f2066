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
import type { LagHistory } from "./lag-history.js";
import { truncateWalIfIdle } from "./wal-health.js";
import { createUndecodableKeysWriter } from "./undecodable-keys.js";
import { decodeEntry } from "../kafscale/decode.js";
import { parseKey } from "../kafscale/keys.js";
import type { DecodedEntry, KvChange } from "../kafscale/records.js";

/** A value that failed to decode (its key keeps serving its last good value) or decoded with a warning. */
export interface DecodeProblem {
  key: string;
  revision: number;
  severity: "error" | "warning";
  reason: string;
}

/** What a batch or a full load met, for the log: the first problems (at most 100), and their counts. */
export interface DecodeReport {
  decodeErrors: number;
  decodeWarnings: number;
  problems: DecodeProblem[];
}

export interface ApplyResult extends DecodeReport {
  applied: number;
  skipped: number;
}

export interface ResyncResult extends DecodeReport {
  puts: number;
  deletes: number;
  unchanged: number;
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
/** Problems a result lists one by one; the counts include the rest. */
const MAX_LISTED_PROBLEMS = 100;

/**
 * Creates the write path over an open database. `historyLimit` bounds change_log and decode_errors;
 * `lag` records the lag history in the same transactions; `feed` derives the semantic change events of
 * watch batches and resyncs (change-feed.ts); `clock` stamps changes applied without an explicit time.
 */
export function createSyncWriter(
  db: Db,
  historyLimit: number,
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
    upsertKv: db.prepare(
      `INSERT INTO kv (key, value, kind, mod_revision, create_revision, version, lease, decode_error, decode_warning)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET value = excluded.value, kind = excluded.kind,
         mod_revision = excluded.mod_revision, create_revision = excluded.create_revision,
         version = excluded.version, lease = excluded.lease, decode_error = excluded.decode_error,
         decode_warning = excluded.decode_warning`,
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

  /** Decode problems met since the last takeProblems(), for the result of the current transaction. */
  let report: DecodeReport = { decodeErrors: 0, decodeWarnings: 0, problems: [] };
  const takeProblems = (): DecodeReport => {
    const taken = report;
    report = { decodeErrors: 0, decodeWarnings: 0, problems: [] };
    return taken;
  };
  const recordProblem = (change: KvChange, severity: DecodeProblem["severity"], reason: string, now: number): void => {
    s.decodeError.run(change.key, change.modRevision, reason, now, severity);
    if (severity === "error") report.decodeErrors++;
    else report.decodeWarnings++;
    if (report.problems.length < MAX_LISTED_PROBLEMS) {
      report.problems.push({ key: change.key, revision: change.modRevision, severity, reason });
    }
  };

  /**
   * Applies one change. A value that does not decode leaves the key's derived rows as its last good
   * value made them (undecodable_keys remembers which), so answers keep the last truth and say it is
   * held, rather than lose it silently. `events`: the batch's change events, which read the key's
   * rows before they change and diff them with a value that decodes (an undecodable one makes none).
   */
  const applyOne = (change: KvChange, now: number, log: boolean, events: FeedBatch | null = null): void => {
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
    s.upsertKv.run(
      change.key,
      change.value,
      key.kind,
      change.modRevision,
      change.createRevision,
      change.version,
      change.lease,
      reason,
      warning,
    );
    if (entry && entry.kind !== "unknown") {
      derived.remove(key);
      derived.insert(entry, change.modRevision, change.lease);
      undecodable.release(change.key);
      lag.record(entry, now);
    }
    if (seen && entry) events?.after(seen, entry);
    if (reason !== null) recordProblem(change, "error", reason, now);
    if (warning !== null) recordProblem(change, "warning", warning, now);
  };

  const prune = (): void => {
    s.pruneLog.run(historyLimit);
    s.pruneDecodeErrors.run(historyLimit);
  };

  const applyChanges = db.transaction(
    (changes: readonly KvChange[], revision: number, now: number): ApplyResult => {
      const stored = s.state.get()?.revision ?? 0;
      undecodable.begin();
      takeProblems();
      const result = { applied: 0, skipped: 0 };
      const events = feed.batch("watch", now);
      for (const change of changes) {
        // Exactly-once: a change at or below the stored revision is already in the mirror.
        if (change.modRevision <= stored) {
          result.skipped++;
          continue;
        }
        applyOne(change, now, true, events);
        result.applied++;
      }
      events.commit();
      s.advance.run(revision, now);
      prune();
      return { ...result, ...takeProblems() };
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
    const result = { puts: 0, deletes: 0, unchanged: 0 };
    takeProblems();
    const addPage = db.transaction((kvs: readonly KvChange[], now: number) => {
      undecodable.begin();
      for (const kv of kvs) {
        applyOne(kv, now, false);
        result.puts++;
      }
    });
    const commit = db.transaction((revision: number, now: number): ResyncResult => {
      s.finishResync.run(revision, now);
      feed.markStart(revision, now);
      prune();
      return { ...result, ...takeProblems() };
    });
    return {
      addPage: (kvs) => addPage(kvs, clock()),
      commit: (revision, now = clock()) => finishFullLoad(() => commit(revision, now)),
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
      undecodable.begin();
      takeProblems();
      const result = { puts: 0, deletes: 0, unchanged: 0 };
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
          applyOne(change, now, log, events);
          result.puts++;
        }
        after = (rows.at(-1) as StagedRow).key;
      }
      result.unchanged = (stagedCount.get()?.n ?? 0) - result.puts;
      events?.commit();
      s.finishResync.run(revision, now);
      feed.markStart(revision, now);
      prune();
      return { ...result, ...takeProblems() };
    });
    const drop = (): void => {
      db.exec("DROP TABLE IF EXISTS temp.resync_staging");
    };
    return {
      addPage: (kvs) => addPage(kvs),
      commit: (revision, now = clock()) => {
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
    applyChanges: (changes, revision, now = clock()) => applyChanges(changes, revision, now),
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
