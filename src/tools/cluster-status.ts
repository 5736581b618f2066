import { z } from "zod";
import { aggregateOf } from "../kafscale/broker-view.js";
import { inProse } from "./json-schema.js";
import { topicSummary } from "./schemas.js";
import { CuttableAnswer, defineTool } from "./tool.js";

export const clusterStatus = defineTool({
  name: "cluster_status",
  title: "Cluster status",
  description:
    "Brokers, controller, topic and partition totals, the first 20 topics, S3 health, etcd link. " +
    "Use first to get oriented (~4 KB).",
  scope: "observe",
  needsSnapshot: true,
  dependsOn: () => ({ snapshot: true }),
  input: {
    topic_limit: z
      .number()
      .int()
      .min(0)
      .max(10_000)
      .optional()
      .describe("Topics to list (default 20)"),
  },
  output: {
    cluster_name: z.string().optional(),
    cluster_id: z.string().optional(),
    controller_id: z.number(),
    brokers: inProse(
      z.array(z.object({ node_id: z.number(), host: z.string(), port: z.number(), rack: z.string().nullable() })),
      "node_id, host, port, rack",
    ),
    topics: inProse(z.array(topicSummary), "name, partition_count, error_code"),
    topics_truncated: z.boolean().describe("more topics exist than listed"),
    topic_count: z.number(),
    partition_count: z.number(),
    s3: inProse(
      z.object({
        state: z.string(),
        latency_ms: z.number(),
        error_rate: z.number().nullable(),
        observed_at: z.string().nullable(),
      }),
      'state (healthy, degraded, unavailable, "" before a scrape), latency_ms, error_rate, observed_at',
    ),
    etcd: inProse(
      z.object({ state: z.enum(["connected", "reconnecting", "down"]), revision: z.number() }),
      "state (connected, reconnecting, down), revision",
    ),
    observed_at: z.string(),
  },
  handler: (ctx, args) => {
    const { reads, syncState, metrics } = ctx.store;
    const overview = reads.clusterOverview();
    // A sample to orient by, not a list: list_topics pages through every topic.
    const topicLimit = args.topic_limit ?? 20;
    const topics = topicLimit === 0 ? { items: [], next: overview.topic_count > 0 ? "" : null } : reads.listTopics(null, topicLimit);
    const latest = metrics.latest();
    const aggregate = aggregateOf(latest);
    const sync = syncState.get();
    const data = {
      ...(overview.cluster_name ? { cluster_name: overview.cluster_name } : {}),
      ...(overview.cluster_id ? { cluster_id: overview.cluster_id } : {}),
      controller_id: overview.controller_id,
      brokers: overview.brokers,
      topics: topics.items,
      topics_truncated: topics.next !== null,
      topic_count: overview.topic_count,
      partition_count: overview.partition_count,
      s3: {
        state: aggregate?.s3State ?? "",
        latency_ms: Math.trunc(aggregate?.s3LatencyMs ?? 0),
        error_rate: aggregate?.s3ErrorRate ?? null,
        observed_at: latest?.observedAt ? new Date(latest.observedAt).toISOString() : null,
      },
      etcd: { state: sync.linkState, revision: sync.revision },
      observed_at: new Date(ctx.now()).toISOString(),
    };
    return new CuttableAnswer(data, { field: "topics", after: () => ({ topics_truncated: true }) });
  },
});
