import { z } from "zod";
import { unknownGroup, unknownTopics } from "./errors.js";
import { indexVerdicts, partitionLagFields, partitionStatusSchema } from "./lag-fields.js";
import { cursorSchema, decodeCursor, limitSchema, pagingFields, pagingOutput } from "./paging.js";
import { filterOf, groupId, topicList } from "./schemas.js";
import { defineTool } from "./tool.js";

const offset = z.object({
  topic: z.string(),
  partition: z.number(),
  offset: z.number().describe("committed offset; -1 when nothing is committed"),
  metadata: z.string(),
  committed: z.boolean(),
  committed_at: z.string().nullable(),
  end_offset: z.number().describe("partition end offset (etcd next_offset)"),
  lag: z.number().nullable().describe("max(0, end_offset - offset); null when nothing is committed"),
  status: partitionStatusSchema.nullable().describe("lag status over the window (see consumer_lag); null: not judged yet"),
  time_lag_seconds: z.number().nullable().describe("age of the oldest unconsumed message; 0 caught up; null unknown"),
});

export const fetchOffsets = defineTool({
  name: "fetch_offsets",
  title: "Fetch committed offsets",
  description: "Fetch committed offsets, end offsets and lag for a consumer group",
  scope: "observe",
  needsSnapshot: true,
  input: {
    group_id: groupId,
    topics: topicList("Optional list of topics to fetch offsets for (default: the group's topics)"),
    limit: limitSchema(5000, 20_000),
    cursor: cursorSchema,
  },
  output: {
    group_id: z.string(),
    offsets: z.array(offset),
    unknown_topics: z.array(z.string()),
    total_lag: z.number().describe("sum of lag over the partitions in this page"),
    ...pagingOutput,
  },
  handler: (ctx, args) => {
    const { reads } = ctx.store;
    if (!reads.groupExists(args.group_id)) {
      throw unknownGroup(args.group_id);
    }
    const topics = filterOf(args.topics);
    let unknown: string[] = [];
    if (topics) {
      const known = new Set(reads.knownTopics(topics));
      unknown = [...new Set(topics.filter((t) => !known.has(t)))].sort();
      if (known.size === 0) {
        throw unknownTopics(unknown);
      }
    }
    const after = decodeCursor(args.cursor, z.tuple([z.string(), z.number().int()]));
    const page = reads.fetchOffsets(args.group_id, topics, after, args.limit ?? 5000);
    const totalLag = page.items.reduce((sum, o) => sum + (o.lag ?? 0), 0);
    const verdicts = indexVerdicts(ctx.store.lag.reads.partitionStatuses(args.group_id));
    const now = ctx.now();
    return {
      group_id: args.group_id,
      offsets: page.items.map((o) => ({ ...o, ...partitionLagFields(verdicts, o.topic, o.partition, now, o.lag) })),
      unknown_topics: unknown,
      total_lag: totalLag,
      ...pagingFields(page.next),
    };
  },
});
