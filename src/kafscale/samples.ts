/**
 * Metric samples as the brokers' and the operator's Prometheus endpoints give them, and the few pure
 * helpers the Kafscale metric views need (series identity, histograms, Go's float syntax). The text
 * parser itself is I/O-side (src/sync/metrics/prom-text.ts); the store and the views only need these.
 */

/** One series value from an exposition. `labels` has no prototype, so any label name is a plain key. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** Milliseconds since the epoch, when the line carried a timestamp. */
  timestampMs?: number;
}

/**
 * A float as Go's ParseFloat reads it, minus hexadecimal and underscores: decimal with optional exponent, or
 * Inf/Infinity (optionally signed) and NaN, case-insensitively. `Number()` alone would accept "0x10" and "".
 */
export function parseValue(token: string): number | null {
  const lower = token.toLowerCase();
  const unsigned = lower[0] === "+" || lower[0] === "-" ? lower.slice(1) : lower;
  if (unsigned === "inf" || unsigned === "infinity") {
    return lower[0] === "-" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  if (lower === "nan") return Number.NaN;

  let i = token[0] === "+" || token[0] === "-" ? 1 : 0;
  const mantissaStart = i;
  while (isDigit(token, i)) i++;
  let digits = i - mantissaStart;
  if (token[i] === ".") {
    const fractionStart = ++i;
    while (isDigit(token, i)) i++;
    digits += i - fractionStart;
  }
  if (digits === 0) return null;
  if (token[i] === "e" || token[i] === "E") {
    i++;
    if (token[i] === "+" || token[i] === "-") i++;
    if (!isDigit(token, i)) return null;
    while (isDigit(token, i)) i++;
  }
  return i === token.length ? Number(token) : null;
}

/** True when s[i] is an ASCII digit. */
export function isDigit(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 57;
}

/** Identity of a series: name plus labels in sorted order (label order on the line does not matter). */
export function seriesKey(sample: Pick<Sample, "name" | "labels">): string {
  const names = Object.keys(sample.labels).sort();
  return JSON.stringify([sample.name, ...names.flatMap((n) => [n, sample.labels[n]])]);
}

/** One histogram series, grouped from its `_bucket`, `_sum` and `_count` samples. */
export interface Histogram {
  /** The series labels, without `le`. */
  labels: Record<string, string>;
  /** Cumulative counts by upper bound, ascending; the last bound is +Inf when the exposition had one. */
  buckets: { le: number; count: number }[];
  sum: number | null;
  count: number | null;
}

/**
 * Groups the samples of histogram `baseName` (e.g. "kafscale_produce_latency_ms") by their labels other than
 * `le`. Buckets whose `le` is missing or not a number are skipped.
 */
export function groupHistograms(samples: readonly Sample[], baseName: string): Histogram[] {
  const byKey = new Map<string, Histogram>();
  const get = (labels: Record<string, string>): Histogram => {
    const rest: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const [k, v] of Object.entries(labels)) if (k !== "le") rest[k] = v;
    const key = seriesKey({ name: baseName, labels: rest });
    let h = byKey.get(key);
    if (!h) byKey.set(key, (h = { labels: rest, buckets: [], sum: null, count: null }));
    return h;
  };
  for (const s of samples) {
    if (s.name === `${baseName}_bucket`) {
      const le = s.labels.le === undefined ? null : parseValue(s.labels.le);
      if (le !== null && !Number.isNaN(le)) get(s.labels).buckets.push({ le, count: s.value });
    } else if (s.name === `${baseName}_sum`) {
      get(s.labels).sum = s.value;
    } else if (s.name === `${baseName}_count`) {
      get(s.labels).count = s.value;
    }
  }
  for (const h of byKey.values()) h.buckets.sort((a, b) => a.le - b.le);
  return [...byKey.values()];
}
