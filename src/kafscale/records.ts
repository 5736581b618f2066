/**
 * Typed shapes of everything Kafscale keeps under `/kafscale/` (kafscale-contract.md §1–§4).
 * Pure data: produced by the key router and decoders in this folder, consumed by the store.
 */

/** What a key under `/kafscale/` is, after routing. Unknown keys keep their raw form. */
export type KafscaleKey =
  | { kind: "snapshot" }
  | { kind: "topic_config"; topic: string }
  | { kind: "partition_state"; topic: string; partition: number }
  | { kind: "next_offset"; topic: string; partition: number }
  | { kind: "group_metadata"; groupId: string }
  | { kind: "committed_offset"; groupId: string; topic: string; partition: number }
  | { kind: "partition_lease"; topic: string; partition: number }
  | { kind: "group_lease"; groupId: string }
  | { kind: "broker_registration"; brokerId: string }
  | { kind: "partition_assignment"; topic: string; partition: number }
  | { kind: "unknown" };

/**
 * The `default` of every switch over a key kind: `kind` has type `never` once every kind has a case,
 * so adding a kind to {@link KafscaleKey} makes each switch that forgets it a compile error. At run
 * time (a value that escaped the types) it throws instead of silently doing nothing.
 */
export function unhandledKind(value: never): never {
  throw new Error(`unhandled key kind ${JSON.stringify((value as { kind?: unknown }).kind)}`);
}

export interface SnapshotBroker {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface SnapshotPartition {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
  errorCode: number;
}

export interface SnapshotTopic {
  name: string;
  /** 32 lowercase hex characters (the 16 bytes of TopicID). */
  topicId: string;
  isInternal: boolean;
  errorCode: number;
  partitions: SnapshotPartition[];
}

/** `/kafscale/metadata/snapshot`: JSON of Go's `metadata.ClusterMetadata`. */
export interface ClusterSnapshot {
  brokers: SnapshotBroker[];
  controllerId: number;
  topics: SnapshotTopic[];
  clusterName: string | null;
  clusterId: string | null;
}

/** `/kafscale/topics/<t>/config` (protobuf TopicConfig). */
export interface TopicConfigRecord {
  name: string;
  partitions: number;
  replicationFactor: number;
  retentionMs: number;
  retentionBytes: number;
  segmentBytes: number;
  createdAt: string;
  /** Never null: an empty proto map is `{}`. */
  config: Record<string, string>;
}

export interface SegmentInfoRecord {
  baseOffset: number;
  sizeBytes: number;
  createdAt: string;
}

/** `/kafscale/topics/<t>/partitions/<p>` (protobuf PartitionState). */
export interface PartitionStateRecord {
  topic: string;
  partition: number;
  leaderBroker: string;
  leaderEpoch: number;
  logStartOffset: number;
  logEndOffset: number;
  highWatermark: number;
  activeSegment: string;
  segments: SegmentInfoRecord[];
}

export interface AssignmentRecord {
  topic: string;
  partitions: number[];
}

export interface GroupMemberRecord {
  memberId: string;
  clientId: string;
  clientHost: string;
  heartbeatAt: string;
  assignments: AssignmentRecord[];
  subscriptions: string[];
  sessionTimeoutMs: number;
}

/** `/kafscale/consumers/<g>/metadata` (protobuf ConsumerGroup). Members sorted by member ID. */
export interface ConsumerGroupRecord {
  groupId: string;
  state: string;
  protocolType: string;
  protocol: string;
  leader: string;
  generationId: number;
  rebalanceTimeoutMs: number;
  members: GroupMemberRecord[];
}

/** `/kafscale/consumers/<g>/offsets/<t>/<p>` (JSON). */
export interface CommittedOffsetRecord {
  offset: number;
  metadata: string;
  committedAt: string;
}

/** `/kafscale/brokers/<id>` (protobuf BrokerRegistration; defined, not written today). */
export interface BrokerRegistrationRecord {
  brokerId: string;
  host: string;
  port: number;
  rack: string;
  startedAt: string;
  lastHeartbeat: string;
  version: string;
}

/** `/kafscale/assignments/<t>/<p>` (protobuf PartitionAssignment; defined, not written today). */
export interface PartitionAssignmentRecord {
  brokerId: string;
  epoch: number;
  assignedAt: string;
}

/** A routed key with its decoded value. `unknown` keys carry no decoded value. */
export type DecodedEntry =
  | { kind: "snapshot"; value: ClusterSnapshot }
  | { kind: "topic_config"; topic: string; value: TopicConfigRecord }
  | { kind: "partition_state"; topic: string; partition: number; value: PartitionStateRecord }
  | { kind: "next_offset"; topic: string; partition: number; value: number }
  | { kind: "group_metadata"; groupId: string; value: ConsumerGroupRecord }
  | { kind: "committed_offset"; groupId: string; topic: string; partition: number; value: CommittedOffsetRecord }
  | { kind: "partition_lease"; topic: string; partition: number; value: number }
  | { kind: "group_lease"; groupId: string; value: number }
  | { kind: "broker_registration"; brokerId: string; value: BrokerRegistrationRecord }
  | { kind: "partition_assignment"; topic: string; partition: number; value: PartitionAssignmentRecord }
  | { kind: "unknown" };

/** One change from etcd, as the store applies it. Keys and values are raw bytes. */
export interface KvChange {
  type: "put" | "delete";
  key: string;
  /** Raw value; empty for deletes. */
  value: Buffer;
  modRevision: number;
  createRevision: number;
  version: number;
  lease: string;
}
