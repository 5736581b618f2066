/**
 * The service's own share of put-to-visible: its `kafscale_mcp_watch_apply_delay_seconds` histogram
 * (a watch event's arrival in the service → the commit of its batch), read from its /metrics before
 * and after a freshness phase. What it leaves out is etcd's part (the put acknowledged → the event
 * sent) and the machine's (processes waiting for a core); on a day when etcd alone needs 100+ ms to
 * acknowledge a put (bench/etcd-alone.ts), this is the number that still says what the code costs.
 * Observations are per applied batch, not per put; the bucket bounds include 50 ms, so the share
 * of batches committed within the target is exact, the p99 is a bucket's upper bound.
 */

import { bucketDelta, type Buckets } from "./histogram-delta.js";

/** The histogram's buckets; null without the metric. */
export type ApplyDelayBuckets = Buckets | null;

const BUCKET = /^kafscale_mcp_watch_apply_delay_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} (\S+)$/;

/** The apply-delay buckets in a /metrics text (service-window.ts reads the text once a reading). */
export function parseApplyDelay(metricsText: string): ApplyDelayBuckets {
  const buckets: Buckets = new Map();
  for (const line of metricsText.split("\n")) {
    const match = BUCKET.exec(line);
    if (match) buckets.set(match[1] === "+Inf" ? Infinity : Number(match[1]), Number(match[2]));
  }
  return buckets.size > 0 ? buckets : null;
}

export interface ApplyDelaySummary {
  /** Batches applied during the phase. */
  batches: number;
  /** Share of them committed within 50 ms of their event's arrival (0..1). */
  within50ms: number;
  /** Upper bound (ms) of the bucket holding the 99th percentile (Infinity: above the last bound). */
  p99AtMostMs: number;
}

export function applyDelayDelta(before: ApplyDelayBuckets, after: ApplyDelayBuckets): ApplyDelaySummary | null {
  if (before === null || after === null) return null;
  const delta = bucketDelta(before, after);
  if (delta.count === 0) return { batches: 0, within50ms: 1, p99AtMostMs: 0 };
  return {
    batches: delta.count,
    within50ms: Math.round((delta.within(0.05) / delta.count) * 10_000) / 10_000,
    p99AtMostMs: delta.p99AtMostS * 1000,
  };
}
