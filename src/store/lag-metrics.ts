/**
 * The rows behind /metrics/lag (kafka-lag-exporter's series), read per scrape. Group-level rows come
 * from the lag evaluator's tables (lag_group_status, lag_topic_status: judged at most one sample
 * interval ago, the numbers consumer_lag answers): a scan of small tables, no join, no aggregate.
 * Partition rows are the current snapshot's (the lag rule of v_partition_lag: end offset minus committed
 * offset, never below 0) with the verdict's time lag, grouped by group and topic.
 *
 * A committed_offsets row with a negative offset is "never committed" (contract §4): it gives no row
 * here. A partition without an end offset has a committed offset but no lag. Every read is a single
 * pass over a primary-key order (no sort step).
 */
import type { Db } from "./database.js";

/** Per group: its topics with a known lag, each with the summed judged lag of its partitions. */
export type TopicLagRun = [group: string, topics: [topic: string, sumLag: number][]];

/** Per group: the evaluator's verdict. */
export interface GroupVerdictRow {
  group_id: string;
  status: string;
  total_lag: number;
  max_lag: number | null;
  /** Partitions with a known lag (every status but UNKNOWN has one). */
  known: number;
  /** Earliest moment one of its partitions fell behind (null: caught up, or unknown). */
  behind_since: number | null;
}

/**
 * One committed partition, as an array (200k at size L: no object per row): partition, committed
 * offset, lag (null without an end offset), the verdict's status and behind_since (null until the
 * evaluator judged the partition).
 */
export type PartitionLag = [partition: number, committedOffset: number, lag: number | null, status: string | null, behindSince: number | null];

/** A group's committed partitions of one topic (21k runs at size L, so 21k label prefixes, not 200k). */
export type PartitionLagRun = [group: string, topic: string, partitions: PartitionLag[]];

/** A topic's end offsets: [partition, end offset] each. */
export type EndOffsetRun = [topic: string, ends: [partition: number, endOffset: number][]];

export interface LagMetricReads {
  /** Runs `fn` in one read transaction: every read inside sees the same snapshot. */
  consistent<T>(fn: () => T): T;
  /** The cluster's name, else its id (null before a snapshot has one). */
  clusterLabel(): string | null;
  /** When the snapshot was last confirmed current (Unix ms; null before the first sync). */
  syncedAt(): number | null;
  /** In group order. */
  topicLags(): Iterable<TopicLagRun>;
  groupVerdicts(): IterableIterator<GroupVerdictRow>;
  /** Per group and topic, in that order: its committed partitions (a negative offset is no commit). */
  partitionLags(): Iterable<PartitionLagRun>;
  /** Per topic: the end offsets of its partitions some group has committed on. */
  endOffsets(): Iterable<EndOffsetRun>;
}

export function createLagMetricReads(db: Db): LagMetricReads {
  const cluster = db.prepare<[], { label: string | null }>(
    "SELECT COALESCE(NULLIF(cluster_name, ''), NULLIF(cluster_id, '')) AS label FROM cluster WHERE id = 1",
  );
  const synced = db.prepare<[], { synced_at: number | null }>("SELECT synced_at FROM sync_state WHERE id = 1");
  // The evaluator's per-topic sums (21k rows at size L, not 200k verdicts to aggregate per scrape),
  // one row per group with its topics as JSON: 2,000 group strings, not 21k (a third of the cost).
  const topicLags = db.prepare<[], [string, string]>(`
    SELECT group_id, json_group_array(json_array(topic, total_lag))
    FROM lag_topic_status
    WHERE known > 0
    GROUP BY group_id
    ORDER BY group_id`).raw(true);
  const verdicts = db.prepare<[], GroupVerdictRow>(`
    SELECT group_id, status, total_lag, max_lag, behind_since, partitions - unknown AS known
    FROM lag_group_status
    ORDER BY group_id`);
  // One row per (group, topic) with its partitions as a JSON array, made by SQLite: 21k rows, not
  // 200k, so 21k group and topic strings, not 400k (half the cost of a partition-level scrape).
  const partitionLags = db.prepare<[], [string, string, string]>(`
    SELECT g.group_id, g.topic, (
      SELECT json_group_array(json_array(co.partition, co.committed_offset,
                                         max(0, eo.next_offset - co.committed_offset), s.status, s.behind_since))
      FROM committed_offsets co
      LEFT JOIN end_offsets eo ON eo.topic = co.topic AND eo.partition = co.partition
      LEFT JOIN lag_partition_status s
        ON s.group_id = co.group_id AND s.topic = co.topic AND s.partition = co.partition
      WHERE co.group_id = g.group_id AND co.topic = g.topic AND co.committed_offset >= 0)
    FROM (SELECT DISTINCT group_id, topic FROM committed_offsets ORDER BY group_id, topic) g`).raw(true);
  const endOffsets = db.prepare<[], [string, string]>(`
    SELECT eo.topic, json_group_array(json_array(eo.partition, eo.next_offset))
    FROM end_offsets eo
    WHERE EXISTS (SELECT 1 FROM committed_offsets co WHERE co.topic = eo.topic AND co.partition = eo.partition)
    GROUP BY eo.topic`).raw(true);
  return {
    consistent: (fn) => db.transaction(fn).deferred(),
    clusterLabel: () => cluster.get()?.label ?? null,
    syncedAt: () => synced.get()?.synced_at ?? null,
    topicLags: function* () {
      for (const [group, json] of topicLags.iterate()) yield [group, JSON.parse(json) as TopicLagRun[1]];
    },
    groupVerdicts: () => verdicts.iterate(),
    partitionLags: function* () {
      for (const [group, topic, json] of partitionLags.iterate()) yield [group, topic, JSON.parse(json) as PartitionLag[]];
    },
    endOffsets: function* () {
      for (const [topic, json] of endOffsets.iterate()) yield [topic, JSON.parse(json) as EndOffsetRun[1]];
    },
  };
}
