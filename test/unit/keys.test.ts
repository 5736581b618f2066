import { describe, expect, it } from "vitest";
import { KAFSCALE_PREFIX, keys, parseKey, parsePartitionSegment } from "../../src/kafscale/keys.js";
import type { KafscaleKey } from "../../src/kafscale/kinds.js";

describe("parseKey: keys Kafscale writes", () => {
  it.each<[string, KafscaleKey]>([
    ["/kafscale/metadata/snapshot", { kind: "snapshot" }],
    ["/kafscale/topics/orders/config", { kind: "topic_config", topic: "orders" }],
    ["/kafscale/topics/orders/partitions/2", { kind: "partition_state", topic: "orders", partition: 2 }],
    ["/kafscale/topics/orders/partitions/0/next_offset", { kind: "next_offset", topic: "orders", partition: 0 }],
    ["/kafscale/topics/a.b_c-D9/partitions/2147483647", { kind: "partition_state", topic: "a.b_c-D9", partition: 2147483647 }],
    // A topic may be called like a key section; positions, not names, decide.
    ["/kafscale/topics/partitions/config", { kind: "topic_config", topic: "partitions" }],
    ["/kafscale/consumers/g1/metadata", { kind: "group_metadata", groupId: "g1" }],
    ["/kafscale/consumers/offsets/metadata", { kind: "group_metadata", groupId: "offsets" }],
    [
      "/kafscale/consumers/g1/offsets/orders/1",
      { kind: "committed_offset", groupId: "g1", topic: "orders", partition: 1 },
    ],
    ["/kafscale/partition-leases/orders/0", { kind: "partition_lease", topic: "orders", partition: 0 }],
    // Partition-lease rule: the topic is everything before the last "/".
    ["/kafscale/partition-leases/team/orders/7", { kind: "partition_lease", topic: "team/orders", partition: 7 }],
    ["/kafscale/group-leases/g1", { kind: "group_lease", groupId: "g1" }],
    // The proxy takes everything after the group-lease prefix as the group ID.
    ["/kafscale/group-leases/team/g1", { kind: "group_lease", groupId: "team/g1" }],
    ["/kafscale/brokers/0", { kind: "broker_registration", brokerId: "0" }],
    ["/kafscale/assignments/orders/3", { kind: "partition_assignment", topic: "orders", partition: 3 }],
  ])("%s", (key, expected) => {
    expect(parseKey(key)).toEqual(expected);
  });
});

describe("parseKey: anything else is unknown", () => {
  it.each([
    "",
    "/kafscale",
    "/kafscale/",
    "kafscale/metadata/snapshot",
    "/KAFSCALE/metadata/snapshot",
    "/other/topics/orders/config",
    "processors/leases/x",
    // trailing slash, doubled slash, wrong leaf, extra segments
    "/kafscale/metadata/snapshot/",
    "/kafscale/metadata/snapshots",
    "/kafscale/metadata",
    "/kafscale/topics/orders",
    "/kafscale/topics/orders/",
    "/kafscale/topics/orders/config/",
    "/kafscale/topics/orders/config/extra",
    "/kafscale/topics//config",
    "/kafscale/topics/orders/partitions",
    "/kafscale/topics/orders/partitions/",
    "/kafscale/topics/orders/partitions/0/",
    "/kafscale/topics/orders/partitions/0/other",
    "/kafscale/topics/orders/partitions/0/next_offset/x",
    "/kafscale/topics/orders//partitions/0",
    // non-canonical partitions
    "/kafscale/topics/orders/partitions/01",
    "/kafscale/topics/orders/partitions/-1",
    "/kafscale/topics/orders/partitions/+1",
    "/kafscale/topics/orders/partitions/1.0",
    "/kafscale/topics/orders/partitions/1e3",
    "/kafscale/topics/orders/partitions/ 1",
    "/kafscale/topics/orders/partitions/2147483648",
    "/kafscale/topics/orders/partitions/99999999999",
    "/kafscale/topics/orders/partitions/01/next_offset",
    // group metadata needs a group ID without "/"
    "/kafscale/consumers/team/g1/metadata",
    "/kafscale/consumers/g1",
    "/kafscale/consumers/g1/metadata/",
    "/kafscale/consumers//metadata",
    // offsets need exactly <g>/offsets/<t>/<int32>
    "/kafscale/consumers/g1/offsets/orders",
    "/kafscale/consumers/g1/offsets/orders/",
    "/kafscale/consumers/g1/offsets/team/orders/0",
    "/kafscale/consumers/team/g1/offsets/orders/0",
    "/kafscale/consumers/g1/offsets/orders/01",
    "/kafscale/consumers/g1/offsets/orders/-1",
    "/kafscale/consumers/g1/commits/orders/0",
    // leases
    "/kafscale/partition-leases/orders",
    "/kafscale/partition-leases/orders/",
    "/kafscale/partition-leases/orders/x",
    "/kafscale/partition-leases//0",
    "/kafscale/partition-leases/team//orders/0",
    "/kafscale/group-leases",
    "/kafscale/group-leases/",
    "/kafscale/group-leases/g1/",
    // never-written kinds keep their exact shapes too
    "/kafscale/brokers",
    "/kafscale/brokers/0/x",
    "/kafscale/assignments/orders",
    "/kafscale/assignments/team/orders/0",
    "/kafscale/assignments/orders/00",
  ])("%j", (key) => {
    expect(parseKey(key)).toEqual({ kind: "unknown" });
  });
});

describe("parsePartitionSegment", () => {
  it.each<[string, number | undefined]>([
    ["0", 0],
    ["7", 7],
    ["2147483647", 2147483647],
    ["", undefined],
    ["01", undefined],
    ["00", undefined],
    ["-1", undefined],
    ["-0", undefined],
    ["1.0", undefined],
    ["0x1", undefined],
    ["2147483648", undefined],
    ["12345678901", undefined],
  ])("%j → %s", (segment, expected) => {
    expect(parsePartitionSegment(segment)).toBe(expected);
  });
});

describe("key builders", () => {
  it("match the prefix", () => {
    expect(KAFSCALE_PREFIX).toBe("/kafscale/");
  });

  it.each<[string, string, KafscaleKey]>([
    ["snapshot", keys.snapshot(), { kind: "snapshot" }],
    ["topicConfig", keys.topicConfig("orders"), { kind: "topic_config", topic: "orders" }],
    ["partitionState", keys.partitionState("orders", 2), { kind: "partition_state", topic: "orders", partition: 2 }],
    ["nextOffset", keys.nextOffset("orders", 2), { kind: "next_offset", topic: "orders", partition: 2 }],
    ["groupMetadata", keys.groupMetadata("g1"), { kind: "group_metadata", groupId: "g1" }],
    [
      "committedOffset",
      keys.committedOffset("g1", "orders", 1),
      { kind: "committed_offset", groupId: "g1", topic: "orders", partition: 1 },
    ],
    ["partitionLease", keys.partitionLease("orders", 0), { kind: "partition_lease", topic: "orders", partition: 0 }],
    ["groupLease", keys.groupLease("g1"), { kind: "group_lease", groupId: "g1" }],
    ["brokerRegistration", keys.brokerRegistration("3"), { kind: "broker_registration", brokerId: "3" }],
    [
      "partitionAssignment",
      keys.partitionAssignment("orders", 4),
      { kind: "partition_assignment", topic: "orders", partition: 4 },
    ],
  ])("%s round-trips through parseKey", (_name, key, expected) => {
    expect(parseKey(key)).toEqual(expected);
  });

  it("format keys exactly like Kafscale's Go builders", () => {
    expect(keys.snapshot()).toBe("/kafscale/metadata/snapshot");
    expect(keys.nextOffset("orders", 12)).toBe("/kafscale/topics/orders/partitions/12/next_offset");
    expect(keys.committedOffset("g1", "orders", 0)).toBe("/kafscale/consumers/g1/offsets/orders/0");
    expect(keys.partitionLease("orders", 5)).toBe("/kafscale/partition-leases/orders/5");
    expect(keys.groupLease("g1")).toBe("/kafscale/group-leases/g1");
  });

  it.each([-1, 1.5, 2147483648, Number.NaN])("refuse partition %s", (partition) => {
    expect(() => keys.partitionState("orders", partition)).toThrow(RangeError);
  });
});
