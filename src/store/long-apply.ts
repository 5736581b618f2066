/**
 * The two long writes of the sync (see src/store/long-write.ts for how they stay atomic, bounded in
 * memory and responsive):
 *  - a large batch of watch events (one revision deleting 400k keys is one batch), applied with the
 *    same exactly-once rule as small batches;
 *  - a full resync, merged page by page into the mirror as the range read arrives: no staging copy.
 *    etcd returns a range in key order, so the keys a page does not contain between the previous
 *    page's last key and its own are exactly the keys etcd no longer has there.
 */
import { INVALID_UTF8_KEY_PREFIX } from "../kafscale/keys.js";
import type { KvChange } from "../kafscale/records.js";
import { beginLongWrite, type LongWrite } from "./long-write.js";
import { compareText } from "./table-dump.js";
import { emptyDecodeReport } from "./decode-report.js";
import type { FeedBatch } from "./change-feed.js";
import type { ApplyResult, ResyncResult, ResyncSession, WriterCore } from "./writer.js";

/** A batch of any size, applied in slices inside one transaction. */
export interface LargeApply {
  /** Applies changes in order; those at or below the stored revision are skipped (already applied). */
  apply(changes: Iterable<KvChange>): Promise<void>;
  /** Stores `revision` with everything applied and commits it all at once. */
  commit(revision: number): ApplyResult;
  abort(): void;
}

/** Runs the first statements of a long write just begun; if they fail, the write ends with them. */
function startedIn<T>(write: LongWrite, first: () => T): T {
  try {
    return first();
  } catch (err) {
    write.rollback();
    throw err;
  }
}

/** Starts a large batch (the gate refuses other writes until commit or abort). */
export function beginLargeApply(core: WriterCore, now: number): LargeApply {
  const write = beginLongWrite(core.db, core.gate, core.checkpoints, "applying a large etcd revision");
  const stored = startedIn(write, () => {
    core.beginTransaction();
    return core.stored().revision;
  });
  const result: ApplyResult = { applied: 0, skipped: 0, ...emptyDecodeReport() };
  const events = core.feed.batch("watch", now);
  return {
    apply: (changes) =>
      write.each(
        changes,
        (change) => {
          if (change.modRevision <= stored) {
            result.skipped++;
            return;
          }
          core.applyOne(change, now, true, result, events);
          result.applied++;
        },
        core.prune,
      ),
    commit: (revision) => {
      events.commit();
      core.advance(revision, now);
      core.prune();
      write.commit();
      return result;
    },
    abort: () => write.rollback(),
  };
}

// Mirrored keys that were not valid UTF-8 (rare): their text does not sort like their bytes, so
// they are matched by set instead of by position in the range.
const ESCAPED_FROM = INVALID_UTF8_KEY_PREFIX;
const ESCAPED_TO = INVALID_UTF8_KEY_PREFIX.slice(0, -1) + String.fromCharCode(INVALID_UTF8_KEY_PREFIX.charCodeAt(INVALID_UTF8_KEY_PREFIX.length - 1) + 1);
const isEscaped = (key: string): boolean => key.startsWith(ESCAPED_FROM);

/** Keys read per query while looking for keys that etcd no longer has. */
const SCAN_PAGE = 500;

/** A resync of a store that already holds a snapshot (the first load goes page by page instead). */
export function beginMergeResync(core: WriterCore): ResyncSession {
  const { db } = core;
  const q = {
    unchanged: db.prepare<[string, number, Buffer], { one: number }>(
      "SELECT 1 AS one FROM kv WHERE key = ? AND mod_revision = ? AND value = ?",
    ),
    between: db.prepare<[string, string, string, string], { key: string }>(
      `SELECT key FROM kv WHERE key > ? AND key <= ? AND NOT (key >= ? AND key < ?) ORDER BY key LIMIT ${SCAN_PAGE}`,
    ),
    after: db.prepare<[string, string, string], { key: string }>(
      `SELECT key FROM kv WHERE key > ? AND NOT (key >= ? AND key < ?) ORDER BY key LIMIT ${SCAN_PAGE}`,
    ),
    escaped: db.prepare<[string, string, string], { key: string }>(
      `SELECT key FROM kv WHERE key > ? AND key >= ? AND key < ? ORDER BY key LIMIT ${SCAN_PAGE}`,
    ),
  };
  const write = beginLongWrite(db, core.gate, core.checkpoints, "resyncing from etcd");
  const log = startedIn(write, () => {
    core.beginTransaction();
    return core.stored().initialSyncDone;
  });
  const now = core.now();
  const result: ResyncResult = { puts: 0, deletes: 0, unchanged: 0, ...emptyDecodeReport() };
  // A resync after the first load reports what it found as change events, stamped with the revision
  // its range read is pinned to (known from the first page on).
  let events: FeedBatch | null = null;
  const eventsAt = (revision: number): FeedBatch | null => {
    if (log && events === null) events = core.feed.batch("resync", now, revision);
    return events;
  };
  const escapedSeen = new Set<string>();
  // The last (valid UTF-8) key of the pages merged so far; "" sorts before every key.
  let mergedUpTo = "";

  /** Keys from `page(cursor)` (key order, keyset-paged) that are not in `keep`. */
  function* missing(page: (cursor: string) => { key: string }[], keep: Set<string>): Generator<string> {
    let cursor = "";
    for (;;) {
      const rows = page(cursor);
      for (const { key } of rows) if (!keep.has(key)) yield key;
      const last = rows.at(-1);
      if (!last || rows.length < SCAN_PAGE) return;
      cursor = last.key;
    }
  }

  const remove = (key: string, revision: number): void => {
    core.applyOne(
      { type: "delete", key, value: Buffer.alloc(0), modRevision: revision, createRevision: 0, version: 0, lease: "0" },
      now,
      log,
      result,
      eventsAt(revision),
    );
    result.deletes++;
  };
  const put = (kv: KvChange, revision: number): void => {
    if (q.unchanged.get(kv.key, kv.modRevision, kv.value) !== undefined) {
      result.unchanged++;
      return;
    }
    core.applyOne(kv, now, log, result, eventsAt(revision));
    result.puts++;
  };

  return {
    addPage: async (kvs, revision) => {
      const inOrder = kvs.filter((kv) => !isEscaped(kv.key));
      for (const kv of kvs) if (isEscaped(kv.key)) escapedSeen.add(kv.key);
      // The merge is only right for pages in etcd's key order; anything else would delete live keys.
      inOrder.forEach((kv, i) => {
        const previous = i === 0 ? mergedUpTo : (inOrder[i - 1] as KvChange).key;
        if (compareText(kv.key, previous) <= 0) throw new Error(`resync pages must arrive in key order ("${kv.key}" after "${previous}")`);
      });
      const last = inOrder.at(-1)?.key;
      if (last !== undefined) {
        const keep = new Set(inOrder.map((kv) => kv.key));
        const from = mergedUpTo;
        const gone = missing((cursor) => q.between.all(cursor > from ? cursor : from, last, ESCAPED_FROM, ESCAPED_TO), keep);
        await write.each(gone, (key) => remove(key, revision), core.prune);
        mergedUpTo = last;
      }
      await write.each(kvs, (kv) => put(kv, revision), core.prune);
    },
    commit: async (revision, commitNow = now) => {
      const from = mergedUpTo;
      const trailing = missing((cursor) => q.after.all(cursor > from ? cursor : from, ESCAPED_FROM, ESCAPED_TO), new Set());
      await write.each(trailing, (key) => remove(key, revision), core.prune);
      const escaped = missing((cursor) => q.escaped.all(cursor, ESCAPED_FROM, ESCAPED_TO), escapedSeen);
      await write.each(escaped, (key) => remove(key, revision), core.prune);
      eventsAt(revision)?.commit();
      core.finishResync(revision, commitNow);
      core.prune();
      write.commit();
      return result;
    },
    abort: () => write.rollback(),
  };
}
