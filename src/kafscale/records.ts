/**
 * Typed shapes of everything Kafscale keeps under `/kafscale/` (kafscale-contract.md §1–§4).
 * Pure data: produced by the key kinds' decoders (kinds.ts), consumed by the store. The routed key
 * and decoded entry types (`KafscaleKey`, `DecodedEntry`) are derived from the kinds in kinds.ts.
 */

/**
 * The `default` of every switch over a key kind: `kind` has type `never` once every kind has a case,
 * so adding a kind (an entry in kinds.ts) makes each switch that forgets it a compile error. At run
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
