/**
 * The zod schema of `/kafscale/metadata/snapshot` (kafscale-contract.md §3): the reference for what a
 * snapshot may look like, and the source of every decode error message. snapshot-fast-path.ts
 * accepts exactly the same documents without zod's cost; decode.ts runs this schema only to explain
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

/** Keys only the other shape has, per object: their presence makes a topic or partition mixed. */
export const FOREIGN_KEYS = {
  topic: { "v1.6": ["Name"], legacy: ["Topic"] },
  partition: {
    "v1.6": ["PartitionIndex", "LeaderID", "ReplicaNodes", "ISRNodes"],
    legacy: ["Partition", "Leader", "Replicas", "ISR"],
  },
} as const satisfies Record<"topic" | "partition", Record<SnapshotShape, readonly string[]>>;

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
const topicName = (field: "Topic" | "Name") =>
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

const v16Partition = z
  .object({
    ErrorCode: int16,
    Partition: partitionIndex,
    Leader: int32,
    LeaderEpoch: int32,
    Replicas: int32List,
    ISR: int32List,
    OfflineReplicas: int32List,
    ...foreignKeys(FOREIGN_KEYS.partition["v1.6"], "v1.6"),
  })
  .transform(
    (p): SnapshotPartition => ({
      partition: p.Partition,
      leader: p.Leader,
      leaderEpoch: p.LeaderEpoch,
      replicas: p.Replicas,
      isr: p.ISR,
      offlineReplicas: p.OfflineReplicas,
      errorCode: p.ErrorCode,
    }),
  );

const legacyPartition = z
  .object({
    ErrorCode: int16,
    PartitionIndex: partitionIndex,
    LeaderID: int32,
    LeaderEpoch: int32,
    ReplicaNodes: int32List,
    ISRNodes: int32List,
    OfflineReplicas: int32List,
    ...foreignKeys(FOREIGN_KEYS.partition.legacy, "legacy"),
  })
  .transform(
    (p): SnapshotPartition => ({
      partition: p.PartitionIndex,
      leader: p.LeaderID,
      leaderEpoch: p.LeaderEpoch,
      replicas: p.ReplicaNodes,
      isr: p.ISRNodes,
      offlineReplicas: p.OfflineReplicas,
      errorCode: p.ErrorCode,
    }),
  );

const byPartition = (a: SnapshotPartition, b: SnapshotPartition): number => a.partition - b.partition;

type ShapedTopic = SnapshotTopic & { shape: SnapshotShape };

const v16Topic = z
  .object({
    ErrorCode: int16,
    Topic: topicName("Topic"),
    TopicID: topicIdJson,
    IsInternal: z.boolean(),
    Partitions: z.array(v16Partition).nullable(),
    ...foreignKeys(FOREIGN_KEYS.topic["v1.6"], "v1.6"),
  })
  .transform(
    (t): ShapedTopic => ({
      name: t.Topic,
      topicId: t.TopicID,
      isInternal: t.IsInternal,
      errorCode: t.ErrorCode,
      partitions: (t.Partitions ?? []).sort(byPartition),
      shape: "v1.6",
    }),
  );

const legacyTopic = z
  .object({
    ErrorCode: int16,
    Name: topicName("Name"),
    TopicID: topicIdJson,
    IsInternal: z.boolean(),
    Partitions: z.array(legacyPartition).nullable(),
    ...foreignKeys(FOREIGN_KEYS.topic.legacy, "legacy"),
  })
  .transform(
    (t): ShapedTopic => ({
      name: t.Name,
      topicId: t.TopicID,
      isInternal: t.IsInternal,
      errorCode: t.ErrorCode,
      partitions: (t.Partitions ?? []).sort(byPartition),
      shape: "legacy",
    }),
  );

/**
 * The shape a topic object claims: pre-v1.6 when it has `Name` and no `Topic`, else v1.6 (whose
 * schema then rejects a `Name` next to `Topic`, and names a missing `Topic`).
 */
export function topicShapeOf(topic: Record<string, unknown>): SnapshotShape {
  return "Name" in topic && !("Topic" in topic) ? "legacy" : "v1.6";
}

const topicJson = z.unknown().transform((value, ctx): ShapedTopic => {
  const isObject = typeof value === "object" && value !== null && !Array.isArray(value);
  const schema = isObject && topicShapeOf(value as Record<string, unknown>) === "legacy" ? legacyTopic : v16Topic;
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
