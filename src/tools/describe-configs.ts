import { z } from "zod";
import type { TopicConfigView } from "../store/index.js";
import { unknownTopics } from "./errors.js";
import { cursorSchema, decodeCursor, keysetCut, limitSchema, pagingFields, pagingOutput } from "./paging.js";
import { filterOf, topicList } from "./schemas.js";
import { CuttableAnswer, defineTool } from "./tool.js";

const config = z.object({
  name: z.string(),
  exists: z.boolean().describe("false: no config key; unknown values null"),
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
  title: "Topic configs",
  description:
    "Topic configs: retention, segment size, replication factor, others. Use to check retention or sizing. " +
    "100 a page (~40 KB).",
  scope: "observe",
  needsSnapshot: true,
  dependsOn: (args) => ({ snapshot: true, topicConfigs: filterOf(args.topics) ?? "all" }),
  input: {
    topics: topicList("Topics (default: all)"),
    limit: limitSchema(100, 10_000, "Topics"),
    cursor: cursorSchema,
  },
  output: { configs: z.array(config), ...pagingOutput },
  handler: (ctx, args) => {
    const { configs, unknown, next } = ctx.store.reads.describeConfigs(
      filterOf(args.topics),
      decodeCursor(args.cursor, z.string()),
      args.limit ?? 100,
    );
    if (unknown.length > 0) {
      throw unknownTopics(unknown);
    }
    return new CuttableAnswer({ configs, ...pagingFields(next) }, keysetCut<TopicConfigView>("configs", (c) => c.name));
  },
});
