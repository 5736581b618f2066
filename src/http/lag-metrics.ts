/**
 * /metrics/lag: consumer lag as Prometheus series with kafka-lag-exporter's names and labels
 * (`cluster_name`, `group`, `topic`, `partition`), so dashboards and alerts built for it work
 * unchanged, plus the group's status as a number and the snapshot's age. Rendered from SQLite per
 * scrape, in one read transaction, straight into the response in chunks: no registry, no copy of
 * the series in memory (2,000 groups and 200k committed partitions at size L; docs/BENCHMARKS.md).
 *
 * Group-level series always; per-partition series only with KAFSCALE_MCP_LAG_METRICS_PARTITIONS
 * (one series per committed partition and metric). Groups are filtered by the allow/deny patterns.
 * A partition nothing was ever committed on has no series at all (kafka-lag-exporter's rule; a 0
 * would read as "caught up", NaN breaks sums); a partition without an end offset has an offset
 * series but no lag.
 */
import type { Request, Response } from "express";
import type { LagMetricsConfig } from "../config.js";
import { judgedTimeLag, type GroupStatus, type PartitionStatus } from "../kafscale/lag-status.js";
import type { LagMetricReads } from "../store/index.js";

export const LAG_METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** `kafscale_consumergroup_group_status`: a number per status, for alert rules (docs in README). */
export const GROUP_STATUS_VALUE: Record<GroupStatus, number> = { OK: 0, WARN: 1, ERR: 2, UNKNOWN: -1 };

/** Bytes gathered before one write to the response. */
const CHUNK_CHARS = 64 * 1024;

/** Prometheus label values: backslash, double quote and newline escaped. */
function esc(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

function family(out: Output, name: string, help: string): void {
  out.line(`# HELP ${name} ${help}`);
  out.line(`# TYPE ${name} gauge`);
}

interface Output {
  line(text: string): void;
  flush(): void;
}

function chunked(write: (chunk: string) => void): Output {
  let parts: string[] = [];
  let size = 0;
  const flush = (): void => {
    if (parts.length === 0) return;
    write(parts.join(""));
    parts = [];
    size = 0;
  };
  return {
    line(text) {
      parts.push(text, "\n");
      size += text.length + 1;
      if (size >= CHUNK_CHARS) flush();
    },
    flush,
  };
}

const seconds = (value: number): string => String(Math.round(value * 1000) / 1000);

/** Writes the exposition text through `write`, in chunks. Call inside `reads.consistent`. */
export function renderLagMetrics(
  reads: LagMetricReads,
  config: LagMetricsConfig,
  now: number,
  write: (chunk: string) => void,
): void {
  const out = chunked(write);
  const cluster = `cluster_name="${esc(reads.clusterLabel() ?? "")}"`;
  const decided = new Map<string, boolean>();
  const allowed = (group: string): boolean => {
    let ok = decided.get(group);
    if (ok === undefined) {
      ok = (config.groupAllow?.test(group) ?? true) && !(config.groupDeny?.test(group) ?? false);
      decided.set(group, ok);
    }
    return ok;
  };
  const groupLabels = (group: string): string => `${cluster},group="${esc(group)}"`;

  const syncedAt = reads.syncedAt();
  family(out, "kafscale_mcp_lag_snapshot_age_seconds", "Age of the snapshot these series come from (since it was last confirmed current).");
  if (syncedAt !== null) out.line(`kafscale_mcp_lag_snapshot_age_seconds{${cluster}} ${seconds(Math.max(0, now - syncedAt) / 1000)}`);

  // The group series: the lag evaluator's verdicts (what consumer_lag and /ui answer).
  const verdicts = [...reads.groupVerdicts()].filter((v) => allowed(v.group_id) && v.known > 0);
  family(out, "kafka_consumergroup_group_sum_lag", "Sum of the group's lag over its partitions (as of the last lag evaluation).");
  for (const v of verdicts) out.line(`kafka_consumergroup_group_sum_lag{${groupLabels(v.group_id)}} ${v.total_lag}`);
  family(out, "kafka_consumergroup_group_max_lag", "The group's largest partition lag (as of the last lag evaluation).");
  for (const v of verdicts) out.line(`kafka_consumergroup_group_max_lag{${groupLabels(v.group_id)}} ${v.max_lag ?? 0}`);
  family(out, "kafka_consumergroup_group_max_lag_seconds", "Age of the group's oldest unconsumed message (time lag).");
  for (const v of verdicts) {
    const timeLag = judgedTimeLag(v.status as GroupStatus, v.total_lag, v.behind_since, now);
    if (timeLag !== null) out.line(`kafka_consumergroup_group_max_lag_seconds{${groupLabels(v.group_id)}} ${seconds(timeLag)}`);
  }
  family(out, "kafscale_consumergroup_group_status", "The group's lag status: 0 OK, 1 WARN (lag growing), 2 ERR (a partition stalled, stopped or rewound), -1 UNKNOWN.");
  for (const v of reads.groupVerdicts()) {
    if (allowed(v.group_id)) out.line(`kafscale_consumergroup_group_status{${groupLabels(v.group_id)}} ${GROUP_STATUS_VALUE[v.status as GroupStatus] ?? -1}`);
  }
  const topics = new Set<string>();
  family(out, "kafka_consumergroup_group_topic_sum_lag", "Sum of the group's lag over the topic's partitions (as of the last lag evaluation).");
  for (const row of reads.topicLags()) {
    if (!allowed(row.group_id)) continue;
    topics.add(row.topic);
    out.line(`kafka_consumergroup_group_topic_sum_lag{${groupLabels(row.group_id)},topic="${esc(row.topic)}"} ${row.sum_lag}`);
  }

  if (config.partitions) renderPartitions(reads, out, cluster, allowed, topics, now);
  out.flush();
}

function renderPartitions(
  reads: LagMetricReads,
  out: Output,
  cluster: string,
  allowed: (group: string) => boolean,
  topics: ReadonlySet<string>,
  now: number,
): void {
  // One SQL pass, kept compactly (label parts interned, numbers in arrays), then one text pass per
  // metric: the text format wants each metric's lines together.
  const names: string[] = [];
  const nameIndex = new Map<string, number>();
  const intern = (text: string): number => {
    let i = nameIndex.get(text);
    if (i === undefined) {
      i = names.length;
      names.push(esc(text));
      nameIndex.set(text, i);
    }
    return i;
  };
  const groupOf: number[] = [];
  const topicOf: number[] = [];
  const partitionOf: number[] = [];
  const offsets: number[] = [];
  const lags: (number | null)[] = [];
  const timeLags: (number | null)[] = [];
  for (const row of reads.partitionLags()) {
    if (!allowed(row.group_id)) continue;
    groupOf.push(intern(row.group_id));
    topicOf.push(intern(row.topic));
    partitionOf.push(row.partition);
    offsets.push(row.committed_offset);
    lags.push(row.lag);
    timeLags.push(row.status === null || row.lag === null ? null : judgedTimeLag(row.status as PartitionStatus, row.lag, row.behind_since, now));
  }
  const series: [string, string, (i: number) => string | null][] = [
    ["kafka_consumergroup_group_offset", "The group's committed offset of the partition.", (i) => String(offsets[i])],
    ["kafka_consumergroup_group_lag", "The group's lag on the partition (end offset - committed offset, at least 0).", (i) => (lags[i] === null ? null : String(lags[i]))],
    ["kafka_consumergroup_group_lag_seconds", "Age of the partition's oldest unconsumed message (time lag).", (i) => {
      const t = timeLags[i];
      return t === null || t === undefined ? null : seconds(t);
    }],
  ];
  for (const [name, help, value] of series) {
    family(out, name, help);
    for (let i = 0; i < groupOf.length; i++) {
      const v = value(i);
      if (v !== null) {
        out.line(`${name}{${cluster},group="${names[groupOf[i] as number]}",topic="${names[topicOf[i] as number]}",partition="${partitionOf[i]}"} ${v}`);
      }
    }
  }
  family(out, "kafka_partition_latest_offset", "The partition's end offset (next offset to be written).");
  for (const row of reads.endOffsets()) {
    if (topics.has(row.topic)) {
      out.line(`kafka_partition_latest_offset{${cluster},topic="${esc(row.topic)}",partition="${row.partition}"} ${row.end_offset}`);
    }
  }
}

/** The express handler for /metrics/lag. */
export function lagMetricsHandler(
  reads: LagMetricReads,
  config: LagMetricsConfig,
  now: () => number,
  onError: (err: Error) => void,
): (req: Request, res: Response) => void {
  return (_req, res) => {
    try {
      res.status(200).type(LAG_METRICS_CONTENT_TYPE);
      reads.consistent(() => renderLagMetrics(reads, config, now(), (chunk) => res.write(chunk)));
      res.end();
    } catch (err) {
      onError(err as Error);
      if (res.headersSent) res.destroy(err as Error);
      else res.status(500).type("text/plain").send("lag metrics unavailable; the service log has details\n");
    }
  };
}
