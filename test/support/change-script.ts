/**
 * A scripted series of cluster changes, written into etcd the way Kafscale writes them, and the
 * semantic change events each step must produce (exactly these, in this order, once each).
 */
import type { Namespace } from "etcd3";
import {
  groupMetadataValue,
  partitionStateValue,
  snapshotFor,
  type ClusterSpec,
  type GroupSpec,
  type TopicSpec,
} from "../../src/demo/cluster-spec.js";
import { encodeLease, encodeSnapshot, encodeTopicConfig } from "../../src/kafscale/encode.js";
import { keys } from "../../src/kafscale/keys.js";
import type { ClusterSnapshot } from "../../src/kafscale/records.js";
import { realisticCluster } from "./fixtures.js";

/** The realistic cluster, with broker 2 holding the produce lease of orders/2 (so it can leave with it). */
export const scriptCluster: ClusterSpec = {
  ...realisticCluster,
  topics: realisticCluster.topics.map((t): TopicSpec => (t.name === "orders" ? { ...t, leases: [0, 1, 2] } : t)),
};

/** The fields of an event a step expects (the rest is checked elsewhere). */
export interface ExpectedEvent {
  kind: string;
  topic?: string | null;
  group_id?: string | null;
  partition?: number | null;
  broker_id?: number | null;
  details?: Record<string, unknown>;
}

export interface ScriptStep {
  name: string;
  run(keyspace: Namespace): Promise<number>;
  expected: ExpectedEvent[];
}

const put = async (keyspace: Namespace, key: string, value: Buffer): Promise<number> =>
  Number((await keyspace.put(key).value(value).exec()).header.revision);

/** The snapshot of `spec` with other topics and brokers, as the operator would publish it. */
function snapshotWith(topics: TopicSpec[], brokers = 3): ClusterSnapshot {
  return snapshotFor({ ...scriptCluster, brokers, topics });
}

const payments = (partitions: number): TopicSpec => ({ name: "payments", partitions });
const paymentsConfig = (retentionMs: number): Buffer =>
  encodeTopicConfig({
    name: "payments",
    partitions: 2,
    replicationFactor: 1,
    retentionMs,
    retentionBytes: -1,
    segmentBytes: 0,
    createdAt: "2026-11-24T09:00:00Z",
    config: {},
  });

/** billing's metadata as its coordinator writes it: `members` subscribed to orders. */
export function billing(state: NonNullable<GroupSpec["state"]>, generation: number, members: string[]): Buffer {
  return groupMetadataValue({ id: "billing", state, generation, members: members.map((id) => ({ id, assignments: { orders: [] } })) });
}

/**
 * Create a topic, add partitions, edit its config, rebalance a group twice, empty it, delete the topic,
 * a broker leaving; then a new group forming and the controller moving (every kind the watch derives
 * appears at least once; broker_joined and group_deleted come from the resync test).
 */
export const changeScript: ScriptStep[] = [
  {
    name: "create topic payments (config key, then the snapshot)",
    run: async (ks) => {
      await put(ks, keys.topicConfig("payments"), paymentsConfig(86_400_000));
      return put(ks, keys.snapshot(), encodeSnapshot(snapshotWith([...scriptCluster.topics, payments(2)])));
    },
    expected: [{ kind: "topic_created", topic: "payments", details: { partitions: 2 } }],
  },
  {
    name: "add partitions to payments (partition states, then the snapshot)",
    run: async (ks) => {
      for (const partition of [2, 3]) await put(ks, keys.partitionState("payments", partition), partitionStateValue("payments", partition, 0));
      return put(ks, keys.snapshot(), encodeSnapshot(snapshotWith([...scriptCluster.topics, payments(4)])));
    },
    expected: [
      { kind: "partitions_added", topic: "payments", details: { partitions_before: 2, partitions_after: 4, added: [2, 3] } },
    ],
  },
  {
    name: "edit the config of payments",
    run: (ks) => put(ks, keys.topicConfig("payments"), paymentsConfig(3_600_000)),
    expected: [
      {
        kind: "topic_config_changed",
        topic: "payments",
        details: { changes: [{ key: "retention.ms", from: 86_400_000, to: 3_600_000 }] },
      },
    ],
  },
  {
    name: "rebalance billing: a third member joins",
    run: async (ks) => {
      await put(ks, keys.groupMetadata("billing"), billing("preparing_rebalance", 3, ["m1", "m2"]));
      return put(ks, keys.groupMetadata("billing"), billing("stable", 4, ["m1", "m2", "m3"]));
    },
    expected: [
      { kind: "group_state_changed", group_id: "billing", details: { from: "stable", to: "preparing_rebalance" } },
      { kind: "group_state_changed", group_id: "billing", details: { from: "preparing_rebalance", to: "stable" } },
      {
        kind: "group_rebalanced",
        group_id: "billing",
        details: { generation_before: 3, generation_after: 4, members_before: 2, members_after: 3 },
      },
      { kind: "member_joined", group_id: "billing", details: { member_id: "m3" } },
    ],
  },
  {
    name: "rebalance billing again: m2 leaves",
    run: async (ks) => {
      await put(ks, keys.groupMetadata("billing"), billing("preparing_rebalance", 4, ["m1", "m3"]));
      return put(ks, keys.groupMetadata("billing"), billing("stable", 5, ["m1", "m3"]));
    },
    expected: [
      { kind: "group_state_changed", group_id: "billing", details: { from: "stable", to: "preparing_rebalance" } },
      { kind: "member_left", group_id: "billing", details: { member_id: "m2" } },
      { kind: "group_state_changed", group_id: "billing", details: { from: "preparing_rebalance", to: "stable" } },
      {
        kind: "group_rebalanced",
        group_id: "billing",
        details: { generation_before: 4, generation_after: 5, members_before: 2, members_after: 2 },
      },
    ],
  },
  {
    name: "empty billing (Kafscale deletes the metadata key, the offsets stay)",
    run: async (ks) => Number((await ks.delete().key(keys.groupMetadata("billing")).exec()).header.revision),
    expected: [{ kind: "group_emptied", group_id: "billing", details: { state_before: "stable", generation: 5 } }],
  },
  {
    name: "delete topic payments (its prefix, then the snapshot)",
    run: async (ks) => {
      await ks.delete().prefix("/kafscale/topics/payments/").exec();
      return put(ks, keys.snapshot(), encodeSnapshot(snapshotWith(scriptCluster.topics)));
    },
    expected: [{ kind: "topic_deleted", topic: "payments", details: { partitions: 4 } }],
  },
  {
    name: "broker 2 leaves (its lease expires, the operator publishes two brokers)",
    run: async (ks) => {
      await ks.delete().key(keys.partitionLease("orders", 2)).exec();
      return put(ks, keys.snapshot(), encodeSnapshot(snapshotWith(scriptCluster.topics, 2)));
    },
    expected: [
      {
        kind: "partition_leader_changed",
        topic: "orders",
        partition: 2,
        details: { source: "lease", moved: 1, moves: [{ partition: 2, from: 2, to: null }] },
      },
      { kind: "broker_left", broker_id: 2 },
      {
        kind: "partition_leader_changed",
        topic: "orders",
        partition: 2,
        details: { source: "snapshot", moved: 1, moves: [{ partition: 2, from: 2, to: 0 }] },
      },
    ],
  },
  {
    name: "a new group forms (its first metadata key, no offsets yet)",
    run: (ks) =>
      put(
        ks,
        keys.groupMetadata("fraud-check"),
        groupMetadataValue({ id: "fraud-check", state: "stable", generation: 1, members: [{ id: "f1", assignments: { orders: [0, 1] } }] }),
      ),
    expected: [{ kind: "group_created", group_id: "fraud-check", details: { state: "stable", generation: 1, members: ["f1"] } }],
  },
  {
    name: "the controller moves to broker 1",
    run: (ks) => put(ks, keys.snapshot(), encodeSnapshot({ ...snapshotWith(scriptCluster.topics, 2), controllerId: 1 })),
    expected: [{ kind: "cluster_changed", details: { changes: [{ key: "controller_id", from: 0, to: 1 }] } }],
  },
];

/** A lease taken by a broker (a produce after the leader moved): used to check the feed goes on after a restart. */
export async function leaseTaken(keyspace: Namespace): Promise<{ revision: number; expected: ExpectedEvent[] }> {
  const revision = await put(keyspace, keys.partitionLease("orders", 2), encodeLease(0));
  return {
    revision,
    expected: [{ kind: "partition_leader_changed", topic: "orders", partition: 2, details: { source: "lease", moves: [{ partition: 2, from: null, to: 0 }] } }],
  };
}
