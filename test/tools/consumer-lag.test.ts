/**
 * consumer_lag through the official SDK client linked in memory to the real MCP server
 * (InMemoryTransport), over a real SQLite store fed through the real writer on a test clock: no etcd,
 * no HTTP, and the SDK still validates every answer against the published output schema. The
 * scripted end-to-end stories are in test/e2e/consumer-lag.test.ts; this file covers the answer's
 * shape, its errors, paging over many groups and the topic filter's sums.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { describe, expect, it } from "vitest";
import { connectInMemory } from "../../bench/lib/in-memory-tools.js";
import { buildClusterKvs, type ClusterSpec } from "../../src/demo/cluster-spec.js";
import { createStore, type Store } from "../../src/store/index.js";
import { applyToStore, commitWrite, endWrite, type LagWrite } from "../support/lag-script.js";
import { useCleanups } from "../support/harness.js";

const { defer, closeAfterTest } = useCleanups();

const T0 = Date.parse("2026-11-26T10:00:00Z");

const GROUPS = 23;
const groupName = (i: number) => `g-${String(i).padStart(2, "0")}`;

/** 23 groups on one topic each (plus all of them on "shared"), lags 10 × i, loaded at T0. */
const spec: ClusterSpec = {
  clusterName: "lag",
  clusterId: "lag-tool",
  brokers: 1,
  topics: [
    ...Array.from({ length: GROUPS }, (_, i) => ({ name: `t-${i}`, partitions: 1, endOffsets: [1000] })),
    { name: "shared", partitions: 2, endOffsets: [500, 500] },
  ],
  groups: Array.from({ length: GROUPS }, (_, i) => ({
    id: groupName(i),
    offsets: { [`t-${i}`]: [1000 - 10 * i], shared: [500 - i, 500] },
  })),
  at: new Date(T0).toISOString(),
};

interface Connected {
  client: Client;
  store: Store;
  clock: { now: number };
  write(seconds: number, ...writes: LagWrite[]): void;
}

async function connected(options: { evaluate?: boolean; mcpMaxBytes?: number } = {}): Promise<Connected> {
  const clock = { now: T0 };
  const store = createStore(":memory:", { now: () => clock.now });
  closeAfterTest(store);
  const load = store.writer.beginResync();
  await load.addPage(
    buildClusterKvs(spec).map((kv) => ({ type: "put", key: kv.key, value: kv.value, modRevision: 1, createRevision: 1, version: 1, lease: "0" })),
    1,
  );
  await load.commit(1);
  if (options.evaluate !== false) await store.lag.evaluator.run();
  const tools = await connectInMemory(store, {
    now: () => clock.now,
    metricsConfigured: false,
    mcpMaxBytes: options.mcpMaxBytes,
  });
  const { client } = tools;
  defer(() => tools.close());
  // Listing the tools makes the client validate every answer against the published output schema.
  await client.listTools();
  let revision = 1;
  return {
    client,
    store,
    clock,
    write: (seconds, ...writes) => {
      clock.now = T0 + seconds * 1000;
      applyToStore(store, writes, ++revision, clock.now);
    },
  };
}

async function call(client: Client, args: Record<string, unknown> = {}): Promise<any> {
  const result = await client.callTool({ name: "consumer_lag", arguments: args });
  if (result.isError) throw new Error((result.content as { text: string }[])[0]?.text);
  return result.structuredContent;
}

async function error(client: Client, args: Record<string, unknown>): Promise<string> {
  const result = await client.callTool({ name: "consumer_lag", arguments: args });
  expect(result.isError).toBe(true);
  return (result.content as { text: string }[])[0]?.text ?? "";
}

describe("consumer_lag through the SDK client", () => {
  it("says so, retryably, before the first evaluation", async () => {
    const { client } = await connected({ evaluate: false });
    expect(await error(client, {})).toBe("lag not evaluated yet: the first evaluation is running. Hint: retry in a few seconds");
  });

  it("answers every group with the full shape, valid against its output schema", async () => {
    const { client } = await connected();
    const answer = await call(client, { group: groupName(3) });
    expect(answer).toMatchObject({
      evaluated_at: new Date(T0).toISOString(),
      evaluated_revision: 1,
      window_seconds: 150,
      truncated: false,
    });
    expect(answer.groups).toEqual([
      {
        group_id: "g-03",
        status: "OK",
        total_lag: 33,
        max_lag: { topic: "t-3", partition: 0, lag: 30 },
        time_lag_seconds: null, // one end-offset point each: too few to tell when the end passed
        trend: "unknown",
        velocity: null,
        time_to_catch_up_seconds: null,
        partitions: { total: 3, OK: 3, WARN: 0, STALL: 0, STOP: 0, REWIND: 0, UNKNOWN: 0 },
        worst_partitions: [],
        window: { from: new Date(T0).toISOString(), to: new Date(T0).toISOString(), points: 6, complete: false },
      },
    ]);
  });

  it("pages through many groups exactly once: the first page in order, the rest by group_id", async () => {
    const { client } = await connected();
    const seen: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await call(client, { sort: "lag", limit: 10, ...(cursor ? { cursor } : {}) });
      seen.push(page.groups.map((g: any) => g.group_id));
      cursor = page.next_cursor;
    } while (cursor !== undefined);
    // Most lag first on the first page (g-22 is 220 + 22 behind), then by id without those.
    expect(seen[0]).toEqual(Array.from({ length: 10 }, (_, k) => groupName(GROUPS - 1 - k)));
    expect(seen.flat().sort()).toEqual(Array.from({ length: GROUPS }, (_, i) => groupName(i)));
    expect(seen.slice(1).flat()).toEqual(Array.from({ length: GROUPS - 10 }, (_, i) => groupName(i)));
  });

  it("ends a page where the result budget is spent, and the cursor still returns every group once", async () => {
    const maxBytes = 5000;
    const { client } = await connected({ mcpMaxBytes: maxBytes });
    const pages: any[] = [];
    let cursor: string | undefined;
    do {
      const result = await client.callTool({ name: "consumer_lag", arguments: { sort: "lag", limit: 10, ...(cursor ? { cursor } : {}) } });
      expect(result.isError).toBeFalsy();
      expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThanOrEqual(maxBytes);
      const page = result.structuredContent as any;
      expect(page.clipped).toBeUndefined();
      pages.push(page);
      cursor = page.next_cursor;
      if (pages.length > GROUPS) throw new Error("paging does not end");
    } while (cursor !== undefined);
    // A page of 10 does not fit: the first page is cut short, in lag order, and says how many it held back.
    expect(pages[0].groups.length).toBeLessThan(10);
    expect(pages[0].left_out).toBe(10 - pages[0].groups.length);
    expect(pages[0].groups.map((g: any) => g.group_id)).toEqual(
      Array.from({ length: pages[0].groups.length }, (_, k) => groupName(GROUPS - 1 - k)),
    );
    const seen = pages.flatMap((p) => p.groups.map((g: any) => g.group_id));
    expect([...seen].sort()).toEqual(Array.from({ length: GROUPS }, (_, i) => groupName(i)));
  });

  it("sums one topic's partitions per group with the topic filter", async () => {
    const { client } = await connected();
    const shared = await call(client, { topic: "shared", sort: "lag", limit: 2 });
    expect(shared.groups.map((g: any) => [g.group_id, g.total_lag, g.partitions.total])).toEqual([
      ["g-22", 22, 2],
      ["g-21", 21, 2],
    ]);
    expect((await call(client, { topic: "t-5" })).groups.map((g: any) => g.group_id)).toEqual(["g-05"]);
  });

  it("filters by status and minimum lag, and judges a STOP by time alone", async () => {
    const { client, store, clock } = await connected();
    clock.now = T0 + 151_000;
    await store.lag.evaluator.run();
    const stopped = await call(client, { status: "ERR", min_lag: 200, limit: 100 });
    expect(stopped.groups.map((g: any) => g.group_id)).toEqual(["g-22", "g-21", "g-20", "g-19"]); // 10 × i + i ≥ 200
    expect(stopped.groups[0].worst_partitions[0]).toEqual({
      topic: "t-22",
      partition: 0,
      status: "STOP",
      lag: 220,
      time_lag_seconds: null,
      reason: "no commit since 2026-11-26T10:00:00Z while 220 behind",
    });
    // g-00 has nothing to consume on t-0 and "shared"/1: idle, OK; "shared"/0 is not behind either.
    expect((await call(client, { group: "g-00" })).groups[0].status).toBe("OK");
  });

  it("refuses unknown groups and topics, bad arguments and another query's cursor", async () => {
    const { client, write } = await connected();
    write(5, endWrite("t-1", 0, 2000), commitWrite("g-01", "t-1", 0, 1990, T0 + 5000));
    expect(await error(client, { group: "nobody" })).toBe('consumer group "nobody" not found. Hint: list_groups shows the known groups');
    expect(await error(client, { topic: "nothing" })).toBe('unknown topic "nothing". Hint: list_topics shows the known topics');
    expect(await error(client, { status: "STALL" })).toMatch(/Input validation error/);
    const first = await call(client, { limit: 5 });
    expect(await error(client, { limit: 5, sort: "lag", cursor: first.next_cursor })).toBe(
      "cursor from a different query. Hint: pass the same group, topic, status, min_lag and sort as the first page",
    );
    expect(await error(client, { cursor: "not.a-cursor" })).toMatch(/^cursor from a different query|^invalid cursor/);
  });
});
