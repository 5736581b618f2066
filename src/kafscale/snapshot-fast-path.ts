/**
 * The snapshot decoder's fast path: a hand-written check and conversion of the parsed JSON that
 * accepts exactly what the zod schema in snapshot-schema.ts accepts (both Kafscale shapes, never a
 * mix of them) and returns the same record, in a
 * fraction of the time and without zod's intermediate copies. At 100,000 partitions the zod parse
 * took ~350 ms and a second object graph of the whole cluster (docs/BENCHMARKS.md); this runs on
 * every snapshot change, inside the write path. Anything it does not like returns null, and the
 * caller runs the zod schema for the precise error message, so errors read the same either way.
 * test/unit/decode.test.ts compares both paths on valid documents and on every rejected one.
 */
import type { ClusterSnapshot } from "./records.js";
import { FOREIGN_KEYS, SHAPE_KEYS, topicShapeOf, type SnapshotShape } from "./snapshot-schema.js";

type Json = Record<string, unknown>;
type Broker = ClusterSnapshot["brokers"][number];
type Topic = ClusterSnapshot["topics"][number];
type Partition = Topic["partitions"][number];

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const isIntIn = (v: unknown, min: number, max: number): v is number =>
  typeof v === "number" && Number.isSafeInteger(v) && v >= min && v <= max;
const isInt32 = (v: unknown): v is number => isIntIn(v, -2_147_483_648, 2_147_483_647);
const isInt16 = (v: unknown): v is number => isIntIn(v, -32_768, 32_767);
const isNullableString = (v: unknown): v is string | null => v === null || typeof v === "string";

/** Go's nil slice is `null`; otherwise every element an int32. The array is reused, not copied. */
function int32List(v: unknown): number[] | null {
  if (v === null) return [];
  if (!Array.isArray(v)) return null;
  for (const n of v) if (!isInt32(n)) return null;
  return v as number[];
}

function broker(v: unknown): Broker | null {
  if (!isObject(v)) return null;
  const { NodeID, Host, Port, Rack } = v;
  if (!isInt32(NodeID) || typeof Host !== "string" || !isInt32(Port) || !isNullableString(Rack)) return null;
  return { nodeId: NodeID, host: Host, port: Port, rack: Rack };
}

/** True when `v` has one of the keys that only the other shape writes. */
function hasForeignKey(v: Json, foreign: readonly string[]): boolean {
  for (const key of foreign) if (key in v) return true;
  return false;
}

/**
 * A partition from its fields, read by the caller with the key names of its shape. Each shape has its
 * own small reader below with constant property names: this loop runs once per partition of the
 * cluster, and constant names are what keeps V8's property access fast.
 */
function partitionOf(
  v: Json,
  index: unknown,
  leader: unknown,
  replicaList: unknown,
  isrList: unknown,
): Partition | null {
  const { ErrorCode, LeaderEpoch } = v;
  if (!isInt16(ErrorCode) || !isInt32(index) || index < 0 || !isInt32(leader) || !isInt32(LeaderEpoch)) {
    return null;
  }
  const replicas = int32List(replicaList);
  const isr = int32List(isrList);
  const offlineReplicas = int32List(v.OfflineReplicas);
  if (replicas === null || isr === null || offlineReplicas === null) return null;
  return { partition: index, leader, leaderEpoch: LeaderEpoch, replicas, isr, offlineReplicas, errorCode: ErrorCode };
}

// The foreign-key checks spell out FOREIGN_KEYS.partition (test/unit/decode.test.ts holds them equal).
const PARTITION_READERS: Record<SnapshotShape, (v: Json) => Partition | null> = {
  "v1.6": (v) =>
    "PartitionIndex" in v || "LeaderID" in v || "ReplicaNodes" in v || "ISRNodes" in v
      ? null
      : partitionOf(v, v.Partition, v.Leader, v.Replicas, v.ISR),
  legacy: (v) =>
    "Partition" in v || "Leader" in v || "Replicas" in v || "ISR" in v
      ? null
      : partitionOf(v, v.PartitionIndex, v.LeaderID, v.ReplicaNodes, v.ISRNodes),
};

function topicId(v: unknown): string | null {
  if (!Array.isArray(v) || v.length !== 16) return null;
  for (const b of v) if (!isIntIn(b, 0, 255)) return null;
  return Buffer.from(v as number[]).toString("hex");
}

/** A topic of the given shape; a null name reads as "" (see topicName in snapshot-schema.ts). */
function topic(v: unknown, shape: SnapshotShape): Topic | null {
  if (!isObject(v) || topicShapeOf(v) !== shape || hasForeignKey(v, FOREIGN_KEYS.topic[shape])) return null;
  const name = v[SHAPE_KEYS[shape].name];
  const { ErrorCode, IsInternal, Partitions } = v;
  if (!isInt16(ErrorCode) || !isNullableString(name) || typeof IsInternal !== "boolean") return null;
  const id = topicId(v.TopicID);
  if (id === null) return null;
  const partitions: Partition[] = [];
  if (Partitions !== null) {
    if (!Array.isArray(Partitions)) return null;
    const read = PARTITION_READERS[shape];
    for (const p of Partitions) {
      const converted = isObject(p) ? read(p) : null;
      if (converted === null) return null;
      partitions.push(converted);
    }
  }
  partitions.sort((a, b) => a.partition - b.partition);
  return { name: name ?? "", topicId: id, isInternal: IsInternal, errorCode: ErrorCode, partitions };
}

function listOf<T>(v: unknown, convert: (item: unknown) => T | null): T[] | null {
  if (v === null) return [];
  if (!Array.isArray(v)) return null;
  const out: T[] = [];
  for (const item of v) {
    const converted = convert(item);
    if (converted === null) return null;
    out.push(converted);
  }
  return out;
}

/** The parsed snapshot JSON as a record, or null when it is not exactly what Kafscale writes. */
export function convertSnapshot(json: unknown): ClusterSnapshot | null {
  if (!isObject(json)) return null;
  const { ControllerID, ClusterName, ClusterID, Topics } = json;
  if (!isInt32(ControllerID) || !isNullableString(ClusterID)) return null;
  // One shape per document, set by its first topic; ClusterName is absent only before v1.4.
  const first = Array.isArray(Topics) && isObject(Topics[0]) ? Topics[0] : null;
  const shape: SnapshotShape = first === null ? "legacy" : topicShapeOf(first);
  let clusterName: string | null = null;
  if (ClusterName === undefined) {
    if (shape !== "legacy") return null;
  } else if (isNullableString(ClusterName)) clusterName = ClusterName;
  else return null;
  const brokers = listOf(json.Brokers, broker);
  const topics = listOf(Topics, (t) => topic(t, shape));
  if (brokers === null || topics === null) return null;
  brokers.sort((a, b) => a.nodeId - b.nodeId);
  topics.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { brokers, controllerId: ControllerID, topics, clusterName, clusterId: ClusterID };
}
