/**
 * Read functions behind every MCP tool and REST endpoint. Each runs in one read transaction, so an
 * answer never mixes two revisions. Results use the field names of Kafscale's Go MCP service
 * (kafscale-contract.md §6) so tools can return them as they are.
 */
import type { Db } from "./database.js";
import { SELECTED_TOPICS_CTE } from "./group-topics.js";
import { compareText } from "./table-dump.js";
import { keys } from "../kafscale/keys.js";

export interface BrokerRow {
  node_id: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface TopicSummary {
  name: string;
  partition_count: number;
  error_code: number;
}

export interface ClusterOverview {
  snapshot_present: boolean;
  cluster_name: string | null;
  cluster_id: string | null;
  controller_id: number;
  brokers: BrokerRow[];
  topic_count: number;
  partition_count: number;
}

export interface PartitionDetail {
  partition: number;
  leader_id: number;
  leader_epoch: number;
  replica_nodes: number[];
  isr_nodes: number[];
  offline_replicas: number[];
  error_code: number;
}

export interface TopicDetail {
  name: string;
  error_code: number;
  partitions: PartitionDetail[];
}

export interface GroupSummary {
  group_id: string;
  state: string;
  protocol_type: string;
  member_count: number;
}

export interface GroupMemberDetail {
  member_id: string;
  client_id: string;
  client_host: string;
  heartbeat_at: string;
  assignments: { topic: string; partitions: number[] }[];
  subscriptions: string[];
  session_timeout_ms: number;
}

export interface GroupDetail {
  group_id: string;
  state: string;
  protocol_type: string;
  protocol: string;
  leader: string;
  generation_id: number;
  rebalance_timeout_ms: number;
  members: GroupMemberDetail[];
  /** False when the group is known only from committed offsets (its metadata key was deleted). */
  has_metadata: boolean;
}

export interface OffsetRow {
  topic: string;
  partition: number;
  /**
   * Committed offset, or -1 (Kafka's convention) when the group has no usable commit here: nothing
   * committed, or a negative stored offset (recorded as a decode warning).
   */
  offset: number;
  /** The commit's metadata, cut to OFFSET_METADATA_MAX_BYTES of UTF-8 (see metadata_truncated). */
  metadata: string;
  metadata_truncated: boolean;
  committed: boolean;
  committed_at: string | null;
  /** next_offset from etcd: the partition's flushed end offset (0 when absent). */
  end_offset: number;
  /** False: a commit on a partition the snapshot does not list (a deleted topic or partition). */
  in_snapshot: boolean;
  /** max(0, end_offset - offset) for a usable commit on a partition in the snapshot; else null. */
  lag: number | null;
}

/** Offset metadata in answers is cut to this many bytes of UTF-8 (a client may commit megabytes). */
export const OFFSET_METADATA_MAX_BYTES = 4096;

export interface TopicConfigView {
  name: string;
  exists: boolean;
  partitions: number;
  replication_factor: number | null;
  retention_ms: number | null;
  retention_bytes: number | null;
  segment_bytes: number | null;
  created_at: string | null;
  config: Record<string, string>;
}

/** A page of results: `items`, and the key after which the next page starts (null at the end). */
export interface Page<T, K> {
  items: T[];
  next: K | null;
}

export interface Reads {
  clusterOverview(): ClusterOverview;
  listTopics(after: string | null, limit: number): Page<TopicSummary, string>;
  /** Topics by name in the given order of `names` (sorted, deduplicated); unknown names get error_code 3. */
  describeTopics(names: string[] | null, after: string | null, limit: number): Page<TopicDetail, string>;
  listGroups(after: string | null, limit: number): Page<GroupSummary, string>;
  describeGroup(groupId: string): GroupDetail | null;
  groupExists(groupId: string): boolean;
  fetchOffsets(
    groupId: string,
    topics: string[] | null,
    after: [string, number] | null,
    limit: number,
  ): Page<OffsetRow, [string, number]>;
  describeConfigs(topics: string[] | null): { configs: TopicConfigView[]; unknown: string[] };
  /** Which of `names` are topics in the snapshot. */
  knownTopics(names: string[]): string[];
  /** Which of `names` the group has committed offsets on (in the snapshot or not). */
  committedTopics(groupId: string, names: string[]): string[];
}

interface PartitionRow {
  topic: string;
  partition: number;
  leader: number;
  leader_epoch: number;
  replicas: string;
  isr: string;
  offline_replicas: string;
  error_code: number;
}

interface ConfigRow {
  topic: string;
  partitions: number;
  replication_factor: number;
  retention_ms: number;
  retention_bytes: number;
  segment_bytes: number;
  created_at: string;
  config: string;
}

const UNKNOWN_TOPIC_OR_PARTITION = 3;

/** The state of a group whose metadata key holds a value that never decoded here (as in v_groups). */
export const UNDECODABLE_GROUP_STATE = "unknown";
/** `/kafscale/consumers/<g>/metadata`: where <g> starts (1-based, for SQL substr) and what follows it. */
const GROUP_ID_START = keys.groupMetadata("").indexOf("//") + 2;
const METADATA_SUFFIX = "/metadata";

/**
 * Commit metadata as the offset reads fetch it: one character more than an answer may carry, so a
 * value of megabytes never leaves SQLite whole, and a longer text says it was cut.
 */
const METADATA_COLUMN = `substr(co.metadata, 1, ${OFFSET_METADATA_MAX_BYTES + 1}) AS metadata`;

/**
 * One of the two statements for commits on partitions the snapshot does not list: the group's commits
 * on each selected topic `b` matching `range` (and `filter`), ordered, after the cursor, at most @limit.
 */
function unlistedOffsetsSql(range: string, filter: string): string {
  return `WITH RECURSIVE ${SELECTED_TOPICS_CTE}, ${TOPIC_BOUNDS_CTE}
    SELECT co.topic, co.partition, 0 AS in_snapshot, co.committed_offset, ${METADATA_COLUMN}, co.committed_at,
           COALESCE(eo.next_offset, 0) AS end_offset
    FROM b CROSS JOIN committed_offsets co ON co.group_id = @group AND co.topic = b.topic AND ${range}
    LEFT JOIN end_offsets eo ON eo.topic = co.topic AND eo.partition = co.partition
    WHERE (co.topic, co.partition) > (@afterTopic, @afterPartition) ${filter}
    ORDER BY co.topic, co.partition LIMIT @limit`;
}

/**
 * Per selected topic (after SELECTED_TOPICS_CTE): its highest partition number in the snapshot (-1
 * when the snapshot lacks the topic) and how many partitions it lists (topics.partition_count counts
 * its rows in partitions, src/kafscale/snapshot-normalize.ts). Fewer listed than the highest number
 * + 1 means the numbers have gaps.
 */
const TOPIC_BOUNDS_CTE = `b AS MATERIALIZED (
         SELECT selected.topic,
                COALESCE((SELECT max(p.partition) FROM partitions p WHERE p.topic = selected.topic), -1) AS max_partition,
                COALESCE((SELECT t.partition_count FROM topics t WHERE t.name = selected.topic), 0) AS listed
         FROM selected
       )`;

/** Whether the group has a commit on a partition of topic `b` that the snapshot does not list. */
const HAS_UNLISTED_COMMITS = `EXISTS (SELECT 1 FROM committed_offsets c
           WHERE c.group_id = @group AND c.topic = b.topic AND c.partition > b.max_partition)
         OR (b.listed <= b.max_partition AND EXISTS (SELECT 1 FROM committed_offsets c
           WHERE c.group_id = @group AND c.topic = b.topic AND c.partition < b.max_partition
             AND NOT EXISTS (SELECT 1 FROM partitions x WHERE x.topic = c.topic AND x.partition = c.partition)))`;

interface OffsetQueryRow {
  topic: string;
  partition: number;
  /** 0 on rows of the query for partitions the snapshot does not list; absent on the others. */
  in_snapshot?: number;
  committed_offset: number | null;
  metadata: string | null;
  committed_at: string | null;
  end_offset: number;
}

/** Merges two lists ordered by (topic, partition) in SQLite's order; the keys never repeat across them. */
function mergeOffsetRows(a: OffsetQueryRow[], b: OffsetQueryRow[]): OffsetQueryRow[] {
  if (b.length === 0) return a;
  const out: OffsetQueryRow[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    const takeA = y === undefined || (x !== undefined && (compareText(x.topic, y.topic) || x.partition - y.partition) < 0);
    out.push((takeA ? x : y) as OffsetQueryRow);
    if (takeA) i++;
    else j++;
  }
  return out;
}

/**
 * Cuts `text` to at most `maxBytes` of UTF-8 without splitting a character; `cut` says whether
 * anything was left out.
 */
export function capUtf8(text: string, maxBytes: number): { text: string; cut: boolean } {
  // Fast path: every UTF-16 unit is at most 3 UTF-8 bytes.
  if (text.length * 3 <= maxBytes) return { text, cut: false };
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= maxBytes) return { text, cut: false };
  let end = maxBytes;
  // Back up to the first byte of the character that would be split (continuation bytes are 10xxxxxx).
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--;
  return { text: bytes.subarray(0, end).toString("utf8"), cut: true };
}

function pageOf<T, K>(rows: T[], limit: number, keyOf: (row: T) => K): Page<T, K> {
  if (rows.length <= limit) return { items: rows, next: null };
  const items = rows.slice(0, limit);
  return { items, next: keyOf(items[items.length - 1] as T) };
}

function sortedUnique(names: string[]): string[] {
  return [...new Set(names)].sort();
}

/** Prepares every read statement once and returns the read functions. */
export function createReads(db: Db): Reads {
  const s = {
    cluster: db.prepare<
      [],
      {
        controller_id: number;
        cluster_name: string | null;
        cluster_id: string | null;
        topic_count: number;
        partition_count: number;
      }
    >("SELECT controller_id, cluster_name, cluster_id, topic_count, partition_count FROM cluster WHERE id = 1"),
    brokers: db.prepare<[], BrokerRow>("SELECT node_id, host, port, rack FROM brokers ORDER BY node_id"),
    topics: db.prepare<[string, number], TopicSummary>(
      "SELECT name, partition_count, error_code FROM topics WHERE name > ? ORDER BY name LIMIT ?",
    ),
    topicsNamed: db.prepare<[string, string, number], TopicSummary & { known: number }>(
      `SELECT j.value AS name, COALESCE(t.partition_count, 0) AS partition_count,
              COALESCE(t.error_code, ${UNKNOWN_TOPIC_OR_PARTITION}) AS error_code, t.name IS NOT NULL AS known
       FROM json_each(?) j LEFT JOIN topics t ON t.name = j.value
       WHERE j.value > ? ORDER BY j.value LIMIT ?`,
    ),
    partitionsOf: db.prepare<[string], PartitionRow>("SELECT * FROM partitions WHERE topic = ? ORDER BY partition"),
    // v_groups, paged without reading every committed offset: the group IDs known only from offsets
    // are found with one index seek per group (a recursive "next group after" walk), merged with the
    // metadata groups, and the page stops at the limit (profile: docs/BENCHMARKS.md, list_groups).
    groups: db.prepare<[{ after: string; limit: number }], GroupSummary>(
      `WITH RECURSIVE offset_groups(group_id) AS (
         SELECT min(group_id) FROM committed_offsets WHERE group_id > @after
         UNION ALL
         SELECT (SELECT min(group_id) FROM committed_offsets WHERE group_id > o.group_id)
         FROM offset_groups o WHERE o.group_id IS NOT NULL
         LIMIT @limit
       ), undecodable(group_id) AS (
         SELECT substr(key, ${GROUP_ID_START}, length(key) - ${GROUP_ID_START + METADATA_SUFFIX.length - 1})
         FROM undecodable_keys WHERE kind = 'group_metadata'
       ), ids AS (
         SELECT group_id FROM consumer_groups WHERE group_id > @after
         UNION
         SELECT group_id FROM offset_groups WHERE group_id IS NOT NULL
         UNION
         SELECT group_id FROM undecodable WHERE group_id > @after
         ORDER BY 1 LIMIT @limit
       )
       SELECT ids.group_id,
              COALESCE(cg.state, CASE WHEN ids.group_id IN (SELECT group_id FROM undecodable) THEN '${UNDECODABLE_GROUP_STATE}' ELSE 'empty' END)
                AS state,
              COALESCE(cg.protocol_type, '') AS protocol_type,
              (SELECT count(*) FROM group_members m WHERE m.group_id = ids.group_id) AS member_count
       FROM ids LEFT JOIN consumer_groups cg ON cg.group_id = ids.group_id
       ORDER BY ids.group_id`,
    ),
    group: db.prepare<[string], Omit<GroupDetail, "members" | "has_metadata">>(
      `SELECT group_id, state, protocol_type, protocol, leader, generation_id, rebalance_timeout_ms
       FROM consumer_groups WHERE group_id = ?`,
    ),
    groupHasOffsets: db.prepare<[string], { one: number }>(
      "SELECT 1 AS one FROM committed_offsets WHERE group_id = ? LIMIT 1",
    ),
    isUndecodable: db.prepare<[string], { one: number }>("SELECT 1 AS one FROM undecodable_keys WHERE key = ?"),
    members: db.prepare<
      [string],
      Omit<GroupMemberDetail, "assignments" | "subscriptions"> & { subscriptions: string }
    >(
      `SELECT member_id, client_id, client_host, heartbeat_at, subscriptions, session_timeout_ms
       FROM group_members WHERE group_id = ? ORDER BY member_id`,
    ),
    assignments: db.prepare<[string], { member_id: string; topic: string; partition: number }>(
      `SELECT member_id, topic, partition FROM member_assignments WHERE group_id = ?
       ORDER BY member_id, topic, partition`,
    ),
    // The snapshot's partitions of the selected topics, with the group's commits and end offsets.
    // CROSS JOIN pins the join order: walk the few selected topics, then their partitions by primary
    // key. Left to itself the planner scanned every partition of the cluster from the cursor (100k at
    // size L) and probed the topic list for each.
    offsetsForGroupTopics: db.prepare(
      `WITH RECURSIVE ${SELECTED_TOPICS_CTE}
       SELECT p.topic, p.partition, co.committed_offset, ${METADATA_COLUMN}, co.committed_at,
              COALESCE(eo.next_offset, 0) AS end_offset
       FROM selected CROSS JOIN partitions p ON p.topic = selected.topic
       LEFT JOIN committed_offsets co ON co.group_id = @group AND co.topic = p.topic AND co.partition = p.partition
       LEFT JOIN end_offsets eo ON eo.topic = p.topic AND eo.partition = p.partition
       WHERE (p.topic, p.partition) > (@afterTopic, @afterPartition)
       ORDER BY p.topic, p.partition LIMIT @limit`,
    ),
    // How many selected topics have commits on partitions the snapshot does not list: a few seeks per
    // topic, so the statements that find those commits run only when there are any.
    countUnlistedTopics: db.prepare<{ group: string; topics: string | null }, { n: number }>(
      `WITH RECURSIVE ${SELECTED_TOPICS_CTE}, ${TOPIC_BOUNDS_CTE}
       SELECT count(*) AS n FROM b WHERE ${HAS_UNLISTED_COMMITS}`,
    ),
    // The group's commits on partitions the snapshot does not list, in two statements (as one compound
    // statement they cost several times more): per topic one seek for commits above its highest listed
    // partition (all of them for a topic the snapshot lacks); and, only for a topic whose partition
    // numbers have gaps, a probe per commit below that number.
    offsetsAboveListed: db.prepare(unlistedOffsetsSql("co.partition > b.max_partition", "")),
    offsetsInGaps: db.prepare(
      unlistedOffsetsSql(
        "co.partition < b.max_partition",
        "AND b.listed <= b.max_partition AND NOT EXISTS (SELECT 1 FROM partitions p WHERE p.topic = co.topic AND p.partition = co.partition)",
      ),
    ),
    committedTopics: db.prepare<[string, string], { topic: string }>(
      `SELECT j.value AS topic FROM json_each(?) j
       WHERE EXISTS (SELECT 1 FROM committed_offsets co WHERE co.group_id = ? AND co.topic = j.value)
       ORDER BY j.value`,
    ),
    allTopicNames: db.prepare<[], { name: string; partition_count: number }>(
      "SELECT name, partition_count FROM topics ORDER BY name",
    ),
    topicNamed: db.prepare<[string], { name: string; partition_count: number }>(
      "SELECT name, partition_count FROM topics WHERE name = ?",
    ),
    config: db.prepare<[string], ConfigRow>("SELECT * FROM topic_configs WHERE topic = ?"),
    known: db.prepare<[string], { name: string }>(
      "SELECT t.name FROM json_each(?) j JOIN topics t ON t.name = j.value ORDER BY t.name",
    ),
  };

  const toPartition = (r: PartitionRow): PartitionDetail => ({
    partition: r.partition,
    leader_id: r.leader,
    leader_epoch: r.leader_epoch,
    replica_nodes: JSON.parse(r.replicas) as number[],
    isr_nodes: JSON.parse(r.isr) as number[],
    offline_replicas: JSON.parse(r.offline_replicas) as number[],
    error_code: r.error_code,
  });

  const clusterOverview = db.transaction((): ClusterOverview => {
    // The totals are kept on the snapshot's row when it is written (src/store/derived.ts).
    const c = s.cluster.get();
    return {
      snapshot_present: c !== undefined,
      cluster_name: c?.cluster_name ?? null,
      cluster_id: c?.cluster_id ?? null,
      controller_id: c?.controller_id ?? 0,
      brokers: s.brokers.all(),
      topic_count: c?.topic_count ?? 0,
      partition_count: c?.partition_count ?? 0,
    };
  });

  const listTopics = db.transaction((after: string | null, limit: number) =>
    pageOf(s.topics.all(after ?? "", limit + 1), limit, (t) => t.name),
  );

  const describeTopics = db.transaction((names: string[] | null, after: string | null, limit: number) => {
    const heads =
      names === null
        ? s.topics.all(after ?? "", limit + 1)
        : s.topicsNamed.all(JSON.stringify(sortedUnique(names)), after ?? "", limit + 1);
    const page = pageOf(heads, limit, (t) => t.name);
    const items = page.items.map(
      (t): TopicDetail => ({
        name: t.name,
        error_code: t.error_code,
        partitions: s.partitionsOf.all(t.name).map(toPartition),
      }),
    );
    return { items, next: page.next };
  });

  const listGroups = db.transaction((after: string | null, limit: number) =>
    pageOf(
      s.groups.all({ after: after ?? "", limit: limit + 1 }).map((g) => ({ ...g, member_count: Number(g.member_count) })),
      limit,
      (g) => g.group_id,
    ),
  );

  const describeGroup = db.transaction((groupId: string): GroupDetail | null => {
    const g = s.group.get(groupId);
    if (!g) {
      // A metadata key whose value never decoded here: the group has metadata, none of it readable
      // (the answer's freshness names the key and the reason).
      const undecodable = s.isUndecodable.get(keys.groupMetadata(groupId)) !== undefined;
      if (!undecodable && !s.groupHasOffsets.get(groupId)) return null;
      return {
        group_id: groupId,
        state: undecodable ? UNDECODABLE_GROUP_STATE : "empty",
        protocol_type: "",
        protocol: "",
        leader: "",
        generation_id: 0,
        rebalance_timeout_ms: 0,
        members: [],
        has_metadata: undecodable,
      };
    }
    const byMember = new Map<string, Map<string, number[]>>();
    for (const a of s.assignments.all(groupId)) {
      const topics = byMember.get(a.member_id) ?? new Map<string, number[]>();
      byMember.set(a.member_id, topics);
      const parts = topics.get(a.topic) ?? [];
      topics.set(a.topic, parts);
      parts.push(a.partition);
    }
    const members = s.members.all(groupId).map(
      (m): GroupMemberDetail => ({
        member_id: m.member_id,
        client_id: m.client_id,
        client_host: m.client_host,
        heartbeat_at: m.heartbeat_at,
        assignments: [...(byMember.get(m.member_id) ?? new Map<string, number[]>())].map(([topic, partitions]) => ({
          topic,
          partitions,
        })),
        subscriptions: JSON.parse(m.subscriptions) as string[],
        session_timeout_ms: m.session_timeout_ms,
      }),
    );
    return { ...g, members, has_metadata: true };
  });

  const groupExists = (groupId: string): boolean =>
    s.group.get(groupId) !== undefined ||
    s.groupHasOffsets.get(groupId) !== undefined ||
    s.isUndecodable.get(keys.groupMetadata(groupId)) !== undefined;

  const fetchOffsets = db.transaction(
    (groupId: string, topics: string[] | null, after: [string, number] | null, limit: number) => {
      const params = {
        group: groupId,
        topics: topics === null ? null : JSON.stringify(sortedUnique(topics)),
        afterTopic: after?.[0] ?? "",
        afterPartition: after?.[1] ?? -1,
        limit: limit + 1,
      };
      const listed = s.offsetsForGroupTopics.all(params) as OffsetQueryRow[];
      // Commits on unlisted partitions are rare: looked for only when there are any, then merged in
      // order and the page cut.
      const unlisted = (s.countUnlistedTopics.get(params)?.n ?? 0) > 0
        ? mergeOffsetRows(s.offsetsAboveListed.all(params) as OffsetQueryRow[], s.offsetsInGaps.all(params) as OffsetQueryRow[])
        : [];
      const rows = mergeOffsetRows(listed, unlisted).slice(0, limit + 1);
      const items = rows.map((r): OffsetRow => {
        // A negative stored offset is no usable commit (the lag rule, docs/SCHEMA.md).
        const committed = r.committed_offset !== null && r.committed_offset >= 0;
        const inSnapshot = r.in_snapshot !== 0;
        const metadata = capUtf8(r.metadata ?? "", OFFSET_METADATA_MAX_BYTES);
        return {
          topic: r.topic,
          partition: r.partition,
          offset: committed ? (r.committed_offset as number) : -1,
          metadata: metadata.text,
          metadata_truncated: metadata.cut,
          committed,
          committed_at: r.committed_at,
          end_offset: r.end_offset,
          in_snapshot: inSnapshot,
          lag: committed && inSnapshot ? Math.max(0, r.end_offset - (r.committed_offset as number)) : null,
        };
      });
      return pageOf(items, limit, (r): [string, number] => [r.topic, r.partition]);
    },
  );

  const describeConfigs = db.transaction((topics: string[] | null) => {
    const wanted =
      topics === null
        ? s.allTopicNames.all()
        : sortedUnique(topics).map((name) => s.topicNamed.get(name) ?? { name, partition_count: -1 });
    const configs: TopicConfigView[] = [];
    const unknown: string[] = [];
    for (const t of wanted) {
      const c = s.config.get(t.name);
      if (!c && t.partition_count < 0) {
        unknown.push(t.name);
        continue;
      }
      // A config key whose value never decoded here exists; its values are unknown (null).
      const exists = c !== undefined || s.isUndecodable.get(keys.topicConfig(t.name)) !== undefined;
      configs.push(
        c
          ? {
              name: t.name,
              exists: true,
              partitions: c.partitions,
              replication_factor: c.replication_factor,
              retention_ms: c.retention_ms,
              retention_bytes: c.retention_bytes,
              segment_bytes: c.segment_bytes,
              created_at: c.created_at,
              config: JSON.parse(c.config) as Record<string, string>,
            }
          : {
              // No readable config: report what we know, and leave unknown values null instead of inventing them.
              name: t.name,
              exists,
              partitions: t.partition_count,
              replication_factor: null,
              retention_ms: null,
              retention_bytes: null,
              segment_bytes: null,
              created_at: null,
              config: {},
            },
      );
    }
    return { configs, unknown };
  });

  const knownTopics = (names: string[]): string[] =>
    s.known.all(JSON.stringify(sortedUnique(names))).map((r) => r.name);

  const committedTopics = (groupId: string, names: string[]): string[] =>
    s.committedTopics.all(JSON.stringify(sortedUnique(names)), groupId).map((r) => r.topic);

  return {
    clusterOverview: () => clusterOverview(),
    listTopics: (after, limit) => listTopics(after, limit),
    describeTopics: (names, after, limit) => describeTopics(names, after, limit),
    listGroups: (after, limit) => listGroups(after, limit),
    describeGroup: (groupId) => describeGroup(groupId),
    groupExists,
    fetchOffsets: (groupId, topics, after, limit) => fetchOffsets(groupId, topics, after, limit),
    describeConfigs: (topics) => describeConfigs(topics),
    knownTopics,
    committedTopics,
  };
}
