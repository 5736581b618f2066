/**
 * What every public table, view and column of the snapshot means, in one line each: the source of
 * the `kafscale://schema` MCP resource (for writing query_snapshot queries) and of the tables
 * query_snapshot may read. `describeSchema` joins these lines with the live schema, so the resource
 * shows the real columns and types; test/unit/schema-docs.test.ts fails when a table or column of
 * the live schema has no line here (or a line names nothing), and when docs/SCHEMA.md misses one.
 */
import type { Db } from "./database.js";

export interface RelationDoc {
  description: string;
  columns: Record<string, string>;
}

/** Tables query_snapshot never reads (who called what, with which arguments, is for operators only). */
export const PRIVATE_TABLES: readonly string[] = ["audit_log"];

/** SQLite's own bookkeeping tables, neither public nor described. */
export const isInternalTable = (name: string): boolean => name.startsWith("sqlite_");

const revisionCols = { mod_revision: "etcd ModRevision of the key the row was decoded from" };

/** Every public table and view (the audit log is documented in docs/SCHEMA.md, not here). */
export const SCHEMA_DOCS: Record<string, RelationDoc> = {
  kv: {
    description: "every etcd key under /kafscale/, raw; the source of all other tables",
    columns: {
      key: "the etcd key",
      value: "raw value bytes (BLOB; CAST(value AS TEXT) for JSON/decimal values)",
      kind: "snapshot, topic_config, partition_state, next_offset, group_metadata, committed_offset, partition_lease, group_lease, broker_registration, partition_assignment or unknown",
      mod_revision: "etcd ModRevision",
      create_revision: "etcd CreateRevision",
      version: "etcd Version (1 = just created)",
      lease: "etcd lease id as text, '0' = none",
      decode_error: "NULL, or why the current value could not be decoded (its last good value is served)",
      decode_warning: "NULL, or what in the current value no reader can use (e.g. a negative committed offset)",
    },
  },
  cluster: {
    description: "one row (id 1) from the cluster snapshot key",
    columns: {
      id: "always 1",
      controller_id: "controller broker node id",
      cluster_name: "cluster name (NULL when unset)",
      cluster_id: "cluster id (NULL when unset)",
      ...revisionCols,
      topic_count: "rows in topics",
      partition_count: "rows in partitions",
    },
  },
  brokers: {
    description: "brokers listed in the cluster snapshot",
    columns: { node_id: "broker node id", host: "advertised host", port: "advertised port", rack: "rack, NULL when unset" },
  },
  topics: {
    description: "topics listed in the cluster snapshot",
    columns: {
      name: "topic name",
      topic_id: "32 hex digits (SHA-1 of the name, first 16 bytes)",
      is_internal: "1 for internal topics",
      error_code: "Kafka error code, 0 = none",
      partition_count: "partitions listed in the snapshot",
    },
  },
  partitions: {
    description: "partitions listed in the cluster snapshot",
    columns: {
      topic: "topic name",
      partition: "partition number",
      leader: "leader broker node id",
      leader_epoch: "leader epoch",
      replicas: "JSON array of node ids",
      isr: "JSON array of in-sync node ids",
      offline_replicas: "JSON array of node ids",
      error_code: "Kafka error code, 0 = none",
    },
  },
  partition_states: {
    description: "PartitionState keys (written when partitions are created); offsets here are not maintained, do not use for lag",
    columns: {
      topic: "topic name",
      partition: "partition number",
      leader_broker: "leader node id as text",
      leader_epoch: "leader epoch",
      log_start_offset: "written as 0 by Kafscale",
      log_end_offset: "written as 0 by Kafscale",
      high_watermark: "written as 0 by Kafscale",
      active_segment: "active segment name",
      segments: "JSON array of {baseOffset, sizeBytes, createdAt}",
    },
  },
  end_offsets: {
    description: "each partition's end offset (next_offset key); no row = 0",
    columns: { topic: "topic name", partition: "partition number", next_offset: "last flushed offset + 1 (the high watermark)", ...revisionCols },
  },
  topic_configs: {
    description: "TopicConfig keys; a topic may have none",
    columns: {
      topic: "topic name (from the key)",
      name: "topic name (from the value)",
      partitions: "partition count in the config",
      replication_factor: "replication factor",
      retention_ms: "retention.ms, -1 = unlimited",
      retention_bytes: "retention.bytes, -1 = unlimited",
      segment_bytes: "segment.bytes, 0 = broker default",
      created_at: "RFC 3339 text",
      config: "JSON map of other settings, {} when empty",
      ...revisionCols,
    },
  },
  consumer_groups: {
    description: "group metadata keys (deleted by Kafscale when a group empties; use v_groups to list groups)",
    columns: {
      group_id: "group id",
      state: "empty, preparing_rebalance, completing_rebalance, stable or dead",
      protocol_type: "e.g. consumer",
      protocol: "assignor, e.g. range",
      leader: "leader member id",
      generation_id: "group generation (grows with each rebalance)",
      rebalance_timeout_ms: "rebalance timeout",
      ...revisionCols,
    },
  },
  group_members: {
    description: "members of groups with metadata",
    columns: {
      group_id: "group id",
      member_id: "member id",
      client_id: "always '' (Kafscale never sets it)",
      client_host: "always '' (Kafscale never sets it)",
      heartbeat_at: "last heartbeat, RFC 3339 text",
      subscriptions: "JSON array of topic names",
      session_timeout_ms: "session timeout",
    },
  },
  member_assignments: {
    description: "one row per partition assigned to a member",
    columns: { group_id: "group id", member_id: "member id", topic: "topic name", partition: "partition number" },
  },
  committed_offsets: {
    description: "committed offsets per (group, topic, partition); they outlive the group's metadata",
    columns: {
      group_id: "group id",
      topic: "topic name",
      partition: "partition number",
      committed_offset: "committed offset",
      metadata: "the client's commit metadata",
      committed_at: "RFC 3339 text",
      ...revisionCols,
    },
  },
  partition_leases: {
    description: "which broker holds a partition's produce lease (no row until someone produced)",
    columns: { topic: "topic name", partition: "partition number", broker_id: "holder node id", lease: "etcd lease id" },
  },
  group_leases: {
    description: "which broker coordinates a group",
    columns: { group_id: "group id", broker_id: "coordinator node id", lease: "etcd lease id" },
  },
  broker_registrations: {
    description: "reserved /kafscale/brokers/<id> keys (not written by Kafscale today)",
    columns: {
      broker_id: "broker id (text)",
      host: "host",
      port: "port",
      rack: "rack",
      started_at: "RFC 3339 text",
      last_heartbeat: "RFC 3339 text",
      version: "broker version",
    },
  },
  partition_assignments: {
    description: "reserved /kafscale/assignments/<t>/<p> keys (not written by Kafscale today)",
    columns: { topic: "topic name", partition: "partition number", broker_id: "broker id (text)", epoch: "epoch", assigned_at: "RFC 3339 text" },
  },
  sync_state: {
    description: "one row (id 1): where the mirror stands; times are Unix ms",
    columns: {
      id: "always 1",
      revision: "etcd revision every table reflects",
      initial_sync_done: "1 once the first full load committed",
      synced_at: "last moment the mirror was known to equal etcd",
      sync_phase: "idle, loading, watching, reconnecting, resyncing or stopped",
      link_state: "connected, reconnecting or down (measured)",
      link_since: "since when link_state holds",
      last_error: "most recent etcd error",
      last_error_at: "when it happened",
      resync_count: "full resyncs after the first load",
      source: "etcd, or demo",
    },
  },
  change_log: {
    description: "bounded log of raw key changes applied (KAFSCALE_MCP_CHANGE_LOG_LIMIT)",
    columns: {
      id: "insertion order",
      revision: "the key's ModRevision (resync deletions: the resync revision)",
      at: "Unix ms applied",
      op: "put or delete",
      key: "the etcd key",
      kind: "the key's kind (see kv.kind)",
    },
  },
  decode_errors: {
    description: "bounded history of values that failed to decode or decoded with a warning (current state: kv.decode_error/decode_warning)",
    columns: {
      id: "insertion order",
      key: "the etcd key",
      revision: "its ModRevision",
      reason: "why",
      recorded_at: "Unix ms",
      severity: "error or warning",
    },
  },
  undecodable_keys: {
    description: "keys whose current value does not decode (the kv rows with decode_error); their last good rows are kept",
    columns: {
      key: "the etcd key",
      kind: "the key's kind (see kv.kind)",
      last_good_revision: "ModRevision of the last value that decoded; NULL when none did here",
      last_good_value: "that value, raw (BLOB)",
    },
  },
  events: {
    description: "semantic change events, newest = highest id (what recent_changes returns); bounded by KAFSCALE_MCP_EVENTS_RETENTION/_LIMIT",
    columns: {
      id: "insertion order",
      revision: "etcd revision of the change (resync: the revision it read)",
      at: "Unix ms applied (watch) or found (resync)",
      kind: "topic_created, topic_deleted, partitions_added, topic_config_changed, group_created, group_emptied, group_deleted, group_state_changed, group_rebalanced, member_joined, member_left, broker_joined, broker_left, partition_leader_changed or cluster_changed",
      source: "watch, or resync (found by comparing a full re-read)",
      topic: "topic, when about one",
      group_id: "group, when about one",
      partition: "partition, when about exactly one",
      broker_id: "broker, when about one",
      summary: "one readable line",
      details: "JSON object: old and new values, by kind",
    },
  },
  event_feed: {
    description: "one row (id 1): the events table holds every change after this point",
    columns: {
      id: "always 1",
      complete_after_revision: "every change after this revision is in events (NULL before the first load)",
      complete_after_at: "every change after this time (Unix ms) is in events",
    },
  },
  lag_end_offset_series: {
    description: "each partition's kept end-offset points in compact form (read them through lag_end_offset_points)",
    columns: { topic: "topic name", partition: "partition number", points: "BLOB: the window, delta-of-delta varints (docs/SCHEMA.md)" },
  },
  lag_commit_series: {
    description: "each group's kept commit points per partition in compact form (read them through lag_commit_points)",
    columns: {
      group_id: "group id",
      topic: "topic name",
      partition: "partition number",
      points: "BLOB: the window, delta-of-delta varints (docs/SCHEMA.md)",
    },
  },
  lag_end_offset_points: {
    description: "view: kept points of each partition's end offset (docs/LAG.md), decoded from lag_end_offset_series; times Unix ms",
    columns: { topic: "topic name", partition: "partition number", at: "when the change was applied", end_offset: "next_offset then" },
  },
  lag_commit_points: {
    description: "view: kept points of each group's committed offsets (docs/LAG.md), decoded from lag_commit_series; times Unix ms",
    columns: {
      group_id: "group id",
      topic: "topic name",
      partition: "partition number",
      at: "the commit's committed_at (never later than applied), else when applied",
      committed_offset: "committed offset then",
    },
  },
  lag_partition_status: {
    description: "the lag verdict per partition of each group (the rows fetch_offsets lists); times Unix ms",
    columns: {
      group_id: "group id",
      topic: "topic name",
      partition: "partition number",
      status: "OK, WARN, STALL, STOP, REWIND or UNKNOWN",
      lag: "the lag rule; NULL without a usable commit",
      behind_since: "when the end offset passed the committed offset; NULL: caught up or unknown",
      consumed_rate: "offsets/s over the window; NULL until two intervals of history",
      produced_rate: "offsets/s over the window; NULL until two intervals of history",
      since: "STOP: last commit; STALL: last change of the offset; REWIND: when it went back",
      detail: "UNKNOWN: cause 1-4 (docs/LAG.md); REWIND: the offset before; WARN: lag at the window's start",
      recheck_at: "when the evaluator judges it again without a write: no later than a time rule may change the verdict",
      history_start: "later of the series' first points",
      points: "commit and end-offset points inside the window",
    },
  },
  lag_group_status: {
    description: "one row per group with a judged partition: the sums consumer_lag answers from; times Unix ms",
    columns: {
      group_id: "group id",
      status: "OK, WARN, ERR or UNKNOWN",
      severity: "ERR 3, WARN 2, UNKNOWN 1, OK 0",
      partitions: "judged partitions",
      ok: "partitions OK",
      warn: "partitions WARN",
      stall: "partitions STALL",
      stop: "partitions STOP",
      rewind: "partitions REWIND",
      unknown: "partitions UNKNOWN",
      total_lag: "sum of lag",
      max_lag: "largest partition lag",
      max_lag_topic: "topic of max_lag",
      max_lag_partition: "partition of max_lag",
      behind_since: "earliest behind_since of its lagging partitions",
      trend: "growing, shrinking, steady or unknown",
      consumed_rate: "offsets/s consumed over the window",
      produced_rate: "offsets/s produced over the window",
      catch_up_seconds: "estimated seconds to catch up",
      window_from: "start of the window judged",
      history_start: "latest history_start of its partitions",
      points: "history points inside the window",
      worst: "JSON array of the few most urgent partitions that are not OK",
      evaluated_at: "when judged",
    },
  },
  lag_topic_status: {
    description: "per group and topic, the sums of its lag_partition_status rows (written with them)",
    columns: {
      group_id: "group id",
      topic: "topic name",
      partitions: "judged partitions of the topic",
      known: "of them, with a known lag",
      total_lag: "sum of the known lags (0 when none is known)",
      max_lag: "largest known lag; NULL when none is known",
    },
  },
  lag_evaluation: {
    description: "one row (id 1): where the lag evaluator stands",
    columns: {
      id: "always 1",
      evaluated_at: "Unix ms: every change up to revision and every time rule due by then is judged",
      revision: "etcd revision judged up to",
      sample_interval_ms: "KAFSCALE_MCP_LAG_SAMPLE_INTERVAL judged with",
      window_points: "KAFSCALE_MCP_LAG_WINDOW judged with",
      history_errors: "stored history series that did not decode (each restarted) or points out of the stored range",
      history_error: "NULL, or the latest of those errors",
    },
  },
  scrape_targets: {
    description: "metrics scrape targets (broker:<id>, broker:url, operator); times Unix ms",
    columns: {
      target: "target name",
      url: "scraped URL",
      kind: "broker or operator",
      node_id: "broker node id in per-broker mode",
      last_attempt_at: "last attempt",
      last_success_at: "last good scrape",
      last_error: "last error (kept after recovery)",
      last_error_at: "when",
      consecutive_failures: "failures since the last good scrape",
      last_duration_ms: "duration of the last attempt",
    },
  },
  scrapes: {
    description: "one row per scrape attempt (KAFSCALE_MCP_METRICS_RETENTION)",
    columns: {
      id: "scrape id",
      target: "target name",
      scraped_at: "Unix ms the request started",
      ok: "1 parsed and stored, 0 failed",
      duration_ms: "duration",
      sample_count: "kafscale_* samples stored",
      error: "why it failed",
    },
  },
  metric_samples: {
    description: "every kafscale_* sample of every good scrape",
    columns: {
      scrape_id: "scrapes.id",
      target: "target name",
      name: "metric name",
      labels: "canonical JSON of the labels, {} when none",
      value: "value; NULL = NaN",
      scraped_at: "Unix ms",
    },
  },
  broker_views: {
    description: "last good derived view per broker target",
    columns: { target: "target name", node_id: "broker node id", scraped_at: "Unix ms", view: "JSON of the broker view" },
  },
  operator_view: {
    description: "last good operator view",
    columns: { target: "target name", scraped_at: "Unix ms", view: "JSON of the operator view" },
  },
  v_groups: {
    description: "every consumer group, including groups known only from committed offsets",
    columns: {
      group_id: "group id",
      state: "state; 'empty' without metadata, 'unknown' when its metadata never decoded",
      protocol_type: "protocol type, '' without metadata",
      member_count: "members",
      has_metadata: "0 when known only from offsets",
    },
  },
  v_partition_lag: {
    description: "every committed (group, topic, partition); lag counts only a usable commit on a partition the snapshot lists",
    columns: {
      group_id: "group id",
      topic: "topic name",
      partition: "partition number",
      committed_offset: "committed offset",
      end_offset: "next_offset, 0 when missing",
      lag: "max(0, end_offset - committed_offset); NULL when not committed or not in_snapshot",
      committed_at: "RFC 3339 text",
      in_snapshot: "0 when the partition is not in the cluster snapshot (e.g. a deleted topic)",
      committed: "0 when the stored offset is negative (no usable commit)",
    },
  },
  v_group_lag: {
    description: "lag per group with committed offsets",
    columns: {
      group_id: "group id",
      partitions: "partitions whose lag counts",
      topics: "topics whose lag counts",
      total_lag: "sum of lag",
      max_lag: "largest partition lag",
      last_commit_at: "latest committed_at",
      uncounted_partitions: "commits whose lag is NULL (not committed or not in the snapshot)",
    },
  },
  v_topic_summary: {
    description: "one row per topic in the snapshot, with config, end offsets, groups and lag",
    columns: {
      name: "topic name",
      partition_count: "partitions",
      error_code: "Kafka error code",
      is_internal: "1 for internal topics",
      end_offset_total: "sum of end offsets",
      has_config: "1 when a config key exists",
      retention_ms: "retention.ms, NULL without config",
      retention_bytes: "retention.bytes, NULL without config",
      consumer_groups: "groups with offsets on it",
      total_lag: "sum of lag over its partitions",
      leased_partitions: "partitions with a produce lease",
    },
  },
  v_lag_status: {
    description: "each judged partition's lag verdict with its group's, and the time lag now",
    columns: {
      group_id: "group id",
      topic: "topic name",
      partition: "partition number",
      status: "partition status (lag_partition_status)",
      group_status: "the group's status (lag_group_status)",
      lag: "the lag rule; NULL without a usable commit",
      time_lag_seconds: "now - behind_since (reader's clock); 0 when caught up; NULL when unknown",
      behind_since: "Unix ms the end offset passed the committed offset",
      consumed_rate: "offsets/s consumed over the window",
      produced_rate: "offsets/s produced over the window",
      since: "STOP: last commit; STALL: last change; REWIND: when it went back",
      detail: "UNKNOWN: cause; REWIND: the offset before; WARN: lag at the window's start",
      evaluated_at: "Unix ms the verdicts were judged",
    },
  },
  v_latest_metrics: {
    description: "the current value of every metric series (each target's latest good scrape)",
    columns: { target: "target name", name: "metric name", labels: "canonical JSON labels", value: "value", scraped_at: "Unix ms" },
  },
};

export interface ColumnSchema {
  name: string;
  type: string;
  /** Position in the primary key (1-based), 0 when not part of it. */
  pk: number;
  description: string;
}

export interface RelationSchema {
  name: string;
  type: "table" | "view";
  description: string;
  columns: ColumnSchema[];
}

/** The public tables and views of the live schema with their descriptions, tables first, by name. */
export function describeSchema(db: Db): RelationSchema[] {
  const relations = db
    .prepare<[], { name: string; type: "table" | "view" }>(
      "SELECT name, type FROM sqlite_schema WHERE type IN ('table', 'view') ORDER BY type, name",
    )
    .all()
    .filter((r) => !isInternalTable(r.name) && !PRIVATE_TABLES.includes(r.name));
  return relations.map((r) => {
    const doc = SCHEMA_DOCS[r.name];
    const columns = db
      .prepare<[string], { name: string; type: string; pk: number }>("SELECT name, type, pk FROM pragma_table_info(?) ORDER BY cid")
      .all(r.name);
    return {
      name: r.name,
      type: r.type,
      description: doc?.description ?? "",
      columns: columns.map((c) => ({ name: c.name, type: c.type, pk: c.pk, description: doc?.columns[c.name] ?? "" })),
    };
  });
}
