/**
 * The lag history's write side, called by the writer (src/store/writer.ts) inside the transaction
 * that applies the change, so a point and the change that caused it commit together or not at all.
 *
 * Sampling (issue 14, docs/LAG.md): a point is kept when the value changed and at least one sample
 * interval passed since the series' previous kept point; a series keeps at most `windowPoints`
 * points. The previous kept point is read from the table (one primary-key seek per change), never
 * cached, so nothing can go stale across a resync or a restart. Each change is also noted for the
 * evaluator (src/store/lag-evaluator.ts) in a bounded in-memory set: losing it on a crash is
 * harmless, since the evaluator re-judges everything after a start.
 */
import type { Db } from "./database.js";
import type { LagSettings } from "../kafscale/lag-status.js";
import type { DecodedEntry, KafscaleKey } from "../kafscale/records.js";

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
  /** Records what a decoded value adds to the history (after its derived rows are written). */
  record(entry: DecodedEntry, now: number): void;
  /** A key was deleted: its series goes with it. */
  forget(key: KafscaleKey): void;
  /** Hands the changes noted so far to the evaluator and starts a new set. */
  takeChanges(): LagChanges;
  /** Notes that everything must be judged again. */
  markAll(): void;
}

interface Point {
  at: number;
  value: number;
}

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

/** Prepares the history statements once over an open database. */
export function createLagHistory(db: Db, settings: LagSettings, maxTracked = MAX_TRACKED_CHANGES): LagHistory {
  const s = {
    lastEnd: db.prepare<[string, number], Point>(
      `SELECT at, end_offset AS value FROM lag_end_offset_points WHERE topic = ? AND partition = ?
       ORDER BY at DESC LIMIT 1`,
    ),
    insEnd: db.prepare("INSERT OR REPLACE INTO lag_end_offset_points (topic, partition, at, end_offset) VALUES (?, ?, ?, ?)"),
    trimEnd: db.prepare(
      `DELETE FROM lag_end_offset_points WHERE topic = @topic AND partition = @partition AND at <= (
         SELECT at FROM lag_end_offset_points WHERE topic = @topic AND partition = @partition
         ORDER BY at DESC LIMIT 1 OFFSET @keep)`,
    ),
    delEnd: db.prepare("DELETE FROM lag_end_offset_points WHERE topic = ? AND partition = ?"),
    lastCommit: db.prepare<[string, string, number], Point>(
      `SELECT at, committed_offset AS value FROM lag_commit_points WHERE group_id = ? AND topic = ? AND partition = ?
       ORDER BY at DESC LIMIT 1`,
    ),
    insCommit: db.prepare(
      "INSERT OR REPLACE INTO lag_commit_points (group_id, topic, partition, at, committed_offset) VALUES (?, ?, ?, ?, ?)",
    ),
    trimCommit: db.prepare(
      `DELETE FROM lag_commit_points WHERE group_id = @group AND topic = @topic AND partition = @partition AND at <= (
         SELECT at FROM lag_commit_points WHERE group_id = @group AND topic = @topic AND partition = @partition
         ORDER BY at DESC LIMIT 1 OFFSET @keep)`,
    ),
    delCommit: db.prepare("DELETE FROM lag_commit_points WHERE group_id = ? AND topic = ? AND partition = ?"),
  };

  let changes = emptyChanges(true);
  const tracked = (): number => changes.groups.size + changes.commits.size + changes.ends.size;
  const note = (set: Set<string>, key: string): void => {
    if (changes.all) return;
    set.add(key);
    if (tracked() > maxTracked) changes = emptyChanges(true);
  };

  /** The sampling rule: keep when the value changed and an interval passed since the last kept point. */
  const keeps = (last: Point | undefined, at: number, value: number): boolean =>
    last === undefined || (last.value !== value && at - last.at >= settings.intervalMs);

  /** A put or delete of a key that changes which partitions a group has: its metadata, or the snapshot. */
  const noteStructure = (key: { kind: string; groupId?: string }): void => {
    if (key.kind === "snapshot") changes = emptyChanges(true);
    else if (key.kind === "group_metadata" && key.groupId !== undefined) note(changes.groups, key.groupId);
  };

  const record = (entry: DecodedEntry, now: number): void => {
    switch (entry.kind) {
      case "next_offset": {
        const { topic, partition, value } = entry;
        note(changes.ends, JSON.stringify([topic, partition]));
        if (!keeps(s.lastEnd.get(topic, partition), now, value)) return;
        s.insEnd.run(topic, partition, now, value);
        s.trimEnd.run({ topic, partition, keep: settings.windowPoints });
        return;
      }
      case "committed_offset": {
        const { groupId, topic, partition } = entry;
        const { offset } = entry.value;
        note(changes.commits, JSON.stringify([groupId, topic, partition]));
        const at = commitTime(entry.value.committedAt, now);
        if (!keeps(s.lastCommit.get(groupId, topic, partition), at, offset)) return;
        s.insCommit.run(groupId, topic, partition, at, offset);
        s.trimCommit.run({ group: groupId, topic, partition, keep: settings.windowPoints });
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
  };
}
