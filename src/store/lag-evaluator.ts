/**
 * The lag evaluator: judges partitions with the rules of src/kafscale/lag-status.ts and keeps the
 * verdicts in lag_partition_status, the group sums in lag_group_status and the per-topic sums in
 * lag_topic_status, so consumer_lag and /metrics/lag answer from small tables instead of judging (or
 * summing) 200k partitions per call.
 *
 * It judges only what can have changed: partitions whose commit or end offset was written (noted by
 * src/store/lag-history.ts), groups whose partition set may have changed, and partitions whose time
 * rules fell due (recheck_at), planned by src/store/lag-planner.ts. After a start, a snapshot change
 * or more changes than it tracks, it judges everything. Work (planning included) runs in short write
 * transactions that yield to the event loop between them, paced while other work waits, so tool
 * calls and the watch keep flowing while a large cluster is judged.
 */
import type { Db } from "./database.js";
import { committedAtMs, lagHistoryErrorRecorder, readSeries, type LagHistory } from "./lag-history.js";
import { createStoredGroupSums } from "./lag-group-sums.js";
import { createLagPlanner, seriesKey, type Work } from "./lag-planner.js";
import { worstToJson } from "./lag-rows.js";
import {
  evaluatePartition,
  GROUP_SEVERITY,
  groupVerdictOf,
  summarizeGroup,
  type GroupVerdict,
  type JudgedPartition,
  type LagSettings,
  type PartitionVerdict,
} from "../kafscale/lag-status.js";
import type { SeriesPoint } from "../kafscale/lag-series.js";

/** What one evaluation did. */
export interface EvaluationRun {
  /** True when everything was judged (after a start, a snapshot change, or too many changes). */
  full: boolean;
  groups: number;
  partitions: number;
  /** The moment judged (the evaluator's clock when the run began). */
  evaluatedAt: number;
  /** The etcd revision the verdicts now reflect. */
  revision: number;
}

export interface LagEvaluator {
  /** Judges what is due, in slices that yield to the event loop; one run at a time (a second call waits for the first). */
  run(): Promise<EvaluationRun>;
  /** The same in one synchronous go (the snapshot command; never while run() is in progress). */
  runNow(): EvaluationRun;
  /** Runs every `everyMs` until stop(); failures go to `onError` and mark everything for the next run. */
  start(everyMs: number, onError: (err: unknown) => void): void;
  /**
   * Before each slice of run(), waits while `busy()` says answers are being worked on (requests in
   * flight), for at most FOREGROUND_WAITS turns of a 1 ms timer in a row. Default: never busy.
   */
  yieldTo(busy: () => boolean): void;
  stop(): Promise<void>;
}

/**
 * Time one write transaction of the evaluator may take before it yields (one topic of a group is never
 * split). Every slice is a wait for the tool calls and watch batches queued behind it: 8 ms slices
 * (13.8 ms at the 90th percentile on a loaded two-core machine) were a large part of the tail of
 * put-to-visible at size L (docs/BENCHMARKS.md, 2026-11-27).
 */
const SLICE_MS = 4;
/**
 * While others want the thread, they get this many times as long as a slice took before the next one:
 * the evaluation takes about a quarter of a busy event loop at most (at 2,000 writes/s at size L it
 * needs about a sixth), so a run takes longer under load instead of delaying answers.
 */
const OTHERS_SHARE = 3;
/**
 * Time the event loop spent on other work in the turn the evaluator yielded that makes it pace:
 * a watch batch or a tool call under load takes about this long; an idle turn takes microseconds.
 */
const OTHERS_WAITING_MS = 1;
/**
 * How many 1 ms turns in a row a slice waits for requests in flight to finish. An answer can take
 * several turns of the event loop (the body, the SDK's transport, the tool, writing it out), and a
 * slice taken between two of them delays it by the whole slice; but under a constant stream of
 * requests the evaluation must still go on, so the wait is bounded (then the pacing shares the thread).
 */
const FOREGROUND_WAITS = 20;
/** How often the timer looks whether the first full sync is done. */
const WAIT_FOR_LOAD_MS = 200;
/** Groups read per page in a full pass. */
const GROUP_PAGE = 200;

interface FactsRow {
  topic: string;
  partition: number;
  in_snapshot: number;
  committed_offset: number | null;
  committed_at: string | null;
  next_offset: number | null;
  /** The stored verdict's recheck_at (null: none, or no verdict yet). */
  stored_recheck: number | null;
}

/** A stored history series (src/store/lag-history-codec.ts). */
interface SeriesRow {
  topic: string;
  partition: number;
  points: Buffer;
}


/** Every column of a verdict; the update names all but recheck_at (callers add it when it changes). */
const putPartitionSql = `INSERT INTO lag_partition_status (group_id, topic, partition, status, lag, behind_since,
    consumed_rate, produced_rate, since, detail, recheck_at, history_start, points)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (group_id, topic, partition) DO UPDATE SET status = excluded.status, lag = excluded.lag,
    behind_since = excluded.behind_since, consumed_rate = excluded.consumed_rate,
    produced_rate = excluded.produced_rate, since = excluded.since, detail = excluded.detail,
    history_start = excluded.history_start, points = excluded.points`;

/**
 * Whether a new verdict's recheck time is stored, or the stored one kept. A recheck only has to come
 * no later than the time rules need it: a stored one still ahead and no later than the new one is
 * kept (the partition is then judged once more than needed, at that time, and gets the new one).
 * An active partition's recheck moves forward at every judgement (a span after its last change), and
 * its index entries lie all over the recheck index: rewriting them was a WAL page a change.
 */
export function recheckToStore(stored: number | null, next: number | null, now: number): "keep" | "write" {
  if (stored === null || stored <= now) return "write";
  return next !== null && next < stored ? "write" : "keep";
}

/**
 * How much longer the evaluator waits after a slice of `sliceMs`, given the time the event loop
 * spent on other work in the one turn it yielded: while others want the thread, until they had
 * OTHERS_SHARE times as long as the slice took (counted as at most SLICE_MS); else not at all.
 */
export function pauseAfterSlice(sliceMs: number, othersMs: number): number {
  return othersMs >= OTHERS_WAITING_MS ? Math.max(0, OTHERS_SHARE * Math.min(SLICE_MS, sliceMs) - othersMs) : 0;
}

/** Prepares the evaluator's statements once over an open database. */
/**
 * `beforeWrite` runs before each write transaction and may refuse it by throwing (the store's write
 * gate: no evaluation joins a long write on the same connection, or writes a read-only file); the
 * run then fails like any other (everything is judged again next time).
 */
export function createLagEvaluator(
  db: Db,
  history: LagHistory,
  settings: LagSettings,
  clock: () => number,
  beforeWrite: () => void = () => undefined,
): LagEvaluator {
  // The group's partitions, as fetch_offsets lists them: the snapshot's partitions of every topic it
  // committed on or is assigned, then its commits on partitions the snapshot does not list.
  const groupTopics = `selected(topic) AS (
      SELECT topic FROM committed_offsets WHERE group_id = @group
      UNION SELECT topic FROM member_assignments WHERE group_id = @group)`;
  const s = {
    revision: db.prepare<[], { revision: number; initial_sync_done: number }>(
      "SELECT revision, initial_sync_done FROM sync_state WHERE id = 1",
    ),
    groupTopics: db.prepare<[{ group: string }], { topic: string }>(`WITH ${groupTopics} SELECT topic FROM selected ORDER BY topic`),
    // One topic of the group: the snapshot's partitions, then the group's commits on partitions of
    // the topic that the snapshot does not list.
    topicFacts: db.prepare<[{ group: string; topic: string }], FactsRow>(
      `SELECT p.topic, p.partition, 1 AS in_snapshot, co.committed_offset, co.committed_at, eo.next_offset,
              ls.recheck_at AS stored_recheck
       FROM partitions p
       LEFT JOIN committed_offsets co ON co.group_id = @group AND co.topic = p.topic AND co.partition = p.partition
       LEFT JOIN end_offsets eo ON eo.topic = p.topic AND eo.partition = p.partition
       LEFT JOIN lag_partition_status ls ON ls.group_id = @group AND ls.topic = p.topic AND ls.partition = p.partition
       WHERE p.topic = @topic
       UNION ALL
       SELECT co.topic, co.partition, 0, co.committed_offset, co.committed_at, eo.next_offset, ls.recheck_at
       FROM committed_offsets co LEFT JOIN end_offsets eo ON eo.topic = co.topic AND eo.partition = co.partition
       LEFT JOIN lag_partition_status ls ON ls.group_id = co.group_id AND ls.topic = co.topic AND ls.partition = co.partition
       WHERE co.group_id = @group AND co.topic = @topic
         AND NOT EXISTS (SELECT 1 FROM partitions p WHERE p.topic = co.topic AND p.partition = co.partition)`,
    ),
    topicCommitPoints: db.prepare<[string, string], SeriesRow>(
      "SELECT topic, partition, points FROM lag_commit_series WHERE group_id = ? AND topic = ?",
    ),
    topicEndPoints: db.prepare<[string], SeriesRow>(
      "SELECT topic, partition, points FROM lag_end_offset_series WHERE topic = ?",
    ),
    statusKeys: db.prepare<[string], { topic: string; partition: number }>(
      "SELECT topic, partition FROM lag_partition_status WHERE group_id = ?",
    ),
    clearPartition: db.prepare("DELETE FROM lag_partition_status WHERE group_id = ? AND topic = ? AND partition = ?"),
    partitionFacts: db.prepare<[{ group: string; topic: string; partition: number }], FactsRow>(
      `SELECT @topic AS topic, @partition AS partition,
              EXISTS (SELECT 1 FROM partitions WHERE topic = @topic AND partition = @partition) AS in_snapshot,
              co.committed_offset, co.committed_at,
              (SELECT next_offset FROM end_offsets WHERE topic = @topic AND partition = @partition) AS next_offset,
              (SELECT recheck_at FROM lag_partition_status
               WHERE group_id = @group AND topic = @topic AND partition = @partition) AS stored_recheck
       FROM (SELECT 1) LEFT JOIN committed_offsets co
         ON co.group_id = @group AND co.topic = @topic AND co.partition = @partition`,
    ),
    commitPoints: db.prepare<[string, string, number], { points: Buffer }>(
      "SELECT points FROM lag_commit_series WHERE group_id = ? AND topic = ? AND partition = ?",
    ),
    endPoints: db.prepare<[string, number], { points: Buffer }>(
      "SELECT points FROM lag_end_offset_series WHERE topic = ? AND partition = ?",
    ),
    groupIds: db.prepare<[{ after: string; limit: number }], { group_id: string }>(
      `SELECT group_id FROM (
         SELECT group_id FROM consumer_groups WHERE group_id > @after
         UNION SELECT group_id FROM lag_group_status WHERE group_id > @after
         UNION SELECT * FROM (SELECT DISTINCT group_id FROM committed_offsets WHERE group_id > @after
                              ORDER BY group_id LIMIT @limit))
       ORDER BY group_id LIMIT @limit`,
    ),
    // Updated in place: a verdict that keeps its stored recheck_at leaves the recheck index alone.
    putPartition: db.prepare(`${putPartitionSql}, recheck_at = excluded.recheck_at`),
    putPartitionKeepingRecheck: db.prepare(putPartitionSql),
    putGroup: db.prepare(
      `INSERT OR REPLACE INTO lag_group_status (group_id, status, severity, partitions, ok, warn, stall, stop, rewind,
         unknown, total_lag, max_lag, max_lag_topic, max_lag_partition, behind_since, trend, consumed_rate,
         produced_rate, catch_up_seconds, window_from, history_start, points, worst, evaluated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    deleteGroup: db.prepare("DELETE FROM lag_group_status WHERE group_id = ?"),
    settingsUsed: db.prepare<[], { window_points: number | null }>("SELECT window_points FROM lag_evaluation WHERE id = 1"),
    finish: db.prepare(
      `UPDATE lag_evaluation SET evaluated_at = ?, revision = ?, sample_interval_ms = ?, window_points = ?
       WHERE id = 1`,
    ),
  };

  const stored = createStoredGroupSums(db);
  const planWork = createLagPlanner(db);
  // A stored series that does not decode is recorded and judged as no history (never as wrong points).
  const recordError = lagHistoryErrorRecorder(db);
  const decoded = (series: string, blob: Buffer | undefined): SeriesPoint[] =>
    readSeries(blob, (err) => recordError(series, err));
  const bySeries = (rows: readonly SeriesRow[], series: (r: SeriesRow) => string): Map<string, SeriesPoint[]> =>
    new Map(rows.map((r) => [seriesKey(r.topic, r.partition), decoded(series(r), r.points)]));

  const factsOf = (row: FactsRow, commits: readonly SeriesPoint[], ends: readonly SeriesPoint[]) => ({
    inSnapshot: row.in_snapshot === 1,
    committed: row.committed_offset,
    committedAtMs: row.committed_at === null ? null : committedAtMs(row.committed_at),
    endOffset: row.next_offset,
    commits,
    ends,
  });

  const put = (group: string, topic: string, partition: number, v: PartitionVerdict, storedRecheck: number | null, now: number): void => {
    const statement = recheckToStore(storedRecheck, v.recheckAt, now) === "keep" ? s.putPartitionKeepingRecheck : s.putPartition;
    statement.run(
      group, topic, partition, v.status, v.lag, v.behindSince, v.consumedRate, v.producedRate, v.since, v.detail,
      v.recheckAt, v.historyStart, v.points,
    );
  };

  const putGroup = (group: string, g: GroupVerdict, now: number): void => {
    s.putGroup.run(
      group, g.status, GROUP_SEVERITY[g.status], g.partitions, g.counts.OK, g.counts.WARN, g.counts.STALL,
      g.counts.STOP, g.counts.REWIND, g.counts.UNKNOWN, g.totalLag, g.maxLag?.lag ?? null, g.maxLag?.topic ?? null,
      g.maxLag?.partition ?? null, g.behindSince, g.trend, g.consumedRate, g.producedRate, g.catchUpSeconds,
      g.windowFrom, g.historyStart, g.points, worstToJson(g.worst), now,
    );
  };

  /**
   * Sums the group's judged partitions into its lag_group_status row and its lag_topic_status rows,
   * or removes them when none is left. The topic sums are always added up in SQL from the stored
   * verdicts: every topic's after the whole group was judged, else those of the topics judged again.
   * The group's verdict from `whole` (every partition of the group, just judged) or else in SQL too.
   * Every change to a group's verdicts ends here, in the same transaction: the sums never disagree
   * with them.
   */
  const summarize = (group: string, now: number, judged: { whole: JudgedPartition[] } | { topics: Set<string> }): void => {
    let verdict: GroupVerdict | null;
    if ("whole" in judged) {
      stored.rewriteTopicSums(group);
      verdict = judged.whole.length === 0 ? null : summarizeGroup(judged.whole, settings, now);
    } else {
      stored.rewriteTopicSums(group, judged.topics);
      const sums = stored.sums(group);
      verdict = sums === null ? null : groupVerdictOf(sums, settings, now);
    }
    if (verdict === null) s.deleteGroup.run(group);
    else putGroup(group, verdict, now);
  };

  /**
   * Judges every partition of the group again (its partition set may have changed), one topic per
   * step so that a group of 10k partitions is spread over many slices (one slice per group kept the
   * event loop for over a second). Verdicts are replaced in place, never cleared first: between
   * slices readers see each partition's old or new verdict, and the group's sums change at the end
   * with the verdicts of partitions no longer in its set removed.
   */
  const judgeGroup = (group: string, now: number): { step(): number | null } => {
    const topics = s.groupTopics.all({ group }).map((t) => t.topic);
    const judged: JudgedPartition[] = [];
    const seen = new Set<string>();
    return {
      step: () => {
        const topic = topics.shift();
        if (topic === undefined) {
          for (const row of s.statusKeys.all(group)) {
            if (!seen.has(seriesKey(row.topic, row.partition))) s.clearPartition.run(group, row.topic, row.partition);
          }
          summarize(group, now, { whole: judged });
          return null;
        }
        const rows = s.topicFacts.all({ group, topic });
        if (rows.length === 0) return 0;
        const commits = bySeries(s.topicCommitPoints.all(group, topic), (r) => `commits of ${group} on ${r.topic}/${r.partition}`);
        const ends = bySeries(s.topicEndPoints.all(topic), (r) => `end offset ${r.topic}/${r.partition}`);
        for (const row of rows) {
          const key = seriesKey(row.topic, row.partition);
          const verdict = evaluatePartition(factsOf(row, commits.get(key) ?? [], ends.get(key) ?? []), settings, now);
          put(group, row.topic, row.partition, verdict, row.stored_recheck, now);
          seen.add(key);
          judged.push({ topic: row.topic, partition: row.partition, ...verdict });
        }
        return rows.length;
      },
    };
  };

  /** Judges some partitions of a group whose set did not change; false when the set did change after all. */
  const judgePartitions = (group: string, partitions: Iterable<string>, now: number): number | null => {
    let judged = 0;
    const topics = new Set<string>();
    for (const key of partitions) {
      const [topic, partition] = JSON.parse(key) as [string, number];
      topics.add(topic);
      const row = s.partitionFacts.get({ group, topic, partition }) as FactsRow;
      // A commit gone since it was noted: the set may have shrunk, judge the whole group.
      if (row.committed_offset === null) return null;
      const facts = factsOf(
        row,
        decoded(`commits of ${group} on ${topic}/${partition}`, s.commitPoints.get(group, topic, partition)?.points),
        decoded(`end offset ${topic}/${partition}`, s.endPoints.get(topic, partition)?.points),
      );
      put(group, topic, partition, evaluatePartition(facts, settings, now), row.stored_recheck, now);
      judged++;
    }
    summarize(group, now, { topics });
    return judged;
  };

  /** A shrunk window setting: trim every series to the new size once. */
  const applySettings = (): void => {
    const used = s.settingsUsed.get()?.window_points ?? null;
    if (used !== null && used > settings.windowPoints) history.trim(settings.windowPoints);
  };

  /**
   * The evaluation as a sequence of slices; `slice()` does one transaction's worth and says whether
   * more is left. Shared by the async and the synchronous runner.
   */
  const begin = () => {
    beforeWrite();
    const now = clock();
    const revision = s.revision.get()?.revision ?? 0;
    applySettings();
    const changes = history.takeChanges();
    const full = changes.all;
    // Everything: groups page by page (below). Else the planner's work, once planned.
    let planning = full ? null : planWork(now, changes);
    let queue: Work[] = [];
    let after = "";
    let exhausted = !full;
    const result: EvaluationRun = { full, groups: 0, partitions: 0, evaluatedAt: now, revision };
    const next = (): Work | undefined => {
      if (queue.length === 0 && !exhausted) {
        const ids = s.groupIds.all({ after, limit: GROUP_PAGE });
        if (ids.length === 0) exhausted = true;
        for (const { group_id } of ids) queue.push({ group: group_id, partitions: null });
        after = ids.at(-1)?.group_id ?? after;
      }
      return queue.shift();
    };
    /** A whole group being judged topic by topic, possibly over several slices. */
    let wholeGroup: ReturnType<typeof judgeGroup> | null = null;
    const write = db.transaction((): boolean => {
      const started = performance.now();
      if (planning !== null) {
        const planned = planning.step(started + SLICE_MS);
        if (planned === null) return true;
        queue = planned;
        planning = null;
      }
      for (;;) {
        if (wholeGroup !== null) {
          const judged = wholeGroup.step();
          if (judged === null) {
            wholeGroup = null;
            result.groups++;
          } else result.partitions += judged;
        } else {
          const work = next();
          if (work === undefined) {
            s.finish.run(now, revision, settings.intervalMs, settings.windowPoints);
            return false;
          }
          const judged = work.partitions === null ? null : judgePartitions(work.group, work.partitions, now);
          if (judged === null) wholeGroup = judgeGroup(work.group, now);
          else {
            result.partitions += judged;
            result.groups++;
          }
        }
        if (performance.now() - started >= SLICE_MS) return true;
      }
    });
    const slice = (): boolean => {
      beforeWrite();
      // IMMEDIATE: it reads before it writes (see SyncWriter.applyChanges).
      return write.immediate();
    };
    return { slice, result };
  };

  let foregroundBusy = (): boolean => false;
  const foregroundDone = async (): Promise<void> => {
    for (let waits = 0; waits < FOREGROUND_WAITS && foregroundBusy(); waits++) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  };

  let active: Promise<EvaluationRun> | null = null;
  const runAsync = async (): Promise<EvaluationRun> => {
    const { slice, result } = begin();
    try {
      for (;;) {
        await foregroundDone();
        const started = performance.now();
        if (!slice()) return result;
        const ended = performance.now();
        // Paced while others want the thread: one turn of the event loop shows whether they do;
        // then it waits until they had three times as long as the slice took (pauseAfterSlice: the
        // slices take about a quarter of the thread's time). On a saturated machine the run takes
        // longer and covers more changes, each partition still judged once: its cost a change falls.
        // With nothing else to do (the first evaluation after a start) it runs slice after slice.
        await new Promise((resolve) => setImmediate(resolve));
        const pauseMs = pauseAfterSlice(ended - started, performance.now() - ended);
        if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    } catch (err) {
      history.markAll();
      throw err;
    }
  };
  const run = (): Promise<EvaluationRun> => {
    const next = (active ?? Promise.resolve()).catch(() => undefined).then(runAsync);
    active = next;
    void next.finally(() => {
      if (active === next) active = null;
    }).catch(() => undefined);
    return next;
  };

  let timer: NodeJS.Timeout | null = null;
  let stopped = true;
  return {
    run,
    runNow: () => {
      const { slice, result } = begin();
      try {
        while (slice());
        return result;
      } catch (err) {
        history.markAll();
        throw err;
      }
    },
    start: (everyMs, onError) => {
      stopped = false;
      const tick = (): void => {
        timer = null;
        // Before the first full sync there is nothing true to judge (and an empty verdict would read
        // as "no lag"): look again soon, so the first evaluation follows the load closely.
        const loaded = s.revision.get()?.initial_sync_done === 1;
        const next = loaded ? run() : Promise.resolve();
        next.catch(onError).finally(() => {
          if (!stopped) timer = setTimeout(tick, loaded ? everyMs : Math.min(everyMs, WAIT_FOR_LOAD_MS)).unref();
        });
      };
      timer = setTimeout(tick, 0).unref();
    },
    yieldTo: (busy) => {
      foregroundBusy = busy;
    },
    stop: async () => {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      await active?.catch(() => undefined);
    },
  };
}
