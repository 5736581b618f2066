/**
 * The read model against a real etcd: initial load, live changes, prefix deletes, restart without
 * replay, compaction while down, corrupt values, and etcd itself going away and coming back.
 */
import { describe, expect, it } from "vitest";
import { createStore } from "../../src/store/index.js";
import { createEtcdSync } from "../../src/sync/etcd/etcd-sync.js";
import { keys } from "../../src/kafscale/keys.js";
import { encodeCommittedOffset, encodeNextOffset } from "../../src/kafscale/encode.js";
import { createLogger, silentLogger } from "../../src/log.js";
import { buildClusterKvs } from "../../src/demo/cluster-spec.js";
import { realisticCluster, testEtcd, writeCluster } from "../support/fixtures.js";
import { startEtcd } from "../../bench/lib/etcd-process.js";
import { useCleanups } from "../support/harness.js";

const { defer, tempDbPath, openStore, startSync, syncAndStop } = useCleanups();

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("etcd sync", () => {
  it("loads a realistic cluster in one pinned, paged range read", async () => {
    const { client, keyspace } = testEtcd();
    defer(() => client.close());
    const revision = await writeCluster(keyspace, realisticCluster);
    await keyspace.put("/kafscale/future/feature-x").value("raw bytes").exec();
    const store = openStore();
    const sync = startSync(store, client, keyspace);
    await sync.ready();

    const state = store.syncState.get();
    expect(state.initialSyncDone).toBe(true);
    expect(state.revision).toBeGreaterThanOrEqual(revision);
    expect(state.linkState).toBe("connected");

    const overview = store.reads.clusterOverview();
    expect(overview).toMatchObject({ cluster_name: "kafscale", controller_id: 0, topic_count: 3, partition_count: 6 });
    expect(overview.brokers.map((b) => b.node_id)).toEqual([0, 1, 2]);
    expect(store.reads.listTopics(null, 100).items.map((t) => t.name)).toEqual(["audit", "events", "orders"]);

    const groups = store.reads.listGroups(null, 100).items;
    expect(groups).toEqual([
      { group_id: "billing", state: "stable", protocol_type: "consumer", member_count: 2 },
      { group_id: "nightly-report", state: "empty", protocol_type: "", member_count: 0 },
      { group_id: "rebalancing", state: "preparing_rebalance", protocol_type: "consumer", member_count: 1 },
    ]);
    const billing = store.reads.describeGroup("billing");
    expect(billing?.members.map((m) => [m.member_id, m.assignments])).toEqual([
      ["m1", [{ topic: "orders", partitions: [0, 1] }]],
      ["m2", [{ topic: "orders", partitions: [2] }]],
    ]);
    expect(store.reads.describeGroup("nightly-report")).toMatchObject({ has_metadata: false, members: [] });

    const offsets = store.reads.fetchOffsets("billing", null, null, 100).items;
    expect(offsets.map((o) => [o.partition, o.offset, o.end_offset, o.lag])).toEqual([
      [0, 90, 100, 10],
      [1, 200, 200, 0],
      [2, 250, 300, 50],
    ]);
    const nightly = store.reads.fetchOffsets("nightly-report", null, null, 100).items;
    expect(nightly.map((o) => [o.partition, o.offset, o.committed, o.lag])).toEqual([
      [0, 10, true, 40],
      [1, -1, false, null],
    ]);

    const configs = store.reads.describeConfigs(null);
    expect(configs.configs.find((c) => c.name === "orders")).toMatchObject({
      exists: true,
      retention_ms: 86_400_000,
      replication_factor: 1,
      config: {},
    });
    expect(configs.configs.find((c) => c.name === "audit")).toMatchObject({
      exists: false,
      partitions: 1,
      replication_factor: null,
    });
    expect(store.mirror.count()).toBeGreaterThan(20);
  });

  it("applies live puts and deletes, including a topic deleted by prefix", async () => {
    const { client, keyspace } = testEtcd();
    defer(() => client.close());
    await writeCluster(keyspace, realisticCluster);
    const store = openStore();
    const sync = startSync(store, client, keyspace);
    await sync.ready();

    let res = await keyspace.put(keys.nextOffset("orders", 0)).value(encodeNextOffset(150)).exec();
    await sync.waitForRevision(Number(res.header.revision));
    expect(store.reads.fetchOffsets("billing", ["orders"], null, 10).items[0]).toMatchObject({ end_offset: 150, lag: 60 });

    res = await keyspace
      .put(keys.committedOffset("billing", "events", 1))
      .value(encodeCommittedOffset({ offset: 55, metadata: "m", committedAt: "2026-11-24T09:00:00Z" }))
      .exec();
    await sync.waitForRevision(Number(res.header.revision));
    expect(store.reads.fetchOffsets("billing", ["events"], null, 10).items[1]).toMatchObject({
      offset: 55,
      metadata: "m",
      lag: 5,
    });

    // DeleteTopic: the whole /topics/orders/ prefix plus the group's offsets for it.
    await keyspace.delete().prefix("/kafscale/topics/orders/").exec();
    const del = await keyspace.delete().prefix("/kafscale/consumers/billing/offsets/orders/").exec();
    await sync.waitForRevision(Number(del.header.revision));
    expect(store.reads.describeConfigs(["orders"]).configs[0]).toMatchObject({ exists: false });
    expect(store.reads.fetchOffsets("billing", ["orders"], null, 10).items.every((o) => !o.committed)).toBe(true);
    expect(store.mirror.recentChanges(50).filter((c) => c.op === "delete").length).toBeGreaterThanOrEqual(9);

    const group = await keyspace.delete().key(keys.groupMetadata("rebalancing")).exec();
    await sync.waitForRevision(Number(group.header.revision));
    expect(store.reads.describeGroup("rebalancing")).toBeNull();
  });

  it("loads a snapshot key larger than gRPC's default 4 MiB message limit", async () => {
    const { client, keyspace } = testEtcd();
    defer(() => client.close());
    const big = { ...realisticCluster, topics: [{ name: "firehose", partitions: 40_000 }], groups: [] };
    const snapshot = buildClusterKvs(big)[0] as { key: string; value: Buffer };
    expect(snapshot.value.length).toBeGreaterThan(4 * 1024 * 1024);
    await keyspace.put(snapshot.key).value(snapshot.value).exec();
    const store = openStore();
    const sync = startSync(store, client, keyspace);
    await sync.ready();
    expect(store.reads.clusterOverview()).toMatchObject({ topic_count: 1, partition_count: 40_000 });
  });

  it("records corrupt values and keeps syncing", async () => {
    const { client, keyspace } = testEtcd();
    defer(() => client.close());
    await writeCluster(keyspace, realisticCluster);
    await keyspace.put(keys.groupMetadata("broken")).value(Buffer.from([0x0a, 0xff, 0x01])).exec();
    const store = openStore();
    const sync = startSync(store, client, keyspace);
    await sync.ready();
    expect(store.syncState.get().decodeErrorKeys).toBe(1);

    await keyspace.put(keys.committedOffset("billing", "orders", 0)).value("{not json").exec();
    const res = await keyspace.put(keys.nextOffset("events", 0)).value("12x").exec();
    await sync.waitForRevision(Number(res.header.revision));
    const errors = store.mirror.currentDecodeErrors(10);
    expect(errors.map((e) => e.key).sort()).toEqual([
      "/kafscale/consumers/billing/offsets/orders/0",
      "/kafscale/consumers/broken/metadata",
      "/kafscale/topics/events/partitions/0/next_offset",
    ]);
    expect(errors.every((e) => e.reason.length > 0 && e.revision > 0)).toBe(true);
    // A corrupt value keeps the last value that decoded (90), and says the key is held at it.
    expect(store.reads.fetchOffsets("billing", ["orders"], null, 10).items[0]).toMatchObject({ committed: true, offset: 90 });
    expect(store.undecodable.affecting({ groupOffsets: { groupId: "billing", topics: ["orders"] } }, 10).keys).toEqual([
      {
        key: "/kafscale/consumers/billing/offsets/orders/0",
        revision: expect.any(Number),
        reason: expect.stringMatching(/^committed offset is not valid JSON/),
        lastGoodRevision: expect.any(Number),
      },
    ]);

    // Repairing the value clears the error.
    const fix = await keyspace
      .put(keys.committedOffset("billing", "orders", 0))
      .value(encodeCommittedOffset({ offset: 91, metadata: "", committedAt: "" }))
      .exec();
    await sync.waitForRevision(Number(fix.header.revision));
    expect(store.syncState.get().decodeErrorKeys).toBe(2);
    expect(store.undecodable.affecting({ groupOffsets: { groupId: "billing", topics: null } }, 10).total).toBe(0);
    expect(store.reads.fetchOffsets("billing", ["orders"], null, 10).items[0]).toMatchObject({ offset: 91 });
  });

  it("logs each decode failure with its key, revision and reason, rate-limited", async () => {
    const { client, keyspace } = testEtcd();
    defer(() => client.close());
    await writeCluster(keyspace, realisticCluster);
    await keyspace.put(keys.groupMetadata("broken")).value("not protobuf").exec();
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger("warn", (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
    const store = openStore();
    const sync = createEtcdSync({ store, client, keyspace, logger, probeIntervalMs: 100 });
    sync.start();
    defer(() => sync.stop());
    await sync.ready();
    const decodeLines = (): Record<string, unknown>[] => lines.filter((l) => typeof l.key === "string");
    expect(decodeLines()).toEqual([
      expect.objectContaining({ key: keys.groupMetadata("broken"), revision: expect.any(Number), reason: expect.stringMatching(/^invalid protobuf/) }),
    ]);

    // A storm of bad values: ten lines a minute, each naming its key and revision; the rest counted.
    let last = 0;
    for (let p = 0; p < 30; p++) {
      last = Number((await keyspace.put(keys.nextOffset("storm", p)).value(`bad-${p}`).exec()).header.revision);
    }
    await sync.waitForRevision(last);
    expect(store.syncState.get().decodeErrorKeys).toBe(31);
    const logged = decodeLines();
    expect(logged).toHaveLength(10);
    expect(logged[1]).toMatchObject({
      level: "warn",
      key: keys.nextOffset("storm", 0),
      revision: expect.any(Number),
      reason: 'next_offset is not a decimal integer: "bad-0"',
    });
  });

  it("resumes from the stored revision after a restart, replaying nothing", async () => {
    const { client, keyspace } = testEtcd();
    defer(() => client.close());
    await writeCluster(keyspace, realisticCluster);
    const path = tempDbPath();

    let store = createStore(path);
    let sync = createEtcdSync({ store, client, keyspace, logger: silentLogger, probeIntervalMs: 100 });
    sync.start();
    await sync.ready();
    const first = await keyspace.put(keys.nextOffset("events", 1)).value("61").exec();
    await sync.waitForRevision(Number(first.header.revision));
    await sync.stop();
    store.close();

    // While the service is down, etcd moves on.
    await keyspace.put(keys.nextOffset("events", 1)).value("62").exec();
    const last = await keyspace.put(keys.nextOffset("events", 0)).value("51").exec();

    store = openStore(path);
    const before = store.mirror.recentChanges(10_000).length;
    sync = startSync(store, client, keyspace);
    await sync.waitForRevision(Number(last.header.revision));
    const changes = store.mirror.recentChanges(10_000);
    expect(changes.length - before).toBe(2);
    const revisions = changes.map((c) => `${c.revision}:${c.key}`);
    expect(new Set(revisions).size).toBe(revisions.length);
    expect(store.syncState.get().resyncCount).toBe(0);
    const events = store.reads.fetchOffsets("nightly-report", null, null, 10).items;
    expect(events.map((e) => e.end_offset)).toEqual([51, 62]);
  });

  it("catches up over more than 1000 revisions after a restart without losing any change", async () => {
    const { client, keyspace } = testEtcd();
    defer(() => client.close());
    await writeCluster(keyspace, realisticCluster);
    const path = tempDbPath();
    await syncAndStop(path, client, keyspace);

    // etcd sends a long catch-up in chunks of 1000 revisions whose headers run ahead of their events.
    let last = 0;
    for (let i = 0; i < 1200; i++) {
      const res = await keyspace.put(keys.nextOffset("orders", i % 3)).value(String(1000 + i)).exec();
      last = Number(res.header.revision);
    }
    const store = openStore(path);
    const sync = startSync(store, client, keyspace);
    await sync.waitForRevision(last, 20_000);
    expect(store.reads.fetchOffsets("billing", ["orders"], null, 10).items.map((o) => o.end_offset)).toEqual([
      2197, 2198, 2199,
    ]);
    expect(store.mirror.recentChanges(5000).filter((c) => c.kind === "next_offset")).toHaveLength(1200);
  });

  it("resyncs to etcd's state when the resume revision was compacted away", async () => {
    const { client, keyspace } = testEtcd();
    defer(() => client.close());
    await writeCluster(keyspace, realisticCluster);
    const path = tempDbPath();
    await syncAndStop(path, client, keyspace);

    await keyspace.delete().prefix("/kafscale/topics/events/").exec();
    await keyspace.put(keys.nextOffset("orders", 2)).value("999").exec();
    const last = await keyspace.put(keys.groupLease("rebalancing")).value("2").exec();
    await client.kv.compact({ revision: last.header.revision, physical: true });

    const store = openStore(path);
    startSync(store, client, keyspace);
    await until(() => store.syncState.get().resyncCount === 1 && store.syncState.get().revision >= Number(last.header.revision));
    expect(store.reads.describeConfigs(["events"]).configs[0]).toMatchObject({ exists: false });
    expect(store.reads.fetchOffsets("billing", ["orders"], null, 10).items[2]).toMatchObject({ end_offset: 999 });
    const kvs = await keyspace.getAll().prefix("/kafscale/").count();
    expect(store.mirror.count()).toBe(kvs);
  });

  it("survives etcd stopping and restarting, and reports the link state", async () => {
    const etcd = await startEtcd();
    defer(() => etcd.destroy());
    const { client, keyspace } = testEtcd(etcd.endpoint);
    defer(() => client.close());
    await writeCluster(keyspace, realisticCluster);
    const store = openStore();
    const sync = startSync(store, client, keyspace);
    await sync.ready();
    await until(() => store.syncState.get().linkState === "connected");

    await etcd.stop();
    await until(() => store.syncState.get().linkState !== "connected");
    expect(store.syncState.get().lastError).toBeTruthy();
    // Answers keep coming from the snapshot while etcd is away.
    expect(store.reads.listTopics(null, 10).items).toHaveLength(3);

    await etcd.start();
    const res = await keyspace.put(keys.nextOffset("audit", 0)).value("7").exec();
    await sync.waitForRevision(Number(res.header.revision), 20_000);
    await until(() => store.syncState.get().linkState === "connected");
    expect(store.reads.fetchOffsets("x", ["audit"], null, 10).items[0]).toMatchObject({ end_offset: 7 });
  });
});
