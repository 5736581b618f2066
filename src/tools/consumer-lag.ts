import { z } from "zod";
import { GROUP_STATUSES, judgedTimeLag, reasonText, TRENDS, windowSpanMs } from "../kafscale/lag-status.js";
import {
  compareGroups,
  matchesFilter,
  type GroupLag,
  type LagFilter,
  type LagSort,
  type Store,
} from "../store/index.js";
import { ToolError, unknownGroup, unknownTopics } from "./errors.js";
import { inProse } from "./json-schema.js";
import { isoOf, partitionStatusSchema } from "./lag-fields.js";
import { lagPage, queryTag, type GroupSource } from "./lag-paging.js";
import { cursorSchema, limitSchema, pagingOutput } from "./paging.js";
import { groupId, topicName } from "./schemas.js";
import { CuttableAnswer, defineTool } from "./tool.js";

/** 20 groups with their worst partitions are ~40 KB over MCP: a page fits the default result budget uncut. */
const DEFAULT_LIMIT = 20;

const statusCounts = z.object({
  total: z.number(),
  OK: z.number(),
  WARN: z.number(),
  STALL: z.number(),
  STOP: z.number(),
  REWIND: z.number(),
  UNKNOWN: z.number(),
});

const groupLag = z.object({
  group_id: z.string(),
  status: z.enum(GROUP_STATUSES).describe("ERR: a partition STALL, STOP or REWIND; WARN: a partition's lag grows"),
  total_lag: z.number(),
  max_lag: z.object({ topic: z.string(), partition: z.number(), lag: z.number() }).nullable(),
  time_lag_seconds: z.number().nullable().describe("the oldest unconsumed message's age; 0 caught up; null unknown"),
  trend: z.enum(TRENDS),
  velocity: z
    .object({ consumed_per_second: z.number(), produced_per_second: z.number() })
    .nullable()
    .describe("offsets/s over the window; null until two sample intervals of history"),
  time_to_catch_up_seconds: z.number().nullable().describe("when shrinking"),
  partitions: statusCounts,
  worst_partitions: z.array(
    z.object({
      topic: z.string(),
      partition: z.number(),
      status: partitionStatusSchema,
      lag: z.number().nullable(),
      time_lag_seconds: z.number().nullable(),
      reason: z.string(),
    }),
  ),
  window: z.object({
    from: z.string().nullable(),
    to: z.string(),
    points: z.number(),
    complete: z.boolean(),
  }),
});

/** The groups as tools/list shows them: one line naming the fields (docs/LAG.md has the rules). */
const GROUPS_IN_PROSE =
  "most urgent first: group_id, status (ERR: a partition STALL, STOP or REWIND; WARN: lag grows), total_lag, " +
  "max_lag {topic, partition, lag}, time_lag_seconds (oldest unconsumed message's age; 0 caught up; null unknown), " +
  "trend, velocity {consumed_per_second, produced_per_second} (null until 2 intervals), time_to_catch_up_seconds, " +
  "partitions {total, OK, WARN, STALL, STOP, REWIND, UNKNOWN}, worst_partitions [{topic, partition, status, lag, " +
  "time_lag_seconds, reason}], window {from, to, points, complete}";

type GroupLagOutput = z.infer<typeof groupLag>;

const round2 = (n: number): number => Math.round(n * 100) / 100;

/** One group as the tool (and REST /api/v1/lag) answers it, with time lags as of `now`. */
function toOutput(g: GroupLag, now: number, spanMs: number, intervalMs: number): GroupLagOutput {
  return {
    group_id: g.groupId,
    status: g.status,
    total_lag: g.totalLag,
    max_lag: g.maxLag,
    time_lag_seconds: judgedTimeLag(g.status, g.totalLag, g.behindSince, now),
    trend: g.trend,
    velocity:
      g.consumedRate === null || g.producedRate === null
        ? null
        : { consumed_per_second: round2(g.consumedRate), produced_per_second: round2(g.producedRate) },
    time_to_catch_up_seconds: g.catchUpSeconds === null ? null : Math.round(g.catchUpSeconds),
    partitions: { total: g.partitions, ...g.counts },
    worst_partitions: g.worst.map((p) => ({
      topic: p.topic,
      partition: p.partition,
      status: p.status,
      lag: p.lag,
      time_lag_seconds: judgedTimeLag(p.status, p.lag, p.behindSince, now),
      reason: reasonText(p),
    })),
    window: {
      from: g.windowFrom === null ? null : isoOf(g.windowFrom),
      to: isoOf(g.evaluatedAt),
      points: g.points,
      // W points at least an interval apart span (W − 1) intervals: a full series reaches back that far.
      complete: g.historyStart !== null && g.historyStart <= now - spanMs + intervalMs,
    },
  };
}

/** The groups of a query: straight from lag_group_status, or summed over one topic's partitions. */
function sourceOf(store: Store, filter: LagFilter, sort: LagSort, topic: string | undefined, evaluatedAt: number): GroupSource {
  const { reads } = store.lag;
  if (topic === undefined) {
    return {
      sorted: (limit) => reads.sortedGroups(filter, sort, limit),
      after: (after, limit) => reads.groupsAfter(filter, after, limit),
    };
  }
  const groups = reads.topicGroups(topic, evaluatedAt).filter((g) => matchesFilter(g, filter));
  if (groups.length === 0 && filter.group === undefined && store.reads.knownTopics([topic]).length === 0) {
    throw unknownTopics([topic]);
  }
  return {
    sorted: (limit) => [...groups].sort(compareGroups(sort)).slice(0, limit),
    after: (after, limit) => groups.filter((g) => after === null || g.groupId > after).slice(0, limit),
  };
}

export const consumerLag = defineTool({
  name: "consumer_lag",
  title: "Consumer lag status",
  description:
    "Groups needing attention first: status (ERR: stuck, stopped or rewound; WARN: lag growing), lag, time lag, " +
    "trend, worst partitions. Use to find lagging consumers; precomputed, cheap. Page 1 in sort order, then group_id.",
  scope: "observe",
  needsSnapshot: true,
  input: {
    group: groupId.optional().describe("Only this group"),
    topic: topicName.optional().describe("Only groups on this topic, summed over it"),
    status: z.enum(GROUP_STATUSES).optional().describe("Only this status"),
    min_lag: z.number().int().min(0).optional().describe("Only groups this far behind"),
    sort: z
      .enum(["lag", "time_lag", "trend"])
      .optional()
      .describe("First page order (default: ERR, WARN, UNKNOWN, OK, then lag)"),
    limit: limitSchema(DEFAULT_LIMIT, 100),
    cursor: cursorSchema,
  },
  output: {
    groups: inProse(z.array(groupLag), GROUPS_IN_PROSE),
    evaluated_at: z.string().describe("statuses judged up to this moment"),
    evaluated_revision: z.number(),
    window_seconds: z.number(),
    ...pagingOutput,
  },
  handler: (ctx, args) => {
    const { lag } = ctx.store;
    const now = ctx.now();
    const spanMs = windowSpanMs(lag.settings);
    return lag.reads.consistent(() => {
      const evaluation = lag.reads.evaluation();
      if (evaluation.evaluatedAt === null || evaluation.revision === null) {
        throw new ToolError("lag not evaluated yet: the first evaluation is running", "retry in a few seconds", 503);
      }
      if (args.group !== undefined && !ctx.store.reads.groupExists(args.group)) throw unknownGroup(args.group);
      const filter: LagFilter = { group: args.group, status: args.status, minLag: args.min_lag };
      const sort: LagSort = args.sort ?? "attention";
      const source = sourceOf(ctx.store, filter, sort, args.topic, evaluation.evaluatedAt);
      const query = queryTag([sort, args.topic ?? null, args.group ?? null, args.status ?? null, args.min_lag ?? 0]);
      const page = lagPage(source, args.cursor, args.limit ?? DEFAULT_LIMIT, query);
      const data = {
        groups: page.groups.map((g) => toOutput(g, now, spanMs, lag.settings.intervalMs)),
        evaluated_at: isoOf(evaluation.evaluatedAt),
        evaluated_revision: evaluation.revision,
        window_seconds: spanMs / 1000,
        ...page.fields,
      };
      return new CuttableAnswer(data, page.cut);
    });
  },
});
