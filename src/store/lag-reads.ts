/**
 * Reads of the lag evaluator's verdicts (lag_group_status, lag_partition_status) for consumer_lag,
 * fetch_offsets, describe_group and REST. Group rows answer the common call (all groups, some
 * filters) from one small table; a topic filter sums that topic's partition rows per group with the
 * same rules as the evaluator (src/kafscale/lag-status.ts summarizeGroup).
 */
import type { Db } from "./database.js";
import { countsOf, JUDGED_COLUMNS, judgedOf, worstFromJson, type JudgedRow, type StatusCountColumns } from "./lag-rows.js";
import {
  summarizeGroup,
  TREND_ORDER,
  GROUP_SEVERITY,
  type GroupStatus,
  type GroupVerdict,
  type JudgedPartition,
  type LagSettings,
  type PartitionStatus,
  type Trend,
} from "../kafscale/lag-status.js";

/** How far the evaluator has got. */
export interface LagEvaluationState {
  /** Every change up to `revision` and every time rule due by this moment is judged (Unix ms); null before the first evaluation. */
  evaluatedAt: number | null;
  revision: number | null;
}

/** One group's lag as judged (over all its partitions, or one topic's). */
export interface GroupLag extends GroupVerdict {
  groupId: string;
  /** When this group's sums were last computed (Unix ms). */
  evaluatedAt: number;
}

/** The orders consumer_lag offers; "attention" (the default) puts ERR, then WARN, first. */
export type LagSort = "attention" | "lag" | "time_lag" | "trend";

export interface LagFilter {
  group?: string;
  status?: GroupStatus;
  minLag?: number;
}

/** A partition's verdict, for the per-partition fields of fetch_offsets and describe_group. */
export interface PartitionLagStatus {
  topic: string;
  partition: number;
  status: PartitionStatus;
  lag: number | null;
  behindSince: number | null;
}

export interface LagReads {
  /** Runs `fn` in one read transaction, so its reads see one state of the verdicts. */
  consistent<T>(fn: () => T): T;
  evaluation(): LagEvaluationState;
  /** The first `limit` groups matching `filter` in the order `sort`. */
  sortedGroups(filter: LagFilter, sort: LagSort, limit: number): GroupLag[];
  /** Groups matching `filter` after `after` in group_id order, at most `limit`. */
  groupsAfter(filter: LagFilter, after: string | null, limit: number): GroupLag[];
  /** Every group with partitions on `topic`, summed over that topic's partitions only, in group_id order. */
  topicGroups(topic: string, evaluatedAt: number): GroupLag[];
  /**
   * The group's partition verdicts: all of them, or (`only`) those of the given partitions, which a
   * page of fetch_offsets names: a seek each instead of every verdict of a 1,000-partition group.
   */
  partitionStatuses(groupId: string, only?: readonly { topic: string; partition: number }[]): PartitionLagStatus[];
}

interface VerdictRow {
  topic: string;
  partition: number;
  status: PartitionStatus;
  lag: number | null;
  behind_since: number | null;
}

interface GroupRow extends StatusCountColumns {
  group_id: string;
  status: GroupStatus;
  partitions: number;
  total_lag: number;
  max_lag: number | null;
  max_lag_topic: string | null;
  max_lag_partition: number | null;
  behind_since: number | null;
  trend: Trend;
  consumed_rate: number | null;
  produced_rate: number | null;
  catch_up_seconds: number | null;
  window_from: number | null;
  history_start: number | null;
  points: number;
  worst: string;
  evaluated_at: number;
}

/**
 * Each order once, as SQL (over lag_group_status) and as a comparison (over topic sums): the two
 * must agree, so they sit side by side.
 */
const ORDERS: Record<LagSort, { sql: string; compare(a: GroupLag, b: GroupLag): number }> = {
  attention: {
    sql: "severity DESC, total_lag DESC, group_id",
    compare: (a, b) => GROUP_SEVERITY[b.status] - GROUP_SEVERITY[a.status] || b.totalLag - a.totalLag || byId(a, b),
  },
  lag: { sql: "total_lag DESC, group_id", compare: (a, b) => b.totalLag - a.totalLag || byId(a, b) },
  time_lag: {
    sql: "behind_since IS NULL, behind_since, group_id",
    compare: (a, b) => nullsLast(a.behindSince, b.behindSince, (x, y) => x - y) || byId(a, b),
  },
  trend: {
    // Exactly the expressions of the index lag_group_status_trend (migration 6); DESC puts NULLs last.
    sql: `CASE trend WHEN 'growing' THEN ${TREND_ORDER.growing} WHEN 'steady' THEN ${TREND_ORDER.steady} WHEN 'shrinking' THEN ${TREND_ORDER.shrinking} ELSE ${TREND_ORDER.unknown} END DESC, produced_rate - consumed_rate DESC, group_id`,
    compare: (a, b) =>
      TREND_ORDER[b.trend] - TREND_ORDER[a.trend] ||
      nullsLast(netRate(a), netRate(b), (x, y) => y - x) ||
      byId(a, b),
  },
};

function byId(a: GroupLag, b: GroupLag): number {
  return a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0;
}

function nullsLast(a: number | null, b: number | null, compare: (x: number, y: number) => number): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  return compare(a, b);
}

function netRate(g: GroupLag): number | null {
  return g.producedRate === null || g.consumedRate === null ? null : g.producedRate - g.consumedRate;
}

const fromRow = (r: GroupRow): GroupLag => ({
  groupId: r.group_id,
  status: r.status,
  partitions: r.partitions,
  counts: countsOf(r),
  totalLag: r.total_lag,
  maxLag:
    r.max_lag === null || r.max_lag_topic === null || r.max_lag_partition === null
      ? null
      : { topic: r.max_lag_topic, partition: r.max_lag_partition, lag: r.max_lag },
  behindSince: r.behind_since,
  trend: r.trend,
  consumedRate: r.consumed_rate,
  producedRate: r.produced_rate,
  catchUpSeconds: r.catch_up_seconds,
  windowFrom: r.window_from,
  historyStart: r.history_start,
  points: r.points,
  worst: worstFromJson(r.worst),
  evaluatedAt: r.evaluated_at,
});

const FILTER = `(@group IS NULL OR group_id = @group) AND (@status IS NULL OR status = @status) AND total_lag >= @minLag`;

/**
 * The verdicts of listed partitions (@only: a JSON array of [topic, partition]): one primary-key seek
 * each, in the list's order (CROSS JOIN keeps json_each outside). Exported for the test that holds
 * SQLite to the seek.
 */
export const LISTED_PARTITIONS_SQL = `SELECT s.topic, s.partition, s.status, s.lag, s.behind_since
  FROM json_each(@only) j CROSS JOIN lag_partition_status s
  WHERE s.group_id = @group AND s.topic = j.value ->> 0 AND s.partition = j.value ->> 1`;

/**
 * One named group (describe_group's summary, consumer_lag's `group`): a primary-key seek. Under
 * FILTER's `@group IS NULL OR group_id = @group` SQLite walks the order's index and tests every
 * group instead (2,000 at size L: a sixth of the service's time under back-to-back describe_group
 * calls, docs/BENCHMARKS.md). Exported for the test that holds SQLite to the seek.
 */
export const NAMED_GROUP_SQL =
  "SELECT * FROM lag_group_status WHERE group_id = @group AND (@after IS NULL OR group_id > @after) AND (@status IS NULL OR status = @status) AND total_lag >= @minLag";

/** Prepares the lag reads once over an open database. */
export function createLagReads(db: Db, settings: LagSettings): LagReads {
  const sorted = Object.fromEntries(
    Object.entries(ORDERS).map(([sort, order]) => [
      sort,
      db.prepare<[Record<string, unknown>], GroupRow>(
        `SELECT * FROM lag_group_status WHERE ${FILTER} ORDER BY ${order.sql} LIMIT @limit`,
      ),
    ]),
  ) as Record<LagSort, ReturnType<typeof db.prepare<[Record<string, unknown>], GroupRow>>>;
  const s = {
    evaluation: db.prepare<[], { evaluated_at: number | null; revision: number | null }>(
      "SELECT evaluated_at, revision FROM lag_evaluation WHERE id = 1",
    ),
    named: db.prepare<[Record<string, unknown>], GroupRow>(NAMED_GROUP_SQL),
    after: db.prepare<[Record<string, unknown>], GroupRow>(
      `SELECT * FROM lag_group_status WHERE group_id > @after AND ${FILTER} ORDER BY group_id LIMIT @limit`,
    ),
    // One primary-key seek per judged group (2,000 at size L) rather than an index on topic,
    // which would cost about 5% of the database.
    topic: db.prepare<[string], JudgedRow & { group_id: string }>(
      `SELECT s.group_id, ${JUDGED_COLUMNS.replace(/(\w+)/g, "s.$1")}
       FROM lag_group_status g CROSS JOIN lag_partition_status s ON s.group_id = g.group_id AND s.topic = ?
       ORDER BY s.group_id, s.partition`,
    ),
    partitions: db.prepare<[string], VerdictRow>(
      "SELECT topic, partition, status, lag, behind_since FROM lag_partition_status WHERE group_id = ?",
    ),
    listedPartitions: db.prepare<[{ group: string; only: string }], VerdictRow>(LISTED_PARTITIONS_SQL),
  };
  const params = (filter: LagFilter): Record<string, unknown> => ({
    group: filter.group ?? null,
    status: filter.status ?? null,
    minLag: filter.minLag ?? 0,
  });
  /** The named group's row when it passes the filter and sorts after `after` (at most one row, so any order; LIMIT 0 as in SQL). */
  const named = (filter: LagFilter, after: string | null, limit: number): GroupRow[] =>
    limit === 0 ? [] : s.named.all({ ...params(filter), after });

  return {
    consistent: (fn) => db.transaction(fn)(),
    evaluation: () => {
      const row = s.evaluation.get();
      return { evaluatedAt: row?.evaluated_at ?? null, revision: row?.revision ?? null };
    },
    sortedGroups: (filter, sort, limit) =>
      (filter.group !== undefined ? named(filter, null, limit) : sorted[sort].all({ ...params(filter), limit })).map(fromRow),
    groupsAfter: (filter, after, limit) =>
      (filter.group !== undefined ? named(filter, after ?? "", limit) : s.after.all({ ...params(filter), after: after ?? "", limit })).map(
        fromRow,
      ),
    topicGroups: (topic, evaluatedAt) => {
      const byGroup = new Map<string, JudgedPartition[]>();
      for (const r of s.topic.all(topic)) {
        let list = byGroup.get(r.group_id);
        if (list === undefined) byGroup.set(r.group_id, (list = []));
        list.push(judgedOf(r));
      }
      return [...byGroup].map(([groupId, partitions]) => ({
        groupId,
        evaluatedAt,
        ...summarizeGroup(partitions, settings, evaluatedAt),
      }));
    },
    partitionStatuses: (groupId, only) =>
      (only === undefined
        ? s.partitions.all(groupId)
        : s.listedPartitions.all({ group: groupId, only: JSON.stringify(only.map((p) => [p.topic, p.partition])) })
      ).map((r) => ({
        topic: r.topic,
        partition: r.partition,
        status: r.status,
        lag: r.lag,
        behindSince: r.behind_since,
      })),
  };
}

/** The comparison behind `sort` (for lists the store does not sort, e.g. topic sums). */
export function compareGroups(sort: LagSort): (a: GroupLag, b: GroupLag) => number {
  return ORDERS[sort].compare;
}

/** Whether a group passes the filter (for lists the store does not filter). */
export function matchesFilter(g: GroupLag, filter: LagFilter): boolean {
  return (
    (filter.group === undefined || g.groupId === filter.group) &&
    (filter.status === undefined || g.status === filter.status) &&
    g.totalLag >= (filter.minLag ?? 0)
  );
}
