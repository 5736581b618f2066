/**
 * The tools over real HTTP against a service fed by a real etcd: what only the whole service can
 * show — the tools served at /mcp, freshness measured on a live etcd link, an etcd write visible in
 * the next answer, and no etcd request per tool call (answers keep coming, marked stale, when etcd
 * is gone). What each tool answers is tested in memory, in milliseconds: test/tools/.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { keys } from "../../src/kafscale/keys.js";
import { encodeNextOffset } from "../../src/kafscale/encode.js";
import { ALL_TOOLS } from "../../src/tools/index.js";
import { realisticCluster, testEtcd, writeCluster } from "../support/fixtures.js";
import { callTool, connectClient, startTestService, useClusterService } from "../support/service.js";
import { startEtcd } from "../../bench/lib/etcd-process.js";
import { testClock } from "../support/clock.js";

describe("MCP tools over streamable HTTP", () => {
  const { etcd, service } = useClusterService();
  let client: Client;
  beforeAll(async () => {
    client = await connectClient(service().url as string);
  });
  afterAll(async () => {
    await client?.close();
  });

  it("serves every registered observe tool (query_snapshot needs its own scope), fully annotated, at /mcp", async () => {
    const { tools } = await client.listTools();
    const observe = ALL_TOOLS.filter((t) => t.scope === "observe").map((t) => t.name);
    expect(observe).toContain("recent_changes");
    expect(tools.map((t) => t.name).sort()).toEqual(observe.sort());
    for (const tool of tools) expect(tool.annotations, tool.name).toMatchObject({ readOnlyHint: true, destructiveHint: false });
  });

  it("answers from what the sync read out of etcd, with freshness measured on the live link", async () => {
    const status = await callTool<Record<string, any>>(client, "cluster_status", { freshness: "full" });
    expect(status).toMatchObject({ cluster_id: realisticCluster.clusterId, topic_count: 3, etcd: { state: "connected" } });
    expect(status.freshness).toMatchObject({ source: "etcd", etcd_link: "connected", stale: false, decode_errors: 0 });
    expect(status.freshness.revision).toBeGreaterThan(0);
    expect(Date.parse(status.freshness.synced_at)).toBeLessThanOrEqual(Date.now());
  });

  it("shows an etcd change in the next answer", async () => {
    const res = await etcd.keyspace.put(keys.nextOffset("orders", 0)).value(encodeNextOffset(190)).exec();
    await service().sync?.waitForRevision(Number(res.header.revision));
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
