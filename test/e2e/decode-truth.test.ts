/**
 * Issue 11, "it must not lie", end to end: a real etcd, the real service, the official SDK client over
 * real HTTP. Values that do not decode keep their last good value and make every answer that depends
 * on them stale, with the key and the reason; snapshots of Kafscale before v1.6 are read; lag has one
 * definition in the tool, the views and the report; negative offsets, duplicate or nameless topics and
 * huge offset metadata are answered consistently.
 */
import { join } from "node:path";
import Database from "better-sqlite3";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { snapshotFor } from "../../src/demo/cluster-spec.js";
import { encodeCommittedOffset, encodeNextOffset, encodeSnapshot, topicIdFor } from "../../src/kafscale/encode.js";
import { keys } from "../../src/kafscale/keys.js";
import type { RunningService } from "../../src/service.js";
import { realisticCluster, testEtcd, writeCluster } from "../support/fixtures.js";
import { useCleanups } from "../support/harness.js";
import { callTool, connectClient, startTestService } from "../support/service.js";

/** A tool call with the full freshness block (decode_errors, etcd_link: what these tests look at). */
async function callFull<T = Record<string, unknown>>(client: Client, name: string, args: Record<string, unknown> = {}): Promise<T> {
  return await callTool<T>(client, name, { ...args, freshness: "full" });
}

type Body = Record<string, any>;

const { tempDir } = useCleanups();

/** A running service on its own etcd namespace, with a client; closed after the file. */
async function serviceFor(
  write: (keyspace: ReturnType<typeof testEtcd>["keyspace"]) => Promise<unknown>,
  env: Record<string, string> = {},
): Promise<{ etcd: ReturnType<typeof testEtcd>; service: RunningService; client: Client; close: () => Promise<void> }> {
  const etcd = testEtcd();
  await write(etcd.keyspace);
  const service = await startTestService(etcd.endpoint, etcd.namespace, env);
  await service.sync?.ready();
  const client = await connectClient(service.url as string);
  return {
    etcd,
    service,
    client,
    close: async () => {
      await client.close();
      await service.close();
      etcd.client.close();
    },
  };
}

/** Puts a value and waits until the service has applied it. */
async function put(ctx: { etcd: ReturnType<typeof testEtcd>; service: RunningService }, key: string, value: string | Buffer): Promise<number> {
  const res = await ctx.etcd.keyspace.put(key).value(value).exec();
  const revision = Number(res.header.revision);
  await ctx.service.sync?.waitForRevision(revision);
  return revision;
}

async function readyz(service: RunningService): Promise<{ status: number; body: Body }> {
  const res = await fetch(`${service.url}/readyz`);
  return { status: res.status, body: (await res.json()) as Body };
}

/** The §3 pre-v1.6 shape of a v1.6 snapshot JSON: key names of Kafscale v1.4 – v1.5 (v1.0 – v1.3 without ClusterName). */
function legacyShape(v16: Buffer, withClusterName: boolean): string {
  const json = JSON.parse(v16.toString("utf8")) as Body;
  const rename = (o: Body, names: Record<string, string>): Body =>
    Object.fromEntries(Object.entries(o).filter(([k]) => k !== "UnknownTags").map(([k, v]) => [names[k] ?? k, v]));
  json.Brokers = json.Brokers.map((b: Body) => rename(b, {}));
  json.Topics = json.Topics.map((t: Body) => ({
    ...rename(t, { Topic: "Name", AuthorizedOperations: "TopicAuthorizedOperations" }),
    Partitions: t.Partitions.map((p: Body) =>
      rename(p, { Partition: "PartitionIndex", Leader: "LeaderID", Replicas: "ReplicaNodes", ISR: "ISRNodes" }),
    ),
  }));
  if (!withClusterName) delete json.ClusterName;
  return JSON.stringify(json);
}

describe("a value that does not decode keeps its last good value, and answers say so", () => {
  let ctx: Awaited<ReturnType<typeof serviceFor>>;
  beforeAll(async () => {
    ctx = await serviceFor((keyspace) => writeCluster(keyspace, realisticCluster));
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it("a corrupt snapshot: the last good cluster, stale on every answer that depends on it, /readyz 503", async () => {
    const good = (await callFull<Body>(ctx.client, "cluster_status")).freshness.revision as number;
    const bad = await put(ctx, keys.snapshot(), "{not json");
    const reason = new RegExp(
      `^/kafscale/metadata/snapshot: value at revision ${bad} does not decode \\(snapshot is not valid JSON: .+\\); ` +
        `serving its last good value, from revision \\d+$`,
    );

    const status = await callFull<Body>(ctx.client, "cluster_status");
    expect(status).toMatchObject({ cluster_name: "kafscale", topic_count: 3, partition_count: 6 });
    expect(status.brokers).toHaveLength(3);
    expect(status.freshness).toMatchObject({ stale: true, decode_errors: 1, revision: bad });
    expect(status.freshness.stale_reasons).toEqual([expect.stringMatching(reason)]);
    expect(Number(/from revision (\d+)$/.exec(status.freshness.stale_reasons[0])?.[1])).toBeLessThanOrEqual(good);

    const topics = await callFull<Body>(ctx.client, "list_topics");
    expect(topics.topics.map((t: Body) => t.name)).toEqual(["audit", "events", "orders"]);
    expect(topics.freshness.stale_reasons).toEqual([expect.stringMatching(reason)]);
    expect((await callFull<Body>(ctx.client, "describe_topics", { names: ["orders"] })).freshness.stale).toBe(true);

    const offsets = await callFull<Body>(ctx.client, "fetch_offsets", { group_id: "billing" });
    expect(offsets.offsets.map((o: Body) => o.lag)).toEqual([10, 0, 50]);
    expect(offsets).toMatchObject({ total_lag: 60, freshness: { stale: true } });
    expect(offsets.freshness.stale_reasons).toEqual([expect.stringMatching(reason)]);
    expect((await callFull<Body>(ctx.client, "describe_configs")).freshness.stale).toBe(true);
    // Answers that do not depend on the snapshot key are not stale because of it.
    expect((await callFull<Body>(ctx.client, "list_groups")).freshness).toMatchObject({ stale: false, stale_reasons: [] });

    const ready = await readyz(ctx.service);
    expect(ready.status).toBe(503);
    expect(ready.body.reason).toMatch(reason);

    // Repaired: the new value is served, nothing is stale, ready again.
    await put(ctx, keys.snapshot(), encodeSnapshot(snapshotFor({ ...realisticCluster, topics: realisticCluster.topics.slice(0, 2) })));
    const repaired = await callFull<Body>(ctx.client, "list_topics");
    expect(repaired.topics.map((t: Body) => t.name)).toEqual(["orders", "events"].sort());
    expect(repaired.freshness).toMatchObject({ stale: false, stale_reasons: [], decode_errors: 0 });
    expect((await readyz(ctx.service)).status).toBe(200);
    await put(ctx, keys.snapshot(), encodeSnapshot(snapshotFor(realisticCluster)));
  });

  it("corrupt group metadata is not has_metadata:false: the last good group, or state unknown when none decoded", async () => {
    const bad = await put(ctx, keys.groupMetadata("billing"), Buffer.from([0x0a, 0xff, 0x01]));
    const billing = await callFull<Body>(ctx.client, "describe_group", { group_id: "billing" });
    expect(billing).toMatchObject({ state: "stable", generation_id: 3, has_metadata: true });
    expect(billing.members.map((m: Body) => m.member_id)).toEqual(["m1", "m2"]);
    expect(billing.freshness.stale_reasons).toEqual([
      expect.stringMatching(
        new RegExp(`^/kafscale/consumers/billing/metadata: value at revision ${bad} does not decode \\(invalid protobuf ConsumerGroup: .+\\); serving its last good value`),
      ),
    ]);
    const other = await callFull<Body>(ctx.client, "describe_group", { group_id: "rebalancing" });
    expect(other.freshness.stale).toBe(false);

    // A group whose metadata key never held a value that decoded (e.g. a replica started after the damage).
    await put(ctx, keys.groupMetadata("fresh-broken"), "garbage");
    const { groups, freshness } = await callFull<Body>(ctx.client, "list_groups");
    expect(groups.map((g: Body) => [g.group_id, g.state])).toEqual([
      ["billing", "stable"],
      ["fresh-broken", "unknown"],
      ["nightly-report", "empty"],
      ["rebalancing", "preparing_rebalance"],
    ]);
    expect(freshness.stale_reasons).toHaveLength(2);
    const fresh = await callFull<Body>(ctx.client, "describe_group", { group_id: "fresh-broken" });
    expect(fresh).toMatchObject({ state: "unknown", has_metadata: true, members: [] });
    expect(fresh.freshness.stale_reasons).toEqual([
      expect.stringMatching(/^\/kafscale\/consumers\/fresh-broken\/metadata: .*; no value of this key has decoded, so what it holds is missing from this answer$/),
    ]);
    await ctx.etcd.keyspace.delete().key(keys.groupMetadata("fresh-broken")).exec();
    await writeCluster(ctx.etcd.keyspace, realisticCluster);
    await ctx.service.sync?.waitForRevision(Number((await ctx.etcd.keyspace.get(keys.snapshot()).exec()).header.revision));
  });

  it("an undecodable topic config is not exists:false", async () => {
    await put(ctx, keys.topicConfig("orders"), "not protobuf \u00ff");
    await put(ctx, keys.topicConfig("audit"), Buffer.from([0x08])); // audit never had a config
    const { configs, freshness } = await callFull<Body>(ctx.client, "describe_configs", { topics: ["orders", "audit", "events"] });
    expect(configs.map((c: Body) => [c.name, c.exists, c.retention_ms])).toEqual([
      ["audit", true, null],
      ["events", true, -1],
      ["orders", true, 86_400_000],
    ]);
    expect(freshness.stale_reasons).toEqual([
      expect.stringMatching(/^\/kafscale\/topics\/audit\/config: .*; no value of this key has decoded/),
      expect.stringMatching(/^\/kafscale\/topics\/orders\/config: .*; serving its last good value, from revision \d+$/),
    ]);
    expect((await callFull<Body>(ctx.client, "describe_configs", { topics: ["events"] })).freshness.stale).toBe(false);
  });

  it("an undecodable end offset keeps its last value for lag, and the offsets answer names it", async () => {
    await put(ctx, keys.nextOffset("orders", 0), "12x");
    const billing = await callFull<Body>(ctx.client, "fetch_offsets", { group_id: "billing", topics: ["orders"] });
    expect(billing.offsets[0]).toMatchObject({ partition: 0, end_offset: 100, lag: 10 });
    expect(billing.freshness.stale_reasons).toEqual([
      expect.stringMatching(/^\/kafscale\/topics\/orders\/partitions\/0\/next_offset: value at revision \d+ does not decode \(next_offset is not a decimal integer: "12x"\)/),
    ]);
    // The group's offsets on other topics do not depend on that key.
    expect((await callFull<Body>(ctx.client, "fetch_offsets", { group_id: "nightly-report" })).freshness.stale).toBe(false);
    await put(ctx, keys.nextOffset("orders", 0), encodeNextOffset(100));
  });
});

describe("snapshots written by Kafscale before v1.6", () => {
  it.each([
    { version: "v1.4 – v1.5", withClusterName: true },
    { version: "v1.0 – v1.3", withClusterName: false },
  ])("a $version cluster shows its topics and brokers, not an empty cluster", async ({ withClusterName }) => {
    const legacy = legacyShape(encodeSnapshot(snapshotFor(realisticCluster)), withClusterName);
    const ctx = await serviceFor(async (keyspace) => {
      await writeCluster(keyspace, realisticCluster);
      await keyspace.put(keys.snapshot()).value(legacy).exec();
    });
    try {
      const status = await callFull<Body>(ctx.client, "cluster_status");
      expect(status).toMatchObject({ topic_count: 3, partition_count: 6, cluster_id: realisticCluster.clusterId });
      expect(status.cluster_name).toBe(withClusterName ? "kafscale" : undefined);
      expect(status.brokers).toHaveLength(3);
      expect(status.freshness).toMatchObject({ stale: false, decode_errors: 0 });
      const { topics } = await callFull<Body>(ctx.client, "describe_topics", { names: ["orders"] });
      expect(topics[0].partitions[2]).toMatchObject({ partition: 2, leader_id: 2, replica_nodes: [0, 1, 2], isr_nodes: [0, 1, 2] });
    } finally {
      await ctx.close();
    }
  });
});

describe("lag has one definition: the tool, the views and the report agree", () => {
  it("counts only usable commits on partitions in the snapshot, and shows the others", async () => {
    const db = join(tempDir(), "lag.db");
    const ctx = await serviceFor(
      async (keyspace) => {
        await writeCluster(keyspace, realisticCluster);
        // A topic the snapshot does not list (deleted, or never published) that billing still has commits on.
        await keyspace.put(keys.nextOffset("retired", 0)).value(encodeNextOffset(1000)).exec();
        const commit = (offset: number) => encodeCommittedOffset({ offset, metadata: "", committedAt: "2026-11-24T09:00:00Z" });
        await keyspace.put(keys.committedOffset("billing", "retired", 0)).value(commit(100)).exec();
        await keyspace.put(keys.committedOffset("billing", "orders", 7)).value(commit(5)).exec(); // no such partition
        // A negative stored offset: no usable commit.
        await keyspace.put(keys.committedOffset("billing", "orders", 2)).value(commit(-1)).exec();
      },
      { KAFSCALE_MCP_DB_PATH: db },
    );
    try {
      const answer = await callFull<Body>(ctx.client, "fetch_offsets", { group_id: "billing" });
      expect(answer.offsets.map((o: Body) => [o.topic, o.partition, o.offset, o.committed, o.in_snapshot, o.lag])).toEqual([
        ["orders", 0, 90, true, true, 10],
        ["orders", 1, 200, true, true, 0],
        ["orders", 2, -1, false, true, null],
        ["orders", 7, 5, true, false, null],
        ["retired", 0, 100, true, false, null],
      ]);
      expect(answer.total_lag).toBe(10);
      expect(answer.unknown_topics).toEqual([]);

      const report = ctx.service.store.reports.report(10);
      expect(report.groupsByLag.find((g) => g.group_id === "billing")).toMatchObject({ total_lag: 10, partitions: 2 });
      expect(report).toMatchObject({ orphanOffsets: 2, unusableCommits: 1 });
      const sqlite = new Database(db, { readonly: true });
      try {
        expect(sqlite.prepare("SELECT total_lag, partitions, uncounted_partitions FROM v_group_lag WHERE group_id = 'billing'").get())
          .toEqual({ total_lag: 10, partitions: 2, uncounted_partitions: 3 });
        expect(sqlite.prepare("SELECT sum(total_lag) AS lag FROM v_topic_summary").get()).toEqual({
          lag: 10 + 40, // billing on orders, nightly-report on events
        });
        expect(
          sqlite.prepare("SELECT decode_warning FROM kv WHERE key = ?").get(keys.committedOffset("billing", "orders", 2)),
        ).toEqual({ decode_warning: "committed offset -1 is negative: no usable commit" });
        expect(sqlite.prepare("SELECT severity, reason FROM decode_errors WHERE key = ?").all(keys.committedOffset("billing", "orders", 2)))
          .toEqual([{ severity: "warning", reason: "committed offset -1 is negative: no usable commit" }]);
      } finally {
        sqlite.close();
      }

      // Asking for the topic the snapshot no longer lists shows the group's commits on it.
      const retired = await callFull<Body>(ctx.client, "fetch_offsets", { group_id: "billing", topics: ["retired", "nope"] });
      expect(retired).toMatchObject({ unknown_topics: ["nope"], total_lag: 0 });
      expect(retired.offsets).toMatchObject([{ topic: "retired", partition: 0, end_offset: 1000, in_snapshot: false, lag: null }]);
    } finally {
      await ctx.close();
    }
  });
});

describe("snapshots with duplicate or nameless topics", () => {
  it("give the same counts in cluster_status, list_topics and describe_topics", async () => {
    const snapshot = snapshotFor(realisticCluster);
    const orders = snapshot.topics.find((t) => t.name === "orders")!;
    const json = JSON.parse(encodeSnapshot(snapshot).toString("utf8")) as Body;
    const entry = (name: string, partitions: number[]): Body => ({
      ErrorCode: 0,
      Topic: name,
      TopicID: [...Buffer.from(topicIdFor(name), "hex")],
      IsInternal: false,
      Partitions: partitions.map((p) => ({ ErrorCode: 0, Partition: p, Leader: 0, LeaderEpoch: 0, Replicas: [0], ISR: [0], OfflineReplicas: null })),
    });
    // "orders" again with one partition, after the real one with three; a topic with an empty name.
    json.Topics.push(entry("orders", [0]), entry("", [0, 1]));
    expect(orders.partitions).toHaveLength(3);
    const ctx = await serviceFor(async (keyspace) => {
      await writeCluster(keyspace, realisticCluster);
      await keyspace.put(keys.snapshot()).value(JSON.stringify(json)).exec();
    });
    try {
      const status = await callFull<Body>(ctx.client, "cluster_status");
      const listed = await callFull<Body>(ctx.client, "list_topics");
      const described = await callFull<Body>(ctx.client, "describe_topics", { partitions: true });
      const sum = (ns: number[]): number => ns.reduce((a, b) => a + b, 0);
      expect(status).toMatchObject({ topic_count: 3, partition_count: 6 });
      expect(listed.topics).toHaveLength(status.topic_count);
      expect(described.topics).toHaveLength(status.topic_count);
      expect(sum(listed.topics.map((t: Body) => t.partition_count))).toBe(status.partition_count);
      expect(sum(described.topics.map((t: Body) => t.partitions.length))).toBe(status.partition_count);
      expect(listed.topics.find((t: Body) => t.name === "orders")).toMatchObject({ partition_count: 3 });
      // The value decodes (served, not stale); what was dropped is recorded as a decode warning.
      expect(status.freshness).toMatchObject({ stale: false, decode_errors: 0 });
    } finally {
      await ctx.close();
    }
  });
});

describe("offset metadata in answers", () => {
  it("is cut to 4 KB with a flag, not returned whole at 5 MB", async () => {
    const huge = "x".repeat(5 * 1024 * 1024);
    const ctx = await serviceFor(async (keyspace) => {
      await writeCluster(keyspace, realisticCluster);
      await keyspace
        .put(keys.committedOffset("billing", "orders", 0))
        .value(encodeCommittedOffset({ offset: 90, metadata: huge, committedAt: "2026-11-24T09:00:00Z" }))
        .exec();
      await keyspace
        .put(keys.committedOffset("billing", "orders", 1))
        .value(encodeCommittedOffset({ offset: 200, metadata: "y".repeat(4096), committedAt: "2026-11-24T09:00:00Z" }))
        .exec();
    });
    try {
      const { offsets } = await callFull<Body>(ctx.client, "fetch_offsets", { group_id: "billing", topics: ["orders"] });
      expect(offsets.map((o: Body) => [o.metadata.length, o.metadata_truncated])).toEqual([
        [4096, true],
        [4096, false],
        [0, false],
      ]);
    } finally {
      await ctx.close();
    }
  });
});
