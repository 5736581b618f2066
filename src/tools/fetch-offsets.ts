import { z } from "zod";
import type { TopicLag } from "../store/index.js";
import { unknownGroup, unknownTopics } from "./errors.js";
import { inProse } from "./json-schema.js";
import { indexVerdicts, partitionLagFields, partitionStatusSchema } from "./lag-fields.js";
import { HEAD_PARTITIONS, offsetPage } from "./offset-paging.js";
import { offsetSource } from "./offset-source.js";
import { cursorSchema, limitSchema, pagingOutput } from "./paging.js";
import { filterOf, groupId, topicList } from "./schemas.js";
import { CuttableAnswer, defineTool } from "./tool.js";

/** Topics listed in the summary: the ones with the most lag. */
const SUMMARY_TOPICS = 10;

const offset = z.object({
  topic: z.string(),
  partition: z.number(),
  offset: z.number().describe("-1: nothing usable committed"),
  metadata: z.string(),
  metadata_truncated: z.boolean().describe("metadata cut to 4 KB"),
  committed: z.boolean(),
  committed_at: z.string().nullable(),
  end_offset: z.number(),
  in_snapshot: z.boolean().describe("false: not in the snapshot, no lag"),
  lag: z.number().nullable().describe("max(0, end_offset - offset); null: not committed or not in_snapshot"),
  status: partitionStatusSchema.nullable().describe("as in consumer_lag; null: not judged"),
  time_lag_seconds: z.number().nullable(),
});

const topicLag = z.object({
  topic: z.string(),
  partitions: z.number(),
  committed: z.number(),
  total_lag: z.number(),
  max_lag: z.number().nullable(),
  max_lag_partition: z.number().nullable(),
});

function summaryOf(lags: TopicLag[]) {
  let worst: { topic: string; partition: number; lag: number } | null = null;
  for (const t of lags) {
    if (t.max_lag !== null && t.max_lag_partition !== null && (worst === null || t.max_lag > worst.lag)) {
      worst = { topic: t.topic, partition: t.max_lag_partition, lag: t.max_lag };
    }
  }
  return {
    partitions: lags.reduce((n, t) => n + t.partitions, 0),
    committed: lags.reduce((n, t) => n + t.committed, 0),
    max_lag: worst,
    topic_count: lags.length,
    by_topic: lags.slice(0, SUMMARY_TOPICS),
  };
}

export const fetchOffsets = defineTool({
  name: "fetch_offsets",
  title: "Group offsets and lag",
  description:
    "A group's committed offsets, end offsets and lag, with per-topic totals. Use to diagnose lag. " +
    `${HEAD_PARTITIONS} partitions a page (~56 KB), most-lagging first.`,
  scope: "observe",
  needsSnapshot: true,
  dependsOn: (args) => ({ snapshot: true, groupOffsets: { groupId: args.group_id, topics: filterOf(args.topics) } }),
  input: {
    group_id: groupId,
    topics: topicList("Topics (default: the group's)"),
    limit: limitSchema(100, 20_000, "Partitions"),
    cursor: cursorSchema,
  },
  output: {
    group_id: z.string(),
    offsets: z.array(offset),
    unknown_topics: z.array(z.string()),
    total_lag: z.number().describe("over all pages"),
    summary: inProse(
      z.object({
        partitions: z.number(),
        committed: z.number(),
        max_lag: z.object({ topic: z.string(), partition: z.number(), lag: z.number() }).nullable(),
        topic_count: z.number(),
        by_topic: z.array(topicLag),
      }),
      "all pages: partitions, committed, max_lag {topic, partition, lag}, topic_count, by_topic (top " +
        `${SUMMARY_TOPICS}) [{topic, partitions, committed, total_lag, max_lag, max_lag_partition}]`,
    ),
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
    const source = offsetSource(reads, args.group_id, topics);
    const lags = source.lags();
    const summary = summaryOf(lags);
    const page = offsetPage(source, { cursor: args.cursor, limit: args.limit ?? 100 });
    // Only the page's verdicts: a page of 100 rows of a 1,000-partition group reads 100, not 1,000.
    const verdicts = indexVerdicts(ctx.store.lag.reads.partitionStatuses(args.group_id, page.offsets));
    const now = ctx.now();
    const data = {
      group_id: args.group_id,
      offsets: page.offsets.map((o) => ({ ...o, ...partitionLagFields(verdicts, o.topic, o.partition, now, o.lag) })),
      unknown_topics: unknown,
      total_lag: lags.reduce((n, t) => n + t.total_lag, 0),
      summary,
      ...(page.fields as { truncated: boolean; next_cursor?: string }),
    };
    return new CuttableAnswer(data, page.cut);
  },
});
