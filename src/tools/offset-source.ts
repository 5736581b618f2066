/**
 * Where one fetch_offsets call reads a group's partitions from. Every call needs the group's lag
 * over all its partitions (total_lag, summary) and one page of them (the most-lagging first, then by
 * topic and partition). A group of up to IN_MEMORY_PARTITIONS partitions is read once and worked on
 * in memory: one pass over its rows costs about what the two SQL passes cost in row setup alone. A
 * larger group is aggregated in SQL and only the page's rows are read, so its cost does not grow
 * with rows an answer does not hold.
 *
 * Both give the same answers: lag is computed by SQL in both (store/reads.ts), and the orders are
 * the same — topic names are ASCII in Kafka and Kafscale, where JavaScript's string order and
 * SQLite's binary collation agree.
 */
import type { OffsetRow, Page, Reads, TopicLag } from "../store/index.js";

/** Groups up to this size are read whole. */
export const IN_MEMORY_PARTITIONS = 2_000;

export interface OffsetSource {
  /** Partitions the call covers. */
  total: number;
  /** Lag per topic over every partition, most lag first (ties by topic). */
  lags(): TopicLag[];
  /** The `limit` most-lagging partitions (lag > 0), most first; ties by topic, then partition. */
  mostLagging(limit: number): OffsetRow[];
  /** Up to `limit` partitions after `after` in (topic, partition) order, leaving out `exclude`. */
  after(after: [string, number] | null, limit: number, exclude: readonly OffsetRow[]): Page<OffsetRow, [string, number]>;
}

const byTopic = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byKey = (a: OffsetRow, b: OffsetRow): number => byTopic(a.topic, b.topic) || a.partition - b.partition;
const keyOf = (r: { topic: string; partition: number }): string => `${r.topic}/${r.partition}`;

/** Picks the source for a call on `groupId` over `topics` (null: the group's topics). */
export function offsetSource(
  reads: Reads,
  groupId: string,
  topics: string[] | null,
  inMemoryUpTo = IN_MEMORY_PARTITIONS,
): OffsetSource {
  const total = reads.groupPartitionCount(groupId, topics);
  return total <= inMemoryUpTo ? inMemory(reads.groupOffsets(groupId, topics)) : inSql(reads, groupId, topics, total);
}

function inSql(reads: Reads, groupId: string, topics: string[] | null, total: number): OffsetSource {
  return {
    total,
    lags: () => reads.groupLag(groupId, topics),
    mostLagging: (limit) => reads.mostLagging(groupId, topics, limit),
    after: (after, limit, exclude) => reads.fetchOffsets(groupId, topics, after, limit, exclude),
  };
}

/** `rows`: every partition, by topic and partition (as groupOffsets reads them). */
function inMemory(rows: OffsetRow[]): OffsetSource {
  return {
    total: rows.length,
    lags: () => {
      const lags = new Map<string, TopicLag>();
      for (const r of rows) {
        const t = lags.get(r.topic) ?? { topic: r.topic, partitions: 0, committed: 0, total_lag: 0, max_lag: null, max_lag_partition: null };
        lags.set(r.topic, t);
        t.partitions++;
        if (r.lag === null) continue;
        t.committed++;
        t.total_lag += r.lag;
        if (t.max_lag === null || r.lag > t.max_lag) [t.max_lag, t.max_lag_partition] = [r.lag, r.partition];
      }
      return [...lags.values()].sort((a, b) => b.total_lag - a.total_lag || byTopic(a.topic, b.topic));
    },
    mostLagging: (limit) =>
      rows
        .filter((r) => (r.lag ?? 0) > 0)
        .sort((a, b) => (b.lag ?? 0) - (a.lag ?? 0) || byKey(a, b))
        .slice(0, limit),
    after: (after, limit, exclude) => {
      const left = new Set(exclude.map(keyOf));
      const start = after === null ? 0 : rows.findIndex((r) => byKey(r, { topic: after[0], partition: after[1] } as OffsetRow) > 0);
      const items: OffsetRow[] = [];
      for (let i = start < 0 ? rows.length : start; i < rows.length && items.length <= limit; i++) {
        const r = rows[i] as OffsetRow;
        if (!left.has(keyOf(r))) items.push(r);
      }
      if (items.length <= limit) return { items, next: null };
      const page = items.slice(0, limit);
      const last = page[page.length - 1] as OffsetRow;
      return { items: page, next: [last.topic, last.partition] };
    },
  };
}
