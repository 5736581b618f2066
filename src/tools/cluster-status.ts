import { z } from "zod";
import { aggregateOf } from "../kafscale/broker-view.js";
import { limitSchema } from "./paging.js";
import { topicSummary } from "./schemas.js";
import { defineTool } from "./tool.js";

export const clusterStatus = defineTool({
  name: "cluster_status",
  title: "Cluster status",
  description: "Summarize cluster metadata, brokers, and topic counts",
  scope: "observe",
  needsSnapshot: true,
  dependsOn: () => ({ snapshot: true }),
  input: { topic_limit: limitSchema(1000, 10_000) },
  output: {
    cluster_name: z.string().optional(),
    cluster_id: z.string().optional(),
    controller_id: z.number(),
    brokers: z.array(z.object({ node_id: z.number(), host: z.string(), port: z.number(), rack: z.string().nullable() })),
    topics: z.array(topicSummary),
    topics_truncated: z.boolean(),
    topic_count: z.number(),
    partition_count: z.number(),
    s3: z.object({
      state: z.string().describe('healthy | degraded | unavailable, "" when no scrape yet'),
      latency_ms: z.number(),
      error_rate: z.number().nullable(),
      observed_at: z.string().nullable(),
    }),
    etcd: z.object({ state: z.enum(["connected", "reconnecting", "down"]), revision: z.number() }),
    observed_at: z.string(),
  },
  handler: (ctx, args) => {
    const { reads, syncState, metrics } = ctx.store;
    const overview = reads.clusterOverview();
    const topics = reads.listTopics(null, args.topic_limit ?? 1000);
    const latest = metrics.latest();
    const aggregate = aggregateOf(latest);
    const sync = syncState.get();
    return {
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
  },
});
