/**
 * Routing of etcd keys under `/kafscale/` (kafscale-contract.md §1) and the inverse key builders.
 *
 * Routing is exact: a key either matches one rule completely or is `{ kind: "unknown" }`, so a
 * stray key (trailing slash, extra segment, non-canonical partition) can never be mistaken for
 * real metadata. Pure functions, no I/O.
 */
import type { KafscaleKey } from "./records.js";

/** Every Kafscale key starts with this; the sync layer watches exactly this prefix. */
export const KAFSCALE_PREFIX = "/kafscale/";

/**
 * etcd keys are bytes; Kafscale's are ASCII. A key that is not valid UTF-8 is mirrored as this
 * prefix plus its bytes in hex (lossless, routes as unknown), so two distinct keys never collapse.
 * Note that these texts do not sort where their bytes sort in etcd.
 */
export const INVALID_UTF8_KEY_PREFIX = `${KAFSCALE_PREFIX}\u0000invalid-utf8:`;

const INT32_MAX = 2_147_483_647;

/** Shared result for every key that matches no rule (frozen, so no caller can alter it). */
const UNKNOWN: KafscaleKey = Object.freeze({ kind: "unknown" });

/** Canonical non-negative decimal: no sign, no leading zeros (except "0" itself), no fraction. */
const CANONICAL_DECIMAL = /^(?:0|[1-9][0-9]{0,9})$/;

/**
 * Parses a partition segment as Go's `%d` of a non-negative int32 would print it.
 * Returns `undefined` for anything else ("01", "-1", "1.0", "2147483648", "").
 */
export function parsePartitionSegment(segment: string): number | undefined {
  if (!CANONICAL_DECIMAL.test(segment)) return undefined;
  const value = Number(segment);
  return value <= INT32_MAX ? value : undefined;
}

/** Routes a raw etcd key to its Kafscale meaning; anything that matches no rule exactly is `unknown`. */
export function parseKey(key: string): KafscaleKey {
  if (!key.startsWith(KAFSCALE_PREFIX)) return UNKNOWN;
  const segments = key.slice(KAFSCALE_PREFIX.length).split("/");
  // An empty segment (trailing slash, "//", bare prefix) is never produced by Kafscale's
  // fmt.Sprintf key builders with non-empty names, so it cannot be a real record.
  if (segments.some((segment) => segment === "")) return UNKNOWN;
  const [area, ...rest] = segments;
  switch (area) {
    case "metadata":
      return rest.length === 1 && rest[0] === "snapshot" ? { kind: "snapshot" } : UNKNOWN;
    case "topics":
      return parseTopicKey(rest);
    case "consumers":
      return parseConsumerKey(rest);
    case "partition-leases":
      return parsePartitionLeaseKey(rest);
    case "group-leases":
      // The proxy's groupLeaseKeyToGroupID takes everything after the prefix as the group ID,
      // so a group ID containing "/" is still a valid lease key.
      return rest.length >= 1 ? { kind: "group_lease", groupId: rest.join("/") } : UNKNOWN;
    case "brokers":
      return rest.length === 1 && rest[0] !== undefined ? { kind: "broker_registration", brokerId: rest[0] } : UNKNOWN;
    case "assignments":
      return parseAssignmentKey(rest);
    default:
      return UNKNOWN;
  }
}

/** `<t>/config`, `<t>/partitions/<p>`, `<t>/partitions/<p>/next_offset`. */
function parseTopicKey(rest: string[]): KafscaleKey {
  const [topic, section, partitionText, leaf] = rest;
  if (topic === undefined) return UNKNOWN;
  if (rest.length === 2 && section === "config") return { kind: "topic_config", topic };
  if (section !== "partitions" || partitionText === undefined) return UNKNOWN;
  const partition = parsePartitionSegment(partitionText);
  if (partition === undefined) return UNKNOWN;
  if (rest.length === 3) return { kind: "partition_state", topic, partition };
  if (rest.length === 4 && leaf === "next_offset") return { kind: "next_offset", topic, partition };
  return UNKNOWN;
}

/** `<g>/metadata` (group ID without "/") and `<g>/offsets/<t>/<p>` (exactly 4 segments). */
function parseConsumerKey(rest: string[]): KafscaleKey {
  const [groupId, section, topic, partitionText] = rest;
  if (groupId === undefined) return UNKNOWN;
  if (rest.length === 2 && section === "metadata") return { kind: "group_metadata", groupId };
  if (rest.length === 4 && section === "offsets" && topic !== undefined && partitionText !== undefined) {
    const partition = parsePartitionSegment(partitionText);
    if (partition !== undefined) return { kind: "committed_offset", groupId, topic, partition };
  }
  return UNKNOWN;
}

/** `<t>/<p>` where the topic is everything before the last "/" (codec.go's rule). */
function parsePartitionLeaseKey(rest: string[]): KafscaleKey {
  if (rest.length < 2) return UNKNOWN;
  const partition = parsePartitionSegment(rest[rest.length - 1] ?? "");
  if (partition === undefined) return UNKNOWN;
  return { kind: "partition_lease", topic: rest.slice(0, -1).join("/"), partition };
}

/** `<t>/<p>` with exactly one topic segment (codec.go's PartitionAssignmentKey). */
function parseAssignmentKey(rest: string[]): KafscaleKey {
  const [topic, partitionText] = rest;
  if (rest.length !== 2 || topic === undefined || partitionText === undefined) return UNKNOWN;
  const partition = parsePartitionSegment(partitionText);
  return partition === undefined ? UNKNOWN : { kind: "partition_assignment", topic, partition };
}

/** Formats a partition like Go's `%d`, refusing values no Kafscale key can hold. */
function partitionSegment(partition: number): string {
  if (!Number.isInteger(partition) || partition < 0 || partition > INT32_MAX) {
    throw new RangeError(`partition must be a non-negative int32, got ${partition}`);
  }
  return String(partition);
}

/**
 * Builders for the keys Kafscale writes, byte-identical to its Go `fmt.Sprintf` formats.
 * Used by tests, the demo data generator and the benchmark; `parseKey` inverts each of them.
 */
export const keys = {
  snapshot: (): string => `${KAFSCALE_PREFIX}metadata/snapshot`,
  topicConfig: (topic: string): string => `${KAFSCALE_PREFIX}topics/${topic}/config`,
  partitionState: (topic: string, partition: number): string =>
    `${KAFSCALE_PREFIX}topics/${topic}/partitions/${partitionSegment(partition)}`,
  nextOffset: (topic: string, partition: number): string =>
    `${KAFSCALE_PREFIX}topics/${topic}/partitions/${partitionSegment(partition)}/next_offset`,
  groupMetadata: (groupId: string): string => `${KAFSCALE_PREFIX}consumers/${groupId}/metadata`,
  committedOffset: (groupId: string, topic: string, partition: number): string =>
    `${KAFSCALE_PREFIX}consumers/${groupId}/offsets/${topic}/${partitionSegment(partition)}`,
  partitionLease: (topic: string, partition: number): string =>
    `${KAFSCALE_PREFIX}partition-leases/${topic}/${partitionSegment(partition)}`,
  groupLease: (groupId: string): string => `${KAFSCALE_PREFIX}group-leases/${groupId}`,
  brokerRegistration: (brokerId: string): string => `${KAFSCALE_PREFIX}brokers/${brokerId}`,
  partitionAssignment: (topic: string, partition: number): string =>
    `${KAFSCALE_PREFIX}assignments/${topic}/${partitionSegment(partition)}`,
} as const;
