import { z } from "zod";
import type { TopicDetail, TopicPosition } from "../store/index.js";
import type { CutFields, ListCut } from "./budget.js";
import { cursorSchema, decodeCursor, encodeCursor, limitSchema, pagingFields, pagingOutput } from "./paging.js";
import { inProse } from "./json-schema.js";
import { filterOf, topicList } from "./schemas.js";
import { CuttableAnswer, defineTool } from "./tool.js";

/** Most partitions one page carries (the result budget may end it sooner). */
const PARTITIONS_PER_PAGE = 1000;

const partition = z.object({
  partition: z.number(),
  leader_id: z.number(),
  leader_epoch: z.number(),
  replica_nodes: z.array(z.number()),
  isr_nodes: z.array(z.number()),
  offline_replicas: z.array(z.number()),
  error_code: z.number(),
});

const position = z.tuple([z.string(), z.number().int().nullable()]);

/**
 * The budget cut: the next page starts after the last topic kept; a topic too large for the rest of
 * the page is split between its partitions, and the next page resumes inside it.
 */
function topicCut(pageFields: CutFields): ListCut<TopicDetail> {
  const resumeAt = (at: TopicPosition, leftOut: number): CutFields => ({
    truncated: true,
    next_cursor: encodeCursor(at),
    left_out: leftOut,
  });
  return {
    field: "topics",
    after: (kept, leftOut) => (leftOut === 0 ? pageFields : resumeAt([kept[kept.length - 1]!.name, null], leftOut)),
    split: (topic, leftOut, fits) => {
      const partitions = topic.partitions ?? [];
      const headOf = (n: number) => ({
        head: { ...topic, partitions: partitions.slice(0, n) },
        fields: resumeAt([topic.name, partitions[n - 1]!.partition], leftOut + 1),
      });
      // The most partitions that fit, by bisection; none fitting means no split.
      let [low, high] = [0, partitions.length - 1];
      while (low < high) {
        const mid = Math.ceil((low + high) / 2);
        const candidate = headOf(mid);
        if (fits(candidate.head, candidate.fields)) low = mid;
        else high = mid - 1;
      }
      return low === 0 ? null : headOf(low);
    },
  };
}

export const describeTopics = defineTool({
  name: "describe_topics",
  title: "Describe topics",
  description:
    "Per topic: partitions, leaders per broker, offline count; with partitions (default when names are given) " +
    "each one's replicas and ISR. Use to check topic health. 100 topics a page (~25 KB); follow next_cursor.",
  scope: "observe",
  needsSnapshot: true,
  input: {
    names: topicList("Topics (default: all)"),
    partitions: z
      .boolean()
      .optional()
      .describe("Include partitions (default: true when names are given)"),
    limit: limitSchema(100, 1000, "Topics"),
    cursor: cursorSchema,
  },
  output: {
    topics: z.array(
      z.object({
        name: z.string(),
        error_code: z.number().describe("3: unknown topic"),
        partition_count: z.number(),
        leaders: z.record(z.string(), z.number()).describe("partitions led, by broker node id"),
        offline_partitions: z.number().describe("no leader, or one that is not a broker"),
        partitions: inProse(
          z.array(partition).optional(),
          "partition, leader_id, leader_epoch, replica_nodes, isr_nodes, offline_replicas, error_code; " +
            "a topic can continue on the next page",
        ),
      }),
    ),
    ...pagingOutput,
  },
  handler: (ctx, args) => {
    const names = filterOf(args.names);
    const withPartitions = args.partitions ?? names !== null;
    const page = ctx.store.reads.describeTopics(
      names,
      decodeCursor(args.cursor, position),
      args.limit ?? 100,
      withPartitions ? PARTITIONS_PER_PAGE : 0,
    );
    const fields = pagingFields(page.next);
    return new CuttableAnswer({ topics: page.items, ...fields }, topicCut(fields));
  },
});
