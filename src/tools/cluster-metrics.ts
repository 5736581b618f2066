import { z } from "zod";
import type { OperatorMetrics } from "../store/index.js";
import { aggregateOf, type BrokerView } from "../kafscale/broker-view.js";
import { ToolError } from "./errors.js";
import { inProse } from "./json-schema.js";
import { defineTool } from "./tool.js";

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

const extras = {
  s3_error_rate: z.number().nullable(),
  consumer_lag_max: z.number().nullable(),
  cpu_percent: z.number().nullable(),
  memory_bytes: z.number().nullable(),
};

function extrasOf(view: BrokerView): { [K in keyof typeof extras]: number | null } {
  return {
    s3_error_rate: view.s3ErrorRate,
    consumer_lag_max: view.consumerLagMax,
    cpu_percent: view.cpuPercent,
    memory_bytes: view.memoryBytes,
  };
}

function operatorOf(operator: OperatorMetrics) {
  const view = operator.view;
  const lastSuccess = view?.lastSuccessTimestampMax ?? null;
  return {
    clusters: view?.clusters ?? null,
    etcd_snapshot_age_seconds: view?.snapshotAgeSecondsMax ?? null,
    etcd_snapshot_stale: view?.staleMax ?? null,
    // The operator exports Unix seconds.
    etcd_snapshot_last_success: iso(lastSuccess === null ? null : lastSuccess * 1000),
    etcd_access_ok: view?.accessOkMin ?? null,
    scraped_at: iso(operator.scrapedAt),
    last_error: operator.state.consecutiveFailures > 0 ? operator.state.lastError : null,
  };
}

export const clusterMetrics = defineTool({
  name: "cluster_metrics",
  title: "Cluster metrics",
  description:
    "Last metrics scrape: S3 health and latency, produce/fetch rates, admin API totals, per broker; operator " +
    "etcd state. Use when S3, latency or load is in question (~1 KB/broker).",
  scope: "observe",
  needsSnapshot: false,
  input: {},
  output: {
    s3_state: z.string(),
    s3_latency_ms: z.number(),
    produce_rps: z.number(),
    fetch_rps: z.number(),
    admin_requests_total: z.number(),
    admin_request_errors_total: z.number(),
    admin_request_latency_ms: z.number(),
    observed_at: z.string(),
    ...extras,
    brokers: inProse(
      z.array(
        z.object({
          target: z.string(),
          node_id: z.number().nullable(),
          s3_state: z.string().nullable(),
          s3_latency_ms: z.number().nullable(),
          produce_rps: z.number().nullable(),
          fetch_rps: z.number().nullable(),
          ...extras,
          scraped_at: z.string().nullable(),
          last_error: z.string().nullable(),
          consecutive_failures: z.number(),
        }),
      ),
      "per target: target, node_id, the fields above (null until scraped), scraped_at, last_error, consecutive_failures",
    ),
    operator: inProse(
      z
        .object({
          clusters: z.number().nullable(),
          etcd_snapshot_age_seconds: z.number().nullable(),
          etcd_snapshot_stale: z.number().nullable(),
          etcd_snapshot_last_success: z.string().nullable(),
          etcd_access_ok: z.number().nullable(),
          scraped_at: z.string().nullable(),
          last_error: z.string().nullable(),
        })
        .nullable(),
      "null without operator URL; else clusters, etcd_snapshot_age_seconds, etcd_snapshot_stale (0/1), " +
        "etcd_snapshot_last_success, etcd_access_ok (0/1), scraped_at, last_error",
    ),
  },
  handler: (ctx) => {
    if (!ctx.metricsConfigured) {
      throw new ToolError(
        "metrics provider not configured",
        "set KAFSCALE_MCP_BROKER_METRICS_URL or KAFSCALE_MCP_BROKER_METRICS_URL_TEMPLATE on the service",
        404,
      );
    }
    const latest = ctx.store.metrics.latest();
    const agg = aggregateOf(latest);
    if (!latest || !agg || latest.observedAt === null) {
      const errors = latest?.targets.map((t) => t.state.lastError).filter((e): e is string => !!e) ?? [];
      throw new ToolError(
        "no metrics yet: no broker scrape has succeeded",
        errors.length > 0 ? `last scrape error: ${errors[0]}` : "the first scrape runs within one scrape interval",
        503,
      );
    }
    return {
      s3_state: agg.s3State,
      s3_latency_ms: Math.trunc(agg.s3LatencyMs ?? 0),
      produce_rps: agg.produceRps ?? 0,
      fetch_rps: agg.fetchRps ?? 0,
      admin_requests_total: agg.adminRequestsTotal ?? 0,
      admin_request_errors_total: agg.adminRequestErrorsTotal ?? 0,
      admin_request_latency_ms: agg.adminRequestLatencyMs ?? 0,
      observed_at: new Date(latest.observedAt).toISOString(),
      ...extrasOf(agg),
      brokers: latest.brokers.map((b) => ({
        target: b.target,
        node_id: b.nodeId,
        s3_state: b.view?.s3State ?? null,
        s3_latency_ms: b.view?.s3LatencyMs ?? null,
        produce_rps: b.view?.produceRps ?? null,
        fetch_rps: b.view?.fetchRps ?? null,
        ...(b.view ? extrasOf(b.view) : { s3_error_rate: null, consumer_lag_max: null, cpu_percent: null, memory_bytes: null }),
        scraped_at: iso(b.scrapedAt),
        last_error: b.state.consecutiveFailures > 0 ? b.state.lastError : null,
        consecutive_failures: b.state.consecutiveFailures,
      })),
      operator: latest.operator ? operatorOf(latest.operator) : null,
    };
  },
});
