/**
 * Every tool with its default arguments against a generated cluster (a required group_id names the
 * benchmark's groups): what bench/answer-sizes.ts measures and the size-L test holds to the budget.
 * query_snapshot is left out: it needs the "query" scope, and its answer is whatever the query asks.
 * The lag fields of describe_group, fetch_offsets and consumer_lag are filled only after a lag
 * evaluation: callers run one first (store.lag.evaluator.runNow()).
 */
import type { GeneratedCluster } from "./generator.js";

export interface AnswerCall {
  label: string;
  tool: string;
  args: Record<string, unknown>;
}

const n = (v: number): string => v.toLocaleString("en-US");

export function answerCalls(cluster: GeneratedCluster): AnswerCall[] {
  const h = cluster.handles;
  const firehose = cluster.spec.topics.find((t) => t.name === h.firehoseTopic)?.partitions ?? 0;
  return [
    { label: "cluster_status", tool: "cluster_status", args: {} },
    { label: `cluster_metrics (${cluster.spec.brokers} brokers)`, tool: "cluster_metrics", args: {} },
    { label: "list_topics", tool: "list_topics", args: {} },
    { label: "describe_topics (summaries)", tool: "describe_topics", args: {} },
    { label: "describe_topics (3 topics, with partitions)", tool: "describe_topics", args: { names: h.describeTopics } },
    { label: `describe_topics (firehose, ${n(firehose)} partitions)`, tool: "describe_topics", args: { names: [h.firehoseTopic] } },
    { label: "list_groups", tool: "list_groups", args: {} },
    { label: "describe_group (typical group)", tool: "describe_group", args: { group_id: h.sampleGroup } },
    { label: "describe_group (firehose, 4 members)", tool: "describe_group", args: { group_id: h.firehoseGroup } },
    { label: "fetch_offsets (typical group)", tool: "fetch_offsets", args: { group_id: h.sampleGroup } },
    { label: `fetch_offsets (firehose, ${n(firehose)} partitions)`, tool: "fetch_offsets", args: { group_id: h.firehoseGroup } },
    { label: "describe_configs", tool: "describe_configs", args: {} },
    { label: "consumer_lag", tool: "consumer_lag", args: {} },
    { label: "consumer_lag (typical group)", tool: "consumer_lag", args: { group: h.sampleGroup } },
    { label: "recent_changes", tool: "recent_changes", args: {} },
  ];
}
