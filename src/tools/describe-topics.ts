import { z } from "zod";
import { cursorSchema, decodeCursor, limitSchema, pagingFields, pagingOutput } from "./paging.js";
import { filterOf, topicList } from "./schemas.js";
import { defineTool } from "./tool.js";

const partition = z.object({
  partition: z.number(),
  leader_id: z.number(),
  leader_epoch: z.number(),
  replica_nodes: z.array(z.number()),
  isr_nodes: z.array(z.number()),
  offline_replicas: z.array(z.number()),
  error_code: z.number(),
});

export const describeTopics = defineTool({
  name: "describe_topics",
  title: "Describe topics",
  description: "Describe topics and their partitions",
  scope: "observe",
  needsSnapshot: true,
  dependsOn: () => ({ snapshot: true }),
  input: {
    names: topicList("Optional list of topic names to filter"),
    limit: limitSchema(100, 1000),
    cursor: cursorSchema,
  },
  output: {
    topics: z.array(z.object({ name: z.string(), error_code: z.number(), partitions: z.array(partition) })),
    ...pagingOutput,
  },
  handler: (ctx, args) => {
    // An unknown name is answered, as in Kafka, with error_code 3 and no partitions.
    const page = ctx.store.reads.describeTopics(
      filterOf(args.names),
      decodeCursor(args.cursor, z.string()),
      args.limit ?? 100,
    );
    return { topics: page.items, ...pagingFields(page.next) };
  },
});
