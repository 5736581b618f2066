/**
 * Encoders that write values exactly as Kafscale does (kafscale-contract.md §1–§3): the inverse
 * of the key kinds' decoders (kinds.ts). Used by tests, the demo data generator and the benchmark to
 * fill a real etcd with Kafscale-format data; the service itself never writes to etcd. Key builders
 * are `keys` (keys.ts), made from the kinds' entries.
 */
import { createHash } from "node:crypto";
import { INT32_MAX } from "./key-segments.js";
import { encodeMessage, type MessageName } from "./proto.js";
import type * as records from "./records.js";

/** Kafscale's topic ID (topicid.go): the first 16 bytes of SHA-1(name), as 32 lowercase hex chars. */
export function topicIdFor(name: string): string {
  return createHash("sha1").update(name, "utf8").digest().subarray(0, 16).toString("hex");
}

/**
 * Encodes a snapshot as Go's encoding/json marshals `metadata.ClusterMetadata`: Go field names in
 * struct order, `TopicID` as 16 numbers, `UnknownTags: {}`, `AuthorizedOperations: 0`, and `null`
 * for empty lists (Go's nil slices), so `OfflineReplicas` is normally `null`. Lists keep the
 * caller's order. An empty snapshot gives the contract's
 * `{"Brokers":null,"ControllerID":0,"Topics":null,"ClusterName":null,"ClusterID":null}`.
 */
export function encodeSnapshot(snapshot: records.ClusterSnapshot): Buffer {
  const json = {
    Brokers: nilIfEmpty(
      snapshot.brokers.map((b) => ({ NodeID: b.nodeId, Host: b.host, Port: b.port, Rack: b.rack, UnknownTags: {} })),
    ),
    ControllerID: snapshot.controllerId,
    Topics: nilIfEmpty(
      snapshot.topics.map((t) => ({
        ErrorCode: t.errorCode,
        Topic: t.name,
        TopicID: topicIdBytes(t.topicId),
        IsInternal: t.isInternal,
        Partitions: nilIfEmpty(
          t.partitions.map((p) => ({
            ErrorCode: p.errorCode,
            Partition: p.partition,
            Leader: p.leader,
            LeaderEpoch: p.leaderEpoch,
            Replicas: nilIfEmpty(p.replicas),
            ISR: nilIfEmpty(p.isr),
            OfflineReplicas: nilIfEmpty(p.offlineReplicas),
            UnknownTags: {},
          })),
        ),
        AuthorizedOperations: 0,
        UnknownTags: {},
      })),
    ),
    ClusterName: snapshot.clusterName,
    ClusterID: snapshot.clusterId,
  };
  return Buffer.from(goJson(json), "utf8");
}

/** Encodes a TopicConfig protobuf byte-identical to Go's proto.Marshal (defaults omitted). */
export function encodeTopicConfig(config: records.TopicConfigRecord): Buffer {
  return encodeProto("TopicConfig", { ...config });
}

/** Encodes a PartitionState protobuf byte-identical to Go's proto.Marshal (defaults omitted). */
export function encodePartitionState(state: records.PartitionStateRecord): Buffer {
  return encodeProto("PartitionState", { ...state });
}

/** Encodes a ConsumerGroup protobuf; `members` becomes the proto map keyed by member ID. */
export function encodeConsumerGroup(group: records.ConsumerGroupRecord): Buffer {
  const members: Record<string, unknown> = {};
  for (const { memberId, ...member } of group.members) {
    if (Object.hasOwn(members, memberId)) throw new TypeError(`duplicate member ID ${JSON.stringify(memberId)}`);
    members[memberId] = member;
  }
  return encodeProto("ConsumerGroup", { ...group, members });
}

/** Encodes a BrokerRegistration protobuf (defined by Kafscale, not written by it today). */
export function encodeBrokerRegistration(registration: records.BrokerRegistrationRecord): Buffer {
  return encodeProto("BrokerRegistration", { ...registration });
}

/** Encodes a PartitionAssignment protobuf (defined by Kafscale, not written by it today). */
export function encodePartitionAssignment(assignment: records.PartitionAssignmentRecord): Buffer {
  return encodeProto("PartitionAssignment", { ...assignment });
}

/** Encodes a committed offset as the broker's `consumerOffsetRecord` JSON, in its field order. */
export function encodeCommittedOffset(offset: records.CommittedOffsetRecord): Buffer {
  if (!Number.isSafeInteger(offset.offset)) throw new RangeError(`offset must be a safe integer, got ${offset.offset}`);
  return Buffer.from(
    goJson({ offset: offset.offset, metadata: offset.metadata, committed_at: offset.committedAt }),
    "utf8",
  );
}

/** Encodes a `next_offset` value: decimal ASCII of last flushed offset + 1. */
export function encodeNextOffset(nextOffset: number): Buffer {
  if (!Number.isSafeInteger(nextOffset) || nextOffset < 0) {
    throw new RangeError(`next_offset must be a non-negative safe integer, got ${nextOffset}`);
  }
  return Buffer.from(String(nextOffset), "ascii");
}

/** Encodes a partition or group lease value: the holder's broker NodeID in decimal. */
export function encodeLease(nodeId: number): Buffer {
  if (!Number.isInteger(nodeId) || nodeId < 0 || nodeId > INT32_MAX) {
    throw new RangeError(`lease NodeID must be a non-negative int32, got ${nodeId}`);
  }
  return Buffer.from(String(nodeId), "ascii");
}

function encodeProto(name: MessageName, fields: Record<string, unknown>): Buffer {
  return Buffer.from(encodeMessage(name, fields));
}

/** Go marshals nil slices as `null`; Kafscale's writers leave empty lists nil. */
function nilIfEmpty<T>(list: readonly T[]): readonly T[] | null {
  return list.length > 0 ? list : null;
}

function topicIdBytes(topicId: string): number[] {
  if (!/^[0-9a-f]{32}$/i.test(topicId)) throw new TypeError(`topicId must be 32 hex characters, got ${topicId}`);
  return [...Buffer.from(topicId, "hex")];
}

/** JSON.stringify plus Go's HTML-safe escaping of <, >, & and U+2028/U+2029, for identical bytes. */
function goJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
