/**
 * The snapshot decoder's fast path: a hand-written check and conversion of the parsed JSON that
 * accepts exactly what the zod schema in decode.ts accepts and returns the same record, in a
 * fraction of the time and without zod's intermediate copies. At 100,000 partitions the zod parse
 * took ~350 ms and a second object graph of the whole cluster (docs/BENCHMARKS.md); this runs on
 * every snapshot change, inside the write path. Anything it does not like returns null, and the
 * caller runs the zod schema for the precise error message, so errors read the same either way.
 * test/unit/decode.test.ts compares both paths on valid documents and on every rejected one.
 */
import type { ClusterSnapshot } from "./records.js";

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

function partition(v: unknown): Partition | null {
  if (!isObject(v)) return null;
  const { ErrorCode, Partition, Leader, LeaderEpoch } = v;
  if (!isInt16(ErrorCode) || !isInt32(Partition) || Partition < 0 || !isInt32(Leader) || !isInt32(LeaderEpoch)) {
    return null;
  }
  const replicas = int32List(v.Replicas);
  const isr = int32List(v.ISR);
  const offlineReplicas = int32List(v.OfflineReplicas);
  if (replicas === null || isr === null || offlineReplicas === null) return null;
  return { partition: Partition, leader: Leader, leaderEpoch: LeaderEpoch, replicas, isr, offlineReplicas, errorCode: ErrorCode };
}

function topicId(v: unknown): string | null {
  if (!Array.isArray(v) || v.length !== 16) return null;
  for (const b of v) if (!isIntIn(b, 0, 255)) return null;
  return Buffer.from(v as number[]).toString("hex");
}

function topic(v: unknown): Topic | null {
  if (!isObject(v)) return null;
  const { ErrorCode, Topic, IsInternal, Partitions } = v;
  if (!isInt16(ErrorCode) || typeof Topic !== "string" || typeof IsInternal !== "boolean") return null;
  const id = topicId(v.TopicID);
  if (id === null) return null;
  const partitions: Partition[] = [];
  if (Partitions !== null) {
    if (!Array.isArray(Partitions)) return null;
    for (const p of Partitions) {
      const converted = partition(p);
      if (converted === null) return null;
      partitions.push(converted);
    }
  }
  partitions.sort((a, b) => a.partition - b.partition);
  return { name: Topic, topicId: id, isInternal: IsInternal, errorCode: ErrorCode, partitions };
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
  const { ControllerID, ClusterName, ClusterID } = json;
  if (!isInt32(ControllerID) || !isNullableString(ClusterName) || !isNullableString(ClusterID)) return null;
  const brokers = listOf(json.Brokers, broker);
  const topics = listOf(json.Topics, topic);
  if (brokers === null || topics === null) return null;
  brokers.sort((a, b) => a.nodeId - b.nodeId);
  topics.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { brokers, controllerId: ControllerID, topics, clusterName: ClusterName, clusterId: ClusterID };
}
