import { z } from "zod";
import { unknownTopics } from "./errors.js";
import { filterOf, topicList } from "./schemas.js";
import { defineTool } from "./tool.js";

const config = z.object({
  name: z.string(),
  exists: z.boolean().describe("false: no config key in etcd; unknown values are null"),
  partitions: z.number(),
  replication_factor: z.number().nullable(),
  retention_ms: z.number().nullable(),
  retention_bytes: z.number().nullable(),
  segment_bytes: z.number().nullable(),
  created_at: z.string().nullable(),
  config: z.record(z.string(), z.string()),
});

export const describeConfigs = defineTool({
  name: "describe_configs",
  title: "Describe topic configs",
  description: "Describe topic configs",
  scope: "observe",
  needsSnapshot: true,
  dependsOn: (args) => ({ snapshot: true, topicConfigs: filterOf(args.topics) ?? "all" }),
  input: { topics: topicList("Optional list of topics to describe") },
  output: { configs: z.array(config) },
  handler: (ctx, args) => {
    const { configs, unknown } = ctx.store.reads.describeConfigs(filterOf(args.topics));
    if (unknown.length > 0) {
      throw unknownTopics(unknown);
    }
    return { configs };
  },
});
