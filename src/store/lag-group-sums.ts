/**
 * A group's sums (src/kafscale/lag-status.ts GroupSums) and its lag_topic_status rows added up in SQL
 * from its stored verdicts. After a few partitions of a group were judged again, the evaluator used
 * to read every verdict of the group back into JavaScript to sum them: at size L under 2,000 writes/s
 * that re-read was the largest part of an evaluation (about 40% of its time, docs/BENCHMARKS.md).
 * The aggregates run over the group's primary-key range inside SQLite instead; only the largest lag
 * and the few worst partitions come back as rows.
 *
 * Same sums as summarizeGroup over the same verdicts, with two differences of order only: ties (the
 * largest lag, equally urgent partitions) go to the first partition in (topic, partition) order as
 * SQLite compares text (bytewise UTF-8), and SQLite adds the rates with compensated summation, so
 * they may differ from a plain sum in the last bits.
 */
import type { Db } from "./database.js";
import { countsOf, worstOf, type StatusCountColumns, type WorstJson } from "./lag-rows.js";
import {
  PARTITION_SEVERITY,
  WORST_PARTITIONS,
  type GroupSums,
  type PartitionStatus,
} from "../kafscale/lag-status.js";

interface TotalsRow extends StatusCountColumns {
  partitions: number;
  points: number;
  total_lag: number;
  behind_since: number | null;
  consumed: number | null;
  produced: number | null;
  earliest: number | null;
  history_start: number | null;
}

/** `CASE status WHEN 'STOP' THEN 5 … END`: the partition severities of the domain, as SQL. */
const severitySql = `CASE status ${Object.entries(PARTITION_SEVERITY)
  .map(([status, severity]) => `WHEN '${status}' THEN ${severity}`)
  .join(" ")} END`;

const countOf = (status: PartitionStatus): string => `count(CASE WHEN status = '${status}' THEN 1 END)`;
/** A rate counts only where the partition has both (as summarizeGroup adds them). */
const rateSum = (column: string): string =>
  `sum(CASE WHEN consumed_rate IS NOT NULL AND produced_rate IS NOT NULL THEN ${column} END)`;

export interface StoredGroupSums {
  /** The group's sums over its stored verdicts; null when it has none. */
  sums(group: string): GroupSums | null;
  /**
   * Rewrites the group's lag_topic_status rows from its stored verdicts: all of them, or only those
   * of `topics` (after a few partitions were judged again: the other topics' sums cannot have
   * changed, and summing only these reads their verdicts instead of the whole group's).
   */
  rewriteTopicSums(group: string, topics?: Iterable<string>): void;
}

export function createStoredGroupSums(db: Db): StoredGroupSums {
  const s = {
    totals: db.prepare<[string], TotalsRow>(
      `SELECT count(*) AS partitions, ${countOf("OK")} AS ok, ${countOf("WARN")} AS warn, ${countOf("STALL")} AS stall,
              ${countOf("STOP")} AS stop, ${countOf("REWIND")} AS rewind, ${countOf("UNKNOWN")} AS unknown,
              total(points) AS points, total(lag) AS total_lag,
              min(CASE WHEN lag > 0 THEN behind_since END) AS behind_since,
              ${rateSum("consumed_rate")} AS consumed, ${rateSum("produced_rate")} AS produced,
              min(history_start) AS earliest, max(history_start) AS history_start
       FROM lag_partition_status WHERE group_id = ?`,
    ),
    maxLag: db.prepare<[string], { topic: string; partition: number; lag: number }>(
      `SELECT topic, partition, lag FROM lag_partition_status WHERE group_id = ? AND lag IS NOT NULL
       ORDER BY lag DESC, topic, partition LIMIT 1`,
    ),
    worst: db.prepare<[string], WorstJson>(
      `SELECT topic, partition, status, lag, behind_since, since, detail FROM lag_partition_status
       WHERE group_id = ? AND status <> 'OK'
       ORDER BY ${severitySql} DESC, coalesce(lag, -1) DESC, topic, partition LIMIT ${WORST_PARTITIONS}`,
    ),
    clearTopics: db.prepare("DELETE FROM lag_topic_status WHERE group_id = ?"),
    // total(): a float like the JavaScript sum, never an integer-overflow error on hostile offsets.
    sumTopics: db.prepare(
      `INSERT INTO lag_topic_status (group_id, topic, partitions, known, total_lag, max_lag)
       SELECT group_id, topic, count(*), count(lag), total(lag), max(lag)
       FROM lag_partition_status WHERE group_id = ? GROUP BY topic`,
    ),
    clearTopic: db.prepare("DELETE FROM lag_topic_status WHERE group_id = ? AND topic = ?"),
    sumTopic: db.prepare(
      `INSERT INTO lag_topic_status (group_id, topic, partitions, known, total_lag, max_lag)
       SELECT group_id, topic, count(*), count(lag), total(lag), max(lag)
       FROM lag_partition_status WHERE group_id = ? AND topic = ? GROUP BY group_id, topic`,
    ),
  };
  return {
    sums: (group) => {
      const t = s.totals.get(group);
      if (t === undefined || t.partitions === 0) return null;
      const worst = s.worst.all(group).map(worstOf);
      return {
        partitions: t.partitions,
        counts: countsOf(t),
        totalLag: t.total_lag,
        maxLag: s.maxLag.get(group) ?? null,
        behindSince: t.behind_since,
        consumedRate: t.consumed,
        producedRate: t.produced,
        earliestHistory: t.earliest,
        historyStart: t.history_start,
        points: t.points,
        worst,
      };
    },
    rewriteTopicSums: (group, topics) => {
      if (topics === undefined) {
        s.clearTopics.run(group);
        s.sumTopics.run(group);
        return;
      }
      for (const topic of topics) {
        s.clearTopic.run(group, topic);
        s.sumTopic.run(group, topic);
      }
    },
  };
}
