/**
 * Read functions behind every MCP tool and REST endpoint. Each runs in one read transaction, so an
 * answer never mixes two revisions. Results use the field names of Kafscale's Go MCP service
 * (kafscale-contract.md §6) so tools can return them as they are.
 */
import type { Db } from "./database.js";
import { SELECTED_TOPICS_CTE } from "./group-topics.js";
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

/** A topic as describe_topics shows it: a compact summary, and its partitions when asked for. */
export interface TopicDetail {
  name: string;
  error_code: number;
  partition_count: number;
  /** Partitions led by each broker of the snapshot, by node id. */
  leaders: Record<string, number>;
  /** Partitions with no leader (-1) or a leader that is not a broker of the snapshot. */
  offline_partitions: number;
  partitions?: PartitionDetail[];
}

/** Where a describe_topics page resumes: after `partition` of `topic`, or after the whole topic (null). */
export type TopicPosition = [topic: string, partition: number | null];

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

/** Committed offsets and lag of a group on one topic (every partition, not one page). */
export interface TopicLag {
  topic: string;
  partitions: number;
  /** Partitions with a committed offset. */
  committed: number;
  total_lag: number;
  /** Largest lag of a committed partition, and where; null when nothing is committed. */
  max_lag: number | null;
  max_lag_partition: number | null;
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
  /** Runs `read` in one read transaction: several reads see one revision. */
  consistent<T>(read: () => T): T;
  clusterOverview(): ClusterOverview;
  listTopics(after: string | null, limit: number): Page<TopicSummary, string>;
  /**
   * Topic summaries by name (`names` sorted and deduplicated; unknown names get error_code 3), with
   * their partitions when `partitionRows` > 0: then a page holds at most that many partitions and
   * may end inside a topic.
   */
  describeTopics(
    names: string[] | null,
    after: TopicPosition | null,
    limit: number,
    partitionRows: number,
  ): Page<TopicDetail, TopicPosition>;
  listGroups(after: string | null, limit: number): Page<GroupSummary, string>;
  describeGroup(groupId: string): GroupDetail | null;
  groupExists(groupId: string): boolean;
  fetchOffsets(
    groupId: string,
    topics: string[] | null,
    after: [string, number] | null,
    limit: number,
    /** Partitions to leave out (the ones an answer already holds). */
    exclude?: readonly { topic: string; partition: number }[],
  ): Page<OffsetRow, [string, number]>;
  /** The group's lag per topic over every partition of `topics` (null: the group's topics), most lag first. */
  groupLag(groupId: string, topics: string[] | null): TopicLag[];
  /** How many partitions the selected topics have (from the topic rows: cheap). */
  groupPartitionCount(groupId: string, topics: string[] | null): number;
  /** Every partition of the selected topics with the group's offsets, by topic and partition. */
  groupOffsets(groupId: string, topics: string[] | null): OffsetRow[];
  /** The `limit` partitions of the group with the most lag (lag > 0), most first; ties by topic, partition. */
  mostLagging(groupId: string, topics: string[] | null, limit: number): OffsetRow[];
  /** Configs by topic name, paged after `after` (default: every topic); `unknown`: named topics that do not exist. */
  describeConfigs(
    topics: string[] | null,
    after?: string | null,
    limit?: number,
  ): { configs: TopicConfigView[]; unknown: string[]; next: string | null };
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

/** A topic joined with its config key; the config columns are null when it has none. */
interface ConfigJoinRow {
  name: string;
  partition_count: number | null;
  has_config: number;
  partitions: number | null;
  replication_factor: number | null;
  retention_ms: number | null;
  retention_bytes: number | null;
  segment_bytes: number | null;
  created_at: string | null;
  config: string | null;
}

const CONFIG_COLUMNS = `c.topic IS NOT NULL AS has_config, c.partitions, c.replication_factor, c.retention_ms,
  c.retention_bytes, c.segment_bytes, c.created_at, c.config`;

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

/**
 * The topics a fetch_offsets call covers: `@topics` (a JSON array of names), or when it is NULL the
 * topics the group has offsets for or is assigned.
 */

/**
 * Every partition of the selected topics, with the group's commit, the end offset and the lag
 * (max(0, end - committed), null when nothing usable is committed: kafscale-contract.md §10), then the
 * group's commits on partitions the snapshot does not list (`in_snapshot` 0, lag null: the one lag rule
 * of docs/SCHEMA.md, shared with v_partition_lag and report). A negative stored offset is no usable
 * commit (committed_offset null here). CROSS JOIN
 * pins the join order: walk the few selected topics, then their partitions by primary key. Left to
 * itself the planner scanned every partition of the cluster and probed the topic list for each.
 * `@fromTopic` skips the topics a keyset page has already passed.
 */
const GROUP_PARTITIONS = `WITH RECURSIVE ${SELECTED_TOPICS_CTE}, group_partitions AS (
    SELECT p.topic, p.partition, 1 AS in_snapshot,
           CASE WHEN co.committed_offset >= 0 THEN co.committed_offset END AS committed_offset,
           ${METADATA_COLUMN}, co.committed_at, COALESCE(eo.next_offset, 0) AS end_offset,
           CASE WHEN co.committed_offset >= 0 THEN MAX(0, COALESCE(eo.next_offset, 0) - co.committed_offset) END AS lag
    FROM selected CROSS JOIN partitions p ON p.topic = selected.topic
    LEFT JOIN committed_offsets co ON co.group_id = @group AND co.topic = p.topic AND co.partition = p.partition
    LEFT JOIN end_offsets eo ON eo.topic = p.topic AND eo.partition = p.partition
    WHERE selected.topic >= @fromTopic
    UNION ALL
    SELECT co.topic, co.partition, 0 AS in_snapshot,
           CASE WHEN co.committed_offset >= 0 THEN co.committed_offset END AS committed_offset,
           ${METADATA_COLUMN}, co.committed_at, COALESCE(eo.next_offset, 0) AS end_offset, NULL AS lag
    FROM selected CROSS JOIN committed_offsets co ON co.group_id = @group AND co.topic = selected.topic
    LEFT JOIN end_offsets eo ON eo.topic = co.topic AND eo.partition = co.partition
    WHERE selected.topic >= @fromTopic
      AND NOT EXISTS (SELECT 1 FROM partitions x WHERE x.topic = co.topic AND x.partition = co.partition)
  )`;

interface GroupPartitionRow {
  topic: string;
  partition: number;
  committed_offset: number | null;
  metadata: string | null;
  committed_at: string | null;
  end_offset: number;
  in_snapshot: number;
  lag: number | null;
}

const toOffsetRow = (r: GroupPartitionRow): OffsetRow => {
  const metadata = capUtf8(r.metadata ?? "", OFFSET_METADATA_MAX_BYTES);
  return {
    topic: r.topic,
    partition: r.partition,
    offset: r.committed_offset ?? -1,
    metadata: metadata.text,
    metadata_truncated: metadata.cut,
    committed: r.committed_offset !== null,
    committed_at: r.committed_at,
    end_offset: r.end_offset,
    in_snapshot: r.in_snapshot !== 0,
    lag: r.lag,
  };
};

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
    // describe_topics pages: after a topic, or from it again when the last page ended inside it (@inside).
    topicHeads: db.prepare<[{ after: string; inside: number; limit: number }], TopicSummary>(
      `SELECT name, partition_count, error_code FROM topics
       WHERE name >= @after AND (name > @after OR @inside) ORDER BY name LIMIT @limit`,
    ),
    topicHeadsNamed: db.prepare<[{ names: string; after: string; inside: number; limit: number }], TopicSummary>(
      `SELECT j.value AS name, COALESCE(t.partition_count, 0) AS partition_count,
              COALESCE(t.error_code, ${UNKNOWN_TOPIC_OR_PARTITION}) AS error_code
       FROM json_each(@names) j LEFT JOIN topics t ON t.name = j.value
       WHERE j.value >= @after AND (j.value > @after OR @inside) ORDER BY j.value LIMIT @limit`,
    ),
    partitionsOf: db.prepare<[string, number, number], PartitionRow>(
      "SELECT * FROM partitions WHERE topic = ? AND partition > ? ORDER BY partition LIMIT ?",
    ),
    // Leaders of the given topics' partitions; a leader that is no broker of the snapshot counts as offline.
    leadersOf: db.prepare<[string], { topic: string; leader: number; partitions: number; offline: number }>(
      `SELECT p.topic, p.leader, count(*) AS partitions, b.node_id IS NULL AS offline
       FROM json_each(?) j JOIN partitions p ON p.topic = j.value LEFT JOIN brokers b ON b.node_id = p.leader
       GROUP BY p.topic, p.leader`,
    ),
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
    // @exclude: NULL, or a JSON array of "topic/partition" (no topic name holds a "/": it is a key segment).
    offsetsForGroupTopics: db.prepare<Record<string, unknown>, GroupPartitionRow>(
      `${GROUP_PARTITIONS}
       SELECT * FROM group_partitions WHERE (topic, partition) > (@afterTopic, @afterPartition)
         AND (@exclude IS NULL OR topic || '/' || partition NOT IN (SELECT value FROM json_each(@exclude)))
       ORDER BY topic, partition LIMIT @limit`,
    ),
    committedTopics: db.prepare<[string, string], { topic: string }>(
      `SELECT j.value AS topic FROM json_each(?) j
       WHERE EXISTS (SELECT 1 FROM committed_offsets co WHERE co.group_id = ? AND co.topic = j.value)
       ORDER BY j.value`,
    ),
    // One max() per topic, so SQLite takes the bare column max_lag_partition from the row holding it.
    groupLag: db.prepare<Record<string, unknown>, TopicLag>(
      `${GROUP_PARTITIONS}
       SELECT topic, sum(in_snapshot) AS partitions, count(committed_offset) AS committed,
              COALESCE(sum(lag), 0) AS total_lag, max(lag) AS max_lag, partition AS max_lag_partition
       FROM group_partitions GROUP BY topic ORDER BY total_lag DESC, topic`,
    ),
    groupPartitionCount: db.prepare<Record<string, unknown>, { n: number }>(
      `WITH RECURSIVE ${SELECTED_TOPICS_CTE}
       SELECT COALESCE(sum(t.partition_count), 0) AS n FROM selected JOIN topics t ON t.name = selected.topic`,
    ),
    groupOffsets: db.prepare<Record<string, unknown>, GroupPartitionRow>(
      `${GROUP_PARTITIONS} SELECT * FROM group_partitions ORDER BY topic, partition`,
    ),
    mostLagging: db.prepare<Record<string, unknown>, GroupPartitionRow>(
      `${GROUP_PARTITIONS}
       SELECT * FROM group_partitions WHERE lag > 0 ORDER BY lag DESC, topic, partition LIMIT @limit`,
    ),
    configsAfter: db.prepare<[string, number], ConfigJoinRow>(
      `SELECT t.name, t.partition_count, ${CONFIG_COLUMNS}
       FROM topics t LEFT JOIN topic_configs c ON c.topic = t.name
       WHERE t.name > ? ORDER BY t.name LIMIT ?`,
    ),
    // A named topic is known if it is in the snapshot or has a config key.
    configsNamed: db.prepare<[string, string, number], ConfigJoinRow>(
      `SELECT j.value AS name, t.partition_count, ${CONFIG_COLUMNS}
       FROM json_each(?) j LEFT JOIN topics t ON t.name = j.value LEFT JOIN topic_configs c ON c.topic = j.value
       WHERE j.value > ? AND (t.name IS NOT NULL OR c.topic IS NOT NULL) ORDER BY j.value LIMIT ?`,
    ),
    unknownNamed: db.prepare<[string], { name: string }>(
      `SELECT j.value AS name FROM json_each(?) j
       WHERE NOT EXISTS (SELECT 1 FROM topics t WHERE t.name = j.value)
         AND NOT EXISTS (SELECT 1 FROM topic_configs c WHERE c.topic = j.value)
       ORDER BY j.value`,
    ),
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

  const describeTopics = (
    names: string[] | null,
    after: TopicPosition | null,
    limit: number,
    partitionRows: number,
  ): Page<TopicDetail, TopicPosition> => {
    const [afterTopic, afterPartition] = after ?? ["", null];
    const position = { after: afterTopic, inside: afterPartition === null ? 0 : 1, limit: limit + 1 };
    const heads =
      names === null
        ? s.topicHeads.all(position)
        : s.topicHeadsNamed.all({ ...position, names: JSON.stringify(sortedUnique(names)) });
    const page = pageOf(heads, limit, (t): TopicPosition => [t.name, null]);
    const summaries = new Map<string, { leaders: Record<string, number>; offline: number }>();
    for (const row of s.leadersOf.all(JSON.stringify(page.items.map((t) => t.name)))) {
      const summary = summaries.get(row.topic) ?? { leaders: {}, offline: 0 };
      summaries.set(row.topic, summary);
      if (row.offline) summary.offline += row.partitions;
      else summary.leaders[String(row.leader)] = row.partitions;
    }
    const items: TopicDetail[] = [];
    let rowsLeft = partitionRows;
    for (const t of page.items) {
      const previous = items[items.length - 1];
      // The page's partition budget is spent: the next page starts with this topic.
      if (partitionRows > 0 && rowsLeft === 0 && previous) return { items, next: [previous.name, null] };
      const summary = summaries.get(t.name);
      const item: TopicDetail = {
        name: t.name,
        error_code: t.error_code,
        partition_count: t.partition_count,
        leaders: summary?.leaders ?? {},
        offline_partitions: summary?.offline ?? 0,
      };
      items.push(item);
      if (partitionRows <= 0) continue;
      const from = t.name === afterTopic && afterPartition !== null ? afterPartition : -1;
      const rows = s.partitionsOf.all(t.name, from, rowsLeft + 1);
      const partitions = rows.slice(0, rowsLeft).map(toPartition);
      item.partitions = partitions;
      const last = partitions[partitions.length - 1];
      // The budget ends inside this topic: the next page resumes after its last partition sent.
      if (rows.length > rowsLeft && last) return { items, next: [t.name, last.partition] };
      rowsLeft -= rows.length;
    }
    return { items, next: page.next };
  };

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

  const groupParams = (groupId: string, topics: string[] | null, fromTopic = "") => ({
    group: groupId,
    topics: topics === null ? null : JSON.stringify(sortedUnique(topics)),
    fromTopic,
  });

  const fetchOffsets = db.transaction(
    (
      groupId: string,
      topics: string[] | null,
      after: [string, number] | null,
      limit: number,
      exclude: readonly { topic: string; partition: number }[] = [],
    ) => {
      const rows = s.offsetsForGroupTopics.all({
        ...groupParams(groupId, topics, after?.[0] ?? ""),
        afterTopic: after?.[0] ?? "",
        afterPartition: after?.[1] ?? -1,
        exclude: exclude.length === 0 ? null : JSON.stringify(exclude.map((r) => `${r.topic}/${r.partition}`)),
        limit: limit + 1,
      });
      return pageOf(rows.map(toOffsetRow), limit, (r): [string, number] => [r.topic, r.partition]);
    },
  );

  const groupLag = db.transaction((groupId: string, topics: string[] | null): TopicLag[] =>
    s.groupLag.all(groupParams(groupId, topics)).map((t) => ({
      ...t,
      max_lag_partition: t.max_lag === null ? null : t.max_lag_partition,
    })),
  );

  const groupPartitionCount = (groupId: string, topics: string[] | null): number =>
    s.groupPartitionCount.get(groupParams(groupId, topics))?.n ?? 0;

  const groupOffsets = db.transaction((groupId: string, topics: string[] | null): OffsetRow[] =>
    s.groupOffsets.all(groupParams(groupId, topics)).map(toOffsetRow),
  );

  const mostLagging = db.transaction((groupId: string, topics: string[] | null, limit: number): OffsetRow[] =>
    s.mostLagging.all({ ...groupParams(groupId, topics), limit }).map(toOffsetRow),
  );

  const toConfigView = (c: ConfigJoinRow): TopicConfigView =>
    c.has_config
      ? {
          name: c.name,
          exists: true,
          partitions: c.partitions ?? 0,
          replication_factor: c.replication_factor,
          retention_ms: c.retention_ms,
          retention_bytes: c.retention_bytes,
          segment_bytes: c.segment_bytes,
          created_at: c.created_at,
          config: JSON.parse(c.config ?? "{}") as Record<string, string>,
        }
      : {
          // No readable config: report what we know, and leave unknown values null instead of inventing
          // them. A config key whose value never decoded here exists all the same.
          name: c.name,
          exists: s.isUndecodable.get(keys.topicConfig(c.name)) !== undefined,
          partitions: c.partition_count ?? 0,
          replication_factor: null,
          retention_ms: null,
          retention_bytes: null,
          segment_bytes: null,
          created_at: null,
          config: {},
        };

  const describeConfigs = db.transaction((topics: string[] | null, after: string | null, limit: number) => {
    const named = topics === null ? null : JSON.stringify(sortedUnique(topics));
    const rows = named === null ? s.configsAfter.all(after ?? "", limit + 1) : s.configsNamed.all(named, after ?? "", limit + 1);
    const page = pageOf(rows.map(toConfigView), limit, (c) => c.name);
    const unknown = named === null ? [] : s.unknownNamed.all(named).map((r) => r.name);
    return { configs: page.items, unknown, next: page.next };
  });

  const knownTopics = (names: string[]): string[] =>
    s.known.all(JSON.stringify(sortedUnique(names))).map((r) => r.name);

  const committedTopics = (groupId: string, names: string[]): string[] =>
    s.committedTopics.all(JSON.stringify(sortedUnique(names)), groupId).map((r) => r.topic);

  const inOneTransaction = db.transaction((read: () => unknown) => read());
  const describeTopicsInTransaction = db.transaction(describeTopics);

  return {
    consistent: <T>(read: () => T): T => inOneTransaction(read) as T,
    clusterOverview: () => clusterOverview(),
    listTopics: (after, limit) => listTopics(after, limit),
    describeTopics: (names, after, limit, partitionRows) => describeTopicsInTransaction(names, after, limit, partitionRows),
    listGroups: (after, limit) => listGroups(after, limit),
    describeGroup: (groupId) => describeGroup(groupId),
    groupExists,
    fetchOffsets: (groupId, topics, after, limit, exclude) => fetchOffsets(groupId, topics, after, limit, exclude),
    groupLag: (groupId, topics) => groupLag(groupId, topics),
    groupPartitionCount,
    groupOffsets: (groupId, topics) => groupOffsets(groupId, topics),
    mostLagging: (groupId, topics, limit) => mostLagging(groupId, topics, limit),
    describeConfigs: (topics, after = null, limit = Number.MAX_SAFE_INTEGER) => describeConfigs(topics, after, limit),
    knownTopics,
    committedTopics,
  };
}
