import { z } from "zod";
import type { TopicDetail, TopicPosition } from "../store/index.js";
import { largestFitting, type CutFields, type ListCut } from "./budget.js";
import { cursorSchema, decodeCursor, encodeCursor, limitSchema, pagingFields, pagingOutput } from "./paging.js";
import { inProse } from "./json-schema.js";
import { filterOf, topicList } from "./schemas.js";
import { CuttableAnswer, defineTool } from "./tool.js";

/** Most partitions one page carries (the result budget may end it sooner). */
const PARTITIONS_PER_PAGE = 1000;

/** One partition as the Go service's describe_topics lists it (the baseline benchmark reuses it). */
export const partitionDetail = z.object({
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
    split: (topic, leftOut, room) => {
      const partitions = topic.partitions ?? [];
      if (partitions.length < 2) return null;
      const headOf = (n: number) => ({
        head: { ...topic, partitions: partitions.slice(0, n) },
        fields: resumeAt([topic.name, partitions[n - 1]!.partition], leftOut + 1),
      });
      const bytesAt = (n: number): number => {
        const { head, fields } = headOf(n);
        return room.bytesOf(head, fields);
      };
      // Never all of them: the whole topic did not fit, or it would not be split.
      const n = largestFitting(partitions.length - 1, bytesAt, room.maxBytes);
      return n === 0 ? null : headOf(n);
    },
  };
}

export const describeTopics = defineTool({
  name: "describe_topics",
  title: "Describe topics",
  description:
    "Per topic: partitions, leaders per broker, offline count; with partitions, each one's replicas and ISR. " +
    "Use to check topic health. 100 a page (~25 KB).",
  scope: "observe",
  needsSnapshot: true,
  dependsOn: () => ({ snapshot: true }),
  input: {
    names: topicList("Topics (default: all)"),
    partitions: z
      .boolean()
      .optional()
      .describe("Include partitions (default: if names are given)"),
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
          z.array(partitionDetail).optional(),
          "partition, leader_id, leader_epoch, replica_nodes, isr_nodes, offline_replicas, error_code; " +
            "may continue on the next page",
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
