/**
 * The snapshot decoder's fast path: a hand-written check and conversion of the parsed JSON that
 * accepts exactly what the zod schema in snapshot-schema.ts accepts (both Kafscale shapes, never a
 * mix of them) and returns the same record, in a
 * fraction of the time and without zod's intermediate copies. At 100,000 partitions the zod parse
 * took ~350 ms and a second object graph of the whole cluster (docs/BENCHMARKS.md); this runs on
 * every snapshot change, inside the write path. Anything it does not like returns null, and the
 * caller runs the zod schema for the precise error message, so errors read the same either way.
 * test/unit/decode.test.ts compares both paths on valid documents and on every rejected one.
 *
 * convertSnapshotBytes runs first: the same conversion, parsing the value one topic at a time, so
 * the whole text and object graph of a large cluster are never alive together
 * (test/unit/snapshot-bytes.test.ts holds it to JSON.parse of the whole value).
 */
import type { ClusterSnapshot } from "./records.js";
import { arrayElements, objectMembers, type Span } from "./json-spans.js";
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
  const { Topics } = json;
  const shape = documentShape(Array.isArray(Topics) ? (Topics[0] as unknown) : undefined);
  return assemble(json, shape, listOf(Topics, (t) => topic(t, shape)));
}

/** One shape per document, set by its first topic (legacy when that is not an object, or absent). */
function documentShape(firstTopic: unknown): SnapshotShape {
  return isObject(firstTopic) ? topicShapeOf(firstTopic) : "legacy";
}

/**
 * The same as `convertSnapshot(JSON.parse(text(value)))`, parsing one topic at a time (json-spans.ts):
 * only the records and one topic's JSON are alive at once, not the whole text and object graph. Null
 * when the value is not what Kafscale writes or not laid out as the scanner follows; the caller then
 * parses the whole value, which also words the error.
 */
export function convertSnapshotBytes(value: Uint8Array): ClusterSnapshot | null {
  const members = objectMembers(value);
  if (members === null) return null;
  // Every member is parsed (that is what checks the document is JSON) into an object without a
  // prototype, so a "__proto__" key is a member like any other, as JSON.parse makes it. A repeated
  // key (JSON.parse keeps the last) is left to the whole-value parse.
  const json: Json = Object.create(null) as Json;
  const seen = new Set<string>();
  let topics: Span[] | null = null;
  for (const member of members) {
    const name = parseSpan(value, member.key);
    if (typeof name !== "string" || seen.has(name)) return null;
    seen.add(name);
    if (name === "Topics") {
      // Topics that are not an array (null in an empty v1.0–v1.3 cluster) go to the whole-value parse.
      topics = arrayElements(value, member.value);
      if (topics === null) return null;
      continue;
    }
    const parsed = parseSpan(value, member.value);
    if (parsed === INVALID) return null;
    json[name] = parsed;
  }
  if (topics === null) return null; // no Topics member: rejected (the whole parse words why)
  const converted: Topic[] = [];
  let shape: SnapshotShape = "legacy";
  for (const [i, span] of topics.entries()) {
    const t = parseSpan(value, span);
    if (i === 0) shape = documentShape(t);
    const record = t === INVALID ? null : topic(t, shape);
    if (record === null) return null;
    converted.push(record);
  }
  return assemble(json, shape, converted);
}

/** What parseSpan returns for a span that is not JSON. */
const INVALID = Symbol("invalid JSON");
// ignoreBOM keeps a U+FEFF that starts a span: it is not JSON whitespace, so JSON.parse must see it.
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

function parseSpan(bytes: Uint8Array, span: Span): unknown {
  try {
    return JSON.parse(utf8.decode(bytes.subarray(span.start, span.end))) as unknown;
  } catch {
    return INVALID;
  }
}

/**
 * The snapshot from its top-level members and its converted topics. `topics` is null when the Topics
 * member is missing or not a list (Go's null list has become [] in listOf already): rejected.
 */
function assemble(json: Json, shape: SnapshotShape, topics: Topic[] | null): ClusterSnapshot | null {
  const { ControllerID, ClusterName, ClusterID } = json;
  if (topics === null) return null;
  if (!isInt32(ControllerID) || !isNullableString(ClusterID)) return null;
  // ClusterName is absent only before v1.4.
  let clusterName: string | null = null;
  if (ClusterName === undefined) {
    if (shape !== "legacy") return null;
  } else if (isNullableString(ClusterName)) clusterName = ClusterName;
  else return null;
  const brokers = listOf(json.Brokers, broker);
  if (brokers === null) return null;
  brokers.sort((a, b) => a.nodeId - b.nodeId);
  topics.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { brokers, controllerId: ControllerID, topics, clusterName, clusterId: ClusterID };
}
