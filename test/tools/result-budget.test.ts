/**
 * The result budget and paging (issue #13), through the SDK client: every answer stays within
 * KAFSCALE_MCP_MAX_RESULT_BYTES (text copy and structuredContent together), lists stop at the budget
 * and resume exactly where they stopped, an oversized item is split or clipped and flagged, and
 * fetch_offsets returns the most-lagging partitions first yet every partition exactly once — also
 * while commits move lag between two pages.
 */
import { describe, expect, it } from "vitest";
import type { ClusterSpec } from "../../src/demo/cluster-spec.js";
import { encodeCommittedOffset, encodeTopicConfig } from "../../src/kafscale/encode.js";
import { keys } from "../../src/kafscale/keys.js";
import type { KvChange } from "../../src/kafscale/records.js";
import { silentLogger } from "../../src/log.js";
import type { Store } from "../../src/store/index.js";
import { listTopics } from "../../src/tools/list-topics.js";
import { offsetPage } from "../../src/tools/offset-paging.js";
import { IN_MEMORY_PARTITIONS, offsetSource } from "../../src/tools/offset-source.js";
import { runTool } from "../../src/tools/tool.js";
import { useCleanups } from "../support/harness.js";
import { AT, allPages, answer, toolFixture } from "./support.js";

const BUDGET = 60_000;
const GROUP = "wide-consumers";
const WIDE_TOPICS = 50;
const WIDE_PARTITIONS = 100;

const topicName = (t: number): string => `wide-${String(t).padStart(2, "0")}`;
const endOffset = (t: number, p: number): number => 1_000_000 + t * 1_000 + p;

/**
 * 50 topics × 100 partitions, all consumed by one group: every tenth partition never committed,
 * every third caught up (lag 0), the others behind by a distinct amount.
 */
function committed(t: number, p: number): number | null {
  if (p % 10 === 0) return null;
  if (p % 3 === 0) return endOffset(t, p);
  return endOffset(t, p) - (((t * 7919 + p * 104_729) % 99_991) + 1);
}

const wideCluster: ClusterSpec = {
  clusterName: "wide",
  clusterId: "wide-0001",
  brokers: 3,
  at: "2026-11-24T08:00:00Z",
  topics: Array.from({ length: WIDE_TOPICS }, (_, t) => ({
    name: topicName(t),
    partitions: WIDE_PARTITIONS,
    config: { retentionMs: 86_400_000 },
    endOffsets: Array.from({ length: WIDE_PARTITIONS }, (_, p) => endOffset(t, p)),
  })),
  groups: [
    {
      id: GROUP,
      offsets: Object.fromEntries(
        Array.from({ length: WIDE_TOPICS }, (_, t) => [topicName(t), Array.from({ length: WIDE_PARTITIONS }, (_, p) => committed(t, p))]),
      ),
    },
  ],
};

interface Row {
  topic: string;
  partition: number;
  lag: number | null;
}

const keyOf = (r: { topic: string; partition: number }): string => `${r.topic}/${r.partition}`;

/** Asserts that `rows` hold every partition of the wide group exactly once. */
function expectEveryPartitionOnce(rows: Row[]): void {
  const seen = rows.map(keyOf);
  expect(new Set(seen).size).toBe(seen.length);
  expect(seen.length).toBe(WIDE_TOPICS * WIDE_PARTITIONS);
}

/** Puts a committed offset through the writer, as the etcd watcher would apply it. */
function commit(store: Store, topic: string, partition: number, offset: number, metadata = ""): void {
  const revision = store.syncState.get().revision + 1;
  const change: KvChange = {
    type: "put",
    key: keys.committedOffset(GROUP, topic, partition),
    value: encodeCommittedOffset({ offset, metadata, committedAt: "2026-11-24T08:00:01Z" }),
    modRevision: revision,
    createRevision: revision,
    version: 2,
    lease: "0",
  };
  store.writer.applyChanges([change], revision, AT);
}

describe("result budget and paging", () => {
  const h = useCleanups();

  it("pages a 5,000-partition group most-lagging first, every partition exactly once, with the group's totals", async () => {
    const { client } = await toolFixture(h, wideCluster);
    const pages = await allPages(client, "fetch_offsets", { group_id: GROUP }, BUDGET);
    const rows = pages.flatMap((p) => p.offsets as Row[]);
    expectEveryPartitionOnce(rows);

    const all = wideCluster.topics.flatMap((t, ti) =>
      Array.from({ length: WIDE_PARTITIONS }, (_, p) => {
        const c = committed(ti, p);
        return { topic: t.name, partition: p, lag: c === null ? null : endOffset(ti, p) - c };
      }),
    );
    const totalLag = all.reduce((sum, r) => sum + (r.lag ?? 0), 0);
    const byLag = all.filter((r) => (r.lag ?? 0) > 0).sort((a, b) => (b.lag ?? 0) - (a.lag ?? 0));
    // The first page: the 100 most-lagging partitions, most first; then the rest by topic and partition.
    expect(pages[0]?.offsets.map(keyOf)).toEqual(byLag.slice(0, 100).map(keyOf));
    const rest = rows.slice(100).map(keyOf);
    expect(rest).toEqual(all.filter((r) => !new Set(byLag.slice(0, 100).map(keyOf)).has(keyOf(r))).map(keyOf));
    for (const page of pages) {
      expect(page.total_lag).toBe(totalLag);
      expect(page.summary).toMatchObject({
        partitions: 5_000,
        committed: all.filter((r) => r.lag !== null).length,
        topic_count: WIDE_TOPICS,
        max_lag: { topic: byLag[0]?.topic, partition: byLag[0]?.partition, lag: byLag[0]?.lag },
      });
      expect(page.summary.by_topic).toHaveLength(10);
    }
    const topicTotals = pages[0]?.summary.by_topic.map((t: { total_lag: number }) => t.total_lag);
    expect(topicTotals).toEqual([...topicTotals].sort((a, b) => b - a));
  });

  it("returns every partition exactly once while commits move lag between pages", async () => {
    const { client, store } = await toolFixture(h, wideCluster);
    const ten = wideCluster.topics.slice(0, 10).map((t) => t.name);
    let step = 0;
    const pages = await allPages(client, "fetch_offsets", { group_id: GROUP, topics: ten, limit: 40 }, BUDGET, () => {
      // Each page boundary: partitions jump to the top of the lag order, fall to zero lag, get committed
      // for the first time — partitions already sent and partitions still to come alike.
      for (let i = 0; i < 30; i++) {
        step++;
        const t = (step * 3) % 10;
        const p = (step * 37) % WIDE_PARTITIONS;
        const offset = step % 2 === 0 ? endOffset(t, p) : endOffset(t, p) - 5_000_000 - step;
        commit(store, topicName(t), p, Math.max(0, offset));
      }
    });
    // Three pages of the lag-ordered head (100 partitions), then the rest.
    expect(pages.length).toBe(25);
    const seen = pages.flatMap((p) => (p.offsets as Row[]).map(keyOf));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.sort()).toEqual(ten.flatMap((t) => Array.from({ length: WIDE_PARTITIONS }, (_, p) => `${t}/${p}`)).sort());
  });

  it("reads a large group in SQL and a small one in memory, with the same answers", async () => {
    const { store } = await toolFixture(h, wideCluster);
    const topics = wideCluster.topics.slice(0, 12).map((t) => t.name);
    // Two partitions tied at the largest lag: ties are ordered the same way too.
    commit(store, topicName(5), 2, endOffset(5, 2) - 777_777);
    commit(store, topicName(3), 7, endOffset(3, 7) - 777_777);
    const pagesOf = (inMemoryUpTo: number) => {
      const pages: { lags: unknown; offsets: unknown; fields: unknown }[] = [];
      let cursor: string | undefined;
      do {
        const source = offsetSource(store.reads, GROUP, topics, inMemoryUpTo);
        const page = offsetPage(source, { cursor, limit: 35 });
        pages.push({ lags: source.lags(), offsets: page.offsets, fields: page.fields });
        cursor = page.fields.next_cursor as string | undefined;
      } while (cursor !== undefined);
      return pages;
    };
    const inMemory = pagesOf(IN_MEMORY_PARTITIONS);
    expect(inMemory.length).toBe(Math.ceil((12 * WIDE_PARTITIONS) / 35));
    expect(pagesOf(0)).toEqual(inMemory);
  });

  it("ends a page at the budget when the limit allows more, says how many were left out, and resumes exactly", async () => {
    const { client } = await toolFixture(h, wideCluster);
    const pages = await allPages(client, "fetch_offsets", { group_id: GROUP, limit: 20_000 }, BUDGET);
    expectEveryPartitionOnce(pages.flatMap((p) => p.offsets as Row[]));
    // One page can carry at most about 180 rows in 60 KB.
    expect(pages.length).toBeGreaterThan(20);
    for (const page of pages.slice(0, -1)) expect(page.left_out).toBeGreaterThan(0);
  });

  it("never sends a 5 MB committed metadata whole, and pages on past it", async () => {
    const { client, store } = await toolFixture(h, wideCluster);
    commit(store, topicName(0), 1, 5, "m".repeat(5_000_000));
    const pages = await allPages(client, "fetch_offsets", { group_id: GROUP, topics: [topicName(0)] }, BUDGET);
    const rows = pages.flatMap((p) => p.offsets as (Row & { metadata: string })[]);
    expect(rows.map(keyOf)).toHaveLength(WIDE_PARTITIONS);
    expect(new Set(rows.map(keyOf)).size).toBe(WIDE_PARTITIONS);
    const big = rows.find((r) => r.partition === 1);
    expect(big?.metadata.length).toBeGreaterThan(0);
    expect(big?.metadata.length).toBeLessThan(BUDGET / 2);
  });

  it("clips any other oversized value (a 5 MB topic config entry) and flags the answer", async () => {
    const { client, store } = await toolFixture(h, wideCluster);
    const revision = store.syncState.get().revision + 1;
    store.writer.applyChanges(
      [
        {
          type: "put",
          key: keys.topicConfig(topicName(3)),
          value: encodeTopicConfig({
            name: topicName(3),
            partitions: WIDE_PARTITIONS,
            replicationFactor: 3,
            retentionMs: -1,
            retentionBytes: -1,
            segmentBytes: 0,
            createdAt: "2026-11-24T08:00:00Z",
            config: { "cleanup.policy": "compact", note: "x".repeat(5_000_000) },
          }),
          modRevision: revision,
          createRevision: revision,
          version: 2,
          lease: "0",
        },
      ],
      revision,
      AT,
    );
    const pages = await allPages(client, "describe_configs", {}, BUDGET);
    const configs = pages.flatMap((p) => p.configs as { name: string; config: Record<string, string> }[]);
    expect(configs.map((c) => c.name)).toEqual(wideCluster.topics.map((t) => t.name));
    const clipped = pages.find((p) => p.clipped === true);
    expect(clipped?.configs.map((c: { name: string }) => c.name)).toEqual([topicName(3)]);
    expect(clipped?.configs[0].config["cleanup.policy"]).toBe("compact");
    expect(clipped?.configs[0].config.note.length).toBeLessThan(BUDGET / 2);
    expect(pages.filter((p) => p.clipped === true)).toHaveLength(1);
  });

  it("splits a 10,000-partition topic across pages, each partition exactly once", async () => {
    const { client } = await toolFixture(h, {
      ...wideCluster,
      topics: [{ name: "huge", partitions: 10_000 }],
      groups: [],
    });
    const pages = await allPages(client, "describe_topics", { names: ["huge"] }, BUDGET);
    const partitions = pages.flatMap((p) => p.topics.flatMap((t: { partitions: { partition: number }[] }) => t.partitions));
    expect(partitions.map((p) => p.partition)).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    expect(pages[0]?.topics[0]).toMatchObject({
      name: "huge",
      partition_count: 10_000,
      leaders: { "0": 3334, "1": 3333, "2": 3333 },
      offline_partitions: 0,
    });
    const summaries = await answer(client, "describe_topics", { names: ["huge"], partitions: false });
    expect(summaries.data.topics[0].partitions).toBeUndefined();
    expect(summaries.bytes).toBeLessThan(1_000);
  });

  it("pages topic partitions across topics in order, and topic summaries without partitions by default", async () => {
    const { client } = await toolFixture(h, wideCluster);
    const pages = await allPages(client, "describe_topics", { partitions: true }, BUDGET);
    const seen = pages.flatMap((p) =>
      p.topics.flatMap((t: { name: string; partitions: { partition: number }[] }) => t.partitions.map((q) => `${t.name}/${q.partition}`)),
    );
    expect(seen).toEqual(wideCluster.topics.flatMap((t) => Array.from({ length: WIDE_PARTITIONS }, (_, p) => `${t.name}/${p}`)));
    const summaries = await answer(client, "describe_topics");
    expect(summaries.data.topics).toHaveLength(WIDE_TOPICS);
    expect(summaries.data.topics.every((t: { partitions?: unknown }) => t.partitions === undefined)).toBe(true);
  });

  it("keeps every answer within a smaller configured budget", async () => {
    const budget = 4_096;
    const { client } = await toolFixture(h, wideCluster, { mcpMaxBytes: budget });
    const topics = await allPages(client, "list_topics", { limit: 1_000 }, budget);
    expect(topics.flatMap((p) => p.topics.map((t: { name: string }) => t.name))).toEqual(wideCluster.topics.map((t) => t.name));
    const configs = await allPages(client, "describe_configs", {}, budget);
    expect(configs.flatMap((p) => p.configs)).toHaveLength(WIDE_TOPICS);
    for (const tool of ["cluster_status", "cluster_metrics", "list_groups", "describe_topics"]) {
      expect((await answer(client, tool)).bytes, tool).toBeLessThanOrEqual(budget);
    }
    // Here the group's lag summary takes much of a page: pages carry a few rows, and still every
    // partition once.
    const three = wideCluster.topics.slice(0, 3).map((t) => t.name);
    const offsets = await allPages(client, "fetch_offsets", { group_id: GROUP, topics: three }, budget);
    const seen = offsets.flatMap((p) => p.offsets.map(keyOf));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toHaveLength(3 * WIDE_PARTITIONS);
  });

  it("gives REST its own, larger budget and the full freshness block", async () => {
    const { ctx } = await toolFixture(h, {
      ...wideCluster,
      topics: Array.from({ length: 2_000 }, (_, i) => ({ name: `t-${String(i).padStart(4, "0")}`, partitions: 1 })),
      groups: [],
    });
    const rest = await runTool(listTopics, ctx, { limit: 1_000 }, silentLogger, "rest");
    const body = rest.result.structuredContent as Record<string, any>;
    expect(body.topics).toHaveLength(1_000);
    expect(body).toMatchObject({ truncated: true, freshness: { etcd_link: "connected", decode_errors: 0 } });
    expect(body.left_out).toBeUndefined();
    const mcp = await runTool(listTopics, ctx, { limit: 1_000 }, silentLogger, "mcp-http");
    const cut = mcp.result.structuredContent as Record<string, any>;
    expect(Buffer.byteLength(JSON.stringify(mcp.result))).toBeLessThanOrEqual(BUDGET);
    expect(cut.topics.length + cut.left_out).toBe(1_000);
    expect(cut.freshness.etcd_link).toBeUndefined();
  });

  it("refuses a cursor it did not make, with a hint", async () => {
    const { client } = await toolFixture(h, wideCluster);
    const first = await answer(client, "fetch_offsets", { group_id: GROUP, topics: [topicName(0)], limit: 10 });
    const [hashes] = (first.data.next_cursor as string).split(".");
    for (const cursor of ["garbage", `${hashes}.x.`, `${hashes}AAAA.h.`, `${hashes}.r.bm90LWpzb24`, `${hashes}.r.W10`, "a.b.c.d"]) {
      const result = await client.callTool({ name: "fetch_offsets", arguments: { group_id: GROUP, cursor } });
      expect(result.isError, cursor).toBe(true);
      expect((result.content as { text: string }[])[0]?.text, cursor).toMatch(/^invalid cursor\. Hint: pass next_cursor exactly/);
    }
    const topics = await client.callTool({ name: "describe_topics", arguments: { cursor: first.data.next_cursor } });
    expect((topics.content as { text: string }[])[0]?.text).toMatch(/^invalid cursor/);
  });

  it("answers a compact freshness block by default and the full one on request", async () => {
    const { client } = await toolFixture(h, wideCluster);
    const compact = await answer(client, "list_topics", { limit: 1 });
    expect(compact.data.freshness).toEqual({ source: "etcd", revision: expect.any(Number), age_ms: 1_000, stale: false, stale_reasons: [] });
    const full = await answer(client, "list_topics", { limit: 1, freshness: "full" });
    expect(full.data.freshness).toMatchObject({
      ...compact.data.freshness,
      synced_at: new Date(AT).toISOString(),
      etcd_link: "connected",
      decode_errors: 0,
    });
    expect(full.bytes - compact.bytes).toBeGreaterThan(300);
  });
});
