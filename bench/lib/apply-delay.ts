/**
 * The service's own share of put-to-visible: its `kafscale_mcp_watch_apply_delay_seconds` histogram
 * (a watch event's arrival in the service → the commit of its batch), read from its /metrics before
 * and after a freshness phase. What it leaves out is etcd's part (the put acknowledged → the event
 * sent) and the machine's (processes waiting for a core); on a day when etcd alone needs 100+ ms to
 * acknowledge a put (bench/etcd-alone.ts), this is the number that still says what the code costs.
 * Observations are per applied batch, not per put; the bucket bounds include 50 ms, so the share
 * of batches committed within the target is exact, the p99 is a bucket's upper bound.
 */

/** Cumulative bucket counts by upper bound in seconds (+Inf as Infinity); null without the metric. */
export type ApplyDelayBuckets = Map<number, number> | null;

const BUCKET = /^kafscale_mcp_watch_apply_delay_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} (\S+)$/;

export async function readApplyDelay(baseUrl: string): Promise<ApplyDelayBuckets> {
  const response = await fetch(`${baseUrl}/metrics`);
  if (!response.ok) return null;
  const buckets = new Map<number, number>();
  for (const line of (await response.text()).split("\n")) {
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
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const delta = (le: number): number => (after.get(le) ?? 0) - (before.get(le) ?? 0);
  const batches = delta(Infinity);
  if (batches === 0) return { batches: 0, within50ms: 1, p99AtMostMs: 0 };
  const p99Bound = bounds.find((le) => delta(le) >= 0.99 * batches) ?? Infinity;
  return {
    batches,
    within50ms: Math.round((delta(0.05) / batches) * 10_000) / 10_000,
    p99AtMostMs: p99Bound * 1000,
  };
}
