/**
 * BENCHMARK BASELINE — NOT PART OF THE PRODUCT.
 *
 * Seven of Kafscale's MCP tools answered the way its Go service answers them
 * (internal/mcpserver/tools.go over pkg/metadata/etcd_store.go; kafscale-contract.md §6):
 *  - topic metadata from the snapshot key, read once at start and re-read whenever a watch on that
 *    key fires (EtcdStore.Metadata / refreshSnapshot): no etcd request per call;
 *  - list_groups: one range over the whole `/kafscale/consumers/` prefix — group metadata *and*
 *    every committed offset — keeping only the metadata keys (ListConsumerGroups);
 *  - describe_group: one GET of the group's metadata key (FetchConsumerGroup);
 *  - fetch_offsets: one GET per partition of the selected topics, one after the other
 *    (FetchConsumerOffset in a loop);
 *  - describe_configs: one GET per topic (FetchTopicConfig), defaults from the snapshot if absent.
 * Every etcd request has Go's 3 s deadline. Output field names are the Go service's.
 *
 * Two deliberate departures, both in the baseline's favour or neutral: `list_topics`, `list_groups`
 * and `cluster_status` accept our `limit`/`topic_limit` and return that many items, so both services
 * send answers of the same size (the Go service always returns every topic); and input fields are
 * optional (Go requires `names`/`topics` to be present, possibly null).
 */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { Etcd3 } from "etcd3";
import { z } from "zod";
import {
  decodeCommittedOffset,
  decodeConsumerGroup,
  decodeSnapshot,
  decodeTopicConfig,
} from "../../src/kafscale/kinds.js";
import { keys, parseKey } from "../../src/kafscale/keys.js";
import { partitionDetail } from "../../src/tools/describe-topics.js";
import type { ClusterSnapshot, SnapshotTopic } from "../../src/kafscale/records.js";

const GO_DEADLINE_MS = 3_000;
const deadline = () => ({ deadline: new Date(Date.now() + GO_DEADLINE_MS) });

/** The in-memory snapshot the Go EtcdStore keeps (refreshed by a watch on the snapshot key). */
export class SnapshotHolder {
  private current: ClusterSnapshot = { brokers: [], controllerId: 0, topics: [], clusterName: null, clusterId: null };
  private byName = new Map<string, SnapshotTopic>();
  revision = 0;

  constructor(private readonly client: Etcd3) {}

  /** GET the snapshot key (refreshSnapshot). */
  async refresh(): Promise<void> {
    const res = await this.client.get(keys.snapshot()).options(deadline()).exec();
    const kv = res.kvs[0];
    if (!kv) return;
    this.current = decodeSnapshot(kv.value);
    this.byName = new Map(this.current.topics.map((t) => [t.name, t]));
    this.revision = Number(kv.mod_revision);
  }

  /** Watches the snapshot key and re-reads it on every change (watchSnapshot). */
  async watch(onError: (err: Error) => void): Promise<void> {
    const watcher = await this.client.watch().key(keys.snapshot()).create();
    watcher.on("put", () => void this.refresh().catch(onError));
  }

  get snapshot(): ClusterSnapshot {
    return this.current;
  }

  /** InMemoryStore.Metadata(topics): all topics for an empty filter, else the named known ones. */
  topics(filter: string[] | null | undefined): SnapshotTopic[] {
    if (!filter || filter.length === 0) return this.current.topics;
    return filter.flatMap((name) => this.byName.get(name) ?? []);
  }
}

function ok(body: Record<string, unknown>): CallToolResult {
  return { content: [{ type: "text", text: JSON.stringify(body) }], structuredContent: body };
}

/** A handler error: `isError` with the message as text, as the Go SDK reports it. */
function guard(run: () => Promise<Record<string, unknown>>): Promise<CallToolResult> {
  return run().then(ok, (err: unknown) => ({
    isError: true,
    content: [{ type: "text", text: err instanceof Error ? err.message : String(err) }],
  }));
}

const byName = <T extends { name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

const topicSummary = z.object({ name: z.string(), partition_count: z.number(), error_code: z.number() });
const optionalNames = z.array(z.string()).nullable().optional();
const limit = z.number().int().min(1).optional();

function summaries(topics: SnapshotTopic[], max: number | undefined) {
  const list = topics
    .map((t) => ({ name: t.name, partition_count: t.partitions.length, error_code: t.errorCode }))
    .sort(byName);
  return max === undefined ? list : list.slice(0, max);
}

export function registerGoStyleTools(server: McpServer, client: Etcd3, holder: SnapshotHolder): void {
  server.registerTool(
    "cluster_status",
    {
      description: "Summarize cluster metadata, brokers, and topic counts",
      inputSchema: { topic_limit: limit },
      outputSchema: {
        cluster_id: z.string().optional(),
        controller_id: z.number(),
        brokers: z.array(z.object({ node_id: z.number(), host: z.string(), port: z.number() })),
        topics: z.array(topicSummary),
        s3: z.object({ state: z.string(), latency_ms: z.number() }),
        etcd: z.object({ state: z.string() }),
        observed_at: z.string(),
      },
    },
    (args) =>
      guard(async () => {
        const s = holder.snapshot;
        return {
          ...(s.clusterId ? { cluster_id: s.clusterId } : {}),
          controller_id: s.controllerId,
          brokers: s.brokers.map((b) => ({ node_id: b.nodeId, host: b.host, port: b.port })),
          topics: summaries(s.topics, args.topic_limit),
          s3: { state: "", latency_ms: 0 },
          etcd: { state: "connected" }, // hard-coded in the Go service
          observed_at: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
        };
      }),
  );

  server.registerTool(
    "list_topics",
    {
      description: "List topics and partition counts",
      inputSchema: { limit },
      outputSchema: { topics: z.array(topicSummary) },
    },
    (args) => guard(async () => ({ topics: summaries(holder.snapshot.topics, args.limit) })),
  );

  server.registerTool(
    "describe_topics",
    {
      description: "Describe topics and their partitions",
      inputSchema: { names: optionalNames },
      outputSchema: {
        topics: z.array(z.object({ name: z.string(), error_code: z.number(), partitions: z.array(partitionDetail) })),
      },
    },
    (args) =>
      guard(async () => ({
        topics: holder
          .topics(args.names)
          .map((t) => ({
            name: t.name,
            error_code: t.errorCode,
            partitions: t.partitions.map((p) => ({
              partition: p.partition,
              leader_id: p.leader,
              leader_epoch: p.leaderEpoch,
              replica_nodes: [...p.replicas],
              isr_nodes: [...p.isr],
              offline_replicas: [...p.offlineReplicas],
              error_code: p.errorCode,
            })),
          }))
          .sort(byName),
      })),
  );

  server.registerTool(
    "list_groups",
    {
      description: "List consumer groups",
      inputSchema: { limit },
      outputSchema: {
        groups: z.array(
          z.object({ group_id: z.string(), state: z.string(), protocol_type: z.string(), member_count: z.number() }),
        ),
      },
    },
    (args) =>
      guard(async () => {
        // ListConsumerGroups: the whole consumers prefix, offsets included, then keep metadata keys.
        const res = await client.getAll().prefix("/kafscale/consumers/").options(deadline()).exec();
        const groups = [];
        for (const kv of res.kvs) {
          if (parseKey(kv.key.toString()).kind !== "group_metadata") continue;
          const g = decodeConsumerGroup(kv.value);
          groups.push({ group_id: g.groupId, state: g.state, protocol_type: g.protocolType, member_count: g.members.length });
        }
        groups.sort((a, b) => (a.group_id < b.group_id ? -1 : a.group_id > b.group_id ? 1 : 0));
        return { groups: args.limit === undefined ? groups : groups.slice(0, args.limit) };
      }),
  );

  server.registerTool(
    "describe_group",
    {
      description: "Describe a consumer group",
      inputSchema: { group_id: z.string() },
      outputSchema: {
        group_id: z.string(),
        state: z.string(),
        protocol_type: z.string(),
        protocol: z.string(),
        leader: z.string(),
        generation_id: z.number(),
        rebalance_timeout_ms: z.number(),
        members: z.array(
          z.object({
            member_id: z.string(),
            client_id: z.string(),
            client_host: z.string(),
            heartbeat_at: z.string(),
            assignments: z.array(z.object({ topic: z.string(), partitions: z.array(z.number()) })),
            subscriptions: z.array(z.string()),
            session_timeout_ms: z.number(),
          }),
        ),
      },
    },
    (args) =>
      guard(async () => {
        if (args.group_id === "") throw new Error("group_id is required");
        const kv = (await client.get(keys.groupMetadata(args.group_id)).options(deadline()).exec()).kvs[0];
        if (!kv) throw new Error(`consumer group "${args.group_id}" not found`);
        const g = decodeConsumerGroup(kv.value);
        return {
          group_id: g.groupId,
          state: g.state,
          protocol_type: g.protocolType,
          protocol: g.protocol,
          leader: g.leader,
          generation_id: g.generationId,
          rebalance_timeout_ms: g.rebalanceTimeoutMs,
          members: g.members.map((m) => ({
            member_id: m.memberId,
            client_id: m.clientId,
            client_host: m.clientHost,
            heartbeat_at: m.heartbeatAt,
            assignments: m.assignments,
            subscriptions: m.subscriptions,
            session_timeout_ms: m.sessionTimeoutMs,
          })),
        };
      }),
  );

  server.registerTool(
    "fetch_offsets",
    {
      description: "Fetch committed offsets for a consumer group",
      inputSchema: { group_id: z.string(), topics: optionalNames },
      outputSchema: {
        group_id: z.string(),
        offsets: z
          .array(z.object({ topic: z.string(), partition: z.number(), offset: z.number(), metadata: z.string() }))
          .nullable(),
      },
    },
    (args) =>
      guard(async () => {
        if (args.group_id === "") throw new Error("group_id is required");
        const offsets = [];
        // One GET per partition, sequentially — the Go handler's loop.
        for (const topic of holder.topics(args.topics)) {
          for (const p of topic.partitions) {
            const key = keys.committedOffset(args.group_id, topic.name, p.partition);
            const kv = (await client.get(key).options(deadline()).exec()).kvs[0];
            const record = kv ? decodeCommittedOffset(kv.value) : { offset: 0, metadata: "" };
            offsets.push({ topic: topic.name, partition: p.partition, offset: record.offset, metadata: record.metadata });
          }
        }
        offsets.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
        return { group_id: args.group_id, offsets: offsets.length > 0 ? offsets : null };
      }),
  );

  server.registerTool(
    "describe_configs",
    {
      description: "Describe topic configs",
      inputSchema: { topics: optionalNames },
      outputSchema: {
        configs: z.array(
          z.object({
            name: z.string(),
            exists: z.boolean(),
            partitions: z.number(),
            replication_factor: z.number(),
            retention_ms: z.number(),
            retention_bytes: z.number(),
            segment_bytes: z.number(),
            created_at: z.string(),
            config: z.record(z.string(), z.string()),
          }),
        ),
      },
    },
    (args) =>
      guard(async () => {
        const names = args.topics && args.topics.length > 0 ? args.topics : holder.topics(null).map((t) => t.name);
        const configs = [];
        for (const name of names) {
          const kv = (await client.get(keys.topicConfig(name)).options(deadline()).exec()).kvs[0];
          if (kv) {
            const c = decodeTopicConfig(kv.value);
            configs.push({
              name,
              exists: true,
              partitions: c.partitions,
              replication_factor: c.replicationFactor,
              retention_ms: c.retentionMs,
              retention_bytes: c.retentionBytes,
              segment_bytes: c.segmentBytes,
              created_at: c.createdAt,
              config: c.config,
            });
            continue;
          }
          const topic = holder.topics([name])[0];
          if (!topic) throw new Error("unknown topic");
          // Go's defaults, including its replication factor = partition count.
          configs.push({
            name,
            exists: false,
            partitions: topic.partitions.length,
            replication_factor: topic.partitions.length,
            retention_ms: -1,
            retention_bytes: -1,
            segment_bytes: 0,
            created_at: new Date().toISOString(),
            config: {},
          });
        }
        return { configs: configs.sort(byName) };
      }),
  );
}
