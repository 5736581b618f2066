/**
 * Lag fields shared by consumer_lag, fetch_offsets and describe_group: a partition's status and
 * time lag from the evaluator's verdicts (src/store/lag-reads.ts), computed at the time of the call.
 */
import { z } from "zod";
import { judgedTimeLag, PARTITION_STATUSES, type PartitionStatus } from "../kafscale/lag-status.js";
import type { PartitionLagStatus } from "../store/index.js";

export const partitionStatusSchema = z.enum(PARTITION_STATUSES);

/** RFC 3339 text of a Unix-ms time. */
export function isoOf(ms: number): string {
  return new Date(ms).toISOString();
}

/** The verdicts of a group, by partition. */
export type VerdictIndex = Map<string, PartitionLagStatus>;

const keyOf = (topic: string, partition: number): string => `${partition}\u0000${topic}`;

export function indexVerdicts(verdicts: readonly PartitionLagStatus[]): VerdictIndex {
  return new Map(verdicts.map((v) => [keyOf(v.topic, v.partition), v]));
}

/**
 * A partition's `status` (null before the evaluator has judged it) and `time_lag_seconds` (0 when
 * the lag is 0; null when unknown or the status is UNKNOWN). `lag` is the answer's own, current lag
 * when it has one; without it, the lag judged.
 */
export function partitionLagFields(
  verdicts: VerdictIndex,
  topic: string,
  partition: number,
  now: number,
  lag?: number | null,
): { status: PartitionStatus | null; time_lag_seconds: number | null } {
  const v = verdicts.get(keyOf(topic, partition));
  if (v === undefined) return { status: null, time_lag_seconds: null };
  return { status: v.status, time_lag_seconds: judgedTimeLag(v.status, lag === undefined ? v.lag : lag, v.behindSince, now) };
}
