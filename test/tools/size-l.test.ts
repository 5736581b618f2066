/**
 * Answers at the benchmark's size L (10,000 topics, 100,000 partitions, 2,000 groups), generated as
 * bench/ generates it. To keep the test fast the keys go straight into the snapshot through the
 * writer (the initial-load path of the etcd watcher) instead of through etcd; calls go through the
 * SDK client and server in memory, with the service's default result budget.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answerCalls } from "../../bench/lib/answer-calls.js";
import { generateCluster, type GeneratedCluster } from "../../bench/lib/generator.js";
import type { InMemoryTools } from "../../bench/lib/in-memory-tools.js";
import { connectInMemory } from "../../bench/lib/in-memory-tools.js";
import { SHAPES } from "../../bench/lib/sizes.js";
import { snapshotStore } from "../../bench/lib/snapshot-store.js";
import type { Store } from "../../src/store/index.js";
import { AT, allPages, answer } from "./support.js";

const BUDGET = 60_000;

describe("answers at size L", () => {
  let cluster: GeneratedCluster;
  let store: Store;
  let tools: InMemoryTools;

  beforeAll(async () => {
    cluster = generateCluster(SHAPES.L);
    store = await snapshotStore(cluster.kvs, cluster.spec.brokers, AT);
    // With verdicts, as the service answers: the lag fields make describe_group and fetch_offsets
    // answers larger, and consumer_lag has groups to list.
    store.lag.evaluator.runNow();
    tools = await connectInMemory(store, { now: () => AT + 1_000 });
    // Generating and loading 324k keys and one evaluation take about 30 s of CPU; on a machine shared
    // with other work the wall time can be several times that.
  }, 900_000);
  afterAll(async () => {
    await tools?.close();
    store?.close();
  });

  it("answers every tool with its default arguments within the budget", { timeout: 120_000 }, async () => {
    expect(store.reads.clusterOverview()).toMatchObject({ topic_count: 10_000, partition_count: 100_000 });
    for (const call of answerCalls(cluster)) {
      const { data, bytes } = await answer(tools.client, call.tool, call.args);
      expect(bytes, call.label).toBeLessThanOrEqual(BUDGET);
      expect(data.freshness, call.label).toMatchObject({ stale: false });
    }
    const lag = await answer(tools.client, "consumer_lag", {});
    expect(lag.data.groups).toHaveLength(20);
  });

  it("stays within the budget with the largest arguments each tool accepts", { timeout: 120_000 }, async () => {
    const h = cluster.handles;
    const someTopics = cluster.spec.topics.slice(0, 1_000).map((t) => t.name);
    const largest: [string, Record<string, unknown>][] = [
      ["cluster_status", { topic_limit: 10_000, freshness: "full" }],
      ["list_topics", { limit: 10_000 }],
      ["describe_topics", { limit: 1_000, partitions: true }],
      ["describe_topics", { names: someTopics, limit: 1_000 }],
      ["list_groups", { limit: 10_000 }],
      ["fetch_offsets", { group_id: h.firehoseGroup, limit: 20_000 }],
      ["describe_configs", { limit: 10_000 }],
      ["describe_configs", { topics: someTopics, limit: 10_000 }],
    ];
    for (const [tool, args] of largest) {
      const { data, bytes } = await answer(tools.client, tool, args);
      expect(bytes, tool).toBeLessThanOrEqual(BUDGET);
      expect(data.truncated ?? data.topics_truncated, tool).toBe(true);
      if (tool !== "cluster_status") expect(data.left_out, tool).toBeGreaterThan(0);
    }
  });

  it("pages list_topics through all 10,000 topics, each exactly once", { timeout: 300_000 }, async () => {
    const names = cluster.spec.topics.map((t) => t.name).sort();
    const byDefault = await allPages(tools.client, "list_topics", {}, BUDGET);
    expect(byDefault).toHaveLength(100);
    expect(byDefault.flatMap((p) => p.topics.map((t: { name: string }) => t.name))).toEqual(names);
    // Pages the budget ends early resume exactly after their last topic.
    const budgetCut = await allPages(tools.client, "list_topics", { limit: 10_000 }, BUDGET);
    expect(budgetCut.length).toBeGreaterThan(10);
    expect(budgetCut.flatMap((p) => p.topics.map((t: { name: string }) => t.name))).toEqual(names);
  });
});
