/** cluster_status through the SDK client, in memory, over the fixture cluster. */
import { describe, expect, it } from "vitest";
import { realisticCluster } from "../support/cluster.js";
import { callTool, toolError } from "../support/tool-calls.js";
import { sharedToolHarness, SYNCED_AT, useToolHarness } from "../support/tool-harness.js";

const harness = sharedToolHarness();
const freshHarness = useToolHarness();

describe("cluster_status", () => {
  it("summarises the snapshot: cluster, brokers, topics, counts, the etcd link, and freshness", async () => {
    const status = await callTool<Record<string, any>>(harness().client, "cluster_status", { freshness: "full" });
    expect(status).toMatchObject({
      cluster_name: "kafscale",
      cluster_id: realisticCluster.clusterId,
      controller_id: 0,
      topic_count: 3,
      partition_count: 6,
      topics_truncated: false,
      s3: { state: "", latency_ms: 0, error_rate: null, observed_at: null },
      etcd: { state: "connected" },
      observed_at: new Date(SYNCED_AT).toISOString(),
    });
    expect(status.brokers).toHaveLength(3);
    expect(status.brokers[0]).toMatchObject({ node_id: 0, port: 9092, rack: null });
    expect(status.topics.map((t: { name: string }) => t.name)).toEqual(["audit", "events", "orders"]);
    // The freshness block is every tool's: test/tools/common.test.ts.
    expect(status.freshness.revision).toBeGreaterThan(0);
    expect(status.etcd.revision).toBe(status.freshness.revision);
    expect(status.freshness.decode_errors).toBe(0);
  });

  it("limits the topic list with topic_limit", async () => {
    const limited = await callTool<Record<string, any>>(harness().client, "cluster_status", { topic_limit: 1 });
    expect(limited).toMatchObject({ topics: [{ name: "audit" }], topics_truncated: true, topic_count: 3 });
    // 0: the counts without a topic list.
    const countsOnly = await callTool<Record<string, any>>(harness().client, "cluster_status", { topic_limit: 0 });
    expect(countsOnly).toMatchObject({ topics: [], topics_truncated: true, topic_count: 3 });
    expect(await toolError(harness().client, "cluster_status", { topic_limit: -1 })).toMatch(/Input validation error/);
  });

  it("shows the S3 health of the scraped brokers, the worst state and the mean latency", async () => {
    const { client, scrapeBroker, clock } = await freshHarness({ metricsConfigured: true });
    scrapeBroker(0);
    scrapeBroker(1, { s3State: "degraded", gauges: { s3_latency_ms_avg: 900, s3_error_rate: 0.25 } });
    clock.now += 2_000;
    const status = await callTool<Record<string, any>>(client, "cluster_status", { freshness: "full" });
    expect(status.s3).toEqual({
      state: "degraded",
      latency_ms: Math.trunc((38.412 + 900) / 2),
      error_rate: 0.25,
      observed_at: new Date(SYNCED_AT).toISOString(),
    });
    expect(status.observed_at).toBe(new Date(SYNCED_AT + 2_000).toISOString());
  });

  it("reports the etcd link as measured, with the error kept free of endpoints", async () => {
    const { client, store, clock } = await freshHarness();
    clock.now += 5_000;
    store.syncState.setLink("reconnecting", clock.now, "14 UNAVAILABLE: connect ECONNREFUSED 10.0.3.7:2379");
    const status = await callTool<Record<string, any>>(client, "cluster_status", { freshness: "full" });
    expect(status.etcd.state).toBe("reconnecting");
    expect(status.freshness).toMatchObject({
      etcd_link: "reconnecting",
      etcd_link_since: new Date(clock.now).toISOString(),
      etcd_last_error: "14 UNAVAILABLE: connect ECONNREFUSED <endpoint>",
      age_ms: 5_000,
    });
  });
});
