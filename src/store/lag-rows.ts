/**
 * The row forms of the lag verdict tables (migration 6), shared by the evaluator that writes them
 * and the reads that answer from them: one column list, one mapper each way.
 */
import type { JudgedPartition, PartitionStatus, WorstPartition } from "../kafscale/lag-status.js";

/** The columns of lag_partition_status a judged partition is made of (after group_id). */
export const JUDGED_COLUMNS =
  "topic, partition, status, lag, behind_since, consumed_rate, produced_rate, since, detail, history_start, points";

/** A lag_partition_status row, as selected with JUDGED_COLUMNS. */
export interface JudgedRow {
  topic: string;
  partition: number;
  status: PartitionStatus;
  lag: number | null;
  behind_since: number | null;
  consumed_rate: number | null;
  produced_rate: number | null;
  since: number | null;
  detail: number | null;
  history_start: number | null;
  points: number;
}

export const judgedOf = (r: JudgedRow): JudgedPartition => ({
  topic: r.topic,
  partition: r.partition,
  status: r.status,
  lag: r.lag,
  behindSince: r.behind_since,
  consumedRate: r.consumed_rate,
  producedRate: r.produced_rate,
  since: r.since,
  detail: r.detail,
  historyStart: r.history_start,
  points: r.points,
});

/** Partitions by status, as lag_group_status (and the evaluator's sums in SQL) name the columns. */
export interface StatusCountColumns {
  ok: number;
  warn: number;
  stall: number;
  stop: number;
  rewind: number;
  unknown: number;
}

export const countsOf = (r: StatusCountColumns): Record<PartitionStatus, number> => ({
  OK: r.ok,
  WARN: r.warn,
  STALL: r.stall,
  STOP: r.stop,
  REWIND: r.rewind,
  UNKNOWN: r.unknown,
});

/** One entry of lag_group_status.worst: the public JSON form (snake_case, like every column). */
export interface WorstJson {
  topic: string;
  partition: number;
  status: PartitionStatus;
  lag: number | null;
  behind_since: number | null;
  since: number | null;
  detail: number | null;
}

export function worstToJson(worst: readonly WorstPartition[]): string {
  return JSON.stringify(
    worst.map(
      (w): WorstJson => ({
        topic: w.topic,
        partition: w.partition,
        status: w.status,
        lag: w.lag,
        behind_since: w.behindSince,
        since: w.since,
        detail: w.detail,
      }),
    ),
  );
}

/** A worst partition from its row form (a lag_partition_status row or a stored JSON entry). */
export const worstOf = (w: WorstJson): WorstPartition => ({
  topic: w.topic,
  partition: w.partition,
  status: w.status,
  lag: w.lag,
  behindSince: w.behind_since,
  since: w.since,
  detail: w.detail,
});

export function worstFromJson(text: string): WorstPartition[] {
  return (JSON.parse(text) as WorstJson[]).map(worstOf);
}
