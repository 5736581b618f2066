/**
 * Consumer lag over time: the status of each (group, topic, partition) judged over the history
 * window, its time lag, and the group's status, trend and velocity. The rules and their examples
 * are in docs/LAG.md; this file is their one implementation. Pure: the store reads the facts and
 * writes the verdicts, the tools only format them.
 */
import {
  lastRiseStart,
  linearFit,
  rateBetween,
  timeReached,
  valueAt,
  type SeriesPoint,
} from "./lag-series.js";

export const PARTITION_STATUSES = ["OK", "WARN", "STALL", "STOP", "REWIND", "UNKNOWN"] as const;
export type PartitionStatus = (typeof PARTITION_STATUSES)[number];
export const GROUP_STATUSES = ["OK", "WARN", "ERR", "UNKNOWN"] as const;
export type GroupStatus = (typeof GROUP_STATUSES)[number];
export const TRENDS = ["growing", "shrinking", "steady", "unknown"] as const;
export type Trend = (typeof TRENDS)[number];

/** KAFSCALE_MCP_LAG_SAMPLE_INTERVAL and KAFSCALE_MCP_LAG_WINDOW. */
export interface LagSettings {
  intervalMs: number;
  windowPoints: number;
}

/** Kafscale's own broker lag sampler runs every 5 s; 30 points make a 150 s window. */
export const DEFAULT_LAG_SETTINGS: LagSettings = { intervalMs: 5000, windowPoints: 30 };

/** The window's nominal length: as many sample intervals as it keeps points. */
export function windowSpanMs(settings: LagSettings): number {
  return settings.intervalMs * settings.windowPoints;
}

/** Everything the rules look at for one (group, topic, partition). */
export interface PartitionFacts {
  /** The partition is listed in the cluster snapshot. */
  inSnapshot: boolean;
  /** The committed offset now; null when the group never committed here. */
  committed: number | null;
  /** The current commit's `committed_at` (Unix ms), when Kafscale wrote one. */
  committedAtMs: number | null;
  /** The partition's end offset (etcd next_offset) now; null when the key is missing. */
  endOffset: number | null;
  /** Kept commit points, oldest first. */
  commits: readonly SeriesPoint[];
  /** Kept end-offset points, oldest first. */
  ends: readonly SeriesPoint[];
}

/** A partition as judged: what the status table keeps per (group, topic, partition). */
export interface PartitionVerdict {
  status: PartitionStatus;
  /** The lag rule's value now; null when there is no usable commit or the partition is not listed. */
  lag: number | null;
  /** When the end offset passed the committed offset (Unix ms); null when caught up or unknown. */
  behindSince: number | null;
  /** Offsets per second over the window; null when the window is shorter than two intervals. */
  consumedRate: number | null;
  producedRate: number | null;
  /**
   * The moment the status refers to (Unix ms): STOP the last commit, STALL the last change of the
   * committed offset, REWIND when it went back; null otherwise. See {@link reasonText}.
   */
  since: number | null;
  /** UNKNOWN: the cause (UNKNOWN_CAUSES); REWIND: the offset before; WARN: the lag at the window's start. */
  detail: number | null;
  /** When a time rule may change this verdict although nothing is written (Unix ms), or null. */
  recheckAt: number | null;
  /** The later of the first commit point and the first end-offset point: the window is complete once it is a span old. */
  historyStart: number | null;
  /** Commit and end-offset points inside the window. */
  points: number;
}

/**
 * The lag rule shared by every answer (docs/SCHEMA.md "The lag rule"): max(0, end − committed)
 * for a usable commit (≥ 0) on a partition the snapshot lists, a missing end offset counting as 0;
 * null otherwise.
 */
export function lagOf(inSnapshot: boolean, committed: number | null, endOffset: number | null): number | null {
  if (!inSnapshot || committed === null || committed < 0) return null;
  return Math.max(0, (endOffset ?? 0) - committed);
}

/** Time lag in seconds: 0 when caught up, null when unknown; one decimal. */
export function timeLagSeconds(lag: number | null, behindSince: number | null, now: number): number | null {
  if (lag === null) return null;
  if (lag === 0) return 0;
  if (behindSince === null) return null;
  return Math.round(Math.max(0, now - behindSince) / 100) / 10;
}

/** Time lag of a judged partition or group: none for UNKNOWN (never a fake 0). */
export function judgedTimeLag(
  status: PartitionStatus | GroupStatus,
  lag: number | null,
  behindSince: number | null,
  now: number,
): number | null {
  return status === "UNKNOWN" ? null : timeLagSeconds(lag, behindSince, now);
}

/** The text of an ISO time without milliseconds. */
function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Why a partition is UNKNOWN, by the code its verdict keeps in `detail`. */
export const UNKNOWN_CAUSES: Record<number, string> = {
  1: "partition not in the cluster snapshot (deleted topic or partition)",
  2: "never committed",
  3: "no usable commit (negative committed offset)",
  4: "no end offset in etcd (next_offset missing)",
};

/** The one-line reason of a verdict, from what it keeps (short numbers, not text: 200k rows at size L). */
export function reasonText(v: Pick<PartitionVerdict, "status" | "lag" | "since" | "detail">): string {
  const when = v.since === null ? "?" : iso(v.since);
  switch (v.status) {
    case "OK":
      return v.lag === 0 ? "caught up" : `consuming; ${v.lag} behind`;
    case "UNKNOWN":
      return UNKNOWN_CAUSES[v.detail ?? 0] ?? "unknown";
    case "REWIND":
      return `committed offset went back from ${v.detail} at ${when}`;
    case "STOP":
      return `no commit since ${when} while ${v.lag} behind`;
    case "STALL":
      return `commits continue but the offset has not moved since ${when}; ${v.lag} behind`;
    case "WARN":
      return `lag grew from ${v.detail} to ${v.lag} over the window`;
  }
}

/** The series with the current value appended when it differs from the last kept point. */
function withCurrent(points: readonly SeriesPoint[], value: number, at: number): SeriesPoint[] {
  const last = points[points.length - 1];
  if (last === undefined || last.value === value) return [...points];
  return [...points, { value, at: Math.max(last.at, at) }];
}

const unknown = (lag: number | null, cause: number): PartitionVerdict => ({
  status: "UNKNOWN",
  lag,
  behindSince: null,
  consumedRate: null,
  producedRate: null,
  since: null,
  detail: cause,
  recheckAt: null,
  historyStart: null,
  points: 0,
});

/** Lag samples at the commits inside the window: how far behind the consumer was when it committed. */
function lagAtCommits(commits: readonly SeriesPoint[], ends: readonly SeriesPoint[], from: number, intervalMs: number): SeriesPoint[] {
  const samples: SeriesPoint[] = [];
  for (const c of commits) {
    if (c.at < from) continue;
    const end = valueAt(ends, c.at, intervalMs);
    if (end !== null) samples.push({ at: c.at, value: Math.max(0, end - c.value) });
  }
  return samples;
}

/** Whether the lag grew across the window: a rise larger than one offset and than twice the noise. */
function lagGrew(samples: readonly SeriesPoint[]): boolean {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (samples.length < 3 || first === undefined || last === undefined || last.value <= first.value) return false;
  const fit = linearFit(samples);
  if (fit === null) return false;
  const growth = fit.slope * (last.at - first.at);
  return growth >= Math.max(1, 2 * fit.residualSd);
}

/** The latest backward step of the committed offset inside the window, if any. */
function latestRewind(commits: readonly SeriesPoint[], from: number): { at: number; from: number } | null {
  const start = lastRiseStart(commits);
  if (start === 0) return null;
  const to = commits[start] as SeriesPoint;
  if (to.at < from) return null;
  return { at: to.at, from: (commits[start - 1] as SeriesPoint).value };
}

/**
 * Judges one partition at `now` (docs/LAG.md "Partition status"). Rules in order, first match wins:
 * UNKNOWN (not listed, no commit, no end offset) → REWIND → OK when caught up → STOP → STALL →
 * WARN → OK.
 */
export function evaluatePartition(facts: PartitionFacts, settings: LagSettings, now: number): PartitionVerdict {
  const { intervalMs } = settings;
  const span = windowSpanMs(settings);
  const lag = lagOf(facts.inSnapshot, facts.committed, facts.endOffset);
  if (!facts.inSnapshot) return unknown(lag, 1);
  if (facts.committed === null) return unknown(lag, 2);
  if (facts.committed < 0) return unknown(lag, 3);
  if (facts.endOffset === null) return unknown(lag, 4);
  const committed = facts.committed;
  const currentLag = lag as number;

  // The current values join the kept points: a commit at its committed_at, an end offset within
  // the interval after its last kept point (a later change would have been kept).
  const lastKeptCommit = facts.commits[facts.commits.length - 1];
  const commitTime = Math.min(now, facts.committedAtMs ?? (lastKeptCommit ? lastKeptCommit.at + intervalMs / 2 : now));
  const commits = withCurrent(facts.commits, committed, commitTime);
  const lastKeptEnd = facts.ends[facts.ends.length - 1];
  const ends = withCurrent(facts.ends, facts.endOffset, Math.min(now, lastKeptEnd ? lastKeptEnd.at + intervalMs / 2 : now));

  const windowStart = now - span;
  const firstCommit = commits[0];
  const firstEnd = ends[0];
  const historyStart = firstCommit && firstEnd ? Math.max(firstCommit.at, firstEnd.at) : null;
  const from = historyStart === null ? null : Math.max(windowStart, historyStart);
  // Rates need at least two intervals of history on both series.
  const ratedFrom = from !== null && now - from >= 2 * intervalMs ? from : null;
  const lastMove = commits[commits.length - 1]?.at ?? commitTime;
  const lastCommit = Math.max(lastMove, facts.committedAtMs === null ? lastMove : Math.min(now, facts.committedAtMs));
  const lastChange = Math.max(lastMove, ends[ends.length - 1]?.at ?? lastMove);
  const rewind = latestRewind(commits, windowStart);

  // Time rules: the window slides past the last change (rates fall to 0), a rewind leaves it, and
  // while behind, STOP and STALL begin a span after the last commit and the last move.
  const changed = historyStart !== null && lastChange > historyStart;
  const thresholds = [changed ? lastChange + span : null, rewind === null ? null : rewind.at + span];
  if (currentLag > 0) thresholds.push(lastCommit + span, lastMove + span);
  const future = thresholds.filter((t): t is number => t !== null && t >= now);

  const verdict: PartitionVerdict = {
    status: "OK",
    lag: currentLag,
    behindSince: currentLag > 0 ? clampPast(timeReached(ends, committed + 1, intervalMs), now) : null,
    consumedRate: ratedFrom === null ? null : rateBetween(commits, ratedFrom, now, intervalMs),
    producedRate: ratedFrom === null ? null : rateBetween(ends, ratedFrom, now, intervalMs),
    since: null,
    detail: null,
    recheckAt: future.length > 0 ? Math.min(...future) + 1 : null,
    historyStart,
    points: from === null ? 0 : commits.filter((p) => p.at >= from).length + ends.filter((p) => p.at >= from).length,
  };
  if (rewind !== null) {
    return { ...verdict, status: "REWIND", since: rewind.at, detail: rewind.from };
  }
  if (currentLag === 0) return verdict;
  if (now - lastCommit > span) {
    return { ...verdict, status: "STOP", since: lastCommit };
  }
  if (now - lastMove > span) {
    return { ...verdict, status: "STALL", since: lastMove };
  }
  const samples = lagAtCommits(commits, ends, windowStart, intervalMs);
  if (lagGrew(samples)) {
    return { ...verdict, status: "WARN", detail: (samples[0] as SeriesPoint).value };
  }
  return verdict;
}

function clampPast(t: number | null, now: number): number | null {
  return t === null ? null : Math.min(t, now);
}

/** A judged partition as the status table holds it (its recheck time is the evaluator's business). */
export type JudgedPartition = { topic: string; partition: number } & Omit<PartitionVerdict, "recheckAt">;

/** Partitions listed per group: the worst ones, most urgent first. */
export const WORST_PARTITIONS = 3;

/** Higher is more urgent (partition statuses, for "worst partitions" and sorting). */
export const PARTITION_SEVERITY: Record<PartitionStatus, number> = {
  STOP: 5,
  STALL: 4,
  REWIND: 3,
  WARN: 2,
  UNKNOWN: 1,
  OK: 0,
};

/** Higher is more urgent (group statuses, for the default order of consumer_lag). */
export const GROUP_SEVERITY: Record<GroupStatus, number> = { ERR: 3, WARN: 2, UNKNOWN: 1, OK: 0 };

/** Order of trends for `sort: trend`: growing first. */
export const TREND_ORDER: Record<Trend, number> = { growing: 3, steady: 2, shrinking: 1, unknown: 0 };

export interface GroupVerdict {
  status: GroupStatus;
  partitions: number;
  counts: Record<PartitionStatus, number>;
  totalLag: number;
  maxLag: { topic: string; partition: number; lag: number } | null;
  /** The earliest behindSince of a lagging partition: the group's time lag is now minus this. */
  behindSince: number | null;
  trend: Trend;
  consumedRate: number | null;
  producedRate: number | null;
  /** Seconds until the lag is gone at the current velocity, when shrinking. */
  catchUpSeconds: number | null;
  /** Start of the window judged: a span before the evaluation, or the earliest history if shorter. */
  windowFrom: number | null;
  /** The latest historyStart of a judged partition. */
  historyStart: number | null;
  points: number;
  /** The few most urgent partitions that are not OK. */
  worst: WorstPartition[];
}

/** A partition named among a group's worst. */
export type WorstPartition = Pick<JudgedPartition, "topic" | "partition" | "status" | "lag" | "behindSince" | "since" | "detail">;

function groupStatusOf(counts: Record<PartitionStatus, number>, partitions: number): GroupStatus {
  if (counts.STALL + counts.STOP + counts.REWIND > 0) return "ERR";
  if (counts.WARN > 0) return "WARN";
  if (counts.UNKNOWN === partitions) return "UNKNOWN";
  return "OK";
}

/**
 * The trend of the group's lag from its velocity (docs/LAG.md "Trend"): steady within 5% of the
 * larger rate (or one offset over the window), and steady whenever nothing is behind.
 */
function trendOf(totalLag: number, consumed: number | null, produced: number | null, spanMs: number): Trend {
  if (consumed === null || produced === null) return "unknown";
  if (totalLag === 0) return "steady";
  const net = produced - consumed;
  const tolerance = Math.max(0.05 * Math.max(Math.abs(produced), Math.abs(consumed)), 1000 / spanMs);
  if (net > tolerance) return "growing";
  if (net < -tolerance) return "shrinking";
  return "steady";
}

function compareUrgency(a: JudgedPartition, b: JudgedPartition): number {
  return (
    PARTITION_SEVERITY[b.status] - PARTITION_SEVERITY[a.status] ||
    (b.lag ?? -1) - (a.lag ?? -1) ||
    (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0) ||
    a.partition - b.partition
  );
}

/**
 * What a group's verdict is drawn from: sums over its judged partitions. summarizeGroup adds them up
 * from the partitions; the store can add them up in SQL from the stored verdicts instead
 * (src/store/lag-evaluator.ts, after a few partitions of a large group were judged again), and both
 * draw the verdict with groupVerdictOf.
 */
export interface GroupSums {
  partitions: number;
  counts: Record<PartitionStatus, number>;
  /** Sum of the known lags. */
  totalLag: number;
  /** The largest known lag; on a tie, the first partition in (topic, partition) order. */
  maxLag: GroupVerdict["maxLag"];
  /** The earliest behindSince of a partition with lag > 0. */
  behindSince: number | null;
  /** Sums of the rates over the partitions that have both (null when none has). */
  consumedRate: number | null;
  producedRate: number | null;
  /** The earliest and the latest historyStart. */
  earliestHistory: number | null;
  historyStart: number | null;
  points: number;
  /** The WORST_PARTITIONS most urgent partitions that are not OK, most urgent first (compareUrgency). */
  worst: WorstPartition[];
}

/** The group's verdict from the sums of its judged partitions, as judged at `evaluatedAt`. */
export function groupVerdictOf(sums: GroupSums, settings: LagSettings, evaluatedAt: number): GroupVerdict {
  const { totalLag, consumedRate: consumed, producedRate: produced } = sums;
  const trend = trendOf(totalLag, consumed, produced, windowSpanMs(settings));
  return {
    status: groupStatusOf(sums.counts, sums.partitions),
    partitions: sums.partitions,
    counts: sums.counts,
    totalLag,
    maxLag: sums.maxLag,
    behindSince: sums.behindSince,
    trend,
    consumedRate: consumed,
    producedRate: produced,
    catchUpSeconds: trend === "shrinking" && consumed !== null && produced !== null ? totalLag / (consumed - produced) : null,
    windowFrom:
      sums.earliestHistory === null ? null : Math.max(evaluatedAt - windowSpanMs(settings), sums.earliestHistory),
    historyStart: sums.historyStart,
    points: sums.points,
    worst: sums.worst,
  };
}

/** Sums a group's judged partitions (all of them, or one topic's), as judged at `evaluatedAt`, into its verdict. */
export function summarizeGroup(
  partitions: readonly JudgedPartition[],
  settings: LagSettings,
  evaluatedAt: number,
): GroupVerdict {
  const counts: Record<PartitionStatus, number> = { OK: 0, WARN: 0, STALL: 0, STOP: 0, REWIND: 0, UNKNOWN: 0 };
  let totalLag = 0;
  let maxLag: GroupVerdict["maxLag"] = null;
  let behindSince: number | null = null;
  let consumed: number | null = null;
  let produced: number | null = null;
  let earliest: number | null = null;
  let historyStart: number | null = null;
  let points = 0;
  for (const p of partitions) {
    counts[p.status]++;
    points += p.points;
    if (p.lag !== null) {
      totalLag += p.lag;
      if (maxLag === null || p.lag > maxLag.lag) maxLag = { topic: p.topic, partition: p.partition, lag: p.lag };
    }
    if (p.lag !== null && p.lag > 0 && p.behindSince !== null) behindSince = Math.min(behindSince ?? p.behindSince, p.behindSince);
    if (p.consumedRate !== null && p.producedRate !== null) {
      consumed = (consumed ?? 0) + p.consumedRate;
      produced = (produced ?? 0) + p.producedRate;
    }
    if (p.historyStart !== null) {
      earliest = Math.min(earliest ?? p.historyStart, p.historyStart);
      historyStart = Math.max(historyStart ?? p.historyStart, p.historyStart);
    }
  }
  const worst = partitions
    .filter((p) => p.status !== "OK")
    .sort(compareUrgency)
    .slice(0, WORST_PARTITIONS)
    .map(({ topic, partition, status, lag, behindSince, since, detail }) => ({ topic, partition, status, lag, behindSince, since, detail }));
  const sums: GroupSums = {
    partitions: partitions.length,
    counts,
    totalLag,
    maxLag,
    behindSince,
    consumedRate: consumed,
    producedRate: produced,
    earliestHistory: earliest,
    historyStart,
    points,
    worst,
  };
  return groupVerdictOf(sums, settings, evaluatedAt);
}
