/**
 * What a change to Kafscale's metadata means: pure diffs of the state a key described before and
 * after a change, as semantic change events (topic created, group rebalanced, config changed …).
 * The store captures the old state and writes the events (src/store/change-feed.ts); this file only
 * compares. No I/O.
 */
import type { ClusterSnapshot, ConsumerGroupRecord, TopicConfigRecord } from "./records.js";

export const CHANGE_KINDS = [
  "topic_created",
  "topic_deleted",
  "partitions_added",
  "topic_config_changed",
  "group_created",
  "group_emptied",
  "group_deleted",
  "group_state_changed",
  "group_rebalanced",
  "member_joined",
  "member_left",
  "broker_joined",
  "broker_left",
  "partition_leader_changed",
  "cluster_changed",
] as const;

export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** One semantic change. `details` is a small JSON object whose fields depend on the kind. */
export interface ChangeEvent {
  kind: ChangeKind;
  topic: string | null;
  groupId: string | null;
  partition: number | null;
  brokerId: number | null;
  /** One line an agent or an operator can read as it is. */
  summary: string;
  details: Record<string, unknown>;
}

/** At most this many partitions are listed in one leader-change event (the count is always exact). */
export const MAX_LISTED_PARTITIONS = 50;

const event = (kind: ChangeKind, summary: string, details: Record<string, unknown>, at: Partial<ChangeEvent> = {}): ChangeEvent => ({
  kind,
  topic: at.topic ?? null,
  groupId: at.groupId ?? null,
  partition: at.partition ?? null,
  brokerId: at.brokerId ?? null,
  summary,
  details,
});

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const show = (value: unknown): string => (value === null || value === undefined ? "none" : String(value));

/** One field that changed, old → new. */
export interface FieldChange {
  key: string;
  from: unknown;
  to: unknown;
}

const changesText = (changes: readonly FieldChange[]): string =>
  changes.map((c) => `${c.key} ${show(c.from)} → ${show(c.to)}`).join(", ");

// ---------------------------------------------------------------------------------------------
// The cluster snapshot: brokers, controller, cluster identity, topics, partitions and leaders.

/** What the snapshot key says, in the form the diff needs. */
export interface SnapshotState {
  cluster: { controllerId: number; clusterName: string | null; clusterId: string | null } | null;
  /** node id → "host:port" */
  brokers: Map<number, string>;
  /** topic → (partition → leader node id) */
  topics: Map<string, Map<number, number>>;
}

export const EMPTY_SNAPSHOT: SnapshotState = { cluster: null, brokers: new Map(), topics: new Map() };

/** The diff form of a decoded snapshot value. */
export function snapshotStateOf(snapshot: ClusterSnapshot): SnapshotState {
  const topics = new Map<string, Map<number, number>>();
  for (const t of snapshot.topics) topics.set(t.name, new Map(t.partitions.map((p) => [p.partition, p.leader])));
  return {
    cluster: { controllerId: snapshot.controllerId, clusterName: snapshot.clusterName, clusterId: snapshot.clusterId },
    brokers: new Map(snapshot.brokers.map((b) => [b.nodeId, `${b.host}:${b.port}`])),
    topics,
  };
}

/** A partition whose leader moved. `from`/`to` null: no leader (a lease released, or not yet taken). */
export interface LeaderMove {
  partition: number;
  from: number | null;
  to: number | null;
}

/**
 * One event for the leader moves of one topic (a broker leaving moves hundreds at once): the moves
 * are listed up to MAX_LISTED_PARTITIONS, `moved` is always the exact count.
 */
export function leaderChanged(topic: string, moves: readonly LeaderMove[], source: "snapshot" | "lease"): ChangeEvent {
  const sorted = [...moves].sort((a, b) => a.partition - b.partition);
  const first = sorted[0] as LeaderMove;
  const one = sorted.length === 1;
  const summary = one
    ? `topic ${topic} partition ${first.partition}: leader ${show(first.from)} → ${show(first.to)} (${source})`
    : `topic ${topic}: leader moved on ${sorted.length} partitions (${source})`;
  return event(
    "partition_leader_changed",
    summary,
    { source, moved: sorted.length, moves: sorted.slice(0, MAX_LISTED_PARTITIONS) },
    { topic, partition: one ? first.partition : null },
  );
}

/** Events for a change of the snapshot key (a deleted key is EMPTY_SNAPSHOT). */
export function diffSnapshot(before: SnapshotState, after: SnapshotState): ChangeEvent[] {
  const out: ChangeEvent[] = [];
  const changes: FieldChange[] = [];
  const b = before.cluster;
  const a = after.cluster;
  if (b?.controllerId !== a?.controllerId) changes.push({ key: "controller_id", from: b?.controllerId ?? null, to: a?.controllerId ?? null });
  if ((b?.clusterId ?? null) !== (a?.clusterId ?? null)) changes.push({ key: "cluster_id", from: b?.clusterId ?? null, to: a?.clusterId ?? null });
  if ((b?.clusterName ?? null) !== (a?.clusterName ?? null)) {
    changes.push({ key: "cluster_name", from: b?.clusterName ?? null, to: a?.clusterName ?? null });
  }
  if (changes.length > 0) out.push(event("cluster_changed", `cluster: ${changesText(changes)}`, { changes }));

  for (const [id, address] of [...before.brokers].sort((x, y) => x[0] - y[0])) {
    if (!after.brokers.has(id)) out.push(event("broker_left", `broker ${id} left (${address})`, { address }, { brokerId: id }));
  }
  for (const [id, address] of [...after.brokers].sort((x, y) => x[0] - y[0])) {
    if (!before.brokers.has(id)) out.push(event("broker_joined", `broker ${id} joined (${address})`, { address }, { brokerId: id }));
  }

  const names = [...new Set([...before.topics.keys(), ...after.topics.keys()])].sort(byText);
  for (const topic of names) {
    const old = before.topics.get(topic);
    const now = after.topics.get(topic);
    if (old === undefined && now !== undefined) {
      out.push(event("topic_created", `topic ${topic} created with ${now.size} partitions`, { partitions: now.size }, { topic }));
    } else if (old !== undefined && now === undefined) {
      out.push(event("topic_deleted", `topic ${topic} deleted (had ${old.size} partitions)`, { partitions: old.size }, { topic }));
    } else if (old !== undefined && now !== undefined) {
      out.push(...diffPartitions(topic, old, now));
    }
  }
  return out;
}

/** partitions_added and snapshot leader moves for a topic present before and after. */
function diffPartitions(topic: string, old: Map<number, number>, now: Map<number, number>): ChangeEvent[] {
  const out: ChangeEvent[] = [];
  const added = [...now.keys()].filter((p) => !old.has(p)).sort((x, y) => x - y);
  if (added.length > 0) {
    out.push(
      event(
        "partitions_added",
        `topic ${topic}: partitions ${old.size} → ${now.size}`,
        { partitions_before: old.size, partitions_after: now.size, added: added.slice(0, MAX_LISTED_PARTITIONS) },
        { topic },
      ),
    );
  }
  const moves: LeaderMove[] = [];
  for (const [partition, leader] of now) {
    const was = old.get(partition);
    if (was !== undefined && was !== leader) moves.push({ partition, from: was, to: leader });
  }
  if (moves.length > 0) out.push(leaderChanged(topic, moves, "snapshot"));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Topic configs.

/** The compared fields of a TopicConfig, under Kafka's config names. */
export type TopicConfigState = Pick<TopicConfigRecord, "replicationFactor" | "retentionMs" | "retentionBytes" | "segmentBytes" | "config">;

/**
 * topic_config_changed when a config key that existed is rewritten with other values. A config key
 * that appears or disappears is no event of its own: Kafscale writes and deletes it with the topic
 * (topic_created / topic_deleted come from the snapshot). `partitions` is left out: partition counts
 * are reported by partitions_added.
 */
export function diffTopicConfig(topic: string, before: TopicConfigState | null, after: TopicConfigState | null): ChangeEvent[] {
  if (before === null || after === null) return [];
  const changes: FieldChange[] = [];
  const typed: [string, number, number][] = [
    ["replication.factor", before.replicationFactor, after.replicationFactor],
    ["retention.ms", before.retentionMs, after.retentionMs],
    ["retention.bytes", before.retentionBytes, after.retentionBytes],
    ["segment.bytes", before.segmentBytes, after.segmentBytes],
  ];
  for (const [key, from, to] of typed) if (from !== to) changes.push({ key, from, to });
  const keys = [...new Set([...Object.keys(before.config), ...Object.keys(after.config)])].sort(byText);
  for (const key of keys) {
    const from = before.config[key] ?? null;
    const to = after.config[key] ?? null;
    if (from !== to) changes.push({ key, from, to });
  }
  if (changes.length === 0) return [];
  return [event("topic_config_changed", `topic ${topic} config: ${changesText(changes)}`, { changes }, { topic })];
}

// ---------------------------------------------------------------------------------------------
// Consumer groups: the metadata key (state, generation, members) and the existence of offsets.

export interface GroupState {
  state: string;
  generation: number;
  /** Member ids, sorted. */
  members: string[];
}

/** The diff form of a decoded group metadata value. */
export function groupStateOf(group: ConsumerGroupRecord): GroupState {
  return { state: group.state, generation: group.generationId, members: group.members.map((m) => m.memberId).sort(byText) };
}

/**
 * Events for a change of a group's metadata key. `before`/`after` are the metadata (null: no key);
 * `hadOffsets`/`hasOffsets` whether the group had committed offsets before and has them after, which
 * decides between a new group and one that comes back, and between emptied and deleted (Kafscale
 * deletes the metadata key when a group has no members; its offsets live on).
 */
export function diffGroupMetadata(
  groupId: string,
  before: GroupState | null,
  after: GroupState | null,
  offsets: { hadOffsets: boolean; hasOffsets: boolean },
): ChangeEvent[] {
  const at = { groupId };
  if (before === null && after === null) return [];
  if (before === null && after !== null) {
    const details = { state: after.state, generation: after.generation, members: after.members };
    if (!offsets.hadOffsets) {
      return [event("group_created", `group ${groupId} created (${after.state}, ${after.members.length} members)`, details, at)];
    }
    // Known before only from its offsets (state "empty"): the group forms again.
    return diffGroupMetadata(groupId, { state: "empty", generation: after.generation, members: [] }, after, offsets);
  }
  if (before !== null && after === null) {
    const details = { state_before: before.state, generation: before.generation, members_before: before.members };
    return offsets.hasOffsets
      ? [event("group_emptied", `group ${groupId} emptied (metadata deleted, committed offsets kept)`, details, at)]
      : [event("group_deleted", `group ${groupId} deleted`, details, at)];
  }
  const b = before as GroupState;
  const a = after as GroupState;
  const out: ChangeEvent[] = [];
  if (b.state !== a.state) {
    out.push(event("group_state_changed", `group ${groupId}: ${b.state} → ${a.state}`, { from: b.state, to: a.state }, at));
  }
  if (b.generation !== a.generation) {
    out.push(
      event(
        "group_rebalanced",
        `group ${groupId} rebalanced: generation ${b.generation} → ${a.generation}, members ${b.members.length} → ${a.members.length}`,
        {
          generation_before: b.generation,
          generation_after: a.generation,
          members_before: b.members.length,
          members_after: a.members.length,
        },
        at,
      ),
    );
  }
  const had = new Set(b.members);
  const has = new Set(a.members);
  for (const member of a.members) {
    if (!had.has(member)) out.push(event("member_joined", `group ${groupId}: member ${member} joined`, { member_id: member }, at));
  }
  for (const member of b.members) {
    if (!has.has(member)) out.push(event("member_left", `group ${groupId}: member ${member} left`, { member_id: member }, at));
  }
  return out;
}

/** A group that first appears through a committed offset (a consumer that commits without joining). */
export function groupCreatedByOffsets(groupId: string, topic: string): ChangeEvent {
  return event("group_created", `group ${groupId} created (first committed offset, on ${topic})`, { via: "committed_offsets" }, { groupId });
}

/** A group whose last committed offset went away while it had no metadata key: it no longer exists. */
export function groupDeletedByOffsets(groupId: string): ChangeEvent {
  return event("group_deleted", `group ${groupId} deleted (its last committed offsets removed)`, { via: "committed_offsets" }, { groupId });
}
