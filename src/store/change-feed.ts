/**
 * The change feed's write side: semantic change events (src/kafscale/change-events.ts) derived while
 * the write path applies a watch batch or a resync, in the same transaction. For each change the
 * writer asks `before(key, change)` — the state the key described, read from the derived rows before
 * they are removed — and then `after(seen, entry)` with the new value; `commit()` writes the batch's
 * events and prunes old ones. Keys that cannot mean an event (end offsets, offset commits to known
 * groups, partition states, group leases) return null from `before` at once: the hot path of a busy
 * cluster costs one switch per change.
 */
import type { Db } from "./database.js";
import {
  diffGroupMetadata,
  diffSnapshot,
  diffTopicConfig,
  EMPTY_SNAPSHOT,
  groupCreatedByOffsets,
  groupDeletedByOffsets,
  groupStateOf,
  leaderChanged,
  snapshotStateOf,
  type ChangeEvent,
  type GroupState,
  type LeaderMove,
  type SnapshotState,
  type TopicConfigState,
} from "../kafscale/change-events.js";
import type { DecodedEntry, KafscaleKey } from "../kafscale/kinds.js";
import type { KvChange } from "../kafscale/records.js";

/** Where a batch of changes comes from: the live watch, or the diff of a full resync. */
export type ChangeSource = "watch" | "resync";

/** What a key described before a change (null from `before`: this change cannot mean an event). */
export type Seen = { revision: number } & (
  | { kind: "snapshot"; state: SnapshotState; keyRevision: number }
  | { kind: "topic_config"; topic: string; state: TopicConfigState | null }
  | { kind: "group_metadata"; groupId: string; state: GroupState | null }
  | { kind: "first_offset"; groupId: string; topic: string }
  | { kind: "offset_removed"; groupId: string }
  | { kind: "partition_lease"; topic: string; partition: number; broker: number | null }
);

/** The events of one write transaction. */
export interface FeedBatch {
  /** The key's state before `change` is applied; call before its derived rows are removed. */
  before(key: KafscaleKey, change: KvChange): Seen | null;
  /** The key's new value (null: deleted); call after its derived rows are written. Not for undecodable values. */
  after(seen: Seen, entry: DecodedEntry | null): void;
  /** Writes the batch's events (in revision order) and prunes the feed; call inside the transaction. */
  commit(): void;
}

export interface ChangeFeedOptions {
  /** Events older than this are pruned (KAFSCALE_MCP_EVENTS_RETENTION; 0 keeps them). */
  retentionMs: number;
  /** At most this many events are kept (KAFSCALE_MCP_EVENTS_LIMIT). */
  maxEvents: number;
}

export interface ChangeFeed {
  /** A batch for one transaction. `revision` (resyncs): the revision every event is stamped with. */
  batch(source: ChangeSource, now: number, revision?: number): FeedBatch;
  /** The feed starts at a full load (no events for it): every change after `revision` is recorded. */
  markStart(revision: number, now: number): void;
}

/** Pruning also runs when nothing is written, at most this often (time-based retention). */
const PRUNE_EVERY_MS = 60_000;

/** Prepares the feed's statements once. */
export function createChangeFeed(db: Db, options: ChangeFeedOptions): ChangeFeed {
  const s = {
    cluster: db.prepare<[], { controller_id: number; cluster_name: string | null; cluster_id: string | null }>(
      "SELECT controller_id, cluster_name, cluster_id FROM cluster WHERE id = 1",
    ),
    brokers: db.prepare<[], { node_id: number; host: string; port: number }>("SELECT node_id, host, port FROM brokers"),
    topics: db.prepare<[], { name: string }>("SELECT name FROM topics"),
    partitions: db.prepare<[], { topic: string; partition: number; leader: number }>(
      "SELECT topic, partition, leader FROM partitions",
    ),
    undecodable: db.prepare<[string], { one: number }>("SELECT 1 AS one FROM kv WHERE key = ? AND decode_error IS NOT NULL"),
    keyRevision: db.prepare<[string], { mod_revision: number }>("SELECT mod_revision FROM kv WHERE key = ?"),
    config: db.prepare<
      [string],
      { replication_factor: number; retention_ms: number; retention_bytes: number; segment_bytes: number; config: string }
    >("SELECT replication_factor, retention_ms, retention_bytes, segment_bytes, config FROM topic_configs WHERE topic = ?"),
    group: db.prepare<[string], { state: string; generation_id: number }>(
      "SELECT state, generation_id FROM consumer_groups WHERE group_id = ?",
    ),
    members: db.prepare<[string], { member_id: string }>("SELECT member_id FROM group_members WHERE group_id = ?"),
    groupHasOffsets: db.prepare<[string], { one: number }>("SELECT 1 AS one FROM committed_offsets WHERE group_id = ? LIMIT 1"),
    offsetExists: db.prepare<[string, string, number], { one: number }>(
      "SELECT 1 AS one FROM committed_offsets WHERE group_id = ? AND topic = ? AND partition = ?",
    ),
    lease: db.prepare<[string, number], { broker_id: number }>(
      "SELECT broker_id FROM partition_leases WHERE topic = ? AND partition = ?",
    ),
    insert: db.prepare(
      `INSERT INTO events (revision, at, kind, source, topic, group_id, partition, broker_id, summary, details)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    // The newest event that must go: past the retention, or beyond the row cap.
    pruneBound: db.prepare<[number, number], { id: number | null }>(
      `SELECT max(id) AS id FROM (
         SELECT max(id) AS id FROM events WHERE at < ?
         UNION ALL SELECT (SELECT max(id) FROM events) - ?)`,
    ),
    pruned: db.prepare<[number], { revision: number | null; at: number | null }>(
      "SELECT max(revision) AS revision, max(at) AS at FROM events WHERE id <= ?",
    ),
    prune: db.prepare("DELETE FROM events WHERE id <= ?"),
    // The feed is complete after the newest pruned event (a revision may have lost some of its events).
    advanceStart: db.prepare(
      `UPDATE event_feed SET complete_after_revision = max(COALESCE(complete_after_revision, 0), @revision),
         complete_after_at = max(COALESCE(complete_after_at, 0), @at) WHERE id = 1`,
    ),
    markStart: db.prepare(
      `UPDATE event_feed SET complete_after_revision = @revision, complete_after_at = @at
       WHERE id = 1 AND complete_after_revision IS NULL`,
    ),
  };
  let lastPruneAt = -Infinity;
  /**
   * The snapshot state after the last snapshot change this feed saw, with the key's revision. Reading
   * it back from the derived rows costs a scan of every partition (100k at size L); the cache is used
   * only while the stored key still has that revision, so a rolled-back transaction, a full load or
   * anything else that rewrote the key makes the next change read the rows again.
   */
  let lastSnapshot: { modRevision: number; state: SnapshotState } | null = null;

  const isUndecodable = (key: string): boolean => s.undecodable.get(key) !== undefined;
  const hasMetadata = (groupId: string): boolean => s.group.get(groupId) !== undefined;
  const hasOffsets = (groupId: string): boolean => s.groupHasOffsets.get(groupId) !== undefined;

  const snapshotState = (): SnapshotState => {
    const c = s.cluster.get();
    const topics = new Map<string, Map<number, number>>();
    for (const t of s.topics.iterate()) topics.set(t.name, new Map());
    for (const p of s.partitions.iterate()) topics.get(p.topic)?.set(p.partition, p.leader);
    return {
      cluster: c ? { controllerId: c.controller_id, clusterName: c.cluster_name, clusterId: c.cluster_id } : null,
      brokers: new Map(s.brokers.all().map((b) => [b.node_id, `${b.host}:${b.port}`])),
      topics,
    };
  };

  const groupState = (groupId: string): GroupState | null => {
    const g = s.group.get(groupId);
    if (!g) return null;
    const members = s.members.all(groupId).map((m) => m.member_id);
    return { state: g.state, generation: g.generation_id, members: members.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) };
  };

  const configState = (topic: string): TopicConfigState | null => {
    const c = s.config.get(topic);
    if (!c) return null;
    return {
      replicationFactor: c.replication_factor,
      retentionMs: c.retention_ms,
      retentionBytes: c.retention_bytes,
      segmentBytes: c.segment_bytes,
      config: JSON.parse(c.config) as Record<string, string>,
    };
  };

  const prune = (now: number): void => {
    lastPruneAt = now;
    const cutoff = options.retentionMs > 0 ? now - options.retentionMs : Number.MIN_SAFE_INTEGER;
    const bound = s.pruneBound.get(cutoff, options.maxEvents)?.id;
    if (bound === null || bound === undefined || bound <= 0) return;
    const gone = s.pruned.get(bound);
    if (gone?.revision === null || gone?.revision === undefined) return;
    s.prune.run(bound);
    s.advanceStart.run({ revision: gone.revision, at: gone.at });
  };

  const batch = (source: ChangeSource, now: number, stamp?: number): FeedBatch => {
    const pending: { revision: number; event: ChangeEvent }[] = [];
    // Lease moves are coalesced per partition over the batch and reported as one event per topic.
    const leaseMoves = new Map<string, Map<number, LeaderMove & { revision: number }>>();
    const emit = (revision: number, events: ChangeEvent[]): void => {
      for (const event of events) pending.push({ revision, event });
    };

    const before = (key: KafscaleKey, change: KvChange): Seen | null => {
      const revision = stamp ?? change.modRevision;
      switch (key.kind) {
        case "committed_offset":
          // The hot path: an offset commit to a key that already existed (etcd version > 1).
          if (change.type === "put") {
            if (change.version !== 1 || hasMetadata(key.groupId) || hasOffsets(key.groupId)) return null;
            return { revision, kind: "first_offset", groupId: key.groupId, topic: key.topic };
          }
          return s.offsetExists.get(key.groupId, key.topic, key.partition)
            ? { revision, kind: "offset_removed", groupId: key.groupId }
            : null;
        case "snapshot": {
          const stored = s.keyRevision.get(change.key)?.mod_revision;
          const state = lastSnapshot !== null && stored === lastSnapshot.modRevision ? lastSnapshot.state : snapshotState();
          // No rows because the old value was undecodable: what it said is unknown, so no diff.
          if (state.cluster === null && isUndecodable(change.key)) return null;
          return { revision, kind: "snapshot", state, keyRevision: change.modRevision };
        }
        case "topic_config":
          return { revision, kind: "topic_config", topic: key.topic, state: configState(key.topic) };
        case "group_metadata": {
          const state = groupState(key.groupId);
          if (state === null && isUndecodable(change.key)) return null;
          return { revision, kind: "group_metadata", groupId: key.groupId, state };
        }
        case "partition_lease":
          return {
            revision,
            kind: "partition_lease",
            topic: key.topic,
            partition: key.partition,
            broker: s.lease.get(key.topic, key.partition)?.broker_id ?? null,
          };
        default:
          // A kind emits change events only if it gets a case here. Every other kind emits none
          // (today: end offsets, partition states, group leases, broker registrations, assignments,
          // unknown keys), so a new kind needs no line here unless it should.
          return null;
      }
    };

    const after = (seen: Seen, entry: DecodedEntry | null): void => {
      switch (seen.kind) {
        case "snapshot": {
          const next = entry?.kind === "snapshot" ? snapshotStateOf(entry.value) : EMPTY_SNAPSHOT;
          lastSnapshot = entry?.kind === "snapshot" ? { modRevision: seen.keyRevision, state: next } : null;
          emit(seen.revision, diffSnapshot(seen.state, next));
          return;
        }
        case "topic_config":
          emit(seen.revision, diffTopicConfig(seen.topic, seen.state, entry?.kind === "topic_config" ? entry.value : null));
          return;
        case "group_metadata": {
          const next = entry?.kind === "group_metadata" ? groupStateOf(entry.value) : null;
          // A metadata change leaves the offsets alone: one look answers both "had" and "has".
          const offsets = seen.state === null || next === null ? hasOffsets(seen.groupId) : true;
          emit(seen.revision, diffGroupMetadata(seen.groupId, seen.state, next, { hadOffsets: offsets, hasOffsets: offsets }));
          return;
        }
        case "first_offset":
          if (entry !== null) emit(seen.revision, [groupCreatedByOffsets(seen.groupId, seen.topic)]);
          return;
        case "offset_removed":
          if (!hasMetadata(seen.groupId) && !hasOffsets(seen.groupId)) emit(seen.revision, [groupDeletedByOffsets(seen.groupId)]);
          return;
        case "partition_lease": {
          const to = entry?.kind === "partition_lease" ? entry.value : null;
          const moves = leaseMoves.get(seen.topic) ?? new Map<number, LeaderMove & { revision: number }>();
          leaseMoves.set(seen.topic, moves);
          const earlier = moves.get(seen.partition);
          moves.set(seen.partition, { partition: seen.partition, from: earlier ? earlier.from : seen.broker, to, revision: seen.revision });
          return;
        }
      }
    };

    const commit = (): void => {
      for (const [topic, moves] of leaseMoves) {
        const real = [...moves.values()].filter((m) => m.from !== m.to);
        if (real.length === 0) continue;
        const revision = Math.max(...real.map((m) => m.revision));
        emit(revision, [leaderChanged(topic, real.map(({ partition, from, to }) => ({ partition, from, to })), "lease")]);
      }
      // Stable: events of one revision keep the order they were derived in.
      pending.sort((a, b) => a.revision - b.revision);
      for (const { revision, event: e } of pending) {
        s.insert.run(revision, now, e.kind, source, e.topic, e.groupId, e.partition, e.brokerId, e.summary, JSON.stringify(e.details));
      }
      if (pending.length > 0 || now - lastPruneAt >= PRUNE_EVERY_MS) prune(now);
    };

    return { before, after, commit };
  };

  return {
    batch,
    markStart: (revision, now) => {
      s.markStart.run({ revision, at: now });
    },
  };
}
