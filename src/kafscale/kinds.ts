/**
 * The key kinds under `/kafscale/` (kafscale-contract.md §1–§4): one entry per kind holding everything
 * the domain knows about it — its area, its route (`match`), its key builder, its decoder and, through
 * them, its key and value types. The router (`parseKey`, keys.ts), the builders (`keys`), the decode
 * dispatcher (`decodeEntry`, decode.ts) and the types `KafscaleKey` / `DecodedEntry` all come from
 * {@link KINDS}, so a new kind is one entry here; the store then needs its table (a new migration in
 * src/store/migrations.ts) and its rows (src/store/derived.ts, whose switches fail to compile until it
 * has them). `unknown` is no entry: it is what a key matching no entry routes to.
 *
 * Each decoder either returns a fully typed record or throws a `DecodeError` whose message says what
 * was wrong, so the store can keep the raw bytes and report the reason instead of mirroring a
 * half-understood value. Pure functions, no I/O.
 */
import { z } from "zod";
import {
  DecodeError,
  decodeProto,
  goString,
  int32,
  int64,
  parseJson,
  parseWith,
  partitionIndex,
  quote,
  text,
} from "./decode-support.js";
import { INT32_MAX, KAFSCALE_PREFIX, parsePartitionSegment, partitionSegment } from "./key-segments.js";
import { toSafeInteger } from "./proto.js";
import { convertSnapshot, convertSnapshotBytes } from "./snapshot-fast-path.js";
import { normalizeSnapshot } from "./snapshot-normalize.js";
import { snapshotSchema } from "./snapshot-schema.js";
import type {
  BrokerRegistrationRecord,
  ClusterSnapshot,
  CommittedOffsetRecord,
  ConsumerGroupRecord,
  PartitionAssignmentRecord,
  PartitionStateRecord,
  TopicConfigRecord,
} from "./records.js";

/**
 * One key kind. `Key` is what its keys route to (`{ kind, ...fields }`), `Value` what its values
 * decode to, `Builder` the name of its builder in `keys` and `Args` that builder's parameters.
 */
interface KindEntry<K extends string, Key extends { kind: K }, Value, Builder extends string, Args extends unknown[]> {
  /** The discriminant of its keys and decoded entries. */
  readonly kind: K;
  /** The key's first segment after `/kafscale/`: `parseKey` tries only the kinds of the key's area. */
  readonly area: string;
  /**
   * The segments after the area (none of them empty: `parseKey` refuses those) → the routed key, or
   * `undefined` when they are not exactly this kind's. Runs for every key Kafscale writes: allocate
   * nothing but the result.
   */
  readonly match: (rest: readonly string[]) => Key | undefined;
  /** The name of its builder in `keys` (keys.ts). */
  readonly builder: Builder;
  /**
   * Builds the key byte for byte as Kafscale's Go `fmt.Sprintf` does; `match` inverts it. Takes the
   * key's fields in the order `match` lists them (test/unit/key-kinds.test.ts holds every kind to it).
   */
  readonly build: (...args: Args) => string;
  /**
   * Decodes a value under this kind's key. A value it can serve but not fully use (a negative
   * committed offset, a duplicate topic) pushes a warning to `warnings`.
   * @throws DecodeError when the value is malformed for this kind.
   */
  readonly decode: (value: Uint8Array, warnings: string[] | undefined) => Value;
}

/** Declares a kind with its key, value and builder types inferred from the entry itself. */
function defineKind<
  const K extends string,
  Key extends { kind: K },
  Value,
  const Builder extends string,
  Args extends unknown[],
>(entry: KindEntry<K, Key, Value, Builder, Args>): KindEntry<K, Key, Value, Builder, Args> {
  return entry;
}

/** The partition at `rest[index]`, if that segment is a canonical partition number. */
function partitionAt(rest: readonly string[], index: number): number | undefined {
  const segment = rest[index];
  return segment === undefined ? undefined : parsePartitionSegment(segment);
}

// ---------------------------------------------------------------------------------------------
// metadata/snapshot: JSON of Go's metadata.ClusterMetadata (§3)
// ---------------------------------------------------------------------------------------------

/**
 * Decodes `/kafscale/metadata/snapshot`, in either shape Kafscale wrote (snapshot-schema.ts). Brokers
 * are sorted by node ID, topics by name and partitions by partition number; null lists become `[]`;
 * TopicID becomes 32 lowercase hex chars. What no table can hold consistently is dropped, each with
 * a warning pushed to `warnings` (see normalizeSnapshot).
 */
export function decodeSnapshot(value: Uint8Array, warnings?: string[]): ClusterSnapshot {
  return normalizeSnapshot(convertSnapshotBytes(value) ?? decodeWholeSnapshot(value), warnings);
}

/**
 * The value parsed whole, for what convertSnapshotBytes does not accept: the fast path accepts exactly
 * what the schema accepts, and the schema runs only to explain a rejection.
 */
function decodeWholeSnapshot(value: Uint8Array): ClusterSnapshot {
  const json = parseJson(value, "snapshot");
  return convertSnapshot(json) ?? parseWith(snapshotSchema, json, "invalid snapshot");
}

/** The schema path alone, before normalisation, for the tests that hold the fast path to it. */
export function decodeSnapshotWithSchema(value: Uint8Array): ClusterSnapshot {
  return parseWith(snapshotSchema, parseJson(value, "snapshot"), "invalid snapshot");
}

const snapshotKind = defineKind({
  kind: "snapshot",
  area: "metadata",
  match: (rest) => (rest.length === 1 && rest[0] === "snapshot" ? { kind: "snapshot" } : undefined),
  builder: "snapshot",
  build: (): string => `${KAFSCALE_PREFIX}metadata/snapshot`,
  decode: decodeSnapshot,
});

// ---------------------------------------------------------------------------------------------
// topics/<t>/config, topics/<t>/partitions/<p>[/next_offset]
// ---------------------------------------------------------------------------------------------

const topicConfigProto = z.object({
  name: z.string(),
  partitions: int32,
  replicationFactor: int32,
  retentionMs: int64,
  retentionBytes: int64,
  segmentBytes: int64,
  createdAt: z.string(),
  config: z.record(z.string(), z.string()),
});

/** Decodes `/kafscale/topics/<t>/config` (protobuf TopicConfig); an empty map is `{}`. */
export function decodeTopicConfig(value: Uint8Array): TopicConfigRecord {
  return decodeProto("TopicConfig", value, topicConfigProto);
}

const topicConfigKind = defineKind({
  kind: "topic_config",
  area: "topics",
  match: (rest) => {
    const [topic, section] = rest;
    return rest.length === 2 && topic !== undefined && section === "config" ? { kind: "topic_config", topic } : undefined;
  },
  builder: "topicConfig",
  build: (topic: string): string => `${KAFSCALE_PREFIX}topics/${topic}/config`,
  decode: decodeTopicConfig,
});

const partitionStateProto = z.object({
  topic: z.string(),
  partition: partitionIndex,
  leaderBroker: z.string(),
  leaderEpoch: int32,
  logStartOffset: int64,
  logEndOffset: int64,
  highWatermark: int64,
  activeSegment: z.string(),
  segments: z.array(z.object({ baseOffset: int64, sizeBytes: int64, createdAt: z.string() })),
});

/** Decodes `/kafscale/topics/<t>/partitions/<p>` (protobuf PartitionState). */
export function decodePartitionState(value: Uint8Array): PartitionStateRecord {
  return decodeProto("PartitionState", value, partitionStateProto);
}

const partitionStateKind = defineKind({
  kind: "partition_state",
  area: "topics",
  match: (rest) => {
    if (rest.length !== 3 || rest[1] !== "partitions") return undefined;
    const [topic] = rest;
    const partition = partitionAt(rest, 2);
    return topic === undefined || partition === undefined ? undefined : { kind: "partition_state", topic, partition };
  },
  builder: "partitionState",
  build: (topic: string, partition: number): string =>
    `${KAFSCALE_PREFIX}topics/${topic}/partitions/${partitionSegment(partition)}`,
  decode: decodePartitionState,
});

/**
 * Decodes `/kafscale/topics/<t>/partitions/<p>/next_offset`: decimal ASCII, surrounding
 * whitespace ignored. An empty value means 0, exactly like a missing key (contract §1).
 */
export function decodeNextOffset(value: Uint8Array): number {
  const raw = text(value).trim();
  if (raw === "") return 0;
  if (/^-[0-9]+$/.test(raw)) throw new DecodeError(`next_offset is negative: ${quote(raw)}`);
  if (!/^[0-9]+$/.test(raw)) throw new DecodeError(`next_offset is not a decimal integer: ${quote(raw)}`);
  const offset = toSafeInteger(raw);
  if (offset === undefined) throw new DecodeError(`next_offset is beyond Number.MAX_SAFE_INTEGER: ${quote(raw)}`);
  return offset;
}

const nextOffsetKind = defineKind({
  kind: "next_offset",
  area: "topics",
  match: (rest) => {
    if (rest.length !== 4 || rest[1] !== "partitions" || rest[3] !== "next_offset") return undefined;
    const [topic] = rest;
    const partition = partitionAt(rest, 2);
    return topic === undefined || partition === undefined ? undefined : { kind: "next_offset", topic, partition };
  },
  builder: "nextOffset",
  build: (topic: string, partition: number): string =>
    `${KAFSCALE_PREFIX}topics/${topic}/partitions/${partitionSegment(partition)}/next_offset`,
  decode: decodeNextOffset,
});

// ---------------------------------------------------------------------------------------------
// consumers/<g>/metadata, consumers/<g>/offsets/<t>/<p>
// ---------------------------------------------------------------------------------------------

const groupMemberProto = z.object({
  clientId: z.string(),
  clientHost: z.string(),
  heartbeatAt: z.string(),
  assignments: z.array(z.object({ topic: z.string(), partitions: z.array(partitionIndex) })),
  subscriptions: z.array(z.string()),
  sessionTimeoutMs: int32,
});

const consumerGroupProto = z
  .object({
    groupId: z.string(),
    state: z.string(),
    protocolType: z.string(),
    protocol: z.string(),
    leader: z.string(),
    generationId: int32,
    rebalanceTimeoutMs: int32,
    members: z.record(z.string(), groupMemberProto),
  })
  .transform(
    ({ members, ...group }): ConsumerGroupRecord => ({
      ...group,
      // The proto map is keyed by member ID; the record lists members in a stable order.
      members: Object.entries(members)
        .map(([memberId, member]) => ({ memberId, ...member }))
        .sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0)),
    }),
  );

/** Decodes `/kafscale/consumers/<g>/metadata` (protobuf ConsumerGroup); members sorted by ID. */
export function decodeConsumerGroup(value: Uint8Array): ConsumerGroupRecord {
  return decodeProto("ConsumerGroup", value, consumerGroupProto);
}

const groupMetadataKind = defineKind({
  kind: "group_metadata",
  area: "consumers",
  // The group ID is one segment here (unlike in group leases).
  match: (rest) => {
    const [groupId, section] = rest;
    return rest.length === 2 && groupId !== undefined && section === "metadata"
      ? { kind: "group_metadata", groupId }
      : undefined;
  },
  builder: "groupMetadata",
  build: (groupId: string): string => `${KAFSCALE_PREFIX}consumers/${groupId}/metadata`,
  decode: decodeConsumerGroup,
});

const committedOffsetJson = z
  .object({
    // Required: a record without an offset carries no information. -1 ("no offset") is legal.
    offset: z.number().refine(Number.isSafeInteger, { error: "offset must be an integer within ±(2^53−1)" }),
    metadata: goString,
    committed_at: goString,
  })
  .transform((o): CommittedOffsetRecord => ({ offset: o.offset, metadata: o.metadata, committedAt: o.committed_at }));

/**
 * Decodes `/kafscale/consumers/<g>/offsets/<t>/<p>`: `{"offset":…,"metadata":…,"committed_at":…}`.
 * A negative offset (-1 is Kafka's "no offset") decodes as it is, with a warning: it is no usable
 * commit, and every reader treats it as "not committed" (docs/SCHEMA.md, the lag rule).
 */
export function decodeCommittedOffset(value: Uint8Array, warnings?: string[]): CommittedOffsetRecord {
  const record = parseWith(committedOffsetJson, parseJson(value, "committed offset"), "invalid committed offset");
  if (record.offset < 0) warnings?.push(`committed offset ${record.offset} is negative: no usable commit`);
  return record;
}

const committedOffsetKind = defineKind({
  kind: "committed_offset",
  area: "consumers",
  // Exactly `<g>/offsets/<t>/<p>`: neither the group ID nor the topic contains "/".
  match: (rest) => {
    if (rest.length !== 4 || rest[1] !== "offsets") return undefined;
    const [groupId, , topic] = rest;
    const partition = partitionAt(rest, 3);
    return groupId === undefined || topic === undefined || partition === undefined
      ? undefined
      : { kind: "committed_offset", groupId, topic, partition };
  },
  builder: "committedOffset",
  build: (groupId: string, topic: string, partition: number): string =>
    `${KAFSCALE_PREFIX}consumers/${groupId}/offsets/${topic}/${partitionSegment(partition)}`,
  decode: decodeCommittedOffset,
});

// ---------------------------------------------------------------------------------------------
// partition-leases/<t>/<p>, group-leases/<g>: the holder's broker NodeID, decimal ASCII
// ---------------------------------------------------------------------------------------------

/**
 * Decodes a lease value: the holder's broker NodeID as a non-negative int32 decimal.
 * `what` names the lease in error messages.
 */
export function decodeLease(value: Uint8Array, what = "lease"): number {
  const raw = text(value).trim();
  const nodeId = /^[0-9]{1,10}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(nodeId <= INT32_MAX)) {
    throw new DecodeError(`${what} is not a broker NodeID (non-negative int32): ${quote(raw)}`);
  }
  return nodeId;
}

const partitionLeaseKind = defineKind({
  kind: "partition_lease",
  area: "partition-leases",
  // The topic is everything before the last "/" (codec.go's rule).
  match: (rest) => {
    if (rest.length < 2) return undefined;
    const partition = partitionAt(rest, rest.length - 1);
    return partition === undefined ? undefined : { kind: "partition_lease", topic: rest.slice(0, -1).join("/"), partition };
  },
  builder: "partitionLease",
  build: (topic: string, partition: number): string =>
    `${KAFSCALE_PREFIX}partition-leases/${topic}/${partitionSegment(partition)}`,
  decode: (value) => decodeLease(value, "partition lease"),
});

const groupLeaseKind = defineKind({
  kind: "group_lease",
  area: "group-leases",
  // The proxy's groupLeaseKeyToGroupID takes everything after the prefix as the group ID,
  // so a group ID containing "/" is still a valid lease key.
  match: (rest) => (rest.length >= 1 ? { kind: "group_lease", groupId: rest.join("/") } : undefined),
  builder: "groupLease",
  build: (groupId: string): string => `${KAFSCALE_PREFIX}group-leases/${groupId}`,
  decode: (value) => decodeLease(value, "group lease"),
});

// ---------------------------------------------------------------------------------------------
// brokers/<id>, assignments/<t>/<p>: protobuf, defined by Kafscale but not written today
// ---------------------------------------------------------------------------------------------

const brokerRegistrationProto = z.object({
  brokerId: z.string(),
  host: z.string(),
  port: int32,
  rack: z.string(),
  startedAt: z.string(),
  lastHeartbeat: z.string(),
  version: z.string(),
});

const brokerRegistrationKind = defineKind({
  kind: "broker_registration",
  area: "brokers",
  match: (rest) => {
    const [brokerId] = rest;
    return rest.length === 1 && brokerId !== undefined ? { kind: "broker_registration", brokerId } : undefined;
  },
  builder: "brokerRegistration",
  build: (brokerId: string): string => `${KAFSCALE_PREFIX}brokers/${brokerId}`,
  decode: (value): BrokerRegistrationRecord => decodeProto("BrokerRegistration", value, brokerRegistrationProto),
});

const partitionAssignmentProto = z.object({ brokerId: z.string(), epoch: int32, assignedAt: z.string() });

const partitionAssignmentKind = defineKind({
  kind: "partition_assignment",
  area: "assignments",
  // Exactly one topic segment (codec.go's PartitionAssignmentKey).
  match: (rest) => {
    if (rest.length !== 2) return undefined;
    const [topic] = rest;
    const partition = partitionAt(rest, 1);
    return topic === undefined || partition === undefined ? undefined : { kind: "partition_assignment", topic, partition };
  },
  builder: "partitionAssignment",
  build: (topic: string, partition: number): string =>
    `${KAFSCALE_PREFIX}assignments/${topic}/${partitionSegment(partition)}`,
  decode: (value): PartitionAssignmentRecord => decodeProto("PartitionAssignment", value, partitionAssignmentProto),
});

// ---------------------------------------------------------------------------------------------
// The table, and the types derived from it
// ---------------------------------------------------------------------------------------------

/** Every key kind Kafscale writes. Within an area, the first entry whose `match` accepts a key wins. */
export const KINDS = [
  snapshotKind,
  topicConfigKind,
  partitionStateKind,
  nextOffsetKind,
  groupMetadataKind,
  committedOffsetKind,
  partitionLeaseKind,
  groupLeaseKind,
  brokerRegistrationKind,
  partitionAssignmentKind,
] as const;

/** Any entry of {@link KINDS}. */
export type AnyKind = (typeof KINDS)[number];

/** Flattens an intersection into one object type, so hovers and errors show plain fields. */
type Simplify<T> = { [P in keyof T]: T[P] } & {};

/** A key that matches no entry exactly (kept raw, decoded to nothing). */
export type UnknownKey = { kind: "unknown" };

/** What a key under `/kafscale/` is, after routing: one `{ kind, ...fields }` per entry, or unknown. */
export type KafscaleKey = Exclude<ReturnType<AnyKind["match"]>, undefined> | UnknownKey;

type DecodedOf<E> = E extends AnyKind
  ? Simplify<Exclude<ReturnType<E["match"]>, undefined> & { value: ReturnType<E["decode"]> }>
  : never;

/** A routed key with its decoded value. `unknown` keys carry no decoded value. */
export type DecodedEntry = DecodedOf<AnyKind> | UnknownKey;

/** The builders of every kind by name (`keys.committedOffset(g, t, p)`, …). */
export type KeyBuilders = { readonly [E in AnyKind as E["builder"]]: E["build"] };
