/**
 * The broker /metrics exposition the demo serves: Kafscale's hand-written format (contract §5),
 * with per-broker variations so the demo shows aggregation (one broker degraded).
 */
import { BROKER_METRICS_SAMPLE } from "./broker-metrics-sample.js";

export type ReportedS3State = "healthy" | "degraded" | "unavailable";

/** Readings that differ from the sample. */
export interface BrokerReadings {
  /** The state whose `kafscale_s3_health_state` series is 1; the other two are 0. */
  s3State?: ReportedS3State;
  /** New values of unlabeled gauges, by name without `kafscale_` (printed with `%f`, as Kafscale does). */
  gauges?: Record<string, number>;
}

const STATES: readonly ReportedS3State[] = ["healthy", "degraded", "unavailable"];

/**
 * The sample exposition with some readings changed: the demo's brokers and the tests' healthy,
 * degraded and failing brokers all start from the one sample.
 * @throws Error when a gauge is not an unlabeled series of the sample (a typo would change nothing).
 */
export function brokerMetrics(readings: BrokerReadings = {}): string {
  let text = BROKER_METRICS_SAMPLE;
  if (readings.s3State) {
    for (const state of STATES) {
      text = text.replace(
        new RegExp(`^(kafscale_s3_health_state\\{state="${state}"\\}) .*$`, "m"),
        `$1 ${state === readings.s3State ? 1 : 0}`,
      );
    }
  }
  for (const [name, value] of Object.entries(readings.gauges ?? {})) {
    const line = new RegExp(`^kafscale_${name} .*$`, "m");
    if (!line.test(text)) throw new Error(`the broker sample has no unlabeled series kafscale_${name}`);
    text = text.replace(line, `kafscale_${name} ${value.toFixed(6)}`);
  }
  return text;
}

/** The exposition of demo broker `nodeId`: broker 2 is degraded (slow S3), the others healthy. */
export function demoBrokerMetrics(nodeId: number): string {
  if (nodeId !== 2) return brokerMetrics({ gauges: { produce_rps: 1250.5 + nodeId * 110 } });
  return brokerMetrics({ s3State: "degraded", gauges: { s3_latency_ms_avg: 742.1, s3_error_rate: 0.04 } });
}
