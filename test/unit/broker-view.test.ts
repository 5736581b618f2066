import { describe, expect, it } from "vitest";
import {
  aggregateBrokerViews,
  deriveBrokerView,
  deriveOperatorView,
  s3StateFromNumbers,
  type BrokerView,
  type S3State,
} from "../../src/kafscale/broker-view.js";
import { parsePrometheusText, type Sample } from "../../src/sync/metrics/prom-text.js";
import { BROKER_METRICS_SAMPLE } from "../../src/demo/broker-metrics-sample.js";
import { brokerMetrics } from "../../src/demo/demo-metrics.js";

const fixture = BROKER_METRICS_SAMPLE;

function samplesOf(text: string): Sample[] {
  const r = parsePrometheusText(text);
  expect(r.errors).toEqual([]);
  return r.samples;
}

const fixtureView = deriveBrokerView(samplesOf(fixture));

describe("deriveBrokerView", () => {
  it("maps every field of the fixture", () => {
    expect(fixtureView).toEqual({
      s3State: "healthy",
      s3LatencyMs: 38.412,
      s3ErrorRate: 0,
      s3StateDurationSeconds: 3605.2219,
      produceRps: 1250.5,
      fetchRps: 980.25,
      adminRequestsTotal: 13,
      adminRequestErrorsTotal: 0,
      adminRequestLatencyMs: 7.5,
      consumerLagMax: 1200,
      cpuPercent: 12.75,
      memoryBytes: 52379648,
      uptimeSeconds: 3610.5,
      goroutines: 57,
      authzDeniedTotal: 2,
      produceLatencyMs: { count: 9, sum: 984, mean: 984 / 9 },
    } satisfies BrokerView);
  });

  it("reports every field as null (not 0) and the state as \"\" when nothing is reported", () => {
    const view = deriveBrokerView([]);
    expect(view.s3State).toBe("");
    for (const [key, value] of Object.entries(view)) {
      if (key !== "s3State") expect(value, key).toBeNull();
    }
  });

  const state = (label: string, value: string): string => `kafscale_s3_health_state{state="${label}"} ${value}`;
  it.each<[string, string[], S3State]>([
    ["one state at 1", [state("degraded", "1"), state("healthy", "0")], "degraded"],
    ["none at 1", [state("healthy", "0")], ""],
    ["several at 1: the worst", [state("healthy", "1"), state("unavailable", "1")], "unavailable"],
    ["unknown state label ignored", [state("weird", "1")], ""],
    ["value 1.000000", [state("unavailable", "1.000000")], "unavailable"],
    ["gauge reported, none at 1: the numbers do not override it", [state("healthy", "0"), "kafscale_s3_latency_ms_avg 4000"], ""],
    // Contract §5: without the state gauge, latency and error rate decide.
    ["no gauge, fast and clean: healthy", ["kafscale_s3_latency_ms_avg 38.4", "kafscale_s3_error_rate 0"], "healthy"],
    ["no gauge, latency 500 ms: degraded", ["kafscale_s3_latency_ms_avg 500"], "degraded"],
    ["no gauge, error rate 0.6: unavailable", ["kafscale_s3_error_rate 0.6", "kafscale_s3_latency_ms_avg 10"], "unavailable"],
    ["no gauge, no numbers", ["kafscale_produce_rps 5"], ""],
  ])("s3State: %s", (_case, lines, expected) => {
    expect(deriveBrokerView(samplesOf(lines.join("\n"))).s3State).toBe(expected);
  });

  it.each<[string, string, number | null]>([
    ["heap in use when > 0", "kafscale_broker_heap_inuse_bytes 10\nkafscale_broker_mem_alloc_bytes 20", 10],
    ["mem_alloc when heap is 0", "kafscale_broker_heap_inuse_bytes 0\nkafscale_broker_mem_alloc_bytes 20", 20],
    ["mem_alloc when heap is absent", "kafscale_broker_mem_alloc_bytes 20", 20],
    ["0 when heap is 0 and mem_alloc absent", "kafscale_broker_heap_inuse_bytes 0", 0],
    ["null when neither is reported", "kafscale_broker_goroutines 3", null],
  ])("memoryBytes: %s", (_case, text, expected) => {
    expect(deriveBrokerView(samplesOf(text)).memoryBytes).toBe(expected);
  });

  it("counts only the unlabeled authz total, not the per-pair breakdown", () => {
    const text = [
      'kafscale_authz_denied_total{action="fetch",resource="topic"} 4',
      "kafscale_authz_denied_total 7",
      'kafscale_authz_denied_total{action="produce",resource="topic"} 3',
    ].join("\n");
    expect(deriveBrokerView(samplesOf(text)).authzDeniedTotal).toBe(7);
    expect(deriveBrokerView(samplesOf(text.split("\n").slice(0, 1).join())).authzDeniedTotal).toBeNull();
  });

  it("treats NaN and Inf gauges as not reported, and skips them in sums and means", () => {
    const text = [
      "kafscale_s3_latency_ms_avg NaN",
      "kafscale_consumer_lag_max +Inf",
      'kafscale_admin_request_latency_ms_avg{api="a"} NaN',
      'kafscale_admin_request_latency_ms_avg{api="b"} 4',
    ].join("\n");
    const view = deriveBrokerView(samplesOf(text));
    expect(view.s3LatencyMs).toBeNull();
    expect(view.consumerLagMax).toBeNull();
    expect(view.adminRequestLatencyMs).toBe(4);
  });

  it("gives no produce latency mean when the count is 0", () => {
    const text = "kafscale_produce_latency_ms_sum 0\nkafscale_produce_latency_ms_count 0";
    expect(deriveBrokerView(samplesOf(text)).produceLatencyMs).toEqual({ count: 0, sum: 0, mean: null });
  });

  it("ignores unknown metrics", () => {
    expect(deriveBrokerView(samplesOf(`${fixture}\nsomething_else 5\nkafscale_new_metric{x="y"} 1\n`))).toEqual(
      fixtureView,
    );
  });
});

describe("s3StateFromNumbers", () => {
  it.each<[number | null, number | null, S3State]>([
    [38, 0, "healthy"],
    [499.9, 0.199, "healthy"],
    [500, 0, "degraded"],
    [10, 0.2, "degraded"],
    [2999, 0.59, "degraded"],
    [3000, 0, "unavailable"],
    [10, 0.6, "unavailable"],
    [600, 0.7, "unavailable"],
    [null, 0.3, "degraded"],
    [4000, null, "unavailable"],
    [null, null, ""],
    [Number.NaN, null, ""],
  ])("latency %s, error rate %s -> %j", (latency, errorRate, expected) => {
    expect(s3StateFromNumbers(latency, errorRate)).toBe(expected);
  });
});

describe("aggregateBrokerViews", () => {
  const degradedText = brokerMetrics({
    s3State: "degraded",
    gauges: { s3_latency_ms_avg: 761.588, s3_error_rate: 0.25, consumer_lag_max: 9000, broker_uptime_seconds: 120 },
  }).replace('latency_ms_avg{api="api_37"} 14.000', 'latency_ms_avg{api="api_37"} 2.000');
  const healthy = fixtureView;
  const degraded = deriveBrokerView(samplesOf(degradedText));
  const silent = deriveBrokerView([]);
  const all = aggregateBrokerViews([healthy, degraded, silent]);

  it("checks the degraded broker was built as intended", () => {
    expect(degraded).toMatchObject({ s3State: "degraded", s3LatencyMs: 761.588, adminRequestLatencyMs: 1.5 });
  });

  it.each<[keyof BrokerView, unknown]>([
    ["s3State", "degraded"],
    ["s3LatencyMs", (38.412 + 761.588) / 2],
    ["s3ErrorRate", 0.25],
    ["s3StateDurationSeconds", 3605.2219],
    ["produceRps", 2501],
    ["fetchRps", 1960.5],
    ["adminRequestsTotal", 26],
    ["adminRequestErrorsTotal", 0],
    ["adminRequestLatencyMs", (7.5 + 1.5) / 2],
    ["consumerLagMax", 9000],
    ["cpuPercent", 12.75],
    ["memoryBytes", 2 * 52379648],
    ["uptimeSeconds", 120],
    ["goroutines", 114],
    ["authzDeniedTotal", 4],
    ["produceLatencyMs", { count: 18, sum: 1968, mean: 1968 / 18 }],
  ])("over a healthy, a degraded and a silent broker: %s", (key, expected) => {
    expect(all[key]).toEqual(expected);
  });

  it.each<[S3State[], S3State]>([
    [["healthy", "unavailable", "degraded"], "unavailable"],
    [["", "healthy"], "healthy"],
    [["", ""], ""],
    [[], ""],
  ])("worst state of %j is %j", (states, expected) => {
    expect(aggregateBrokerViews(states.map((s3State) => ({ ...silent, s3State }))).s3State).toBe(expected);
  });

  it.each<[(number | null)[], number | null]>([
    [[0, 100, 300], 200],
    [[0, 0], 0],
    [[null, null], null],
    [[null, 50], 50],
  ])("mean S3 latency over brokers reporting > 0: %j -> %s", (latencies, expected) => {
    expect(aggregateBrokerViews(latencies.map((s3LatencyMs) => ({ ...silent, s3LatencyMs }))).s3LatencyMs).toBe(
      expected,
    );
  });

  it("returns the all-null view for no brokers", () => {
    expect(aggregateBrokerViews([])).toEqual(silent);
  });
});

describe("deriveOperatorView", () => {
  const text = [
    "# TYPE kafscale_operator_clusters gauge",
    "kafscale_operator_clusters 2",
    'kafscale_operator_snapshot_publish_total{result="success"} 40',
    'kafscale_operator_etcd_snapshot_age_seconds{cluster="kafscale/a"} 120',
    'kafscale_operator_etcd_snapshot_age_seconds{cluster="kafscale/b"} 7300',
    'kafscale_operator_etcd_snapshot_last_success_timestamp{cluster="kafscale/a"} 1.7e+09',
    'kafscale_operator_etcd_snapshot_last_success_timestamp{cluster="kafscale/b"} 1.69999e+09',
    'kafscale_operator_etcd_snapshot_last_schedule_timestamp{cluster="kafscale/a"} 1700000100',
    'kafscale_operator_etcd_snapshot_stale{cluster="kafscale/a"} 0',
    'kafscale_operator_etcd_snapshot_stale{cluster="kafscale/b"} 1',
    'kafscale_operator_etcd_snapshot_access_ok{cluster="kafscale/a"} 1',
    'kafscale_operator_etcd_snapshot_access_ok{cluster="kafscale/b"} 0',
  ].join("\n");

  it("takes max age, max timestamps, max stale and min access_ok", () => {
    expect(deriveOperatorView(samplesOf(text))).toEqual({
      clusters: 2,
      snapshotAgeSecondsMax: 7300,
      lastSuccessTimestampMax: 1.7e9,
      lastScheduleTimestampMax: 1700000100,
      staleMax: 1,
      accessOkMin: 0,
    });
  });

  it("is all null when the operator reports nothing (or we scraped a broker)", () => {
    expect(Object.values(deriveOperatorView(samplesOf(fixture))).every((v) => v === null)).toBe(true);
  });
});
