/**
 * A group's total lag over the kept window, for charts (/api/v1/groups/{group}/history and /ui): the
 * commit points of the group and the end-offset points of its partitions (the compact series of
 * migration 8, decoded here), merged in time order. At every moment a point was kept, each partition counts as of that moment (its latest
 * end offset minus its latest commit, never below 0), so the chart steps exactly where the history
 * does. A partition counts only once it has both an end-offset and a commit point in the window:
 * lag it cannot know is left out, never drawn as 0. A
 * series that does not decode is left out too (the writer and the evaluator record it).
 */
import type { Db } from "./database.js";
import { readSeries } from "./lag-history.js";

/** One moment of the chart. */
export interface LagPoint {
  /** Unix ms. */
  at: number;
  /** Total lag of the partitions known at that moment. */
  lag: number;
  /** Partitions known at that moment (both an end offset and a commit in the window). */
  partitions: number;
}

export interface LagChartReads {
  /** The group's lag at each kept moment, oldest first; at most `maxPoints` (evenly thinned, the last kept). */
  groupHistory(groupId: string, maxPoints: number): LagPoint[];
}

interface EventRow {
  topic: string;
  partition: number;
  at: number;
  value: number;
  /** 1: a commit point; 0: an end-offset point. */
  is_commit: number;
}

interface SeriesRow {
  topic: string;
  partition: number;
  points: Buffer;
  is_commit: number;
}

export function createLagChartReads(db: Db): LagChartReads {
  const series = db.prepare<[string, string], SeriesRow>(`
    SELECT topic, partition, points, 1 AS is_commit FROM lag_commit_series WHERE group_id = ?
    UNION ALL
    SELECT e.topic, e.partition, e.points, 0 AS is_commit
    FROM lag_end_offset_series e
    WHERE (e.topic, e.partition) IN (SELECT topic, partition FROM lag_commit_series WHERE group_id = ?)`);
  const skipCorrupt = (): void => undefined;
  /** One ordered stream of both kinds of point; end offsets before commits at the same moment (the
   * order does not change the sum at that moment, it only has to be fixed). */
  const events = (groupId: string): EventRow[] => {
    const rows: EventRow[] = [];
    for (const s of series.all(groupId, groupId)) {
      for (const p of readSeries(s.points, skipCorrupt)) {
        rows.push({ topic: s.topic, partition: s.partition, at: p.at, value: p.value, is_commit: s.is_commit });
      }
    }
    return rows.sort((a, b) => a.at - b.at || a.is_commit - b.is_commit);
  };

  return {
    groupHistory(groupId, maxPoints) {
      const ends = new Map<string, number>();
      const commits = new Map<string, number>();
      const contributions = new Map<string, number>();
      let total = 0;
      const points: LagPoint[] = [];
      const emit = (at: number): void => {
        const last = points[points.length - 1];
        const point = { at, lag: total, partitions: contributions.size };
        if (last !== undefined && last.at === at) points[points.length - 1] = point;
        else points.push(point);
      };
      for (const row of events(groupId)) {
        const key = `${row.partition}\u0000${row.topic}`;
        (row.is_commit === 1 ? commits : ends).set(key, row.value);
        const end = ends.get(key);
        const committed = commits.get(key);
        if (end !== undefined && committed !== undefined) {
          const lag = Math.max(0, end - committed);
          total += lag - (contributions.get(key) ?? 0);
          contributions.set(key, lag);
          emit(row.at);
        }
      }
      return thin(points, maxPoints);
    },
  };
}

/** At most `max` points, evenly spread, always keeping the newest. */
function thin(points: LagPoint[], max: number): LagPoint[] {
  if (points.length <= max) return points;
  const step = points.length / max;
  const kept: LagPoint[] = [];
  for (let i = 1; i <= max; i++) kept.push(points[Math.ceil(i * step) - 1] as LagPoint);
  return kept;
}
