/**
 * The lag history's write side, called by the writer (src/store/writer.ts) inside the transaction
 * that applies the change, so a point and the change that caused it commit together or not at all.
 *
 * Sampling (issue 14, docs/LAG.md): a point is kept when the value changed and at least one sample
 * interval passed since the series' previous kept point; a series keeps at most `windowPoints`
 * points. A series is one row holding its whole window in the compact form of
 * src/store/lag-history-codec.ts (migration 8): a change reads that row (one primary-key seek; never
 * cached, so nothing can go stale across a resync or a restart) and a kept point rewrites it. Each change is also noted for the
 * evaluator (src/store/lag-evaluator.ts) in a bounded in-memory set: losing it on a crash is
 * harmless, since the evaluator re-judges everything after a start.
 */
import type { Db } from "./database.js";
import { decodeSeries, encodeSeries, LagSeriesCorrupt, storable, withPoint } from "./lag-history-codec.js";
import type { LagSettings } from "../kafscale/lag-status.js";
import type { SeriesPoint } from "../kafscale/lag-series.js";
import type { DecodedEntry, KafscaleKey } from "../kafscale/kinds.js";

/** What changed since the evaluator last looked. */
export interface LagChanges {
  /** Everything must be judged again (start, snapshot change, or more changes than tracked). */
  all: boolean;
  /** Groups whose set of partitions may have changed (metadata, a commit deleted). */
  groups: Set<string>;
  /** Commits that changed: JSON [group, topic, partition]. */
  commits: Set<string>;
  /** End offsets that changed: JSON [topic, partition]. */
  ends: Set<string>;
}

/** More tracked changes than this and the evaluator judges everything instead (memory stays bounded). */
export const MAX_TRACKED_CHANGES = 50_000;

export interface LagHistory {
  /**
   * Records what a decoded value adds to the history (after its derived rows are written). `isNew`:
   * the key's series cannot exist yet (the first load into an empty store): it is not looked up.
   */
  record(entry: DecodedEntry, now: number, isNew?: boolean): void;
  /** A key was deleted: its series goes with it. */
  forget(key: KafscaleKey): void;
  /** Hands the changes noted so far to the evaluator and starts a new set. */
  takeChanges(): LagChanges;
  /** Notes that everything must be judged again. */
  markAll(): void;
  /** Shortens every series to its newest `windowPoints` points (a smaller window setting). */
  trim(windowPoints: number): void;
}

/** Series read per page while trimming (a page is read whole before it is rewritten). */
const TRIM_PAGE = 5_000;

const emptyChanges = (all: boolean): LagChanges => ({ all, groups: new Set(), commits: new Set(), ends: new Set() });

/** A commit's `committed_at` (RFC 3339, as Kafscale writes it) in Unix ms; null when empty or unreadable. */
export function committedAtMs(committedAt: string): number | null {
  const parsed = committedAt === "" ? Number.NaN : Date.parse(committedAt);
  return Number.isFinite(parsed) ? parsed : null;
}

/** The time a commit happened: its committed_at, never later than it was applied; else when applied. */
export function commitTime(committedAt: string, appliedAt: number): number {
  return Math.min(committedAtMs(committedAt) ?? appliedAt, appliedAt);
}

/** Decodes a stored series; one that does not decode is reported to `onCorrupt` and reads as no points. */
export function readSeries(blob: Buffer | undefined, onCorrupt: (err: LagSeriesCorrupt) => void): SeriesPoint[] {
  if (blob === undefined) return [];
  // The column is BLOB by declaration only: a hand-edited row may hold text or a number.
  if (!(blob instanceof Uint8Array)) {
    onCorrupt(new LagSeriesCorrupt("lag history series: not a BLOB"));
    return [];
  }
  try {
    return decodeSeries(blob);
  } catch (err) {
    if (!(err instanceof LagSeriesCorrupt)) throw err;
    onCorrupt(err);
    return [];
  }
}

/**
 * Records a stored series that did not decode (or a point the codec cannot store) in lag_evaluation
 * (history_errors, history_error): for a writable connection, inside the caller's transaction.
 */
export function lagHistoryErrorRecorder(db: Db): (series: string, err: Error) => void {
  const record = db.prepare("UPDATE lag_evaluation SET history_errors = history_errors + 1, history_error = ? WHERE id = 1");
  return (series, err) => {
    record.run(`${series}: ${err.message}`.slice(0, 500));
  };
}

/** Prepares the history statements once over an open database. */
export function createLagHistory(db: Db, settings: LagSettings, maxTracked = MAX_TRACKED_CHANGES): LagHistory {
  const s = {
    getEnd: db.prepare<[string, number], { points: Buffer }>(
      "SELECT points FROM lag_end_offset_series WHERE topic = ? AND partition = ?",
    ),
    putEnd: db.prepare("INSERT OR REPLACE INTO lag_end_offset_series (topic, partition, points) VALUES (?, ?, ?)"),
    delEnd: db.prepare("DELETE FROM lag_end_offset_series WHERE topic = ? AND partition = ?"),
    getCommit: db.prepare<[string, string, number], { points: Buffer }>(
      "SELECT points FROM lag_commit_series WHERE group_id = ? AND topic = ? AND partition = ?",
    ),
    putCommit: db.prepare(
      "INSERT OR REPLACE INTO lag_commit_series (group_id, topic, partition, points) VALUES (?, ?, ?, ?)",
    ),
    delCommit: db.prepare("DELETE FROM lag_commit_series WHERE group_id = ? AND topic = ? AND partition = ?"),
    endsAfter: db.prepare<[string, number], { topic: string; partition: number; points: Buffer }>(
      `SELECT topic, partition, points FROM lag_end_offset_series WHERE (topic, partition) > (?, ?)
       ORDER BY topic, partition LIMIT ${TRIM_PAGE}`,
    ),
    commitsAfter: db.prepare<[string, string, number], { group_id: string; topic: string; partition: number; points: Buffer }>(
      `SELECT group_id, topic, partition, points FROM lag_commit_series WHERE (group_id, topic, partition) > (?, ?, ?)
       ORDER BY group_id, topic, partition LIMIT ${TRIM_PAGE}`,
    ),
  };
  const recordError = lagHistoryErrorRecorder(db);

  let changes = emptyChanges(true);
  const tracked = (): number => changes.groups.size + changes.commits.size + changes.ends.size;
  const note = (set: Set<string>, key: string): void => {
    if (changes.all) return;
    set.add(key);
    if (tracked() > maxTracked) changes = emptyChanges(true);
  };

  /** The sampling rule: keep when the value changed and an interval passed since the last kept point. */
  const keeps = (last: SeriesPoint | undefined, at: number, value: number): boolean =>
    last === undefined || (last.value !== value && at - last.at >= settings.intervalMs);

  /**
   * The series after this change, or null when nothing is kept. A stored series that does not decode
   * is recorded and starts again from this point (the history is a cache of the window).
   */
  const sampled = (series: string, blob: Buffer | undefined, at: number, value: number): Buffer | null => {
    const points = readSeries(blob, (err) => recordError(series, err));
    if (!keeps(points[points.length - 1], at, value)) return null;
    const point = { at, value };
    if (!storable(point)) {
      recordError(series, new RangeError(`point out of the stored range (${at}, ${value}): not kept`));
      return null;
    }
    return encodeSeries(withPoint(points, point, settings.windowPoints));
  };

  /** A put or delete of a key that changes which partitions a group has: its metadata, or the snapshot. */
  const noteStructure = (key: { kind: string; groupId?: string }): void => {
    if (key.kind === "snapshot") changes = emptyChanges(true);
    else if (key.kind === "group_metadata" && key.groupId !== undefined) note(changes.groups, key.groupId);
  };

  const record = (entry: DecodedEntry, now: number, isNew = false): void => {
    switch (entry.kind) {
      case "next_offset": {
        const { topic, partition, value } = entry;
        note(changes.ends, JSON.stringify([topic, partition]));
        const stored = isNew ? undefined : s.getEnd.get(topic, partition)?.points;
        const kept = sampled(`end offset ${topic}/${partition}`, stored, now, value);
        if (kept !== null) s.putEnd.run(topic, partition, kept);
        return;
      }
      case "committed_offset": {
        const { groupId, topic, partition } = entry;
        const { offset } = entry.value;
        note(changes.commits, JSON.stringify([groupId, topic, partition]));
        const at = commitTime(entry.value.committedAt, now);
        const stored = isNew ? undefined : s.getCommit.get(groupId, topic, partition)?.points;
        const kept = sampled(`commits of ${groupId} on ${topic}/${partition}`, stored, at, offset);
        if (kept !== null) s.putCommit.run(groupId, topic, partition, kept);
        return;
      }
      default:
        noteStructure(entry);
    }
  };

  const forget = (key: KafscaleKey): void => {
    switch (key.kind) {
      case "next_offset":
        s.delEnd.run(key.topic, key.partition);
        note(changes.ends, JSON.stringify([key.topic, key.partition]));
        return;
      case "committed_offset":
        s.delCommit.run(key.groupId, key.topic, key.partition);
        // The partition may leave the group's set (its last commit on that topic): judge the group.
        note(changes.groups, key.groupId);
        return;
      default:
        noteStructure(key);
    }
  };

  return {
    record,
    forget,
    takeChanges: () => {
      const taken = changes;
      changes = emptyChanges(false);
      return taken;
    },
    markAll: () => {
      changes = emptyChanges(true);
    },
    trim: (windowPoints) => {
      const shorten = (blob: Buffer): Buffer | null => {
        const points = readSeries(blob, () => undefined);
        // A series that does not decode is left for its next write, which records and restarts it.
        return points.length > windowPoints ? encodeSeries(points.slice(points.length - windowPoints)) : null;
      };
      for (let after = ["", -1] as [string, number]; ; ) {
        const rows = s.endsAfter.all(...after);
        for (const r of rows) {
          const short = shorten(r.points);
          if (short !== null) s.putEnd.run(r.topic, r.partition, short);
        }
        const last = rows.at(-1);
        if (last === undefined) break;
        after = [last.topic, last.partition];
      }
      for (let after = ["", "", -1] as [string, string, number]; ; ) {
        const rows = s.commitsAfter.all(...after);
        for (const r of rows) {
          const short = shorten(r.points);
          if (short !== null) s.putCommit.run(r.group_id, r.topic, r.partition, short);
        }
        const last = rows.at(-1);
        if (last === undefined) break;
        after = [last.group_id, last.topic, last.partition];
      }
    },
  };
}
