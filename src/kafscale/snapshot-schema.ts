/**
 * The zod schema of `/kafscale/metadata/snapshot` (kafscale-contract.md §3): the reference for what a
 * snapshot may look like, and the source of every decode error message. snapshot-fast-path.ts
 * accepts exactly the same documents without zod's cost; kinds.ts (`decodeSnapshot`) runs this schema only to explain
 * a rejection (and the differential test in test/unit/decode.test.ts holds the two together).
 *
 * Kafscale wrote two shapes (Go field names, no JSON tags):
 *  - v1.6+ (kmsg types): topic `Topic`, partition `Partition`, `Leader`, `Replicas`, `ISR`;
 *  - v1.0–v1.5 (Kafscale's own structs): topic `Name`, partition `PartitionIndex`, `LeaderID`,
 *    `ReplicaNodes`, `ISRNodes`; `ClusterName` only from v1.4.
 * Clusters are upgraded in place, so either can be in etcd. Go's encoding/json writes every field
 * of these tag-less structs, so a missing field means the value was not written by Kafscale and is
 * rejected; fields of neither shape (`UnknownTags`, `AuthorizedOperations`, future ones) are ignored.
 *
 * Mixed documents are rejected, deliberately: no Kafscale version writes a topic with both `Topic`
 * and `Name`, a partition with keys of the other shape than its topic, or a snapshot whose topics
 * use different shapes, and guessing which key is right would serve a cluster nobody described.
 */
import { z } from "zod";
import type { ClusterSnapshot, SnapshotPartition, SnapshotTopic } from "./records.js";

/** Which Kafscale versions wrote a topic object. */
export type SnapshotShape = "v1.6" | "legacy";

/** The JSON key of every field the two shapes name differently; all other keys are the same in both. */
export const SHAPE_KEYS = {
  "v1.6": { name: "Topic", partition: "Partition", leader: "Leader", replicas: "Replicas", isr: "ISR" },
  legacy: { name: "Name", partition: "PartitionIndex", leader: "LeaderID", replicas: "ReplicaNodes", isr: "ISRNodes" },
} as const satisfies Record<SnapshotShape, Record<string, string>>;

/** Keys only the other shape has, per object: their presence makes a topic or partition mixed. */
export const FOREIGN_KEYS: Record<"topic" | "partition", Record<SnapshotShape, readonly string[]>> = {
  topic: { "v1.6": [SHAPE_KEYS.legacy.name], legacy: [SHAPE_KEYS["v1.6"].name] },
  partition: {
    "v1.6": partitionKeysOf("legacy"),
    legacy: partitionKeysOf("v1.6"),
  },
};

function partitionKeysOf(shape: SnapshotShape): string[] {
  const { partition, leader, replicas, isr } = SHAPE_KEYS[shape];
  return [partition, leader, replicas, isr];
}

const SHAPE_NAME: Record<SnapshotShape, string> = { "v1.6": "Kafscale v1.6+", legacy: "Kafscale before v1.6" };

const int16 = z.int().min(-32_768).max(32_767);
const int32 = z.int32();
const partitionIndex = z.int32().min(0, { error: "partition must be a non-negative int32" });
/** Go marshals a nil slice as `null`; the records never hold null lists. */
const int32List = z
  .array(int32)
  .nullable()
  .transform((list) => list ?? []);
/** Go's `[16]byte` marshals as 16 numbers (a base64 string would fail Go's unmarshal too). */
const topicIdJson = z
  .array(z.int().min(0).max(255), { error: "TopicID must be an array of 16 bytes" })
  .length(16, { error: "TopicID must be an array of 16 bytes" })
  .transform((bytes) => Buffer.from(bytes).toString("hex"));
/**
 * A topic name: Go's nil `*string` is `null`. Null (like "") reads as "" here: such a topic cannot
 * be addressed, and decodeSnapshot drops it with a warning instead of rejecting the whole snapshot.
 */
const topicName = (field: string) =>
  z
    .string({ error: (issue) => (issue.input === undefined ? `${field} is missing` : `${field} must be a string or null`) })
    .nullable()
    .transform((name) => name ?? "");

/** Rejects a key of the other shape. */
const foreign = (shape: SnapshotShape) =>
  z.never({ error: `not allowed in the ${SHAPE_NAME[shape]} shape of this object (mixed shapes)` }).optional();

function foreignKeys(keys: readonly string[], shape: SnapshotShape): Record<string, ReturnType<typeof foreign>> {
  return Object.fromEntries(keys.map((key) => [key, foreign(shape)]));
}

const brokerJson = z
  .object({ NodeID: int32, Host: z.string(), Port: int32, Rack: z.string().nullable() })
  .transform((b) => ({ nodeId: b.NodeID, host: b.Host, port: b.Port, rack: b.Rack }));

/** A partition object of one shape. */
function partitionSchema(shape: SnapshotShape) {
  const k = SHAPE_KEYS[shape];
  return z
    .object({
      ErrorCode: int16,
      [k.partition]: partitionIndex,
      [k.leader]: int32,
      LeaderEpoch: int32,
      [k.replicas]: int32List,
      [k.isr]: int32List,
      OfflineReplicas: int32List,
      ...foreignKeys(FOREIGN_KEYS.partition[shape], shape),
    })
    .transform(
      (p): SnapshotPartition => ({
        partition: p[k.partition] as number,
        leader: p[k.leader] as number,
        leaderEpoch: p.LeaderEpoch as number,
        replicas: p[k.replicas] as number[],
        isr: p[k.isr] as number[],
        offlineReplicas: p.OfflineReplicas as number[],
        errorCode: p.ErrorCode as number,
      }),
    );
}

const byPartition = (a: SnapshotPartition, b: SnapshotPartition): number => a.partition - b.partition;

type ShapedTopic = SnapshotTopic & { shape: SnapshotShape };

/** A topic object of one shape, with its partitions of the same shape. */
function topicSchema(shape: SnapshotShape) {
  const k = SHAPE_KEYS[shape];
  return z
    .object({
      ErrorCode: int16,
      [k.name]: topicName(k.name),
      TopicID: topicIdJson,
      IsInternal: z.boolean(),
      Partitions: z.array(partitionSchema(shape)).nullable(),
      ...foreignKeys(FOREIGN_KEYS.topic[shape], shape),
    })
    .transform(
      (t): ShapedTopic => ({
        name: t[k.name] as string,
        topicId: t.TopicID as string,
        isInternal: t.IsInternal as boolean,
        errorCode: t.ErrorCode as number,
        partitions: ((t.Partitions as SnapshotPartition[] | null) ?? []).sort(byPartition),
        shape,
      }),
    );
}

const TOPIC_SCHEMAS = { "v1.6": topicSchema("v1.6"), legacy: topicSchema("legacy") };

/**
 * The shape a topic object claims: pre-v1.6 when it has `Name` and no `Topic`, else v1.6 (whose
 * schema then rejects a `Name` next to `Topic`, and names a missing `Topic`).
 */
export function topicShapeOf(topic: Record<string, unknown>): SnapshotShape {
  return SHAPE_KEYS.legacy.name in topic && !(SHAPE_KEYS["v1.6"].name in topic) ? "legacy" : "v1.6";
}

const topicJson = z.unknown().transform((value, ctx): ShapedTopic => {
  const isObject = typeof value === "object" && value !== null && !Array.isArray(value);
  const schema = TOPIC_SCHEMAS[isObject ? topicShapeOf(value as Record<string, unknown>) : "v1.6"];
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues) ctx.addIssue({ ...issue });
  return z.NEVER;
});

const byName = (a: SnapshotTopic, b: SnapshotTopic): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The snapshot schema: either shape, never both; see the module comment. */
export const snapshotSchema = z
  .object({
    Brokers: z.array(brokerJson).nullable(),
    ControllerID: int32,
    Topics: z.array(topicJson).nullable(),
    // Absent before Kafscale v1.4; the v1.6 shape always writes it.
    ClusterName: z.string().nullable().optional(),
    ClusterID: z.string().nullable(),
  })
  .superRefine((s, ctx) => {
    const topics = s.Topics ?? [];
    const first = topics[0];
    topics.forEach((t, i) => {
      if (first && t.shape !== first.shape) {
        ctx.addIssue({
          code: "custom",
          path: ["Topics", i],
          message: `uses the ${SHAPE_NAME[t.shape]} shape, Topics.0 the ${SHAPE_NAME[first.shape]} shape (mixed shapes)`,
        });
      }
    });
    if (s.ClusterName === undefined && topics.some((t) => t.shape === "v1.6")) {
      ctx.addIssue({ code: "custom", path: ["ClusterName"], message: "ClusterName is missing (required in the Kafscale v1.6+ shape)" });
    }
  })
  .transform(
    (s): ClusterSnapshot => ({
      brokers: (s.Brokers ?? []).sort((a, b) => a.nodeId - b.nodeId),
      controllerId: s.ControllerID,
      topics: (s.Topics ?? []).map(({ shape: _shape, ...topic }) => topic).sort(byName),
      clusterName: s.ClusterName ?? null,
      clusterId: s.ClusterID,
    }),
  );
