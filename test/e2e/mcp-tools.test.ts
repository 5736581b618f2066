/**
 * The eight v1 tools (and recent_changes) through the official SDK client over real HTTP, against a service fed by a real
 * etcd: every tool with and without its optional arguments, live changes, errors, and proof that
 * tool calls make no etcd requests.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { RunningService } from "../../src/service.js";
import { keys } from "../../src/kafscale/keys.js";
import { encodeNextOffset } from "../../src/kafscale/encode.js";
import { realisticCluster, testEtcd, writeCluster } from "../support/fixtures.js";
import { testClock } from "../support/clock.js";
import { callTool, connectClient, startTestService, toolError } from "../support/service.js";
import { startEtcd } from "../../bench/lib/etcd-process.js";

const V1_TOOLS = [
  "cluster_metrics",
  "cluster_status",
  "describe_configs",
  "describe_group",
  "describe_topics",
  "fetch_offsets",
  "list_groups",
  "list_topics",
];
/** Every tool a caller with the observe scope sees (query_snapshot needs its own scope). */
const OBSERVE_TOOLS = [...V1_TOOLS, "recent_changes"].sort();

describe("MCP tools over streamable HTTP", () => {
  const etcd = testEtcd();
  let service: RunningService;
  let client: Client;

  beforeAll(async () => {
    await writeCluster(etcd.keyspace, realisticCluster);
    service = await startTestService(etcd.endpoint, etcd.namespace);
    await service.sync?.ready();
    client = await connectClient(service.url as string);
  });
  afterAll(async () => {
    await client?.close();
    await service?.close();
    etcd.client.close();
  });

  it("lists exactly the read-only observe tools, each fully annotated, and no mutation tool", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(OBSERVE_TOOLS);
    for (const tool of tools) {
      expect(tool.annotations).toMatchObject({
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      });
      expect(tool.outputSchema?.type).toBe("object");
      expect(tool.inputSchema.additionalProperties).toBe(false);
      // One or two sentences an agent can act on: what, when to use it, what it costs.
      expect(tool.description?.length).toBeLessThan(220);
      expect(tool.description).toMatch(/\bUse\b/);
      expect(tool.name).not.toMatch(/create|delete|alter|update|put|write|drain|flush/);
    }
  });

  it("cluster_status summarises the snapshot with measured freshness", async () => {
    const status = await callTool<Record<string, any>>(client, "cluster_status");
    expect(status).toMatchObject({
      cluster_name: "kafscale",
      cluster_id: realisticCluster.clusterId,
      controller_id: 0,
      topic_count: 3,
      partition_count: 6,
      s3: { state: "", latency_ms: 0 },
      etcd: { state: "connected" },
    });
    expect(status.brokers).toHaveLength(3);
    expect(status.topics.map((t: { name: string }) => t.name)).toEqual(["audit", "events", "orders"]);
    expect(status.freshness).toEqual({
      source: "etcd",
      revision: expect.any(Number),
      age_ms: expect.any(Number),
      stale: false,
      stale_reasons: [],
    });
    expect(status.freshness.revision).toBeGreaterThan(0);
    const full = await callTool<Record<string, any>>(client, "cluster_status", { freshness: "full" });
    expect(full.freshness).toMatchObject({ source: "etcd", etcd_link: "connected", stale: false, decode_errors: 0 });
    const limited = await callTool<Record<string, any>>(client, "cluster_status", { topic_limit: 1 });
    expect(limited).toMatchObject({ topics: [{ name: "audit" }], topics_truncated: true });
  });

  it("structuredContent and the text content carry the same JSON", async () => {
    const result = await client.callTool({ name: "list_topics", arguments: {} });
    const text = (result.content as { type: string; text: string }[])[0];
    expect(text?.type).toBe("text");
    expect(JSON.parse(text?.text ?? "")).toEqual(result.structuredContent);
  });

  it("list_topics and describe_topics, with and without optional arguments, paged", async () => {
    const all = await callTool<Record<string, any>>(client, "list_topics");
    expect(all.topics).toEqual([
      { name: "audit", partition_count: 1, error_code: 0 },
      { name: "events", partition_count: 2, error_code: 0 },
      { name: "orders", partition_count: 3, error_code: 0 },
    ]);
    expect(all.truncated).toBe(false);
    const first = await callTool<Record<string, any>>(client, "list_topics", { limit: 2 });
    expect(first.topics).toHaveLength(2);
    expect(first.truncated).toBe(true);
    const rest = await callTool<Record<string, any>>(client, "list_topics", { limit: 2, cursor: first.next_cursor });
    expect(rest.topics.map((t: { name: string }) => t.name)).toEqual(["orders"]);

    const described = await callTool<Record<string, any>>(client, "describe_topics");
    expect(described.topics).toHaveLength(3);
    const some = await callTool<Record<string, any>>(client, "describe_topics", { names: ["orders", "nope"] });
    expect(some.topics[0]).toMatchObject({ name: "nope", error_code: 3, partitions: [] });
    expect(some.topics[1].partitions[0]).toEqual({
      partition: 0,
      leader_id: 0,
      leader_epoch: 0,
      replica_nodes: [0, 1, 2],
      isr_nodes: [0, 1, 2],
      offline_replicas: [],
      error_code: 0,
    });
    const nullNames = await callTool<Record<string, any>>(client, "describe_topics", { names: null });
    expect(nullNames.topics).toHaveLength(3);
  });

  it("list_groups and describe_group, including a group known only from its offsets", async () => {
    const { groups } = await callTool<Record<string, any>>(client, "list_groups");
    expect(groups.map((g: { group_id: string; state: string }) => [g.group_id, g.state])).toEqual([
      ["billing", "stable"],
      ["nightly-report", "empty"],
      ["rebalancing", "preparing_rebalance"],
    ]);
    const page = await callTool<Record<string, any>>(client, "list_groups", { limit: 2 });
    expect(page).toMatchObject({ truncated: true, groups: [{ group_id: "billing" }, { group_id: "nightly-report" }] });
    const last = await callTool<Record<string, any>>(client, "list_groups", { limit: 2, cursor: page.next_cursor });
    expect(last).toMatchObject({ truncated: false, groups: [{ group_id: "rebalancing" }] });
    const billing = await callTool<Record<string, any>>(client, "describe_group", { group_id: "billing" });
    expect(billing).toMatchObject({ group_id: "billing", state: "stable", generation_id: 3, has_metadata: true });
    expect(billing.members.map((m: { member_id: string }) => m.member_id)).toEqual(["m1", "m2"]);
    const nightly = await callTool<Record<string, any>>(client, "describe_group", { group_id: "nightly-report" });
    expect(nightly).toMatchObject({ state: "empty", has_metadata: false, members: [] });
    expect(await toolError(client, "describe_group", { group_id: "ghost" })).toBe(
      'consumer group "ghost" not found. Hint: list_groups shows the known groups',
    );
  });

  it("fetch_offsets marks uncommitted partitions and reports end offsets and lag", async () => {
    const all = await callTool<Record<string, any>>(client, "fetch_offsets", { group_id: "nightly-report" });
    expect(all.offsets).toEqual([
      { topic: "events", partition: 0, offset: 10, metadata: "", committed: true, committed_at: "2026-11-24T08:00:00Z", end_offset: 50, lag: 40 },
      { topic: "events", partition: 1, offset: -1, metadata: "", committed: false, committed_at: null, end_offset: 60, lag: null },
    ]);
    expect(all.total_lag).toBe(40);
    const filtered = await callTool<Record<string, any>>(client, "fetch_offsets", {
      group_id: "billing",
      topics: ["orders", "missing"],
    });
    expect(filtered.offsets.map((o: { lag: number }) => o.lag)).toEqual([10, 0, 50]);
    expect(filtered.unknown_topics).toEqual(["missing"]);
    // More partitions than a page: the most-lagging first, the rest on the next page.
    const paged = await callTool<Record<string, any>>(client, "fetch_offsets", { group_id: "billing", limit: 2 });
    expect(paged).toMatchObject({ truncated: true, total_lag: 60 });
    expect(paged.offsets.map((o: { partition: number }) => o.partition)).toEqual([2, 0]);
    const next = await callTool<Record<string, any>>(client, "fetch_offsets", {
      group_id: "billing",
      limit: 2,
      cursor: paged.next_cursor,
    });
    expect(next).toMatchObject({ truncated: false, total_lag: 60 });
    expect(next.offsets.map((o: { partition: number }) => o.partition)).toEqual([1]);
    expect(await toolError(client, "fetch_offsets", { group_id: "billing", topics: ["missing"] })).toMatch(
      /^unknown topic "missing"/,
    );
    expect(await toolError(client, "fetch_offsets", { group_id: "ghost" })).toMatch(/not found/);
  });

  it("describe_configs reports real configs and never invents missing values", async () => {
    const { configs } = await callTool<Record<string, any>>(client, "describe_configs");
    expect(configs.map((c: { name: string; exists: boolean }) => [c.name, c.exists])).toEqual([
      ["audit", false],
      ["events", true],
      ["orders", true],
    ]);
    expect(configs[0]).toEqual({
      name: "audit",
      exists: false,
      partitions: 1,
      replication_factor: null,
      retention_ms: null,
      retention_bytes: null,
      segment_bytes: null,
      created_at: null,
      config: {},
    });
    const one = await callTool<Record<string, any>>(client, "describe_configs", { topics: ["orders"] });
    expect(one.configs[0]).toMatchObject({ retention_ms: 86_400_000, retention_bytes: -1, config: {} });
    expect(await toolError(client, "describe_configs", { topics: ["nope"] })).toMatch(/unknown topic "nope"/);
  });

  it("cluster_metrics says clearly that no metrics endpoint is configured", async () => {
    expect(await toolError(client, "cluster_metrics")).toMatch(/^metrics provider not configured/);
  });

  it("rejects invalid arguments with an actionable tool error", async () => {
    expect(await toolError(client, "describe_group", {})).toMatch(/Input validation error/);
    expect(await toolError(client, "describe_group", { group_id: 42 })).toMatch(/Input validation error/);
    expect(await toolError(client, "list_topics", { limit: 0 })).toMatch(/Input validation error/);
    expect(await toolError(client, "list_topics", { bogus: true })).toMatch(/Input validation error/);
    expect(await toolError(client, "list_topics", { cursor: "not-a-cursor" })).toMatch(/^invalid cursor/);
    expect(await toolError(client, "describe_topics", { names: [""] })).toMatch(/Input validation error/);
  });

  it("shows an etcd change in the next answer", async () => {
    const res = await etcd.keyspace.put(keys.nextOffset("orders", 0)).value(encodeNextOffset(190)).exec();
    await service.sync?.waitForRevision(Number(res.header.revision));
    const { offsets, freshness } = await callTool<Record<string, any>>(client, "fetch_offsets", {
      group_id: "billing",
      topics: ["orders"],
    });
    expect(offsets[0]).toMatchObject({ end_offset: 190, lag: 100 });
    expect(freshness.revision).toBeGreaterThanOrEqual(Number(res.header.revision));
  });
});

describe("answers come from the snapshot, not from etcd", () => {
  it("makes no etcd requests per tool call, and keeps answering (marked stale) when etcd is gone", async () => {
    const etcd = await startEtcd();
    const { client: etcdClient, keyspace, namespace } = testEtcd(etcd.endpoint);
    await writeCluster(keyspace, realisticCluster);
    const clock = testClock();
    const service = await startTestService(
      etcd.endpoint,
      namespace,
      { KAFSCALE_MCP_LINK_PROBE_INTERVAL: "1h", KAFSCALE_MCP_STALE_AFTER: "30s" },
      { now: clock.now },
    );
    try {
      await service.sync?.ready();
      // The link probe is a Range request on a timer (1h here): wait for the watch to be confirmed
      // (its first probe done) so the count below sees tool calls only.
      await vi.waitFor(() => expect(service.store.syncState.get().phase).toBe("watching"), 10_000);
      const client = await connectClient(service.url as string);
      const rangeCalls = async (): Promise<number> => {
        const text = await (await fetch(etcd.metricsUrl)).text();
        const line = text.split("\n").find((l) => l.startsWith('grpc_server_started_total{grpc_method="Range"'));
        return Number(line?.split(" ").pop() ?? 0);
      };
      const before = await rangeCalls();
      for (let i = 0; i < 20; i++) {
        for (const [name, args] of [
          ["cluster_status", {}],
          ["list_topics", {}],
          ["describe_topics", {}],
          ["list_groups", {}],
          ["describe_group", { group_id: "billing" }],
          ["fetch_offsets", { group_id: "billing" }],
          ["describe_configs", {}],
        ] as const) {
          await callTool(client, name, args);
        }
      }
      expect(await rangeCalls()).toBe(before);

      await etcd.stop();
      clock.advance(31_000); // past KAFSCALE_MCP_STALE_AFTER, with no probe or watch confirming the snapshot since
      const status = await callTool<Record<string, any>>(client, "list_topics");
      expect(status.topics).toHaveLength(3);
      expect(status.freshness.stale).toBe(true);
      expect(status.freshness.stale_reasons).toContainEqual(expect.stringMatching(/not confirmed current/));
      expect(status.freshness.stale_reasons).toContainEqual(expect.stringMatching(/^etcd cannot be reached since/));
      const ready = await fetch(`${service.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { reason: string }).reason).toMatch(/stale/);
      await client.close();
    } finally {
      await service.close();
      etcdClient.close();
      await etcd.destroy();
    }
  });
});
