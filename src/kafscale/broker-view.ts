/**
 * Pure mapping from parsed Prometheus samples to typed views of Kafscale broker and operator metrics
 * (kafscale-contract.md §5), and the console's way of aggregating several brokers into one view.
 *
 * Every number is `null` when the metric was not reported, so callers can tell "absent" from zero. Non-finite
 * readings (NaN, ±Inf) also become `null`: they carry no usable value and would not survive JSON anyway.
 */
import { groupHistograms, type Sample } from "./samples.js";

export type S3State = "healthy" | "degraded" | "unavailable" | "";

/** Count and sum of a histogram, with the mean they imply. */
export interface HistogramSummary {
  count: number;
  sum: number;
  /** sum / count, or null when count is 0. */
  mean: number | null;
}

export interface BrokerView {
  /**
   * The `state` label of the `kafscale_s3_health_state` series whose value is 1; "" when none is.
   * Without any such series, the contract's rule over latency and error rate ({@link s3StateFromNumbers}).
   */
  s3State: S3State;
  /** Average S3 latency over the health window. Kept fractional; the console truncates it for display. */
  s3LatencyMs: number | null;
  s3ErrorRate: number | null;
  s3StateDurationSeconds: number | null;
  /** Records per second over the throughput window. */
  produceRps: number | null;
  fetchRps: number | null;
  adminRequestsTotal: number | null;
  adminRequestErrorsTotal: number | null;
  /** Unweighted mean over the per-api averages, as the console computes it. */
  adminRequestLatencyMs: number | null;
  consumerLagMax: number | null;
  cpuPercent: number | null;
  /** heap_inuse_bytes when > 0, else mem_alloc_bytes (the console's rule). */
  memoryBytes: number | null;
  uptimeSeconds: number | null;
  goroutines: number | null;
  /** The unlabeled total only; the per-(action, resource) series are a breakdown of it. */
  authzDeniedTotal: number | null;
  produceLatencyMs: HistogramSummary | null;
}

export interface OperatorView {
  clusters: number | null;
  snapshotAgeSecondsMax: number | null;
  lastSuccessTimestampMax: number | null;
  lastScheduleTimestampMax: number | null;
  staleMax: number | null;
  /** Minimum over clusters, so one cluster whose bucket is unreachable shows as 0. */
  accessOkMin: number | null;
}

const M = "kafscale_";
const SNAPSHOT = "kafscale_operator_etcd_snapshot_";

/** Worse states rank higher. "" (unknown) ranks lowest so it never hides a reported state. */
const STATE_RANK: Record<S3State, number> = { "": 0, healthy: 1, degraded: 2, unavailable: 3 };

/** Of two states, the worse one; "" loses to any reported state. */
export function worseS3State(a: S3State, b: S3State): S3State {
  return STATE_RANK[b] > STATE_RANK[a] ? b : a;
}

function isS3State(s: string | undefined): s is Exclude<S3State, ""> {
  return s === "healthy" || s === "degraded" || s === "unavailable";
}

/**
 * The contract's S3 state rule (§5), used by {@link deriveBrokerView} when the state gauge is missing: average latency ≥ 3000 ms or error rate
 * ≥ 0.6 is unavailable; ≥ 500 ms or ≥ 0.2 is degraded; otherwise healthy. "" when neither input is known.
 */
export function s3StateFromNumbers(latencyMs: number | null, errorRate: number | null): S3State {
  const lat = finiteOrNull(latencyMs);
  const err = finiteOrNull(errorRate);
  if (lat === null && err === null) return "";
  if ((lat ?? 0) >= 3000 || (err ?? 0) >= 0.6) return "unavailable";
  if ((lat ?? 0) >= 500 || (err ?? 0) >= 0.2) return "degraded";
  return "healthy";
}

/** Derives the typed view of one broker's `/metrics`. Unknown metrics are ignored. */
export function deriveBrokerView(samples: readonly Sample[]): BrokerView {
  const byName = indexByName(samples);
  const plain = (name: string): number | null => unlabeled(byName, M + name);
  const values = (name: string): number[] => finiteValues(byName, M + name);

  const stateSeries = byName.get(`${M}s3_health_state`);
  const s3LatencyMs = plain("s3_latency_ms_avg");
  const s3ErrorRate = plain("s3_error_rate");
  let s3State: S3State = "";
  for (const s of stateSeries ?? []) {
    if (s.value === 1 && isS3State(s.labels.state)) s3State = worseS3State(s3State, s.labels.state);
  }
  // The state gauge is missing (not merely all 0): the contract's rule decides from the numbers.
  if (stateSeries === undefined) s3State = s3StateFromNumbers(s3LatencyMs, s3ErrorRate);

  const heap = plain("broker_heap_inuse_bytes");
  return {
    s3State,
    s3LatencyMs,
    s3ErrorRate,
    s3StateDurationSeconds: plain("s3_state_duration_seconds"),
    produceRps: plain("produce_rps"),
    fetchRps: plain("fetch_rps"),
    adminRequestsTotal: sumOrNull(values("admin_requests_total")),
    adminRequestErrorsTotal: sumOrNull(values("admin_request_errors_total")),
    adminRequestLatencyMs: meanOrNull(values("admin_request_latency_ms_avg")),
    consumerLagMax: plain("consumer_lag_max"),
    cpuPercent: plain("broker_cpu_percent"),
    memoryBytes: heap !== null && heap > 0 ? heap : (plain("broker_mem_alloc_bytes") ?? heap),
    uptimeSeconds: plain("broker_uptime_seconds"),
    goroutines: plain("broker_goroutines"),
    authzDeniedTotal: plain("authz_denied_total"),
    produceLatencyMs: histogramSummary(samples, `${M}produce_latency_ms`),
  };
}

/**
 * Combines per-broker views the way the console does. Brokers that did not report a metric are left out of
 * that metric rather than counted as zero, so a broker with no metrics changes nothing.
 *
 * - s3State: the worst state (unavailable > degraded > healthy; "" ignored).
 * - s3LatencyMs: mean over brokers reporting a latency > 0; 0 if all that report say 0.
 * - s3ErrorRate: the maximum. Each broker's rate is a fraction over its own, unknown, number of operations,
 *   so a mean would be unweighted and would dilute one failing broker; the maximum agrees with the
 *   threshold rule and with taking the worst state.
 * - s3StateDurationSeconds, uptimeSeconds: the minimum (the most recent change anywhere in the cluster).
 * - produceRps, fetchRps, admin totals, authz denials, goroutines, memoryBytes: sums.
 * - adminRequestLatencyMs, cpuPercent: means over brokers that report them.
 * - consumerLagMax: the maximum.
 * - produceLatencyMs: counts and sums added, mean recomputed.
 */
export function aggregateBrokerViews(views: readonly BrokerView[]): BrokerView {
  const pick = (f: (v: BrokerView) => number | null): number[] =>
    views.map(f).filter((n): n is number => n !== null);
  const latencies = pick((v) => v.s3LatencyMs);
  const positive = latencies.filter((n) => n > 0);
  const produceLatencies = views.flatMap((v) => (v.produceLatencyMs ? [v.produceLatencyMs] : []));

  return {
    s3State: views.reduce<S3State>((acc, v) => worseS3State(acc, v.s3State), ""),
    s3LatencyMs: positive.length > 0 ? meanOrNull(positive) : latencies.length > 0 ? 0 : null,
    s3ErrorRate: maxOrNull(pick((v) => v.s3ErrorRate)),
    s3StateDurationSeconds: minOrNull(pick((v) => v.s3StateDurationSeconds)),
    produceRps: sumOrNull(pick((v) => v.produceRps)),
    fetchRps: sumOrNull(pick((v) => v.fetchRps)),
    adminRequestsTotal: sumOrNull(pick((v) => v.adminRequestsTotal)),
    adminRequestErrorsTotal: sumOrNull(pick((v) => v.adminRequestErrorsTotal)),
    adminRequestLatencyMs: meanOrNull(pick((v) => v.adminRequestLatencyMs)),
    consumerLagMax: maxOrNull(pick((v) => v.consumerLagMax)),
    cpuPercent: meanOrNull(pick((v) => v.cpuPercent)),
    memoryBytes: sumOrNull(pick((v) => v.memoryBytes)),
    uptimeSeconds: minOrNull(pick((v) => v.uptimeSeconds)),
    goroutines: sumOrNull(pick((v) => v.goroutines)),
    authzDeniedTotal: sumOrNull(pick((v) => v.authzDeniedTotal)),
    produceLatencyMs:
      produceLatencies.length === 0
        ? null
        : summarize(
            produceLatencies.reduce((a, h) => a + h.count, 0),
            produceLatencies.reduce((a, h) => a + h.sum, 0),
          ),
  };
}

/**
 * The cluster-wide view the tools show: the console's aggregation over the LAST GOOD view of each
 * current broker target (worst S3 state, mean latency over brokers reporting > 0, summed rates and
 * admin totals). A broker that never answered is left out; null when no broker has a good view.
 */
export function aggregateOf(latest: { brokers: readonly { view: BrokerView | null }[] } | null): BrokerView | null {
  const views = (latest?.brokers ?? []).flatMap((b) => (b.view ? [b.view] : []));
  return views.length > 0 ? aggregateBrokerViews(views) : null;
}

/**
 * Derives the operator view from its `/metrics` (the console's reading): the cluster count, and over the
 * per-cluster snapshot gauges the maximum age, maximum timestamps, maximum stale flag and minimum access_ok.
 */
export function deriveOperatorView(samples: readonly Sample[]): OperatorView {
  const byName = indexByName(samples);
  const values = (name: string): number[] => finiteValues(byName, name);
  return {
    clusters: maxOrNull(values("kafscale_operator_clusters")),
    snapshotAgeSecondsMax: maxOrNull(values(`${SNAPSHOT}age_seconds`)),
    lastSuccessTimestampMax: maxOrNull(values(`${SNAPSHOT}last_success_timestamp`)),
    lastScheduleTimestampMax: maxOrNull(values(`${SNAPSHOT}last_schedule_timestamp`)),
    staleMax: maxOrNull(values(`${SNAPSHOT}stale`)),
    accessOkMin: minOrNull(values(`${SNAPSHOT}access_ok`)),
  };
}

function indexByName(samples: readonly Sample[]): Map<string, Sample[]> {
  const byName = new Map<string, Sample[]>();
  for (const s of samples) {
    const list = byName.get(s.name);
    if (list) list.push(s);
    else byName.set(s.name, [s]);
  }
  return byName;
}

/** The value of the series with no labels; labeled series of the same name are a different breakdown. */
function unlabeled(byName: Map<string, Sample[]>, name: string): number | null {
  const s = byName.get(name)?.find((x) => Object.keys(x.labels).length === 0);
  return s ? finiteOrNull(s.value) : null;
}

function finiteValues(byName: Map<string, Sample[]>, name: string): number[] {
  return (byName.get(name) ?? []).map((s) => s.value).filter((n) => Number.isFinite(n));
}

function histogramSummary(samples: readonly Sample[], baseName: string): HistogramSummary | null {
  const h = groupHistograms(samples, baseName).find((x) => Object.keys(x.labels).length === 0);
  const count = finiteOrNull(h?.count ?? null);
  const sum = finiteOrNull(h?.sum ?? null);
  return count === null || sum === null ? null : summarize(count, sum);
}

function summarize(count: number, sum: number): HistogramSummary {
  return { count, sum, mean: count > 0 ? sum / count : null };
}

function finiteOrNull(n: number | null): number | null {
  return n !== null && Number.isFinite(n) ? n : null;
}

function sumOrNull(xs: readonly number[]): number | null {
  return xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0);
}

function meanOrNull(xs: readonly number[]): number | null {
  const sum = sumOrNull(xs);
  return sum === null ? null : sum / xs.length;
}

function maxOrNull(xs: readonly number[]): number | null {
  return xs.length === 0 ? null : xs.reduce((a, b) => (b > a ? b : a));
}

function minOrNull(xs: readonly number[]): number | null {
  return xs.length === 0 ? null : xs.reduce((a, b) => (b < a ? b : a));
}
