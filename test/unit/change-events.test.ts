/**
 * The change events: pure diffs (table-driven), and the feed in the write path on a real SQLite file
 * (first offsets, deleted groups, lease coalescing, undecodable values, pruning and its window).
 */
import { describe, expect, it } from "vitest";
import {
  diffGroupMetadata,
  diffSnapshot,
  diffTopicConfig,
  EMPTY_SNAPSHOT,
  MAX_LISTED_PARTITIONS,
  snapshotStateOf,
  type GroupState,
  type TopicConfigState,
} from "../../src/kafscale/change-events.js";
import { buildClusterKvs, snapshotFor } from "../../src/demo/cluster-spec.js";
import { encodeCommittedOffset, encodeConsumerGroup, encodeLease, encodeSnapshot } from "../../src/kafscale/encode.js";
import { keys } from "../../src/kafscale/keys.js";
import type { KvChange } from "../../src/kafscale/records.js";
import { createStore, type Store } from "../../src/store/index.js";
import { realisticCluster } from "../support/fixtures.js";
import { useCleanups } from "../support/harness.js";

const { tempDbPath, closeAfterTest } = useCleanups();

describe("diffs", () => {
  const base = snapshotStateOf(snapshotFor(realisticCluster));

  it("reads nothing into an unchanged snapshot", () => {
    expect(diffSnapshot(base, snapshotStateOf(snapshotFor(realisticCluster)))).toEqual([]);
  });

  it("reports cluster identity and controller changes with old and new values", () => {
    const after = snapshotStateOf({ ...snapshotFor(realisticCluster), controllerId: 2, clusterName: "renamed" });
    expect(diffSnapshot(base, after)).toEqual([
      expect.objectContaining({
        kind: "cluster_changed",
        details: {
          changes: [
            { key: "controller_id", from: 0, to: 2 },
            { key: "cluster_name", from: "kafscale", to: "renamed" },
          ],
        },
      }),
    ]);
  });

  it("treats a deleted snapshot key as every topic deleted and every broker gone", () => {
    const kinds = diffSnapshot(base, EMPTY_SNAPSHOT).map((e) => `${e.kind}:${e.topic ?? e.brokerId ?? ""}`);
    expect(kinds).toEqual([
      "cluster_changed:",
      "broker_left:0",
      "broker_left:1",
      "broker_left:2",
      "topic_deleted:audit",
      "topic_deleted:events",
      "topic_deleted:orders",
    ]);
  });

  it("lists at most MAX_LISTED_PARTITIONS leader moves per topic but counts them all", () => {
    const big = (brokers: number) => snapshotStateOf(snapshotFor({ ...realisticCluster, brokers, topics: [{ name: "t", partitions: 300 }] }));
    const [moved] = diffSnapshot(big(3), big(2)).filter((e) => e.kind === "partition_leader_changed");
    expect(moved).toMatchObject({ kind: "partition_leader_changed", topic: "t", partition: null, details: { source: "snapshot" } });
    const details = moved?.details as { moved: number; moves: unknown[] };
    expect(details.moves).toHaveLength(MAX_LISTED_PARTITIONS);
    // Partition p led by p % 3 before and p % 2 after: the same broker only when p % 6 is 0 or 1.
    expect(details.moved).toBe(200);
  });

  const config = (changes: Partial<TopicConfigState> = {}): TopicConfigState => ({
    replicationFactor: 1,
    retentionMs: -1,
    retentionBytes: -1,
    segmentBytes: 0,
    config: {},
    ...changes,
  });

  it.each([
    ["config key written first (topic creation)", null, config(), []],
    ["config key deleted (topic deletion)", config(), null, []],
    ["rewritten unchanged", config(), config(), []],
    [
      "typed fields and map entries, old → new",
      config({ config: { "cleanup.policy": "delete" } }),
      config({ retentionBytes: 1024, config: { "cleanup.policy": "compact", "x.y": "1" } }),
      [
        { key: "retention.bytes", from: -1, to: 1024 },
        { key: "cleanup.policy", from: "delete", to: "compact" },
        { key: "x.y", from: null, to: "1" },
      ],
    ],
  ])("topic config: %s", (_name, before, after, changes) => {
    const events = diffTopicConfig("t", before, after);
    if (changes.length === 0) expect(events).toEqual([]);
    else expect(events).toEqual([expect.objectContaining({ kind: "topic_config_changed", topic: "t", details: { changes } })]);
  });

  const group = (state: string, generation: number, members: string[]): GroupState => ({ state, generation, members });

  it.each([
    ["a new group", null, group("stable", 1, ["a"]), false, ["group_created"]],
    ["a group known from its offsets forms again", null, group("stable", 7, ["a", "b"]), true, ["group_state_changed", "member_joined", "member_joined"]],
    ["metadata deleted, offsets kept", group("stable", 3, ["a"]), null, true, ["group_emptied"]],
    ["metadata deleted, no offsets", group("stable", 3, ["a"]), null, false, ["group_deleted"]],
    ["a heartbeat (same state, generation, members)", group("stable", 3, ["a"]), group("stable", 3, ["a"]), true, []],
    [
      "a rebalance with a member swapped",
      group("completing_rebalance", 3, ["a", "b"]),
      group("stable", 4, ["a", "c"]),
      true,
      ["group_state_changed", "group_rebalanced", "member_joined", "member_left"],
    ],
  ])("group metadata: %s", (_name, before, after, offsets, kinds) => {
    const events = diffGroupMetadata("g", before, after, { hadOffsets: offsets, hasOffsets: offsets });
    expect(events.map((e) => e.kind)).toEqual(kinds);
    expect(events.every((e) => e.groupId === "g" && e.summary.includes("g"))).toBe(true);
  });
});

describe("the feed in the write path", () => {
  let revision = 100;
  const put = (key: string, value: Buffer, version = 2): KvChange => ({
    type: "put",
    key,
    value,
    modRevision: ++revision,
    createRevision: 1,
    version,
    lease: "0",
  });
  const del = (key: string): KvChange => ({ ...put(key, Buffer.alloc(0)), type: "delete" });
  const apply = (store: Store, ...changes: KvChange[]): void => {
    store.writer.applyChanges(changes, revision);
  };
  const kinds = (store: Store): string[] =>
    store.changes
      .recent({ limit: 1000 })
      .items.reverse()
      .map((e) => `${e.kind}:${e.group_id ?? e.topic ?? e.broker_id}`);

  async function loaded(options: { eventsRetentionMs?: number; maxEvents?: number } = {}): Promise<Store> {
    const store = createStore(tempDbPath(), options);
    closeAfterTest(store);
    const load = store.writer.beginResync();
    await load.addPage(buildClusterKvs(realisticCluster).map((kv) => put(kv.key, kv.value, 1)), revision);
    await load.commit(revision, 1_000_000);
    return store;
  }
  const offset = (value: number): Buffer => encodeCommittedOffset({ offset: value, metadata: "", committedAt: "" });

  it("costs nothing for commits to existing offset keys; a group's first offset creates it, its last removed offset deletes it", async () => {
    const store = await loaded();
    apply(store, put(keys.committedOffset("billing", "orders", 0), offset(95)), put(keys.nextOffset("orders", 0), Buffer.from("120")));
    expect(kinds(store)).toEqual([]);
    // A consumer that commits without ever joining: its first offset key (etcd version 1) makes the group.
    apply(store, put(keys.committedOffset("adhoc", "orders", 0), offset(1), 1), put(keys.committedOffset("adhoc", "orders", 1), offset(1), 1));
    apply(store, del(keys.committedOffset("adhoc", "orders", 0)));
    expect(kinds(store)).toEqual(["group_created:adhoc"]);
    apply(store, del(keys.committedOffset("adhoc", "orders", 1)));
    // A group with metadata keeps existing when offsets go (DeleteTopic removes every group's offsets of it).
    apply(store, del(keys.committedOffset("rebalancing", "events", 0)), del(keys.committedOffset("billing", "orders", 0)));
    expect(kinds(store)).toEqual(["group_created:adhoc", "group_deleted:adhoc"]);
  });

  it("records a large batch's events when its long write commits (src/store/long-apply.ts), none when it is aborted", async () => {
    const store = await loaded();
    const first = (group: string): KvChange[] => [
      put(keys.committedOffset(group, "orders", 0), offset(1), 1),
      put(keys.committedOffset(group, "orders", 1), offset(1), 1),
    ];
    const aborted = store.writer.beginLargeApply();
    await aborted.apply(first("dropped"));
    aborted.abort();
    expect(kinds(store)).toEqual([]);
    const large = store.writer.beginLargeApply();
    await large.apply([...first("adhoc"), del(keys.groupMetadata("rebalancing"))]);
    // Nothing is visible before the commit, on the reads' connection.
    expect(kinds(store)).toEqual([]);
    expect(large.commit(revision)).toMatchObject({ applied: 3, skipped: 0 });
    expect(kinds(store)).toEqual(["group_created:adhoc", "group_deleted:rebalancing"]);
    expect(store.changes.recent({ limit: 10 }).items.every((e) => e.source === "watch")).toBe(true);
  });

  it("coalesces lease moves per partition within a batch and reports one event per topic", async () => {
    const store = await loaded();
    apply(
      store,
      del(keys.partitionLease("orders", 0)),
      put(keys.partitionLease("orders", 0), encodeLease(2)),
      put(keys.partitionLease("orders", 1), encodeLease(1)),
      put(keys.partitionLease("events", 1), encodeLease(0), 1),
    );
    const events = store.changes.recent({ limit: 10 }).items.reverse();
    expect(events.map((e) => [e.topic, e.partition, e.details])).toEqual([
      // orders/1 was re-put with its holder: no move. Ordered by each event's newest revision.
      ["orders", 0, { source: "lease", moved: 1, moves: [{ partition: 0, from: 0, to: 2 }] }],
      ["events", 1, { source: "lease", moved: 1, moves: [{ partition: 1, from: null, to: 0 }] }],
    ]);
  });

  it("diffs a repaired undecodable value against the last good one (kept), never as a new group", async () => {
    const store = await loaded();
    const group = (groupId: string): Buffer =>
      encodeConsumerGroup({
        groupId,
        state: "stable",
        protocolType: "consumer",
        protocol: "range",
        leader: "m1",
        generationId: 3,
        rebalanceTimeoutMs: 60_000,
        members: [],
      });
    // billing's last good value (members m1, m2) is kept while its value does not decode: the
    // repaired value is compared with it, so the members gone meanwhile are reported, once.
    apply(store, put(keys.groupMetadata("billing"), Buffer.from([0x0a, 0xff, 0x01])));
    expect(kinds(store)).toEqual([]);
    apply(store, put(keys.groupMetadata("billing"), group("billing")));
    expect(kinds(store)).toEqual(["member_left:billing", "member_left:billing"]);
    // A group whose first value never decoded: what it said is unknown, so its repair is no event.
    apply(store, put(keys.groupMetadata("ghost"), Buffer.from([0x0a, 0xff, 0x01])));
    apply(store, put(keys.groupMetadata("ghost"), group("ghost")));
    expect(kinds(store)).toEqual(["member_left:billing", "member_left:billing"]);
    apply(store, put(keys.snapshot(), Buffer.from("{not json")), put(keys.snapshot(), encodeSnapshot(snapshotFor(realisticCluster))));
    expect(kinds(store)).toEqual(["member_left:billing", "member_left:billing"]);
  });

  it("reports a snapshot change again when the transaction that first saw it was rolled back", async () => {
    const store = await loaded();
    const moved = put(keys.snapshot(), encodeSnapshot(snapshotFor({ ...realisticCluster, brokers: 4 })));
    // A change the store cannot write (no lease value to bind) fails the whole batch after the snapshot.
    const broken = { ...put(keys.nextOffset("orders", 0), Buffer.from("1")), lease: undefined as unknown as string };
    expect(() => store.writer.applyChanges([moved, broken], revision)).toThrow();
    expect(kinds(store)).toEqual([]);
    store.writer.applyChanges([moved], moved.modRevision);
    expect(kinds(store)).toEqual(["broker_joined:3"]);
    // And the next change diffs against what was committed.
    apply(store, put(keys.snapshot(), encodeSnapshot(snapshotFor({ ...realisticCluster, brokers: 5 }))));
    expect(kinds(store)).toEqual(["broker_joined:3", "broker_joined:4"]);
  });

  it("keeps at most the row cap and moves the window forward past what it pruned", async () => {
    const store = await loaded({ maxEvents: 3 });
    const start = store.changes.recent({ limit: 1 }).window;
    expect(start.completeAfterRevision).toBeGreaterThan(0);
    for (const broker of [3, 4, 5, 6, 7]) {
      apply(store, put(keys.snapshot(), encodeSnapshot(snapshotFor({ ...realisticCluster, brokers: broker + 1 }))));
    }
    const page = store.changes.recent({ limit: 10 });
    expect(page.items.map((e) => e.broker_id)).toEqual([7, 6, 5]);
    const pruned = store.changes.recent({ limit: 10, afterRevision: 0 }).items.length;
    expect(pruned).toBe(3);
    // Every change after the window's revision is still there.
    expect(page.window.completeAfterRevision).toBe((page.items.at(-1)?.revision ?? 0) - 1);
  });

  it("prunes by age, also when nothing new is written", async () => {
    const store = await loaded({ eventsRetentionMs: 60_000 });
    store.writer.applyChanges([put(keys.snapshot(), encodeSnapshot(snapshotFor({ ...realisticCluster, brokers: 4 })))], revision, 2_000_000);
    expect(store.changes.recent({ limit: 10 }).items).toHaveLength(1);
    store.writer.applyChanges([put(keys.nextOffset("orders", 0), Buffer.from("130"))], revision, 2_000_000 + 61_000);
    const page = store.changes.recent({ limit: 10 });
    expect(page.items).toEqual([]);
    expect(page.window.completeAfterAt).toBe(2_000_000);
  });
});
