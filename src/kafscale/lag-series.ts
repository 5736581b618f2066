/**
 * Reading a sampled offset series (docs/LAG.md "Reading the history"). The lag history keeps a
 * point when the value changed and at least one sample interval passed since the previous kept
 * point, so between two kept points the value is not known exactly. This module is the one place
 * that decides how to read it:
 *  - between two points at most two intervals apart, the value moved steadily (linear);
 *  - across a wider gap, it held the earlier value and jumped at the later point (a pause, then a
 *    change that was kept as soon as it happened);
 *  - after the last point it held the last value (any later change past one interval would have
 *    been kept).
 * Pure functions over points sorted oldest first; times are Unix milliseconds.
 */

/** One kept point: when (Unix ms) and the value then (an offset). */
export interface SeriesPoint {
  at: number;
  value: number;
}

/** Segments wider than this many sample intervals are read as a pause, then a jump. */
const STEADY_GAP_INTERVALS = 2;

/** The value of the series at time `t`; null before its first point. */
export function valueAt(points: readonly SeriesPoint[], t: number, intervalMs: number): number | null {
  let i = -1;
  while (i + 1 < points.length && (points[i + 1] as SeriesPoint).at <= t) i++;
  if (i < 0) return null;
  const a = points[i] as SeriesPoint;
  const b = points[i + 1];
  if (b === undefined || b.at === a.at) return a.value;
  if (b.at - a.at > STEADY_GAP_INTERVALS * intervalMs) return a.value;
  return a.value + ((b.value - a.value) * (t - a.at)) / (b.at - a.at);
}

/** Index of the first point after the series last went down (0 when it never did). */
export function lastRiseStart(points: readonly SeriesPoint[]): number {
  for (let i = points.length - 1; i > 0; i--) {
    if ((points[i] as SeriesPoint).value < (points[i - 1] as SeriesPoint).value) return i;
  }
  return 0;
}

/**
 * Offsets per second over the whole series (first to last point); null without two points at
 * different times.
 */
export function overallRate(points: readonly SeriesPoint[]): number | null {
  const first = points[0];
  const last = points[points.length - 1];
  if (first === undefined || last === undefined || last.at <= first.at) return null;
  return ((last.value - first.value) * 1000) / (last.at - first.at);
}

/**
 * When the series reached `target` during its latest rise: interpolated between the two points
 * around it (read as above), extrapolated backwards from the series' own rate when it was already
 * there at the first point, null when that cannot be told (no rate, or it has not reached it).
 */
export function timeReached(points: readonly SeriesPoint[], target: number, intervalMs: number): number | null {
  const start = lastRiseStart(points);
  const rise = points.slice(start);
  const first = rise[0];
  if (first === undefined) return null;
  if (first.value >= target) {
    // After a drop (a recreated topic), the rise began at this point: nothing earlier is known.
    if (start > 0) return first.at;
    const rate = overallRate(rise);
    if (rate === null || rate <= 0) return first.value === target ? first.at : null;
    return first.at - ((first.value - target) * 1000) / rate;
  }
  for (let i = 0; i + 1 < rise.length; i++) {
    const a = rise[i] as SeriesPoint;
    const b = rise[i + 1] as SeriesPoint;
    if (a.value < target && b.value >= target) {
      if (b.at - a.at > STEADY_GAP_INTERVALS * intervalMs || b.at === a.at) return b.at;
      return a.at + ((target - a.value) * (b.at - a.at)) / (b.value - a.value);
    }
  }
  return null;
}

/** Change of the series per second between `from` and `to`; null when either end is unknown. */
export function rateBetween(
  points: readonly SeriesPoint[],
  from: number,
  to: number,
  intervalMs: number,
): number | null {
  if (to <= from) return null;
  const a = valueAt(points, from, intervalMs);
  const b = valueAt(points, to, intervalMs);
  if (a === null || b === null) return null;
  return ((b - a) * 1000) / (to - from);
}

/** Least-squares slope (per ms) and residual standard deviation of (at, value) samples. */
export function linearFit(samples: readonly SeriesPoint[]): { slope: number; residualSd: number } | null {
  const n = samples.length;
  if (n < 2) return null;
  const meanT = samples.reduce((s, p) => s + p.at, 0) / n;
  const meanV = samples.reduce((s, p) => s + p.value, 0) / n;
  let sTT = 0;
  let sTV = 0;
  for (const p of samples) {
    sTT += (p.at - meanT) ** 2;
    sTV += (p.at - meanT) * (p.value - meanV);
  }
  if (sTT === 0) return null;
  const slope = sTV / sTT;
  let sRR = 0;
  for (const p of samples) sRR += (p.value - meanV - slope * (p.at - meanT)) ** 2;
  return { slope, residualSd: Math.sqrt(sRR / n) };
}
