import { z } from "zod";
import { unknownGroup, unknownTopics } from "./errors.js";
import { cursorSchema, decodeCursor, limitSchema, pagingFields, pagingOutput } from "./paging.js";
import { filterOf, groupId, topicList } from "./schemas.js";
import { defineTool } from "./tool.js";

const offset = z.object({
  topic: z.string(),
  partition: z.number(),
  offset: z.number().describe("committed offset; -1 when nothing usable is committed"),
  metadata: z.string(),
  metadata_truncated: z.boolean().describe("metadata cut to 4 KB"),
  committed: z.boolean(),
  committed_at: z.string().nullable(),
  end_offset: z.number().describe("partition end offset (etcd next_offset)"),
  in_snapshot: z.boolean().describe("false: partition not in the snapshot (deleted); lag not counted"),
  lag: z.number().nullable().describe("max(0, end_offset - offset); null when not committed or not in_snapshot"),
});

export const fetchOffsets = defineTool({
  name: "fetch_offsets",
  title: "Fetch committed offsets",
  description: "Fetch committed offsets, end offsets and lag for a consumer group",
  scope: "observe",
  needsSnapshot: true,
  dependsOn: (args) => ({ snapshot: true, groupOffsets: { groupId: args.group_id, topics: filterOf(args.topics) } }),
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
      // A topic the snapshot no longer lists is still known here when the group has commits on it.
      const known = new Set([...reads.knownTopics(topics), ...reads.committedTopics(args.group_id, topics)]);
      unknown = [...new Set(topics.filter((t) => !known.has(t)))].sort();
      if (known.size === 0) {
        throw unknownTopics(unknown);
      }
    }
    const after = decodeCursor(args.cursor, z.tuple([z.string(), z.number().int()]));
    const page = reads.fetchOffsets(args.group_id, topics, after, args.limit ?? 5000);
    const totalLag = page.items.reduce((sum, o) => sum + (o.lag ?? 0), 0);
    return {
      group_id: args.group_id,
      offsets: page.items,
      unknown_topics: unknown,
      total_lag: totalLag,
      ...pagingFields(page.next),
    };
  },
});
