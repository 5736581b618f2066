/**
 * /metrics/lag: consumer lag as Prometheus series with kafka-lag-exporter's names and labels
 * (`cluster_name`, `group`, `topic`, `partition`), so dashboards and alerts built for it work
 * unchanged, plus the group's status as a number and the snapshot's age. Rendered from SQLite per
 * scrape, read in one read transaction, written as bytes into chunks sent with backpressure: no
 * registry, no copy of the text in memory (2,000 groups and 200k committed partitions at size L;
 * docs/BENCHMARKS.md).
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
import type { EndOffsetRun, LagMetricReads, PartitionLag } from "../store/index.js";
import { ChunkedText } from "./chunked-text.js";

export const LAG_METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** `kafscale_consumergroup_group_status`: a number per status, for alert rules (docs in README). */
export const GROUP_STATUS_VALUE: Record<GroupStatus, number> = { OK: 0, WARN: 1, ERR: 2, UNKNOWN: -1 };

/** Prometheus label values: backslash, double quote and newline escaped. */
function esc(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

const seconds = (value: number): string => String(Math.round(value * 1000) / 1000);

/** `"} ` between a line's labels and its value. */
const LABELS_END = Buffer.from('"} ');
const NEWLINE = 10;

/** Runs of partition rows that share a label prefix (one group and topic, or one topic). */
interface LabelledRuns<Row> {
  /** Per run: `cluster_name="…",group="…",topic="…",partition="` (or without the group). */
  labels: Buffer[];
  rows: Row[][];
}

/** What a partition-level scrape shows, read in the scrape's transaction (arrays as SQLite gave them). */
interface PartitionSeries {
  partitions: LabelledRuns<PartitionLag>;
  ends: LabelledRuns<EndOffsetRun[1][number]>;
}

/**
 * Reads everything one scrape shows in one read transaction (every series from the same snapshot)
 * and returns its exposition text as chunks: the group-level text is written at once (27k lines at
 * size L), the partition-level text (700k lines) is made only as the caller asks for more, so a
 * slow reader holds the compact rows, not 64 MiB of text.
 */
export function lagMetricsBody(reads: LagMetricReads, config: LagMetricsConfig, now: number): Iterable<Buffer> {
  return reads.consistent(() => {
    const out = new ChunkedText();
    const line = (text: string): void => {
      out.text(text);
      out.byte(NEWLINE);
    };
    const family = (name: string, help: string): void => {
      line(`# HELP ${name} ${help}`);
      line(`# TYPE ${name} gauge`);
    };
    const clusterLabel = `cluster_name="${esc(reads.clusterLabel() ?? "")}"`;
    const decided = new Map<string, boolean>();
    const allowed = (group: string): boolean => {
      let ok = decided.get(group);
      if (ok === undefined) {
        ok = (config.groupAllow?.test(group) ?? true) && !(config.groupDeny?.test(group) ?? false);
        decided.set(group, ok);
      }
      return ok;
    };
    const labelsOf = new Map<string, string>();
    const groupLabels = (group: string): string => {
      let labels = labelsOf.get(group);
      if (labels === undefined) labelsOf.set(group, (labels = `${clusterLabel},group="${esc(group)}"`));
      return labels;
    };

    const syncedAt = reads.syncedAt();
    family("kafscale_mcp_lag_snapshot_age_seconds", "Age of the snapshot these series come from (since it was last confirmed current).");
    if (syncedAt !== null) line(`kafscale_mcp_lag_snapshot_age_seconds{${clusterLabel}} ${seconds(Math.max(0, now - syncedAt) / 1000)}`);

    // The group series: the lag evaluator's verdicts (what consumer_lag and /ui answer).
    const verdicts = [...reads.groupVerdicts()].filter((v) => allowed(v.group_id));
    const known = verdicts.filter((v) => v.known > 0);
    family("kafka_consumergroup_group_sum_lag", "Sum of the group's lag over its partitions (as of the last lag evaluation).");
    for (const v of known) line(`kafka_consumergroup_group_sum_lag{${groupLabels(v.group_id)}} ${v.total_lag}`);
    family("kafka_consumergroup_group_max_lag", "The group's largest partition lag (as of the last lag evaluation).");
    for (const v of known) line(`kafka_consumergroup_group_max_lag{${groupLabels(v.group_id)}} ${v.max_lag ?? 0}`);
    family("kafka_consumergroup_group_max_lag_seconds", "Age of the group's oldest unconsumed message (time lag).");
    for (const v of known) {
      const timeLag = judgedTimeLag(v.status as GroupStatus, v.total_lag, v.behind_since, now);
      if (timeLag !== null) line(`kafka_consumergroup_group_max_lag_seconds{${groupLabels(v.group_id)}} ${seconds(timeLag)}`);
    }
    family("kafscale_consumergroup_group_status", "The group's lag status: 0 OK, 1 WARN (lag growing), 2 ERR (a partition stalled, stopped or rewound), -1 UNKNOWN.");
    for (const v of verdicts) line(`kafscale_consumergroup_group_status{${groupLabels(v.group_id)}} ${GROUP_STATUS_VALUE[v.status as GroupStatus] ?? -1}`);
    const topics = new Set<string>();
    family("kafka_consumergroup_group_topic_sum_lag", "Sum of the group's lag over the topic's partitions (as of the last lag evaluation).");
    for (const [group, rows] of reads.topicLags()) {
      if (!allowed(group)) continue;
      const prefix = `kafka_consumergroup_group_topic_sum_lag{${groupLabels(group)},topic="`;
      let lines = "";
      for (const [topic, sum] of rows) {
        topics.add(topic);
        lines += `${prefix}${esc(topic)}"} ${sum}\n`;
      }
      out.text(lines);
    }
    const head = out.end();
    if (!config.partitions) return head;
    const series = readPartitions(reads, clusterLabel, allowed, topics);
    return (function* (): Generator<Buffer> {
      yield* head;
      yield* partitionText(series, now);
    })();
  });
}

function readPartitions(
  reads: LagMetricReads,
  clusterLabel: string,
  allowed: (group: string) => boolean,
  topics: ReadonlySet<string>,
): PartitionSeries {
  const s: PartitionSeries = { partitions: { labels: [], rows: [] }, ends: { labels: [], rows: [] } };
  let group: string | null = null;
  let groupLabels = "";
  for (const [g, topic, rows] of reads.partitionLags()) {
    if (!allowed(g)) continue;
    if (g !== group) {
      group = g;
      groupLabels = `${clusterLabel},group="${esc(g)}",topic="`;
    }
    s.partitions.labels.push(Buffer.from(`${groupLabels}${esc(topic)}",partition="`));
    s.partitions.rows.push(rows);
  }
  for (const [topic, rows] of reads.endOffsets()) {
    if (!topics.has(topic)) continue;
    s.ends.labels.push(Buffer.from(`${clusterLabel},topic="${esc(topic)}",partition="`));
    s.ends.rows.push(rows);
  }
  return s;
}

/** One family of partition lines, `name{<labels><partition>"} <value>` for every row with a value. */
function* familyText<Row extends readonly unknown[]>(
  name: string,
  help: string,
  runs: LabelledRuns<Row>,
  value: (row: Row) => number | string | null,
): Generator<Buffer> {
  const out = new ChunkedText();
  out.text(`# HELP ${name} ${help}\n# TYPE ${name} gauge\n`);
  const start = Buffer.from(`${name}{`);
  for (let run = 0; run < runs.rows.length; run++) {
    const prefix = runs.labels[run] as Buffer;
    for (const row of runs.rows[run] as Row[]) {
      const v = value(row);
      if (v === null) continue;
      out.reserveLine(start.length + prefix.length);
      out.bytes(start);
      out.bytes(prefix);
      out.number(row[0] as number);
      out.bytes(LABELS_END);
      if (typeof v === "number") out.number(v);
      else out.text(v);
      out.byte(NEWLINE);
    }
    if (out.ready) yield* out.take();
  }
  yield* out.end();
}

/** The partition-level text, made chunk by chunk as the caller asks (each metric's lines together). */
function* partitionText(s: PartitionSeries, now: number): Generator<Buffer> {
  yield* familyText("kafka_consumergroup_group_offset", "The group's committed offset of the partition.", s.partitions, (r) => r[1]);
  yield* familyText("kafka_consumergroup_group_lag", "The group's lag on the partition (end offset - committed offset, at least 0).", s.partitions, (r) => r[2]);
  yield* familyText("kafka_consumergroup_group_lag_seconds", "Age of the partition's oldest unconsumed message (time lag).", s.partitions, ([, , lag, status, behindSince]) => {
    if (status === null || lag === null) return null;
    const t = judgedTimeLag(status as PartitionStatus, lag, behindSince, now);
    return t === null ? null : seconds(t);
  });
  yield* familyText("kafka_partition_latest_offset", "The partition's end offset (next offset to be written).", s.ends, (r) => r[1]);
}

/** The whole text at once, through `write` (tests, the benchmark's CPU measure). */
export function renderLagMetrics(
  reads: LagMetricReads,
  config: LagMetricsConfig,
  now: number,
  write: (chunk: Buffer) => void,
): void {
  for (const chunk of lagMetricsBody(reads, config, now)) write(chunk);
}

/** Chunks written before the handler lets other work run (1 MiB): a fast reader never blocks the loop. */
const CHUNKS_PER_TURN = 16;

/**
 * The express handler for /metrics/lag: reads in one transaction, then writes the chunks with
 * backpressure (waits for 'drain' when the socket's buffer is full) and yields to the event loop
 * between bursts. A client that goes away stops it (no 'drain' comes; the rows are released).
 */
export function lagMetricsHandler(
  reads: LagMetricReads,
  config: LagMetricsConfig,
  now: () => number,
  onError: (err: Error) => void,
): (req: Request, res: Response) => void {
  return (_req, res) => {
    let chunks: Iterator<Buffer>;
    try {
      chunks = lagMetricsBody(reads, config, now())[Symbol.iterator]();
    } catch (err) {
      onError(err as Error);
      res.status(500).type("text/plain").send("lag metrics unavailable; the service log has details\n");
      return;
    }
    res.status(200).type(LAG_METRICS_CONTENT_TYPE);
    // Counted across 'drain's too: a socket the kernel empties at once signals drain on the next
    // tick, before any other I/O, so only a setImmediate lets other requests in.
    let sinceYield = 0;
    const pump = (): void => {
      try {
        for (;;) {
          if (sinceYield >= CHUNKS_PER_TURN) {
            sinceYield = 0;
            setImmediate(pump);
            return;
          }
          const next = chunks.next();
          if (next.done === true) {
            res.end();
            return;
          }
          sinceYield++;
          if (!res.write(next.value)) {
            res.once("drain", pump);
            return;
          }
        }
      } catch (err) {
        onError(err as Error);
        res.destroy(err as Error);
      }
    };
    pump();
  };
}
