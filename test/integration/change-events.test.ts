/**
 * Semantic change events against a real etcd: a scripted series of cluster changes produces exactly
 * the expected events, in order, once each; they survive a restart; a resync forced by compaction
 * reports what changed while the service was away, marked as found by a resync.
 */
import { describe, expect, it, vi } from "vitest";
import type { Namespace } from "etcd3";
import { silentLogger } from "../../src/log.js";
import { createStore, type ChangeEventRow, type Store } from "../../src/store/index.js";
import { createEtcdSync } from "../../src/sync/etcd/etcd-sync.js";
import { snapshotFor } from "../../src/demo/cluster-spec.js";
import { encodeSnapshot, encodeTopicConfig } from "../../src/kafscale/encode.js";
import { keys } from "../../src/kafscale/keys.js";
import { CHANGE_KINDS } from "../../src/kafscale/change-events.js";
import { billing, changeScript, leaseTaken, scriptCluster, type ExpectedEvent } from "../support/change-script.js";
import { testEtcd, writeCluster } from "../support/fixtures.js";
import { useCleanups } from "../support/harness.js";

const { defer, tempDbPath, startSync, syncAndStop, closeAfterTest } = useCleanups();

/** Every event, oldest first. */
function allEvents(store: Store): ChangeEventRow[] {
  return store.changes.recent({ limit: 10_000 }).items.reverse();
}

const shape = (e: ChangeEventRow): ExpectedEvent => ({
  kind: e.kind,
  topic: e.topic,
  group_id: e.group_id,
  partition: e.partition,
  broker_id: e.broker_id,
  details: e.details,
});

function connect(): { client: ReturnType<typeof testEtcd>["client"]; keyspace: Namespace } {
  const { client, keyspace } = testEtcd();
  defer(() => client.close());
  return { client, keyspace };
}

describe("change events", () => {
  it("scripted changes produce exactly the expected events, in order, once each, and survive a restart", async () => {
    const { client, keyspace } = connect();
    await writeCluster(keyspace, scriptCluster);
    const path = tempDbPath();
    let store = createStore(path);
    let sync = createEtcdSync({ store, client, keyspace, logger: silentLogger, probeIntervalMs: 100 });
    sync.start();
    await sync.ready();
    // The initial load is the feed's start, not a flood of "created" events.
    expect(allEvents(store)).toEqual([]);
    const loadedAt = store.syncState.get().revision;
    expect(store.changes.recent({ limit: 1 }).window.completeAfterRevision).toBe(loadedAt);

    const expected: ExpectedEvent[] = [];
    const stepRevisions: number[] = [];
    for (const step of changeScript) {
      const revision = await step.run(keyspace);
      await sync.waitForRevision(revision);
      stepRevisions.push(revision);
      expected.push(...step.expected);
      // Each step's events, and nothing else, as soon as the step is applied.
      expect(allEvents(store).map(shape), step.name).toMatchObject(expected);
    }
    const events = allEvents(store);
    expect(events.every((e) => e.source === "watch" && e.revision > loadedAt)).toBe(true);
    const revisions = events.map((e) => e.revision);
    expect([...revisions].sort((a, b) => a - b)).toEqual(revisions);
    expect(events.every((e) => e.summary.length > 0)).toBe(true);
    // Every kind the feed knows is derived from a real watch here, or by the resync test below.
    const seen = new Set([...events.map((e) => e.kind), "broker_joined", "group_deleted"]);
    expect([...seen].sort()).toEqual([...CHANGE_KINDS].sort());

    await sync.stop();
    store.close();
    store = createStore(path);
    closeAfterTest(store);
    expect(allEvents(store)).toEqual(events);
    sync = startSync(store, client, keyspace);
    const taken = await leaseTaken(keyspace);
    await sync.waitForRevision(taken.revision);
    // Nothing replayed after the restart: the old events once, then the new one.
    expect(allEvents(store).map(shape)).toMatchObject([...expected, ...taken.expected]);
    expect(store.syncState.get().resyncCount).toBe(0);
  });

  it("reports the difference found by a compaction-forced resync as events marked 'resync'", async () => {
    const { client, keyspace } = connect();
    await writeCluster(keyspace, scriptCluster);
    const path = tempDbPath();
    await syncAndStop(path, client, keyspace);

    // While the service is away: a topic is created, billing rebalances, a group is deleted, a broker joins.
    await keyspace
      .put(keys.topicConfig("refunds"))
      .value(
        encodeTopicConfig({
          name: "refunds",
          partitions: 1,
          replicationFactor: 1,
          retentionMs: -1,
          retentionBytes: -1,
          segmentBytes: 0,
          createdAt: "2026-11-24T10:00:00Z",
          config: {},
        }),
      )
      .exec();
    const withRefunds = { ...scriptCluster, brokers: 4, topics: [...scriptCluster.topics, { name: "refunds", partitions: 1 }] };
    await keyspace.put(keys.snapshot()).value(encodeSnapshot(snapshotFor(withRefunds))).exec();
    await keyspace.put(keys.groupMetadata("billing")).value(billing("stable", 4, ["m1", "m2", "m3"])).exec();
    const last = await keyspace.delete().key(keys.groupMetadata("rebalancing")).exec();
    await client.kv.compact({ revision: last.header.revision, physical: true });

    const store = createStore(path);
    closeAfterTest(store);
    const before = store.syncState.get().revision;
    startSync(store, client, keyspace);
    await vi.waitFor(() => expect(store.syncState.get().resyncCount).toBe(1), { timeout: 20_000, interval: 20 });
    const resyncRevision = store.syncState.get().revision;
    expect(resyncRevision).toBeGreaterThanOrEqual(Number(last.header.revision));

    const events = allEvents(store);
    // One pass in key order, deleted keys where they were (consumers/…, metadata/snapshot, topics/…):
    // the resync merges etcd's range into the snapshot (src/store/long-apply.ts).
    expect(events.map(shape)).toMatchObject([
      { kind: "group_rebalanced", group_id: "billing", details: { generation_before: 3, generation_after: 4 } },
      { kind: "member_joined", group_id: "billing", details: { member_id: "m3" } },
      { kind: "group_deleted", group_id: "rebalancing", details: { state_before: "preparing_rebalance" } },
      { kind: "broker_joined", broker_id: 3 },
      { kind: "topic_created", topic: "refunds", details: { partitions: 1 } },
    ]);
    expect(events.every((e) => e.source === "resync" && e.revision === resyncRevision)).toBe(true);
    // The feed still counts as complete from the first load: the resync found what changed meanwhile.
    expect(store.changes.recent({ limit: 1 }).window.completeAfterRevision).toBeLessThanOrEqual(before);
  });
});
