import { describe, expect, it } from "vitest";
import { DecodeError, decodeEntry } from "../../src/kafscale/decode.js";
import {
  decodeCommittedOffset,
  decodeConsumerGroup,
  decodeLease,
  decodeNextOffset,
  decodePartitionState,
  decodeSnapshot,
  decodeSnapshotWithSchema,
  decodeTopicConfig,
} from "../../src/kafscale/kinds.js";
import { convertSnapshot, convertSnapshotBytes } from "../../src/kafscale/snapshot-fast-path.js";
import { FOREIGN_KEYS } from "../../src/kafscale/snapshot-schema.js";
import { buildClusterKvs } from "../../src/demo/cluster-spec.js";
import { realisticCluster } from "../support/fixtures.js";
import {
  encodeBrokerRegistration,
  encodeCommittedOffset,
  encodeConsumerGroup,
  encodeLease,
  encodeNextOffset,
  encodePartitionAssignment,
  encodePartitionState,
  encodeSnapshot,
  encodeTopicConfig,
  topicIdFor,
} from "../../src/kafscale/encode.js";
import { keys, parseKey } from "../../src/kafscale/keys.js";
import type { DecodedEntry } from "../../src/kafscale/kinds.js";
import type {
  ClusterSnapshot,
  ConsumerGroupRecord,
  PartitionStateRecord,
  TopicConfigRecord,
} from "../../src/kafscale/records.js";

const hex = (value: string): Buffer => Buffer.from(value, "hex");
const utf8 = (value: string): Buffer => Buffer.from(value, "utf8");

// ---- Contract §2 byte-level vectors (verified with protoc) ----

const CONSUMER_GROUP_HEX =
  "0a0267311206737461626c651a08636f6e73756d6572220572616e67652a026d3130033a400a026d31123a1a1e323032362d30342d31375430383a33303a30302e3132333435363738395a220c0a066f7264657273120200012a066f726465727330c8df0240e0d403";
const PARTITION_STATE_HEX = "0a066f726465727310021a0130";
const TOPIC_CONFIG_HEX =
  "0a066f7264657273100318012080b8992928ffffffffffffffffff013a14323032362d30342d31375430383a33303a30305a";

const CONSUMER_GROUP: ConsumerGroupRecord = {
  groupId: "g1",
  state: "stable",
  protocolType: "consumer",
  protocol: "range",
  leader: "m1",
  generationId: 3,
  rebalanceTimeoutMs: 60000,
  members: [
    {
      memberId: "m1",
      clientId: "",
      clientHost: "",
      heartbeatAt: "2026-04-17T08:30:00.123456789Z",
      assignments: [{ topic: "orders", partitions: [0, 1] }],
      subscriptions: ["orders"],
      sessionTimeoutMs: 45000,
    },
  ],
};

const PARTITION_STATE: PartitionStateRecord = {
  topic: "orders",
  partition: 2,
  leaderBroker: "0",
  leaderEpoch: 0,
  logStartOffset: 0,
  logEndOffset: 0,
  highWatermark: 0,
  activeSegment: "",
  segments: [],
};

const TOPIC_CONFIG: TopicConfigRecord = {
  name: "orders",
  partitions: 3,
  replicationFactor: 1,
  retentionMs: 86400000,
  retentionBytes: -1,
  segmentBytes: 0,
  createdAt: "2026-04-17T08:30:00Z",
  config: {},
};

describe("contract §2 protobuf vectors", () => {
  it.each([
    { name: "ConsumerGroup", bytes: CONSUMER_GROUP_HEX, decode: decodeConsumerGroup, encode: encodeConsumerGroup, record: CONSUMER_GROUP },
    { name: "PartitionState", bytes: PARTITION_STATE_HEX, decode: decodePartitionState, encode: encodePartitionState, record: PARTITION_STATE },
    { name: "TopicConfig", bytes: TOPIC_CONFIG_HEX, decode: decodeTopicConfig, encode: encodeTopicConfig, record: TOPIC_CONFIG },
  ] as const)("$name decodes to the record and re-encodes to the same bytes", ({ bytes, decode, encode, record }) => {
    const decoded = decode(hex(bytes));
    expect(decoded).toEqual(record);
    // Each encoder takes its own record type; the table pairs them correctly.
    expect((encode as (value: typeof decoded) => Buffer)(decoded).toString("hex")).toBe(bytes);
  });
});

// ---- Contract §3 snapshot ----

const SNAPSHOT_JSON =
  '{"Brokers":[{"NodeID":0,"Host":"kafscale-broker-0.kafscale-broker-headless.kafscale.svc.cluster.local","Port":9092,"Rack":null,"UnknownTags":{}}],"ControllerID":0,"Topics":[{"ErrorCode":0,"Topic":"orders","TopicID":[150,88,64,56,22,64,158,102,235,162,23,95,142,255,139,83],"IsInternal":false,"Partitions":[{"ErrorCode":0,"Partition":0,"Leader":0,"LeaderEpoch":0,"Replicas":[0],"ISR":[0],"OfflineReplicas":null,"UnknownTags":{}}],"AuthorizedOperations":0,"UnknownTags":{}}],"ClusterName":"kafscale","ClusterID":"6f1c2d3e-0000-4000-8000-000000000001"}';

const SNAPSHOT: ClusterSnapshot = {
  brokers: [
    { nodeId: 0, host: "kafscale-broker-0.kafscale-broker-headless.kafscale.svc.cluster.local", port: 9092, rack: null },
  ],
  controllerId: 0,
  topics: [
    {
      name: "orders",
      topicId: "9658403816409e66eba2175f8eff8b53",
      isInternal: false,
      errorCode: 0,
      partitions: [{ partition: 0, leader: 0, leaderEpoch: 0, replicas: [0], isr: [0], offlineReplicas: [], errorCode: 0 }],
    },
  ],
  clusterName: "kafscale",
  clusterId: "6f1c2d3e-0000-4000-8000-000000000001",
};

const EMPTY_SNAPSHOT_JSON = '{"Brokers":null,"ControllerID":0,"Topics":null,"ClusterName":null,"ClusterID":null}';
const EMPTY_SNAPSHOT: ClusterSnapshot = { brokers: [], controllerId: 0, topics: [], clusterName: null, clusterId: null };

// The same cluster as written by Kafscale v1.4 – v1.5 (contract §3, verbatim), and by v1.0 – v1.3
// (the same without ClusterName).
const SNAPSHOT_V14_JSON =
  '{"Brokers":[{"NodeID":0,"Host":"kafscale-broker-0.kafscale-broker-headless.kafscale.svc.cluster.local","Port":9092,"Rack":null}],"ControllerID":0,"Topics":[{"ErrorCode":0,"Name":"orders","TopicID":[150,88,64,56,22,64,158,102,235,162,23,95,142,255,139,83],"IsInternal":false,"Partitions":[{"ErrorCode":0,"PartitionIndex":0,"LeaderID":0,"LeaderEpoch":0,"ReplicaNodes":[0],"ISRNodes":[0],"OfflineReplicas":null}],"TopicAuthorizedOperations":0}],"ClusterName":"kafscale","ClusterID":"6f1c2d3e-0000-4000-8000-000000000001"}';
const SNAPSHOT_V10_JSON =
  '{"Brokers":[{"NodeID":0,"Host":"kafscale-broker-0.kafscale-broker-headless.kafscale.svc.cluster.local","Port":9092,"Rack":null}],"ControllerID":0,"Topics":[{"ErrorCode":0,"Name":"orders","TopicID":[150,88,64,56,22,64,158,102,235,162,23,95,142,255,139,83],"IsInternal":false,"Partitions":[{"ErrorCode":0,"PartitionIndex":0,"LeaderID":0,"LeaderEpoch":0,"ReplicaNodes":[0],"ISRNodes":[0],"OfflineReplicas":null}],"TopicAuthorizedOperations":0}],"ClusterID":"6f1c2d3e-0000-4000-8000-000000000001"}';

/** The §3 example (`base`: the v1.6 one unless told) with one field replaced, to build variants. */
function snapshotWith(patch: (json: Record<string, unknown>) => void, base = SNAPSHOT_JSON): Buffer {
  const json = JSON.parse(base) as Record<string, unknown>;
  patch(json);
  return utf8(JSON.stringify(json));
}
function firstTopic(json: Record<string, unknown>): Record<string, unknown> {
  return (json.Topics as Record<string, unknown>[])[0] as Record<string, unknown>;
}
function firstPartition(json: Record<string, unknown>): Record<string, unknown> {
  return (firstTopic(json).Partitions as Record<string, unknown>[])[0] as Record<string, unknown>;
}

describe("contract §3 snapshot", () => {
  it.each([
    { name: "example", json: SNAPSHOT_JSON, record: SNAPSHOT },
    { name: "empty", json: EMPTY_SNAPSHOT_JSON, record: EMPTY_SNAPSHOT },
  ])("$name decodes and re-encodes to the same bytes", ({ json, record }) => {
    expect(decodeSnapshot(utf8(json))).toEqual(record);
    expect(encodeSnapshot(record).toString("utf8")).toBe(json);
  });

  it.each([
    { name: "v1.6+ example", json: SNAPSHOT_JSON, record: SNAPSHOT },
    { name: "v1.4 – v1.5 example", json: SNAPSHOT_V14_JSON, record: SNAPSHOT },
    { name: "v1.0 – v1.3 example (no ClusterName)", json: SNAPSHOT_V10_JSON, record: { ...SNAPSHOT, clusterName: null } },
    {
      name: "v1.0 – v1.3 empty snapshot",
      json: '{"Brokers":null,"ControllerID":0,"Topics":null,"ClusterID":null}',
      record: EMPTY_SNAPSHOT,
    },
  ])("decodes the $name to the same cluster on both paths", ({ json, record }) => {
    expect(decodeSnapshot(utf8(json))).toEqual(record);
    expect(decodeSnapshotWithSchema(utf8(json))).toEqual(record);
    expect(convertSnapshot(JSON.parse(json))).toEqual(record);
    // Topics null (an empty cluster before v1.4) is left to the whole-value parse.
    expect(convertSnapshotBytes(utf8(json))).toEqual(json.includes('"Topics":null') ? null : record);
  });

  it("sorts brokers by node ID, topics by name and partitions by number", () => {
    const topic = (name: string, partitions: number[]): Record<string, unknown> => ({
      ErrorCode: 0,
      Topic: name,
      TopicID: [...hex(topicIdFor(name))],
      IsInternal: false,
      Partitions: partitions.map((p) => ({ ErrorCode: 0, Partition: p, Leader: 0, LeaderEpoch: 0, Replicas: null, ISR: [0], OfflineReplicas: null })),
    });
    const broker = (id: number): Record<string, unknown> => ({ NodeID: id, Host: `b${id}`, Port: 9092, Rack: "r1" });
    const decoded = decodeSnapshot(
      utf8(
        JSON.stringify({
          Brokers: [broker(2), broker(0), broker(1)],
          ControllerID: 1,
          Topics: [topic("orders", [2, 0, 1]), topic("events", [])],
          ClusterName: null,
          ClusterID: "id",
          SomeFutureField: true,
        }),
      ),
    );
    expect(decoded.brokers.map((b) => b.nodeId)).toEqual([0, 1, 2]);
    expect(decoded.brokers[0]?.rack).toBe("r1");
    expect(decoded.topics.map((t) => t.name)).toEqual(["events", "orders"]);
    expect(decoded.topics[0]?.topicId).toBe("82d50d9042decb175894924272dd3b5a");
    expect(decoded.topics[1]?.partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
    expect(decoded.topics[1]?.partitions[0]?.replicas).toEqual([]);
  });

  it("has a fast path that accepts exactly what the schema accepts, with the same result", () => {
    const v14 = SNAPSHOT_V14_JSON;
    const mutations: [string, (json: Record<string, unknown>) => void, string?][] = [
      ["unchanged", () => undefined],
      ["extra fields", (j) => (j.Future = { x: 1 })],
      ["null lists", (j) => Object.assign(firstPartition(j), { Replicas: null, ISR: null })],
      ["Partitions null", (j) => (firstTopic(j).Partitions = null)],
      ["Partitions missing", (j) => delete firstTopic(j).Partitions],
      ["Partitions object", (j) => (firstTopic(j).Partitions = {})],
      ["Rack missing", (j) => delete (j.Brokers as Record<string, unknown>[])[0]?.Rack],
      ["Rack number", (j) => Object.assign((j.Brokers as Record<string, unknown>[])[0] ?? {}, { Rack: 1 })],
      ["ClusterName missing", (j) => delete j.ClusterName],
      ["ClusterID number", (j) => (j.ClusterID = 7)],
      ["ControllerID -1", (j) => (j.ControllerID = -1)],
      ["ControllerID 2^31", (j) => (j.ControllerID = 2 ** 31)],
      ["ErrorCode 40000", (j) => (firstTopic(j).ErrorCode = 40_000)],
      ["partition ErrorCode -32768", (j) => (firstPartition(j).ErrorCode = -32_768)],
      ["Partition -1", (j) => (firstPartition(j).Partition = -1)],
      ["Partition 1.5", (j) => (firstPartition(j).Partition = 1.5)],
      ["Leader string", (j) => (firstPartition(j).Leader = "0")],
      ["ISR with null", (j) => (firstPartition(j).ISR = [0, null])],
      ["Replicas of int32 max", (j) => (firstPartition(j).Replicas = [2_147_483_647])],
      ["TopicID byte 1.5", (j) => ((firstTopic(j).TopicID as number[])[3] = 1.5)],
      ["TopicID byte -1", (j) => ((firstTopic(j).TopicID as number[])[3] = -1)],
      ["IsInternal 0", (j) => (firstTopic(j).IsInternal = 0)],
      ["topic null", (j) => ((j.Topics as unknown[])[0] = null)],
      ["broker array", (j) => ((j.Brokers as unknown[])[0] = [])],
      ["Topics string", (j) => (j.Topics = "orders")],
      ["Topic null", (j) => (firstTopic(j).Topic = null)],
      ["Topic empty", (j) => (firstTopic(j).Topic = "")],
      ["Topic missing", (j) => delete firstTopic(j).Topic],
      ["Topic number", (j) => (firstTopic(j).Topic = 1)],
      ["v1.6 topic with Name too", (j) => (firstTopic(j).Name = "orders")],
      ["v1.6 partition with PartitionIndex too", (j) => (firstPartition(j).PartitionIndex = 0)],
      ["v1.6 partition with ISRNodes too", (j) => (firstPartition(j).ISRNodes = [0])],
      ["v1.6 topic then a legacy topic", (j) => (j.Topics as unknown[]).push(JSON.parse(v14).Topics[0])],
      // Pre-v1.6 documents.
      ["legacy unchanged", () => undefined, v14],
      ["legacy without ClusterName", (j) => delete j.ClusterName, v14],
      ["legacy without TopicAuthorizedOperations", (j) => delete firstTopic(j).TopicAuthorizedOperations, v14],
      ["legacy Name null", (j) => (firstTopic(j).Name = null), v14],
      ["legacy Name number", (j) => (firstTopic(j).Name = 5), v14],
      ["legacy topic with Topic too", (j) => (firstTopic(j).Topic = "orders"), v14],
      ["legacy partition in the v1.6 shape", (j) => (firstTopic(j).Partitions = JSON.parse(SNAPSHOT_JSON).Topics[0].Partitions), v14],
      ["legacy partition with Leader too", (j) => (firstPartition(j).Leader = 0), v14],
      ["legacy PartitionIndex missing", (j) => delete firstPartition(j).PartitionIndex, v14],
      ["legacy PartitionIndex -1", (j) => (firstPartition(j).PartitionIndex = -1), v14],
      ["legacy LeaderID string", (j) => (firstPartition(j).LeaderID = "0"), v14],
      ["legacy ReplicaNodes null", (j) => (firstPartition(j).ReplicaNodes = null), v14],
      ["legacy ISRNodes with a string", (j) => (firstPartition(j).ISRNodes = ["0"]), v14],
      ["legacy OfflineReplicas missing", (j) => delete firstPartition(j).OfflineReplicas, v14],
      ["legacy then a v1.6 topic", (j) => (j.Topics as unknown[]).push(JSON.parse(SNAPSHOT_JSON).Topics[0]), v14],
      ["legacy topic null first", (j) => (j.Topics as unknown[]).unshift(null), v14],
      ["legacy Topics empty, no ClusterName", (j) => Object.assign(j, { Topics: [], ClusterName: undefined }), v14],
      ["v1.6 Topics empty, no ClusterName", (j) => Object.assign(j, { Topics: [], ClusterName: undefined })],
    ];
    const accepted: string[] = [];
    for (const [name, mutate, base] of mutations) {
      const value = snapshotWith(mutate, base);
      let schema: ClusterSnapshot | Error;
      try {
        schema = decodeSnapshotWithSchema(value);
      } catch (error) {
        schema = error as Error;
      }
      const fast = convertSnapshot(JSON.parse(value.toString("utf8")));
      // The topic-at-a-time path (what decodeSnapshot runs first) agrees with both.
      const bytes = convertSnapshotBytes(value);
      if (schema instanceof Error) {
        expect(fast, name).toBeNull();
        expect(bytes, name).toBeNull();
      } else {
        expect(fast, name).toEqual(schema);
        expect(bytes, name).toEqual(schema);
        accepted.push(name);
      }
    }
    // Every key of the other shape makes a topic or partition mixed, on both paths.
    for (const [shape, base] of [["v1.6", SNAPSHOT_JSON], ["legacy", v14]] as const) {
      for (const key of FOREIGN_KEYS.partition[shape]) {
        const value = snapshotWith((j) => (firstPartition(j)[key] = 0), base);
        expect(() => decodeSnapshotWithSchema(value), `${shape} partition + ${key}`).toThrow(DecodeError);
        expect(convertSnapshot(JSON.parse(value.toString("utf8"))), `${shape} partition + ${key}`).toBeNull();
        expect(convertSnapshotBytes(value), `${shape} partition + ${key}`).toBeNull();
      }
      for (const key of FOREIGN_KEYS.topic[shape]) {
        const value = snapshotWith((j) => (firstTopic(j)[key] = "orders"), base);
        expect(() => decodeSnapshotWithSchema(value), `${shape} topic + ${key}`).toThrow(DecodeError);
        expect(convertSnapshot(JSON.parse(value.toString("utf8"))), `${shape} topic + ${key}`).toBeNull();
        expect(convertSnapshotBytes(value), `${shape} topic + ${key}`).toBeNull();
      }
    }
    // Both paths agree; and they agree on the documented rules, not on rejecting everything.
    expect(accepted).toEqual([
      "unchanged",
      "extra fields",
      "null lists",
      "Partitions null",
      "ControllerID -1",
      "partition ErrorCode -32768",
      "Replicas of int32 max",
      "Topic null",
      "Topic empty",
      "legacy unchanged",
      "legacy without ClusterName",
      "legacy without TopicAuthorizedOperations",
      "legacy Name null",
      "legacy ReplicaNodes null",
      "legacy Topics empty, no ClusterName",
      "v1.6 Topics empty, no ClusterName",
    ]);
    const cluster = buildClusterKvs(realisticCluster).find((kv) => kv.key === keys.snapshot());
    expect(cluster).toBeDefined();
    const value = Buffer.from(cluster?.value ?? []);
    expect(convertSnapshot(JSON.parse(value.toString("utf8")))).toEqual(decodeSnapshotWithSchema(value));
    expect(convertSnapshotBytes(value)).toEqual(decodeSnapshotWithSchema(value));
  });

  it("escapes <, > and & like Go's encoding/json", () => {
    const json = encodeSnapshot({ ...EMPTY_SNAPSHOT, clusterName: "a<b>&c" }).toString("utf8");
    expect(json).toContain('"ClusterName":"a\\u003cb\\u003e\\u0026c"');
    expect(decodeSnapshot(utf8(json)).clusterName).toBe("a<b>&c");
  });
});

describe("snapshot entries no table can hold consistently", () => {
  const topic = (name: string | null, partitions: number[], leader = 0): Record<string, unknown> => ({
    ErrorCode: 0,
    Topic: name,
    TopicID: [...hex(topicIdFor(name ?? ""))],
    IsInternal: false,
    Partitions: partitions.map((p) => ({ ErrorCode: 0, Partition: p, Leader: leader, LeaderEpoch: 0, Replicas: [0], ISR: [0], OfflineReplicas: null })),
  });
  const snapshotOf = (topics: unknown[], brokers: number[] = [0]): Buffer =>
    utf8(
      JSON.stringify({
        Brokers: brokers.map((id, i) => ({ NodeID: id, Host: `b${id}-${i}`, Port: 9092, Rack: null })),
        ControllerID: 0,
        Topics: topics,
        ClusterName: "k",
        ClusterID: "id",
      }),
    );

  it("drops nameless topics and keeps the first of repeated topics, partitions and brokers, with warnings", () => {
    const warnings: string[] = [];
    const decoded = decodeSnapshot(
      snapshotOf(
        [topic("orders", [0, 1, 2], 1), topic("", [0]), topic("events", [0, 1, 1]), topic(null, [0]), topic("orders", [0], 2)],
        [1, 0, 1],
      ),
      warnings,
    );
    expect(decoded.topics.map((t) => [t.name, t.partitions.map((p) => p.partition)])).toEqual([
      ["events", [0, 1]],
      ["orders", [0, 1, 2]],
    ]);
    // The first "orders" (leader 1, three partitions) wins, not the later one.
    expect(decoded.topics[1]?.partitions.every((p) => p.leader === 1)).toBe(true);
    expect(decoded.brokers.map((b) => `${b.nodeId}:${b.host}`)).toEqual(["0:b0-1", "1:b1-0"]);
    expect(warnings).toEqual([
      '2 topics without a name (null or "") ignored',
      '1 duplicate topic entries ignored (the first listed wins): "orders"',
      '1 duplicate partition entries ignored (the first listed wins): "events"/1',
      "1 duplicate broker entries ignored (the first listed wins): node 1",
    ]);
  });

  it("returns a clean snapshot untouched and warns about nothing", () => {
    const warnings: string[] = [];
    expect(decodeSnapshot(utf8(SNAPSHOT_JSON), warnings)).toEqual(SNAPSHOT);
    expect(warnings).toEqual([]);
  });

  it("warns about a negative committed offset and still decodes it", () => {
    const warnings: string[] = [];
    const entry = decodeEntry(parseKey(keys.committedOffset("g", "t", 0)), utf8('{"offset":-1,"metadata":""}'), warnings);
    expect(entry).toMatchObject({ value: { offset: -1 } });
    expect(warnings).toEqual(["committed offset -1 is negative: no usable commit"]);
    decodeEntry(parseKey(keys.committedOffset("g", "t", 0)), utf8('{"offset":0}'), warnings);
    expect(warnings).toHaveLength(1);
  });
});

describe("topicIdFor", () => {
  it.each([
    ["orders", "9658403816409e66eba2175f8eff8b53"],
    ["events", "82d50d9042decb175894924272dd3b5a"],
  ])("%s → %s", (name, id) => {
    expect(topicIdFor(name)).toBe(id);
  });
});

// ---- Other protobuf behaviour ----

describe("protobuf records", () => {
  it("sorts consumer group members by member ID and round-trips them", () => {
    const member = (memberId: string): ConsumerGroupRecord["members"][number] => ({
      memberId,
      clientId: "",
      clientHost: "",
      heartbeatAt: "",
      assignments: [],
      subscriptions: [],
      sessionTimeoutMs: 10000,
    });
    const group: ConsumerGroupRecord = { ...CONSUMER_GROUP, members: [member("m2"), member("m10"), member("m1")] };
    expect(decodeConsumerGroup(encodeConsumerGroup(group)).members.map((m) => m.memberId)).toEqual(["m1", "m10", "m2"]);
  });

  it("decodes a group without members to an empty member list", () => {
    expect(decodeConsumerGroup(encodeConsumerGroup({ ...CONSUMER_GROUP, members: [] })).members).toEqual([]);
    expect(decodeConsumerGroup(new Uint8Array()).groupId).toBe("");
  });

  it("round-trips topic config maps, including empty values", () => {
    const config = { ...TOPIC_CONFIG, config: { "cleanup.policy": "delete", "x.empty": "" } };
    expect(decodeTopicConfig(encodeTopicConfig(config))).toEqual(config);
  });

  it("round-trips partition segments and large safe int64 values", () => {
    const state: PartitionStateRecord = {
      ...PARTITION_STATE,
      logEndOffset: Number.MAX_SAFE_INTEGER,
      segments: [
        { baseOffset: 0, sizeBytes: 1024, createdAt: "2026-04-17T08:30:00Z" },
        { baseOffset: 100, sizeBytes: 0, createdAt: "" },
      ],
    };
    expect(decodePartitionState(encodePartitionState(state))).toEqual(state);
  });

  it("skips unknown fields (forward compatibility)", () => {
    // field 15 varint 1, then field 16 length-delimited "x"
    expect(decodePartitionState(hex(`${PARTITION_STATE_HEX}780182010178`))).toEqual(PARTITION_STATE);
  });
});

// ---- Committed offsets, next_offset, leases ----

describe("committed offsets", () => {
  const VECTOR = '{"offset":42,"metadata":"","committed_at":"2026-04-17T08:30:00.123456789Z"}';

  it("decodes the §1 vector and re-encodes it byte for byte", () => {
    const record = { offset: 42, metadata: "", committedAt: "2026-04-17T08:30:00.123456789Z" };
    expect(decodeCommittedOffset(utf8(VECTOR))).toEqual(record);
    expect(encodeCommittedOffset(record).toString("utf8")).toBe(VECTOR);
  });

  it.each([
    ['{"offset":-1}', { offset: -1, metadata: "", committedAt: "" }],
    ['{"offset":7,"metadata":null,"committed_at":null,"extra":1}', { offset: 7, metadata: "", committedAt: "" }],
    ['{"offset":9007199254740991,"metadata":"m","committed_at":"t"}', { offset: 9007199254740991, metadata: "m", committedAt: "t" }],
  ])("%s", (json, record) => {
    expect(decodeCommittedOffset(utf8(json))).toEqual(record);
  });
});

describe("next_offset", () => {
  it.each<[string, number]>([
    ["42", 42],
    ["0", 0],
    ["", 0],
    [" 42\n", 42],
    ["007", 7],
    ["9007199254740991", 9007199254740991],
  ])("%j → %d", (text, expected) => {
    expect(decodeNextOffset(utf8(text))).toBe(expected);
  });

  it("encodes as decimal ASCII", () => {
    expect(encodeNextOffset(42).toString("ascii")).toBe("42");
    expect(() => encodeNextOffset(-1)).toThrow(RangeError);
  });
});

describe("leases", () => {
  it.each<[string, number]>([
    ["0", 0],
    ["1", 1],
    ["2147483647", 2147483647],
  ])("%j → %d", (text, expected) => {
    expect(decodeLease(utf8(text))).toBe(expected);
    expect(encodeLease(expected).toString("ascii")).toBe(text);
  });
});

// ---- decodeEntry routing ----

describe("decodeEntry", () => {
  it.each<[string, Buffer, DecodedEntry]>([
    [keys.snapshot(), utf8(EMPTY_SNAPSHOT_JSON), { kind: "snapshot", value: EMPTY_SNAPSHOT }],
    [keys.topicConfig("orders"), hex(TOPIC_CONFIG_HEX), { kind: "topic_config", topic: "orders", value: TOPIC_CONFIG }],
    [
      keys.partitionState("orders", 2),
      hex(PARTITION_STATE_HEX),
      { kind: "partition_state", topic: "orders", partition: 2, value: PARTITION_STATE },
    ],
    [keys.nextOffset("orders", 2), utf8("42"), { kind: "next_offset", topic: "orders", partition: 2, value: 42 }],
    [keys.groupMetadata("g1"), hex(CONSUMER_GROUP_HEX), { kind: "group_metadata", groupId: "g1", value: CONSUMER_GROUP }],
    [
      keys.committedOffset("g1", "orders", 1),
      utf8('{"offset":5,"metadata":"","committed_at":""}'),
      {
        kind: "committed_offset",
        groupId: "g1",
        topic: "orders",
        partition: 1,
        value: { offset: 5, metadata: "", committedAt: "" },
      },
    ],
    [keys.partitionLease("orders", 0), utf8("0"), { kind: "partition_lease", topic: "orders", partition: 0, value: 0 }],
    [keys.groupLease("g1"), utf8("1"), { kind: "group_lease", groupId: "g1", value: 1 }],
    [
      keys.brokerRegistration("0"),
      encodeBrokerRegistration({
        brokerId: "0",
        host: "h",
        port: 9092,
        rack: "",
        startedAt: "s",
        lastHeartbeat: "l",
        version: "v",
      }),
      {
        kind: "broker_registration",
        brokerId: "0",
        value: { brokerId: "0", host: "h", port: 9092, rack: "", startedAt: "s", lastHeartbeat: "l", version: "v" },
      },
    ],
    [
      keys.partitionAssignment("orders", 1),
      encodePartitionAssignment({ brokerId: "2", epoch: 4, assignedAt: "a" }),
      {
        kind: "partition_assignment",
        topic: "orders",
        partition: 1,
        value: { brokerId: "2", epoch: 4, assignedAt: "a" },
      },
    ],
    ["/kafscale/unknown/thing", utf8("\u0000 anything"), { kind: "unknown" }],
  ])("%s", (key, value, expected) => {
    expect(decodeEntry(parseKey(key), value)).toEqual(expected);
  });
});

// ---- Malformed values ----

describe("malformed values raise DecodeError", () => {
  it.each<[string, string, Buffer, RegExp]>([
    // protobuf
    [
      "truncated ConsumerGroup",
      keys.groupMetadata("g1"),
      hex(CONSUMER_GROUP_HEX.slice(0, -2)),
      /^invalid protobuf ConsumerGroup: index out of range/,
    ],
    ["truncated TopicConfig", keys.topicConfig("orders"), hex(TOPIC_CONFIG_HEX.slice(0, -4)), /^invalid protobuf TopicConfig: /],
    ["random bytes", keys.groupMetadata("g1"), hex("deadbeefcafebabe0102030405"), /^invalid protobuf ConsumerGroup: /],
    ["JSON where protobuf belongs", keys.topicConfig("orders"), utf8('{"name":"orders"}'), /^invalid protobuf TopicConfig: /],
    ["wrong wire type", keys.topicConfig("orders"), hex("0801"), /field name has wire type 0, expected 2/],
    ["group wire type", keys.partitionState("orders", 0), hex("7b7c"), /group wire type 3/],
    ["field number 0", keys.partitionState("orders", 0), hex("0001"), /field number 0/],
    ["invalid UTF-8 string", keys.partitionState("orders", 0), hex("0a02c328"), /field topic is not valid UTF-8/],
    [
      "int64 beyond MAX_SAFE_INTEGER",
      keys.topicConfig("orders"),
      hex("20ffffffffffffffff7f"),
      /retentionMs: int64 9223372036854775807 is beyond Number.MAX_SAFE_INTEGER/,
    ],
    ["negative partition", keys.partitionState("orders", 0), hex("10ffffffffffffffffff01"), /partition: partition must be a non-negative int32/],
    ["member with truncated entry", keys.groupMetadata("g1"), hex("3a030a026d"), /^invalid protobuf ConsumerGroup: /],
    // snapshot JSON
    ["snapshot not JSON", keys.snapshot(), utf8("{"), /^snapshot is not valid JSON: /],
    ["snapshot empty value", keys.snapshot(), utf8(""), /^snapshot is not valid JSON: /],
    ["snapshot JSON null", keys.snapshot(), utf8("null"), /^invalid snapshot: \(root\)/],
    ["snapshot JSON array", keys.snapshot(), utf8("[]"), /^invalid snapshot: \(root\)/],
    ["snapshot missing Brokers", keys.snapshot(), utf8('{"ControllerID":0,"Topics":null,"ClusterName":null,"ClusterID":null}'), /Brokers/],
    ["snapshot ControllerID string", keys.snapshot(), snapshotWith((j) => (j.ControllerID = "0")), /ControllerID/],
    ["snapshot ControllerID fraction", keys.snapshot(), snapshotWith((j) => (j.ControllerID = 0.5)), /ControllerID/],
    ["snapshot Brokers object", keys.snapshot(), snapshotWith((j) => (j.Brokers = {})), /Brokers/],
    [
      "TopicID as base64 string",
      keys.snapshot(),
      snapshotWith((j) => (firstTopic(j).TopicID = "lljAOBZAnmbroheVjv+LUw==")),
      /Topics\.0\.TopicID: TopicID must be an array of 16 bytes/,
    ],
    ["TopicID of 15 bytes", keys.snapshot(), snapshotWith((j) => (firstTopic(j).TopicID = new Array(15).fill(0))), /TopicID/],
    ["TopicID byte 256", keys.snapshot(), snapshotWith((j) => (firstTopic(j).TopicID = new Array(16).fill(256))), /TopicID/],
    ["topic with neither Topic nor Name", keys.snapshot(), snapshotWith((j) => delete firstTopic(j).Topic), /Topics\.0\.Topic: Topic is missing/],
    [
      "topic with both Topic and Name",
      keys.snapshot(),
      snapshotWith((j) => (firstTopic(j).Name = "orders")),
      /Topics\.0\.Name: not allowed in the Kafscale v1\.6\+ shape of this object \(mixed shapes\)/,
    ],
    [
      "pre-v1.6 topic with a v1.6 partition",
      keys.snapshot(),
      snapshotWith((j) => (firstPartition(j).Partition = 0), SNAPSHOT_V14_JSON),
      /Topics\.0\.Partitions\.0\.Partition: not allowed in the Kafscale before v1\.6 shape/,
    ],
    [
      "topics of both shapes",
      keys.snapshot(),
      snapshotWith((j) => (j.Topics as unknown[]).push({ ...(JSON.parse(SNAPSHOT_V14_JSON).Topics[0] as object), Name: "legacy" })),
      /Topics\.1: uses the Kafscale before v1\.6 shape, Topics\.0 the Kafscale v1\.6\+ shape \(mixed shapes\)/,
    ],
    ["v1.6 snapshot without ClusterName", keys.snapshot(), snapshotWith((j) => delete j.ClusterName), /ClusterName: ClusterName is missing/],
    ["Replicas with a string", keys.snapshot(), snapshotWith((j) => {
      ((firstTopic(j).Partitions as Record<string, unknown>[])[0] as Record<string, unknown>).Replicas = ["0"];
    }), /Topics\.0\.Partitions\.0\.Replicas\.0/],
    // committed offsets
    ["offset not JSON", keys.committedOffset("g", "t", 0), utf8("42"), /^invalid committed offset: \(root\)/],
    ["offset broken JSON", keys.committedOffset("g", "t", 0), utf8('{"offset":'), /^committed offset is not valid JSON/],
    ["offset as string", keys.committedOffset("g", "t", 0), utf8('{"offset":"42"}'), /offset/],
    ["offset fraction", keys.committedOffset("g", "t", 0), utf8('{"offset":1.5}'), /offset must be an integer/],
    ["offset beyond 2^53", keys.committedOffset("g", "t", 0), utf8('{"offset":9223372036854775807}'), /offset must be an integer/],
    ["offset missing", keys.committedOffset("g", "t", 0), utf8('{"metadata":""}'), /offset/],
    ["metadata a number", keys.committedOffset("g", "t", 0), utf8('{"offset":1,"metadata":5}'), /metadata/],
    // next_offset
    ["next_offset -1", keys.nextOffset("t", 0), utf8("-1"), /^next_offset is negative: "-1"$/],
    ["next_offset 4x2", keys.nextOffset("t", 0), utf8("4x2"), /^next_offset is not a decimal integer: "4x2"$/],
    ["next_offset fraction", keys.nextOffset("t", 0), utf8("1.5"), /not a decimal integer/],
    ["next_offset JSON", keys.nextOffset("t", 0), utf8('{"offset":1}'), /not a decimal integer/],
    ["next_offset beyond 2^53", keys.nextOffset("t", 0), utf8("9223372036854775807"), /beyond Number.MAX_SAFE_INTEGER/],
    // leases
    ["lease abc", keys.partitionLease("t", 0), utf8("abc"), /^partition lease is not a broker NodeID .*"abc"$/],
    ["lease empty", keys.groupLease("g"), utf8(""), /^group lease is not a broker NodeID/],
    ["lease negative", keys.groupLease("g"), utf8("-1"), /group lease/],
    ["lease beyond int32", keys.partitionLease("t", 0), utf8("2147483648"), /partition lease/],
  ])("%s", (_name, key, value, message) => {
    const route = parseKey(key);
    expect(route.kind).not.toBe("unknown");
    let thrown: unknown;
    try {
      decodeEntry(route, value);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DecodeError);
    expect((thrown as DecodeError).name).toBe("DecodeError");
    expect((thrown as DecodeError).message).toMatch(message);
  });

  it("tells an empty next_offset (0) from -1 (error)", () => {
    expect(decodeNextOffset(utf8(""))).toBe(0);
    expect(() => decodeNextOffset(utf8("-1"))).toThrow(DecodeError);
  });
});

