/**
 * Builds the etcd key/value pairs a Kafscale cluster writes, from a compact description. Used for
 * the bundled demo data, test fixtures and the benchmark generator, so all three exercise the real
 * key layout and encodings (kafscale-contract.md §1–§4) through the same decoders as production.
 */
import {
  encodeCommittedOffset,
  encodeConsumerGroup,
  encodeLease,
  encodeNextOffset,
  encodePartitionState,
  encodeSnapshot,
  encodeTopicConfig,
  topicIdFor,
} from "../kafscale/encode.js";
import { keys } from "../kafscale/keys.js";
import type { ClusterSnapshot, GroupMemberRecord } from "../kafscale/records.js";

export interface TopicSpec {
  name: string;
  partitions: number;
  /** Write a TopicConfig key (as AlterConfigs/CreateTopics would). */
  config?: { retentionMs?: number; retentionBytes?: number; segmentBytes?: number; replicationFactor?: number };
  /** next_offset per partition (missing entries: no key, which Kafscale reads as 0). */
  endOffsets?: number[];
  /** Write PartitionState keys (CreatePartitions does). */
  partitionStates?: boolean;
  /** Broker NodeID holding a produce lease per partition (null: no lease). */
  leases?: (number | null)[];
}

export interface GroupSpec {
  id: string;
  /** Lowercase broker state; omit `state` to write no metadata key (an emptied group). */
  state?: "empty" | "preparing_rebalance" | "completing_rebalance" | "stable" | "dead";
  members?: { id: string; assignments: Record<string, number[]>; heartbeatAt?: string }[];
  /** Committed offsets per topic, one entry per partition (null: nothing committed there). */
  offsets?: Record<string, (number | null)[]>;
  leaseBroker?: number;
  generation?: number;
}

export interface ClusterSpec {
  clusterName: string;
  clusterId: string;
  brokers: number;
  namespace?: string;
  topics: TopicSpec[];
  groups: GroupSpec[];
  /** Fixed timestamp used for created_at/committed_at values, so dumps are reproducible. */
  at?: string;
}

export interface KeyValue {
  key: string;
  value: Buffer;
}

/** The snapshot the operator would publish for this spec (BuildClusterMetadata's shape). */
export function snapshotFor(spec: ClusterSpec): ClusterSnapshot {
  const ns = spec.namespace ?? "kafscale";
  const brokerIds = Array.from({ length: spec.brokers }, (_, i) => i);
  return {
    brokers: brokerIds.map((i) => ({
      nodeId: i,
      host: `${spec.clusterName}-broker-${i}.${spec.clusterName}-broker-headless.${ns}.svc.cluster.local`,
      port: 9092,
      rack: null,
    })),
    controllerId: 0,
    topics: spec.topics.map((t) => ({
      name: t.name,
      topicId: topicIdFor(t.name),
      isInternal: false,
      errorCode: 0,
      partitions: Array.from({ length: t.partitions }, (_, p) => ({
        partition: p,
        leader: p % spec.brokers,
        leaderEpoch: 0,
        replicas: brokerIds,
        isr: brokerIds,
        offlineReplicas: [],
        errorCode: 0,
      })),
    })),
    clusterName: spec.clusterName,
    clusterId: spec.clusterId,
  };
}

const DEFAULT_AT = "2026-11-24T08:00:00Z";

/** A PartitionState value as Kafscale's CreatePartitions writes it (offsets 0, the leader's NodeID). */
export function partitionStateValue(topic: string, partition: number, leader: number): Buffer {
  return encodePartitionState({
    topic,
    partition,
    leaderBroker: String(leader),
    leaderEpoch: 0,
    logStartOffset: 0,
    logEndOffset: 0,
    highWatermark: 0,
    activeSegment: "",
    segments: [],
  });
}

/** The metadata value Kafscale's group coordinator writes for a group in `state` (its offsets aside). */
export function groupMetadataValue(g: GroupSpec & { state: NonNullable<GroupSpec["state"]> }, at = DEFAULT_AT): Buffer {
  const members: GroupMemberRecord[] = (g.members ?? []).map((m) => ({
    memberId: m.id,
    clientId: "",
    clientHost: "",
    heartbeatAt: m.heartbeatAt ?? at,
    assignments: Object.entries(m.assignments).map(([topic, partitions]) => ({ topic, partitions })),
    subscriptions: Object.keys(m.assignments),
    sessionTimeoutMs: 45_000,
  }));
  return encodeConsumerGroup({
    groupId: g.id,
    state: g.state,
    protocolType: "consumer",
    protocol: members.length > 0 ? "range" : "",
    leader: members[0]?.memberId ?? "",
    generationId: g.generation ?? 1,
    rebalanceTimeoutMs: 60_000,
    members,
  });
}

/** Every key/value the spec implies, in a stable order. */
export function buildClusterKvs(spec: ClusterSpec): KeyValue[] {
  const at = spec.at ?? DEFAULT_AT;
  const out: KeyValue[] = [{ key: keys.snapshot(), value: encodeSnapshot(snapshotFor(spec)) }];
  for (const t of spec.topics) {
    if (t.config) {
      out.push({
        key: keys.topicConfig(t.name),
        value: encodeTopicConfig({
          name: t.name,
          partitions: t.partitions,
          replicationFactor: t.config.replicationFactor ?? 1,
          retentionMs: t.config.retentionMs ?? -1,
          retentionBytes: t.config.retentionBytes ?? -1,
          segmentBytes: t.config.segmentBytes ?? 0,
          createdAt: at,
          config: {},
        }),
      });
    }
    for (let p = 0; p < t.partitions; p++) {
      if (t.partitionStates) {
        out.push({ key: keys.partitionState(t.name, p), value: partitionStateValue(t.name, p, p % spec.brokers) });
      }
      const end = t.endOffsets?.[p];
      if (end !== undefined) out.push({ key: keys.nextOffset(t.name, p), value: encodeNextOffset(end) });
      const lease = t.leases?.[p];
      if (lease !== undefined && lease !== null) {
        out.push({ key: keys.partitionLease(t.name, p), value: encodeLease(lease) });
      }
    }
  }
  for (const g of spec.groups) {
    if (g.state) out.push({ key: keys.groupMetadata(g.id), value: groupMetadataValue({ ...g, state: g.state }, at) });
    for (const [topic, offsets] of Object.entries(g.offsets ?? {})) {
      offsets.forEach((offset, partition) => {
        if (offset === null) return;
        out.push({
          key: keys.committedOffset(g.id, topic, partition),
          value: encodeCommittedOffset({ offset, metadata: "", committedAt: at }),
        });
      });
    }
    if (g.leaseBroker !== undefined) out.push({ key: keys.groupLease(g.id), value: encodeLease(g.leaseBroker) });
  }
  return out;
}
