/**
 * The synthetic cluster: a seeded, deterministic ClusterSpec at a given shape, turned into the exact
 * keys and values Kafscale writes by the product's own `buildClusterKvs` (so the benchmark feeds
 * the service the real schema and encodings, contract §1–§4), plus the handles the workload needs
 * (the 1,000-partition group, sample topics, write targets for the freshness phase).
 */
import { createHash } from "node:crypto";
import { buildClusterKvs, type ClusterSpec, type GroupSpec, type KeyValue, type TopicSpec } from "../../src/demo/cluster-spec.js";
import { parseKey } from "../../src/kafscale/keys.js";
import { createRng, type Rng } from "./prng.js";
import type { ClusterShape } from "./sizes.js";

export const FIREHOSE_TOPIC = "firehose";
export const FIREHOSE_GROUP = "firehose-consumers";

const TOPIC_FAMILIES = ["orders", "payments", "clicks", "audit", "inventory", "events", "logs", "metrics", "shipments"];
const GROUP_FAMILIES = ["billing", "search-indexer", "fraud", "analytics", "notifier", "archiver", "etl", "replicator"];

export interface CommittedTarget {
  group: string;
  topic: string;
  partition: number;
}

export interface PartitionTarget {
  topic: string;
  partition: number;
}

export interface WorkloadHandles {
  firehoseTopic: string;
  firehoseGroup: string;
  /** A typical group (with metadata and members) for describe_group. */
  sampleGroup: string;
  /** Three topics for describe_topics, five for describe_configs. */
  describeTopics: string[];
  configTopics: string[];
  /** Keys the freshness writer updates: committed offsets (probed) and end offsets (background). */
  committedTargets: CommittedTarget[];
  nextOffsetTargets: PartitionTarget[];
}

export interface GeneratedCluster {
  spec: ClusterSpec;
  kvs: KeyValue[];
  /** SHA-256 over every key and value in order: equal digests mean identical clusters. */
  digest: string;
  /** Keys per kind (snapshot, next_offset, committed_offset, …) and `total`. */
  keyCounts: Record<string, number>;
  /** Bytes of keys plus values, and the largest single value (the snapshot). */
  bytes: { total: number; largestValue: number };
  handles: WorkloadHandles;
}

const pad = (n: number, width: number): string => String(n).padStart(width, "0");

/** Spreads `total` partitions over `count` topics: every topic gets one, the rest land at random. */
function partitionCounts(rng: Rng, count: number, total: number): number[] {
  const counts = new Array<number>(count).fill(1);
  for (let i = count; i < total; i++) counts[rng.int(0, count - 1)]! += 1;
  return counts;
}

function buildTopics(shape: ClusterShape, rng: Rng): TopicSpec[] {
  const others = shape.topics - 1;
  const counts = partitionCounts(rng, others, shape.partitions - shape.firehosePartitions);
  const width = String(shape.topics).length;
  const topic = (name: string, partitions: number): TopicSpec => {
    const leases = Array.from({ length: partitions }, (_, p) =>
      rng.chance(shape.partitionLeaseShare) ? p % shape.brokers : null,
    );
    return {
      name,
      partitions,
      config: {
        retentionMs: rng.pick([86_400_000, 604_800_000, -1]),
        retentionBytes: rng.pick([-1, 1_073_741_824]),
        segmentBytes: rng.pick([0, 134_217_728]),
        replicationFactor: 1,
      },
      endOffsets: Array.from({ length: partitions }, () => rng.int(0, 5_000_000)),
      partitionStates: rng.chance(shape.partitionStateTopicShare),
      leases,
    };
  };
  const topics = [topic(FIREHOSE_TOPIC, shape.firehosePartitions)];
  counts.forEach((partitions, i) => topics.push(topic(`${rng.pick(TOPIC_FAMILIES)}-${pad(i, width)}`, partitions)));
  return topics;
}

/** Offsets a little behind the end offset (some lag), and a few partitions never committed. */
function committedOffsets(rng: Rng, topic: TopicSpec, maxLag: number, skipShare: number): (number | null)[] {
  return Array.from({ length: topic.partitions }, (_, p) =>
    rng.chance(skipShare) ? null : Math.max(0, (topic.endOffsets?.[p] ?? 0) - rng.int(0, maxLag)),
  );
}

/** Members split the subscribed partitions round-robin, as a consumer group coordinator would. */
function membersFor(groupId: string, topics: TopicSpec[], memberCount: number): NonNullable<GroupSpec["members"]> {
  return Array.from({ length: memberCount }, (_, m) => {
    const assignments: Record<string, number[]> = {};
    for (const t of topics) {
      const mine = Array.from({ length: t.partitions }, (_, p) => p).filter((p) => p % memberCount === m);
      if (mine.length > 0) assignments[t.name] = mine;
    }
    return { id: `${groupId}-member-${m}`, assignments };
  });
}

function buildGroups(shape: ClusterShape, rng: Rng, topics: TopicSpec[]): GroupSpec[] {
  const firehose = topics[0] as TopicSpec;
  const groups: GroupSpec[] = [
    {
      id: FIREHOSE_GROUP,
      state: "stable",
      generation: 7,
      members: membersFor(FIREHOSE_GROUP, [firehose], 4),
      offsets: { [firehose.name]: committedOffsets(rng, firehose, 1_000, 0) },
      leaseBroker: 0,
    },
  ];
  const others = topics.slice(1);
  const quota = Math.round((shape.committedOffsets - shape.firehosePartitions) / Math.max(1, shape.groups - 1));
  const width = String(shape.groups).length;
  for (let i = 1; i < shape.groups; i++) {
    const id = `${rng.pick(GROUP_FAMILIES)}-consumer-${pad(i, width)}`;
    const subscribed = new Map<string, TopicSpec>();
    let partitions = 0;
    while (partitions < quota && subscribed.size < others.length) {
      const t = rng.pick(others);
      if (subscribed.has(t.name)) continue;
      subscribed.set(t.name, t);
      partitions += t.partitions;
    }
    const offsets: Record<string, (number | null)[]> = {};
    for (const t of subscribed.values()) offsets[t.name] = committedOffsets(rng, t, 5_000, 0.05);
    if (rng.chance(shape.emptiedGroupShare)) {
      // The broker deleted the metadata key when the last member left; the offsets remain.
      groups.push({ id, offsets });
      continue;
    }
    const roll = rng.next();
    const state = roll < 0.9 ? "stable" : roll < 0.95 ? "preparing_rebalance" : "completing_rebalance";
    groups.push({
      id,
      state,
      generation: rng.int(1, 50),
      members: membersFor(id, [...subscribed.values()], rng.int(1, 3)),
      offsets,
      ...(state === "stable" ? { leaseBroker: i % shape.brokers } : {}),
    });
  }
  return groups;
}

/** Deterministic picks spread over the sorted names, so the sample does not favour one family. */
function spread<T>(sorted: T[], count: number): T[] {
  return Array.from({ length: count }, (_, i) => sorted[Math.floor(((i + 1) * sorted.length) / (count + 1))] as T);
}

function handlesFor(spec: ClusterSpec, rng: Rng): WorkloadHandles {
  const topicNames = spec.topics.map((t) => t.name).filter((n) => n !== FIREHOSE_TOPIC).sort();
  const typical = spec.groups
    .filter((g) => g.id !== FIREHOSE_GROUP && g.state === "stable")
    .map((g) => g.id)
    .sort();
  // Freshness targets avoid the firehose topic: a probe reads the whole topic, and 1,000 rows per
  // poll would measure fetch_offsets' size rather than how fast a write becomes visible.
  const committed: CommittedTarget[] = [];
  for (const g of spec.groups) {
    if (g.id === FIREHOSE_GROUP) continue;
    for (const [topic, offsets] of Object.entries(g.offsets ?? {})) {
      offsets.forEach((o, partition) => {
        if (o !== null) committed.push({ group: g.id, topic, partition });
      });
    }
  }
  const partitions: PartitionTarget[] = spec.topics
    .filter((t) => t.name !== FIREHOSE_TOPIC)
    .flatMap((t) => Array.from({ length: t.partitions }, (_, partition) => ({ topic: t.name, partition })));
  const sample = <T>(list: T[], count: number): T[] =>
    list.length <= count ? list : Array.from({ length: count }, () => rng.pick(list));
  return {
    firehoseTopic: FIREHOSE_TOPIC,
    firehoseGroup: FIREHOSE_GROUP,
    sampleGroup: spread(typical, 1)[0] ?? FIREHOSE_GROUP,
    describeTopics: spread(topicNames, 3),
    configTopics: spread(topicNames, 5),
    committedTargets: sample(committed, 2_000),
    nextOffsetTargets: sample(partitions, 2_000),
  };
}

/** Generates the cluster for `shape`; the same shape always gives the same keys, values and digest. */
export function generateCluster(shape: ClusterShape): GeneratedCluster {
  const rng = createRng(shape.seed);
  const topics = buildTopics(shape, rng);
  const groups = buildGroups(shape, rng, topics);
  const spec: ClusterSpec = {
    clusterName: "kafscale-bench",
    clusterId: `bench-${shape.seed.toString(16)}`,
    brokers: shape.brokers,
    topics,
    groups,
    at: "2026-11-24T08:00:00Z",
  };
  const kvs = buildClusterKvs(spec);
  const hash = createHash("sha256");
  const keyCounts: Record<string, number> = { total: kvs.length };
  let total = 0;
  let largestValue = 0;
  for (const { key, value } of kvs) {
    hash.update(key).update("\0").update(value).update("\0");
    const kind = parseKey(key).kind;
    keyCounts[kind] = (keyCounts[kind] ?? 0) + 1;
    total += key.length + value.length;
    largestValue = Math.max(largestValue, value.length);
  }
  return { spec, kvs, digest: hash.digest("hex"), keyCounts, bytes: { total, largestValue }, handles: handlesFor(spec, rng) };
}
