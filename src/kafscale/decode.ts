/**
 * Decoders for every value Kafscale keeps under `/kafscale/` (kafscale-contract.md §1–§4).
 *
 * Each decoder either returns a fully typed record or throws a `DecodeError` whose message says
 * what was wrong, so the store can keep the raw bytes and report the reason instead of mirroring
 * a half-understood value. Pure functions, no I/O.
 */
import { z } from "zod";
import { decodeMessage, toSafeInteger, type MessageName } from "./proto.js";
import { convertSnapshot } from "./snapshot-fast-path.js";
import { unhandledKind } from "./records.js";
import { normalizeSnapshot } from "./snapshot-normalize.js";
import { snapshotSchema } from "./snapshot-schema.js";
import type {
  BrokerRegistrationRecord,
  ClusterSnapshot,
  CommittedOffsetRecord,
  ConsumerGroupRecord,
  DecodedEntry,
  KafscaleKey,
  PartitionAssignmentRecord,
  PartitionStateRecord,
  TopicConfigRecord,
} from "./records.js";

/** A value under a known key that does not have the shape Kafscale writes there. */
export class DecodeError extends Error {
  override readonly name = "DecodeError";
}

/**
 * Decodes the value stored under an already routed key. `unknown` keys decode to
 * `{ kind: "unknown" }` whatever their value. A value that decodes but carries something the
 * record cannot use (a negative committed offset, a duplicate topic) pushes a decode warning to
 * `warnings`: the record is still served, and the store records what was ignored.
 * @throws DecodeError when the value is malformed for its key kind.
 */
export function decodeEntry(key: KafscaleKey, value: Uint8Array, warnings?: string[]): DecodedEntry {
  switch (key.kind) {
    case "snapshot":
      return { kind: "snapshot", value: decodeSnapshot(value, warnings) };
    case "topic_config":
      return { ...key, value: decodeTopicConfig(value) };
    case "partition_state":
      return { ...key, value: decodePartitionState(value) };
    case "next_offset":
      return { ...key, value: decodeNextOffset(value) };
    case "group_metadata":
      return { ...key, value: decodeConsumerGroup(value) };
    case "committed_offset":
      return { ...key, value: decodeCommittedOffset(value, warnings) };
    case "partition_lease":
      return { ...key, value: decodeLease(value, "partition lease") };
    case "group_lease":
      return { ...key, value: decodeLease(value, "group lease") };
    case "broker_registration":
      return { ...key, value: decodeBrokerRegistration(value) };
    case "partition_assignment":
      return { ...key, value: decodePartitionAssignment(value) };
    case "unknown":
      return { kind: "unknown" };
    default:
      return unhandledKind(key);
  }
}

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

const INT32_MAX = 2_147_483_647;
const MAX_REPORTED_ISSUES = 5;
const MAX_QUOTED_CHARS = 64;
const utf8 = new TextDecoder("utf-8");

function text(value: Uint8Array): string {
  return utf8.decode(value);
}

/** Quotes a value for an error message, cut short so a huge garbage value cannot flood logs. */
function quote(value: string): string {
  return JSON.stringify(value.length > MAX_QUOTED_CHARS ? `${value.slice(0, MAX_QUOTED_CHARS)}…` : value);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** One line per issue, `path: message`, capped so a wildly wrong document stays readable. */
function describeIssues(error: z.ZodError): string {
  const lines = error.issues
    .slice(0, MAX_REPORTED_ISSUES)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "(root)"}: ${issue.message}`);
  const more = error.issues.length - MAX_REPORTED_ISSUES;
  return more > 0 ? `${lines.join("; ")}; (${more} more)` : lines.join("; ");
}

function parseWith<T>(schema: z.ZodType<T>, input: unknown, context: string): T {
  const result = schema.safeParse(input);
  if (!result.success) throw new DecodeError(`${context}: ${describeIssues(result.error)}`, { cause: result.error });
  return result.data;
}

function parseJson(value: Uint8Array, context: string): unknown {
  try {
    return JSON.parse(text(value));
  } catch (error) {
    throw new DecodeError(`${context} is not valid JSON: ${errorMessage(error)}`, { cause: error });
  }
}

// ---------------------------------------------------------------------------------------------
// Snapshot (JSON of Go's metadata.ClusterMetadata, §3)
// ---------------------------------------------------------------------------------------------

/**
 * Decodes `/kafscale/metadata/snapshot`, in either shape Kafscale wrote (snapshot-schema.ts). Brokers
 * are sorted by node ID, topics by name and partitions by partition number; null lists become `[]`;
 * TopicID becomes 32 lowercase hex chars. What no table can hold consistently is dropped, each with
 * a warning pushed to `warnings` (see normalizeSnapshot).
 */
export function decodeSnapshot(value: Uint8Array, warnings?: string[]): ClusterSnapshot {
  const json = parseJson(value, "snapshot");
  // The fast path accepts exactly what the schema accepts; the schema runs only to explain a rejection.
  const snapshot = convertSnapshot(json) ?? parseWith(snapshotSchema, json, "invalid snapshot");
  return normalizeSnapshot(snapshot, warnings);
}

/** The schema path alone, before normalisation, for the tests that hold the fast path to it. */
export function decodeSnapshotWithSchema(value: Uint8Array): ClusterSnapshot {
  return parseWith(snapshotSchema, parseJson(value, "snapshot"), "invalid snapshot");
}

// ---------------------------------------------------------------------------------------------
// Protobuf records (§2)
// ---------------------------------------------------------------------------------------------

const int32 = z.int32();
const partitionIndex = z.int32().min(0, { error: "partition must be a non-negative int32" });

/** protobufjs hands int64 over as a decimal string (see proto.ts); refuse unsafe ones. */
const int64 = z.string().transform((decimal, ctx) => {
  const value = toSafeInteger(decimal);
  if (value === undefined) {
    ctx.addIssue({ code: "custom", message: `int64 ${decimal} is beyond Number.MAX_SAFE_INTEGER` });
    return z.NEVER;
  }
  return value;
});

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

const brokerRegistrationProto = z.object({
  brokerId: z.string(),
  host: z.string(),
  port: int32,
  rack: z.string(),
  startedAt: z.string(),
  lastHeartbeat: z.string(),
  version: z.string(),
});

const partitionAssignmentProto = z.object({ brokerId: z.string(), epoch: int32, assignedAt: z.string() });

function decodeProto<T>(name: MessageName, value: Uint8Array, schema: z.ZodType<T>): T {
  let decoded: Record<string, unknown>;
  try {
    decoded = decodeMessage(name, value);
  } catch (error) {
    throw new DecodeError(`invalid protobuf ${name}: ${errorMessage(error)}`, { cause: error });
  }
  return parseWith(schema, decoded, `invalid protobuf ${name}`);
}

/** Decodes `/kafscale/topics/<t>/config` (protobuf TopicConfig); an empty map is `{}`. */
export function decodeTopicConfig(value: Uint8Array): TopicConfigRecord {
  return decodeProto("TopicConfig", value, topicConfigProto);
}

/** Decodes `/kafscale/topics/<t>/partitions/<p>` (protobuf PartitionState). */
export function decodePartitionState(value: Uint8Array): PartitionStateRecord {
  return decodeProto("PartitionState", value, partitionStateProto);
}

/** Decodes `/kafscale/consumers/<g>/metadata` (protobuf ConsumerGroup); members sorted by ID. */
export function decodeConsumerGroup(value: Uint8Array): ConsumerGroupRecord {
  return decodeProto("ConsumerGroup", value, consumerGroupProto);
}

/** Decodes `/kafscale/brokers/<id>` (protobuf BrokerRegistration; not written by Kafscale today). */
export function decodeBrokerRegistration(value: Uint8Array): BrokerRegistrationRecord {
  return decodeProto("BrokerRegistration", value, brokerRegistrationProto);
}

/** Decodes `/kafscale/assignments/<t>/<p>` (protobuf PartitionAssignment; not written today). */
export function decodePartitionAssignment(value: Uint8Array): PartitionAssignmentRecord {
  return decodeProto("PartitionAssignment", value, partitionAssignmentProto);
}

// ---------------------------------------------------------------------------------------------
// Committed offsets (JSON, §1/§4), next_offset and leases (decimal ASCII)
// ---------------------------------------------------------------------------------------------

/** Go zero-values a missing or null string, so those read as "". */
const goString = z
  .string()
  .nullish()
  .transform((s) => s ?? "");

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
