/**
 * The write path keeps the last good value of a key whose new value does not decode, remembers it in
 * undecodable_keys, and tells each answer which such keys it depends on. Against SQLite through the
 * store's own writer (pure store: etcd is exercised in test/e2e/decode-truth.test.ts).
 */
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { buildClusterKvs, snapshotFor } from "../../src/demo/cluster-spec.js";
import { encodeCommittedOffset, encodeSnapshot } from "../../src/kafscale/encode.js";
import { keys } from "../../src/kafscale/keys.js";
import type { KvChange } from "../../src/kafscale/records.js";
import { openDatabase } from "../../src/store/database.js";
import type { Store } from "../../src/store/index.js";
import { MIGRATIONS } from "../../src/store/migrations.js";
import { capUtf8 } from "../../src/store/reads.js";
import { realisticCluster } from "../support/fixtures.js";
import { useCleanups } from "../support/harness.js";

const { openStore, tempDbPath } = useCleanups();

const put = (key: string, value: string | Buffer, revision: number): KvChange => ({
  type: "put",
  key,
  value: Buffer.from(value),
  modRevision: revision,
  createRevision: 2,
  version: 1,
  lease: "0",
});
const del = (key: string, revision: number): KvChange => ({ ...put(key, "", revision), type: "delete" });

function loaded(): Store {
  const store = openStore();
  const session = store.writer.beginResync();
  session.addPage(buildClusterKvs(realisticCluster).map((kv) => put(kv.key, kv.value, 2)));
  session.commit(10);
  return store;
}

const snapshotDeps = { snapshot: true } as const;

describe("a value that does not decode", () => {
  it("keeps the rows of the last good value, until a good value or a delete replaces them", () => {
    const store = loaded();
    const result = store.writer.applyChanges([put(keys.snapshot(), "{not json", 11)], 11);
    expect(result).toMatchObject({ decodeErrors: 1, problems: [{ key: keys.snapshot(), revision: 11, severity: "error" }] });
    expect(store.reads.clusterOverview()).toMatchObject({ topic_count: 3, partition_count: 6 });
    expect(store.undecodable.affecting(snapshotDeps, 5)).toEqual({
      keys: [{ key: keys.snapshot(), revision: 11, reason: expect.stringMatching(/^snapshot is not valid JSON/), lastGoodRevision: 2 }],
      total: 1,
    });

    // Another bad value: still held at the same good one.
    store.writer.applyChanges([put(keys.snapshot(), "[]", 12)], 12);
    expect(store.undecodable.affecting(snapshotDeps, 5).keys[0]).toMatchObject({ revision: 12, lastGoodRevision: 2 });
    expect(store.undecodable.lastGoodValues().map((v) => [v.key, v.revision])).toEqual([[keys.snapshot(), 2]]);

    // A good value replaces the held rows and ends the hold.
    const smaller = { ...realisticCluster, topics: realisticCluster.topics.slice(0, 1) };
    store.writer.applyChanges([put(keys.snapshot(), encodeSnapshot(snapshotFor(smaller)), 13)], 13);
    expect(store.reads.clusterOverview()).toMatchObject({ topic_count: 1, partition_count: 3 });
    expect(store.undecodable.affecting(snapshotDeps, 5)).toEqual({ keys: [], total: 0 });

    // Bad again, then deleted: the key is gone, and so are its rows and its hold.
    store.writer.applyChanges([put(keys.snapshot(), "{", 14)], 14);
    expect(store.undecodable.affecting(snapshotDeps, 5).keys[0]).toMatchObject({ lastGoodRevision: 13 });
    store.writer.applyChanges([del(keys.snapshot(), 15)], 15);
    expect(store.reads.clusterOverview()).toMatchObject({ snapshot_present: false, topic_count: 0 });
    expect(store.undecodable.all(5)).toEqual({ keys: [], total: 0 });
  });

  it("that never decoded is held with no last good value", () => {
    const store = loaded();
    store.writer.applyChanges([put(keys.committedOffset("billing", "orders", 9), "nope", 11)], 11);
    expect(store.undecodable.all(5).keys).toEqual([
      { key: keys.committedOffset("billing", "orders", 9), revision: 11, reason: expect.any(String), lastGoodRevision: null },
    ]);
    expect(store.undecodable.lastGoodValues()).toEqual([]);
  });

  it("is held by a resync too", () => {
    const store = loaded();
    const resync = store.writer.beginResync();
    resync.addPage(
      buildClusterKvs(realisticCluster).map((kv) => (kv.key === keys.groupMetadata("billing") ? put(kv.key, "x", 20) : put(kv.key, kv.value, 2))),
    );
    expect(resync.commit(20)).toMatchObject({ puts: 1, decodeErrors: 1 });
    expect(store.reads.describeGroup("billing")).toMatchObject({ state: "stable", has_metadata: true });
    expect(store.undecodable.affecting({ groupMetadata: "billing" }, 5).keys[0]).toMatchObject({ revision: 20, lastGoodRevision: 2 });
  });
});

describe("which undecodable keys an answer depends on", () => {
  it("follows each dependency: snapshot, configs, group metadata, a group's offsets and their end offsets", () => {
    const store = loaded();
    const bad = [
      keys.snapshot(),
      keys.topicConfig("orders"),
      keys.topicConfig("events"),
      keys.groupMetadata("billing"),
      keys.groupMetadata("rebalancing"),
      keys.committedOffset("billing", "orders", 0),
      keys.committedOffset("nightly-report", "events", 0),
      keys.nextOffset("orders", 1),
      keys.nextOffset("events", 1),
      keys.partitionLease("orders", 0),
    ];
    store.writer.applyChanges(bad.map((key, i) => put(key, "\u00ff garbage", 11 + i)), 30);
    const of = (deps: Parameters<Store["undecodable"]["affecting"]>[0]): string[] =>
      store.undecodable.affecting(deps, 100).keys.map((k) => k.key);

    expect(of({ snapshot: true })).toEqual([keys.snapshot()]);
    expect(of({ topicConfigs: ["orders", "audit"] })).toEqual([keys.topicConfig("orders")]);
    expect(of({ topicConfigs: "all" })).toEqual([keys.topicConfig("events"), keys.topicConfig("orders")]);
    expect(of({ groupMetadata: "billing" })).toEqual([keys.groupMetadata("billing")]);
    expect(of({ groupMetadata: { all: true } })).toEqual([keys.groupMetadata("billing"), keys.groupMetadata("rebalancing")]);
    // billing commits to and is assigned orders only: its offsets and the end offsets of orders.
    expect(of({ groupOffsets: { groupId: "billing", topics: null } })).toEqual([
      keys.committedOffset("billing", "orders", 0),
      keys.nextOffset("orders", 1),
    ]);
    expect(of({ groupOffsets: { groupId: "billing", topics: ["events"] } })).toEqual([keys.nextOffset("events", 1)]);
    // rebalancing has no commits, only assignments on events.
    expect(of({ groupOffsets: { groupId: "rebalancing", topics: null } })).toEqual([keys.nextOffset("events", 1)]);
    expect(of({})).toEqual([]);
    const limited = store.undecodable.affecting({ snapshot: true, topicConfigs: "all", groupMetadata: { all: true } }, 2);
    expect(limited.keys).toHaveLength(2);
    expect(limited.total).toBe(5);
    // A group ID that is a prefix of another does not see the other's keys.
    store.writer.applyChanges([put(keys.committedOffset("billing2", "orders", 0), "x", 31)], 31);
    expect(of({ groupOffsets: { groupId: "billing", topics: ["orders"] } })).toEqual([
      keys.committedOffset("billing", "orders", 0),
      keys.nextOffset("orders", 1),
    ]);
  });
});

describe("negative committed offsets", () => {
  it("are no usable commit in the tool's read and in the views, and are recorded as decode warnings", () => {
    const store = loaded();
    const commit = (offset: number): Buffer => encodeCommittedOffset({ offset, metadata: "", committedAt: "2026-01-01T00:00:00Z" });
    const result = store.writer.applyChanges(
      [put(keys.committedOffset("billing", "orders", 2), commit(-1), 11), put(keys.committedOffset("billing", "orders", 1), commit(-7), 12)],
      12,
    );
    expect(result).toMatchObject({ decodeErrors: 0, decodeWarnings: 2 });
    const rows = store.reads.fetchOffsets("billing", null, null, 10).items;
    expect(rows.map((r) => [r.partition, r.offset, r.committed, r.lag])).toEqual([
      [0, 90, true, 10],
      [1, -1, false, null],
      [2, -1, false, null],
    ]);
    expect(store.reports.report(5).groupsByLag.find((g) => g.group_id === "billing")).toMatchObject({ total_lag: 10, partitions: 1 });
  });
});

describe("offsets on partitions the snapshot does not list", () => {
  it("are merged into the page in order: above the last partition, in a gap, on a topic the snapshot lacks, across pages", () => {
    const store = loaded();
    const snapshot = snapshotFor(realisticCluster);
    const orders = snapshot.topics.find((t) => t.name === "orders")!;
    // orders lists partitions 0 and 2 only: 1 is a gap.
    orders.partitions = orders.partitions.filter((p) => p.partition !== 1);
    const commit = (offset: number): Buffer => encodeCommittedOffset({ offset, metadata: "", committedAt: "" });
    store.writer.applyChanges(
      [
        put(keys.snapshot(), encodeSnapshot(snapshot), 11),
        put(keys.committedOffset("billing", "orders", 5), commit(1), 12),
        put(keys.committedOffset("billing", "gone", 0), commit(2), 13),
        put(keys.committedOffset("billing", "gone", 3), commit(3), 14),
      ],
      14,
    );
    const all = store.reads.fetchOffsets("billing", null, null, 100).items;
    expect(all.map((r) => [r.topic, r.partition, r.in_snapshot, r.lag])).toEqual([
      ["gone", 0, false, null],
      ["gone", 3, false, null],
      ["orders", 0, true, 10],
      ["orders", 1, false, null],
      ["orders", 2, true, 50],
      ["orders", 5, false, null],
    ]);
    const pages: string[][] = [];
    let after: [string, number] | null = null;
    do {
      const page: ReturnType<Store["reads"]["fetchOffsets"]> = store.reads.fetchOffsets("billing", null, after, 4);
      pages.push(page.items.map((r) => `${r.topic}/${r.partition}`));
      after = page.next;
    } while (after !== null);
    expect(pages).toEqual([["gone/0", "gone/3", "orders/0", "orders/1"], ["orders/2", "orders/5"]]);
  });
});

describe("migration 5", () => {
  it("backfills undecodable keys and negative-offset warnings of a database written before it", () => {
    const path = tempDbPath();
    const older = openDatabase(path, MIGRATIONS.filter((m) => m.version < 5));
    older.exec(`INSERT INTO kv (key, value, kind, mod_revision, create_revision, version, lease, decode_error) VALUES
        ('/kafscale/metadata/snapshot', x'7b', 'snapshot', 7, 1, 3, '0', 'snapshot is not valid JSON: x'),
        ('/kafscale/consumers/g/offsets/t/0', x'00', 'committed_offset', 8, 8, 1, '0', NULL);
      INSERT INTO committed_offsets (group_id, topic, partition, committed_offset, metadata, committed_at, mod_revision)
        VALUES ('g', 't', 0, -1, '', '', 8);
      INSERT INTO decode_errors (key, revision, reason, recorded_at) VALUES ('/kafscale/metadata/snapshot', 7, 'x', 1);`);
    older.close();
    const store = openStore(path);
    expect(store.undecodable.all(5).keys).toEqual([
      { key: "/kafscale/metadata/snapshot", revision: 7, reason: "snapshot is not valid JSON: x", lastGoodRevision: null },
    ]);
    const raw = new Database(path, { readonly: true });
    expect(raw.prepare("SELECT decode_warning FROM kv WHERE kind = 'committed_offset'").get()).toEqual({
      decode_warning: "committed offset -1 is negative: no usable commit",
    });
    expect(raw.prepare("SELECT severity FROM decode_errors").all()).toEqual([{ severity: "error" }]);
    expect(raw.prepare("SELECT lag, committed FROM v_partition_lag").get()).toEqual({ lag: null, committed: 0 });
    raw.close();
  });
});

describe("capUtf8", () => {
  it.each([
    ["short", 10, "short", false],
    ["x".repeat(12), 10, "x".repeat(10), true],
    ["ééééé", 5, "éé", true], // 2 bytes each: never half a character
    ["a😀b", 4, "a", true], // the 4-byte emoji does not fit after "a"
    ["a😀b", 5, "a😀", true],
    ["😀", 4, "😀", false],
  ])("%j to %d bytes", (text, max, expected, cut) => {
    expect(capUtf8(text, max)).toEqual({ text: expected, cut });
  });
});
