/**
 * What the service itself saw during a freshness window, from its /metrics, to tell where a slow
 * sample's time went: its event loop's delay (prom-client's `nodejs_eventloop_lag_*`, a histogram it
 * resets at every scrape, so a scrape at the window's opening and one at its end cover the window)
 * and how long its `fetch_offsets` handler ran (`kafscale_mcp_tool_call_duration_seconds`, from the
 * tool's start to its answer; the transport and any wait for the event loop before it are outside).
 * A probe's call that took 50 ms while the handler took 5 ms waited for the loop, the network or the
 * prober. One scrape a reading also gives the watch's apply delay (apply-delay.ts).
 */
import { parseApplyDelay, type ApplyDelayBuckets } from "./apply-delay.js";
import { bucketDelta, type Buckets } from "./histogram-delta.js";

/** One reading of the service's /metrics. */
export interface ServiceCounters {
  /** fetch_offsets' duration, every outcome. */
  fetchOffsets: Buckets;
  applyDelay: ApplyDelayBuckets;
  loopDelayP99S: number | null;
  loopDelayMaxS: number | null;
}

export interface ServiceWindow {
  /** The service's event-loop delay over the window (ms); null without the metric. */
  loopDelayMs: { p99: number; max: number } | null;
  /** fetch_offsets calls answered in the window, and the upper bound (ms) of the bucket holding their 99th percentile. */
  fetchOffsets: { calls: number; p99AtMostMs: number };
}

const TOOL_BUCKET = /^kafscale_mcp_tool_call_duration_seconds_bucket\{([^}]*)\} (\S+)$/;
const LABEL = /(\w+)="([^"]*)"/g;
const GAUGE = /^(nodejs_eventloop_lag_(?:p99|max)_seconds)(?:\{[^}]*\})? (\S+)$/;

export async function readServiceCounters(baseUrl: string): Promise<ServiceCounters> {
  const response = await fetch(`${baseUrl}/metrics`);
  const text = response.ok ? await response.text() : "";
  const counters: ServiceCounters = { fetchOffsets: new Map(), applyDelay: parseApplyDelay(text), loopDelayP99S: null, loopDelayMaxS: null };
  for (const line of text.split("\n")) {
    const bucket = TOOL_BUCKET.exec(line);
    if (bucket) {
      const labels = Object.fromEntries([...(bucket[1] as string).matchAll(LABEL)].map((m) => [m[1], m[2]]));
      if (labels.tool !== "fetch_offsets" || labels.le === undefined) continue;
      const le = labels.le === "+Inf" ? Infinity : Number(labels.le);
      counters.fetchOffsets.set(le, (counters.fetchOffsets.get(le) ?? 0) + Number(bucket[2]));
      continue;
    }
    const gauge = GAUGE.exec(line);
    if (gauge?.[1] === "nodejs_eventloop_lag_p99_seconds") counters.loopDelayP99S = Number(gauge[2]);
    if (gauge?.[1] === "nodejs_eventloop_lag_max_seconds") counters.loopDelayMaxS = Number(gauge[2]);
  }
  return counters;
}

/** `after` read at the window's end, `before` at its opening (which also reset the loop-delay histogram). */
export function serviceWindow(before: ServiceCounters, after: ServiceCounters): ServiceWindow {
  const fetchOffsets = bucketDelta(before.fetchOffsets, after.fetchOffsets);
  const ms = (s: number): number => Math.round(s * 1e5) / 100;
  return {
    loopDelayMs:
      after.loopDelayP99S === null || after.loopDelayMaxS === null
        ? null
        : { p99: ms(after.loopDelayP99S), max: ms(after.loopDelayMaxS) },
    fetchOffsets: { calls: fetchOffsets.count, p99AtMostMs: fetchOffsets.p99AtMostS * 1000 },
  };
}
