/**
 * A Prometheus histogram between two readings (a freshness window's opening and end): how many
 * observations fell in the window, how many within a bound, and the upper bound of the bucket holding
 * their 99th percentile (the resolution a histogram gives).
 */

/** Cumulative bucket counts by upper bound in seconds (+Inf as Infinity). */
export type Buckets = Map<number, number>;

export interface BucketDelta {
  count: number;
  /** Observations ≤ `le` seconds in the window (`le` one of the bucket bounds). */
  within(le: number): number;
  /** Upper bound (s) of the bucket holding the 99th percentile; 0 without observations, Infinity above the last bound. */
  p99AtMostS: number;
}

export function bucketDelta(before: Buckets, after: Buckets): BucketDelta {
  const within = (le: number): number => (after.get(le) ?? 0) - (before.get(le) ?? 0);
  const count = within(Infinity);
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const p99AtMostS = count === 0 ? 0 : (bounds.find((le) => within(le) >= 0.99 * count) ?? Infinity);
  return { count, within, p99AtMostS };
}
