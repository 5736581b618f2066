/**
 * What one lag evaluation judges (src/store/lag-evaluator.ts): the noted changes
 * (src/store/lag-history.ts) and the time rules that fell due, turned into work per group.
 *
 * Planned a bounded step at a time: at size L under 2,000 writes/s an evaluation starts from 10k+
 * noted changes, and planning them in one go held the event loop for 100–200 ms (the longest
 * stalls of a profiled run, docs/BENCHMARKS.md). Reads only: changes noted between its steps go to
 * the next run.
 */
import type { Db } from "./database.js";
import type { LagChanges } from "./lag-history.js";

/** One unit of work: a whole group (its partition set may have changed), or some of its partitions. */
export interface Work {
  group: string;
  /** JSON [topic, partition] keys (seriesKey); null: the whole group. */
  partitions: Set<string> | null;
}

/** A partition's key in the evaluator's sets and maps. */
export const seriesKey = (topic: string, partition: number): string => JSON.stringify([topic, partition]);

interface DueRow {
  group_id: string;
  topic: string;
  partition: number;
}

export interface LagPlan {
  /** Plans until `deadline` (performance.now()); the work once all is planned, else null. */
  step(deadline: number): Work[] | null;
}

/** Prepares the planner's statements once; each call plans one evaluation's work. */
export function createLagPlanner(db: Db): (now: number, changes: LagChanges) => LagPlan {
  const s = {
    hasStatus: db.prepare<[string, string, number], { one: number }>(
      "SELECT 1 AS one FROM lag_partition_status WHERE group_id = ? AND topic = ? AND partition = ?",
    ),
    groupsOn: db.prepare<[string, number], { group_id: string }>(
      "SELECT group_id FROM committed_offsets WHERE topic = ? AND partition = ?",
    ),
    due: db.prepare<[number], DueRow>("SELECT group_id, topic, partition FROM lag_partition_status WHERE recheck_at <= ?"),
  };

  return (now, changes) => {
    const whole = new Set(changes.groups);
    const some = new Map<string, Set<string>>();
    const add = (group: string, topic: string, partition: number): void => {
      if (whole.has(group)) return;
      // A partition without a verdict yet is new to the group's set: judge the group.
      if (s.hasStatus.get(group, topic, partition) === undefined) {
        whole.add(group);
        some.delete(group);
        return;
      }
      let keys = some.get(group);
      if (keys === undefined) some.set(group, (keys = new Set()));
      keys.add(seriesKey(topic, partition));
    };
    const commits = [...changes.commits];
    const ends = [...changes.ends];
    let due: DueRow[] | null = null;
    let c = 0;
    let e = 0;
    let d = 0;
    return {
      step: (deadline) => {
        for (; c < commits.length; c++) {
          if (performance.now() >= deadline) return null;
          const [group, topic, partition] = JSON.parse(commits[c] as string) as [string, string, number];
          add(group, topic, partition);
        }
        for (; e < ends.length; e++) {
          if (performance.now() >= deadline) return null;
          const [topic, partition] = JSON.parse(ends[e] as string) as [string, number];
          for (const { group_id } of s.groupsOn.all(topic, partition)) add(group_id, topic, partition);
        }
        due ??= s.due.all(now);
        for (; d < due.length; d++) {
          if (performance.now() >= deadline) return null;
          const row = due[d] as DueRow;
          add(row.group_id, row.topic, row.partition);
        }
        // In group order: the verdicts, group sums and topic sums are keyed by group first, so
        // consecutive groups share pages and a slice dirties (and writes to the WAL) each page once
        // instead of every slice dirtying pages all over the tables.
        const work: Work[] = [
          ...[...whole].map((group): Work => ({ group, partitions: null })),
          ...[...some]
            .filter(([group]) => !whole.has(group))
            .map(([group, partitions]): Work => ({ group, partitions: new Set([...partitions].sort()) })),
        ];
        return work.sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
      },
    };
  };
}
