/**
 * Reads behind `kafscale-mcp report`: the reporting views (docs/SCHEMA.md) summarised for humans.
 */
import type { Db } from "./database.js";

export interface GroupLagRow {
  group_id: string;
  state: string;
  partitions: number;
  topics: number;
  total_lag: number;
  max_lag: number;
  last_commit_at: string | null;
}

export interface TopicSummaryRow {
  name: string;
  partition_count: number;
  end_offset_total: number;
  has_config: number;
  retention_ms: number | null;
  consumer_groups: number;
  total_lag: number;
  leased_partitions: number;
}

export interface ReportData {
  groupsByLag: GroupLagRow[];
  topicsByLag: TopicSummaryRow[];
  groupCount: number;
  topicsWithoutConfig: number;
  /** Committed offsets on partitions the snapshot does not list (deleted or never-published topics). */
  orphanOffsets: number;
  /** Committed offsets that are negative: no usable commit. Neither kind counts towards lag. */
  unusableCommits: number;
  /** Keys whose value in etcd does not decode (their last good value is served). */
  undecodableKeys: number;
}

export interface ReportReads {
  report(top: number): ReportData;
}

/** Prepares the report statements once. */
export function createReportReads(db: Db): ReportReads {
  const groups = db.prepare<[number], GroupLagRow>(
    `SELECT l.group_id, g.state, l.partitions, l.topics, l.total_lag, l.max_lag, l.last_commit_at
     FROM v_group_lag l JOIN v_groups g ON g.group_id = l.group_id
     ORDER BY l.total_lag DESC, l.group_id LIMIT ?`,
  );
  const topics = db.prepare<[number], TopicSummaryRow>(
    `SELECT name, partition_count, end_offset_total, has_config, retention_ms, consumer_groups, total_lag,
            leased_partitions
     FROM v_topic_summary ORDER BY total_lag DESC, end_offset_total DESC, name LIMIT ?`,
  );
  interface Counts {
    groups: number;
    no_config: number;
    orphans: number;
    unusable: number;
    undecodable: number;
  }
  const counts = db.prepare<[], Counts>(
    `SELECT (SELECT count(*) FROM v_groups) AS groups,
            (SELECT count(*) FROM v_topic_summary WHERE has_config = 0) AS no_config,
            (SELECT count(*) FROM v_partition_lag WHERE in_snapshot = 0) AS orphans,
            (SELECT count(*) FROM committed_offsets WHERE committed_offset < 0) AS unusable,
            (SELECT count(*) FROM undecodable_keys) AS undecodable`,
  );
  const report = db.transaction((top: number): ReportData => {
    const c = counts.get() as Counts;
    return {
      groupsByLag: groups.all(top),
      topicsByLag: topics.all(top),
      groupCount: c.groups,
      topicsWithoutConfig: c.no_config,
      orphanOffsets: c.orphans,
      unusableCommits: c.unusable,
      undecodableKeys: c.undecodable,
    };
  });
  return { report: (top) => report(top) };
}
