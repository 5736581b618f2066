/**
 * cluster_metrics through the SDK client, in memory: scrapes are recorded in the store as the
 * poller records them (the poller itself, over real HTTP: test/integration/metrics-poller.test.ts
 * and test/e2e/metrics-tools.test.ts).
 */
import { describe, expect, it } from "vitest";
import { callTool, toolError } from "../support/tool-calls.js";
import { METRICS_STALE_AFTER_MS, SYNCED_AT, useToolHarness } from "../support/tool-harness.js";

const harness = useToolHarness();

const OPERATOR = [
  "kafscale_operator_clusters 2",
  'kafscale_operator_etcd_snapshot_age_seconds{cluster="kafscale/a"} 12',
  'kafscale_operator_etcd_snapshot_age_seconds{cluster="kafscale/b"} 95',
  'kafscale_operator_etcd_snapshot_last_success_timestamp{cluster="kafscale/a"} 1795500000',
  'kafscale_operator_etcd_snapshot_stale{cluster="kafscale/b"} 1',
  'kafscale_operator_etcd_snapshot_access_ok{cluster="kafscale/a"} 1',
  'kafscale_operator_etcd_snapshot_access_ok{cluster="kafscale/b"} 0',
].join("\n");

describe("cluster_metrics", () => {
  it("says clearly that no metrics endpoint is configured", async () => {
    const { client } = await harness();
    expect(await toolError(client, "cluster_metrics")).toBe(
      "metrics provider not configured. Hint: set KAFSCALE_MCP_BROKER_METRICS_URL or KAFSCALE_MCP_BROKER_METRICS_URL_TEMPLATE on the service",
    );
  });

  it("says no metrics yet before the first scrape, and why once scrapes fail", async () => {
    const { client, failBroker } = await harness({ metricsConfigured: true });
    expect(await toolError(client, "cluster_metrics")).toBe(
      "no metrics yet: no broker scrape has succeeded. Hint: the first scrape runs within one scrape interval",
    );
    failBroker(0, "metrics request failed: 500 Internal Server Error");
    expect(await toolError(client, "cluster_metrics")).toBe(
      "no metrics yet: no broker scrape has succeeded. Hint: last scrape error: metrics request failed: 500 Internal Server Error",
    );
  });

  it("aggregates the brokers the console's way and keeps each broker's values", async () => {
    const { client, clock, scrapeBroker, failBroker, scrapeOperator } = await harness({ metricsConfigured: true });
    scrapeBroker(0);
    scrapeBroker(1, { s3State: "degraded", gauges: { s3_latency_ms_avg: 900 } });
    failBroker(2, "metrics request failed: 500 Internal Server Error");
    scrapeOperator(OPERATOR);
    clock.now += 1_000;
    const metrics = await callTool<Record<string, any>>(client, "cluster_metrics", { freshness: "full" });
    expect(metrics).toMatchObject({
      s3_state: "degraded",
      s3_latency_ms: Math.trunc((38.412 + 900) / 2),
      produce_rps: 2 * 1250.5,
      fetch_rps: 2 * 980.25,
      admin_requests_total: 2 * 13,
      admin_request_errors_total: 0,
      admin_request_latency_ms: 7.5,
      consumer_lag_max: 1200,
      observed_at: new Date(SYNCED_AT).toISOString(),
    });
    expect(metrics.brokers.map((b: any) => [b.node_id, b.s3_state, b.consecutive_failures])).toEqual([
      [0, "healthy", 0],
      [1, "degraded", 0],
      [2, null, 1],
    ]);
    expect(metrics.brokers[2]).toMatchObject({ last_error: "metrics request failed: 500 Internal Server Error", scraped_at: null });
    expect(metrics.operator).toMatchObject({
      clusters: 2,
      etcd_snapshot_age_seconds: 95,
      etcd_snapshot_stale: 1,
      etcd_snapshot_last_success: new Date(1795500000 * 1000).toISOString(),
      etcd_access_ok: 0,
      last_error: null,
    });
    expect(metrics.freshness).toMatchObject({
      metrics_scraped_at: new Date(SYNCED_AT).toISOString(),
      metrics_age_ms: 1_000,
      stale: false,
    });
  });

  it("keeps the last good values when scrapes fail, and marks them stale past the threshold", async () => {
    const { client, clock, scrapeBroker, failBroker } = await harness({ metricsConfigured: true });
    scrapeBroker(0, { s3State: "degraded" });
    clock.now += METRICS_STALE_AFTER_MS + 1_000;
    failBroker(0, "invalid metrics document: no valid samples; 3 malformed lines");
    const metrics = await callTool<Record<string, any>>(client, "cluster_metrics", { freshness: "full" });
    expect(metrics.s3_state).toBe("degraded");
    expect(metrics.brokers[0].last_error).toMatch(/^invalid metrics document/);
    expect(metrics.freshness).toMatchObject({ metrics_age_ms: METRICS_STALE_AFTER_MS + 1_000, stale: true });
    expect(metrics.freshness.stale_reasons).toContain("last good metrics scrape 36s ago");
  });

  it("answers before the etcd snapshot is ready: metrics do not come from etcd", async () => {
    const { client, scrapeBroker } = await harness({ cluster: null, metricsConfigured: true });
    scrapeBroker(0);
    const metrics = await callTool<Record<string, any>>(client, "cluster_metrics", { freshness: "full" });
    expect(metrics.s3_state).toBe("healthy");
    expect(metrics.freshness).toMatchObject({ revision: 0, stale: true });
    expect(metrics.freshness.stale_reasons).toContain("initial etcd sync not finished");
  });

  it("takes no arguments", async () => {
    const { client } = await harness({ metricsConfigured: true });
    expect(await toolError(client, "cluster_metrics", { broker: 1 })).toMatch(/Input validation error/);
  });
});
