/**
 * `kafscale-mcp report [--db FILE] [--top N] [--json]`: a human-readable cluster report (brokers,
 * topics, groups, lag, S3 health, sync state) from the snapshot, without touching etcd or a broker.
 */
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { loadConfig } from "../config.js";
import { aggregateOf } from "../kafscale/broker-view.js";
import { createStore } from "../store/index.js";

const fmt = (n: number | null | undefined): string => (n === null || n === undefined ? "-" : n.toLocaleString("en-US"));
const iso = (ms: number | null): string => (ms === null ? "never" : new Date(ms).toISOString());

function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return cells.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd()).join("\n");
}

export async function report(args: string[]): Promise<number> {
  let options;
  try {
    options = parseArgs({
      args,
      options: { db: { type: "string" }, top: { type: "string", default: "10" }, json: { type: "boolean", default: false } },
    }).values;
  } catch (err) {
    console.error(`usage: kafscale-mcp report [--db FILE] [--top N] [--json]\n${(err as Error).message}`);
    return 2;
  }
  const top = Number(options.top);
  if (!Number.isInteger(top) || top < 1) {
    console.error(`--top must be a positive integer, got "${options.top}"`);
    return 2;
  }
  const path = options.db ?? loadConfig().dbPath;
  if (!existsSync(path)) {
    console.error(`no snapshot at ${path}; run \`kafscale-mcp serve\` or \`kafscale-mcp snapshot --out ${path}\` first`);
    return 1;
  }
  const store = createStore(path);
  try {
    const sync = store.syncState.get();
    const overview = store.reads.clusterOverview();
    const data = store.reports.report(top);
    const metrics = store.metrics.latest();
    const aggregate = aggregateOf(metrics);
    if (options.json) {
      console.log(JSON.stringify({ sync, overview, ...data, metrics: aggregateOf(metrics) }, null, 2));
      return 0;
    }
    const lines = [
      `Kafscale cluster report — ${overview.cluster_name ?? "(no snapshot key)"} ${overview.cluster_id ? `(${overview.cluster_id})` : ""}`.trimEnd(),
      `snapshot: ${path}, source ${sync.source}, etcd revision ${sync.revision}, last confirmed current ${iso(sync.syncedAt)}, etcd link ${sync.linkState}`,
      sync.initialSyncDone ? null : "WARNING: the initial etcd sync never completed; this snapshot is partial.",
      `brokers: ${overview.brokers.length}   topics: ${fmt(overview.topic_count)} (${fmt(data.topicsWithoutConfig)} without config)   partitions: ${fmt(overview.partition_count)}   consumer groups: ${fmt(data.groupCount)}`,
      aggregate
        ? `S3: ${aggregate.s3State || "unknown"}, latency ${fmt(aggregate.s3LatencyMs === null ? null : Math.round(aggregate.s3LatencyMs))} ms, error rate ${aggregate.s3ErrorRate ?? "-"} (scraped ${iso(metrics?.observedAt ?? null)})`
        : "S3: no metrics scraped",
      data.undecodableKeys > 0
        ? `decode errors: ${data.undecodableKeys} keys do not decode; the last value of each that did is served (see the undecodable_keys table)`
        : "decode errors: none",
      data.orphanOffsets > 0
        ? `offsets on partitions missing from the snapshot (listed, not counted in lag): ${data.orphanOffsets}`
        : null,
      data.unusableCommits > 0 ? `negative committed offsets (no usable commit, not counted in lag): ${data.unusableCommits}` : null,
      "",
      `Consumer groups by lag (top ${top}):`,
      table(
        ["GROUP", "STATE", "TOPICS", "PARTITIONS", "TOTAL LAG", "MAX LAG", "LAST COMMIT"],
        data.groupsByLag.map((g) => [g.group_id, g.state, g.topics, g.partitions, fmt(g.total_lag), fmt(g.max_lag), g.last_commit_at ?? "-"]),
      ),
      "",
      `Topics by lag (top ${top}):`,
      table(
        ["TOPIC", "PARTITIONS", "END OFFSETS", "GROUPS", "TOTAL LAG", "CONFIG", "RETENTION MS"],
        data.topicsByLag.map((t) => [t.name, t.partition_count, fmt(t.end_offset_total), t.consumer_groups, fmt(t.total_lag), t.has_config ? "yes" : "no", fmt(t.retention_ms)]),
      ),
    ];
    console.log(lines.filter((line) => line !== null).join("\n"));
    return 0;
  } finally {
    store.close();
  }
}
