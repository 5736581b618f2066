/**
 * The write path's two full-load modes against a real SQLite file: the first load into an empty
 * store writes page by page; every later resync stages, diffs and swaps in one transaction.
 */
import { describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import { buildClusterKvs, snapshotFor, type ClusterSpec } from "../../src/demo/cluster-spec.js";
import { openDatabase } from "../../src/store/database.js";
import { MIGRATIONS } from "../../src/store/migrations.js";
import type { Store } from "../../src/store/index.js";
import { encodeSnapshot } from "../../src/kafscale/encode.js";
import { keys } from "../../src/kafscale/keys.js";
import type { KvChange } from "../../src/kafscale/records.js";
import { realisticCluster } from "../support/fixtures.js";
import { useCleanups } from "../support/harness.js";

const { openStore, tempDbPath } = useCleanups();

function changesOf(spec: ClusterSpec, revision = 2): KvChange[] {
  return buildClusterKvs(spec).map((kv) => ({
    type: "put",
    key: kv.key,
    value: kv.value,
    modRevision: revision,
    createRevision: revision,
    version: 1,
    lease: "0",
  }));
}

/** Every read-model row as text, table by table, to compare two stores. */
function dump(store: Store): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const table of store.tables.names()) out[table] = [...store.tables.rows(table)].map((r) => r.cells.join("|"));
  return out;
}

function pages<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const smaller: ClusterSpec = {
  ...realisticCluster,
  topics: realisticCluster.topics.filter((t) => t.name !== "audit"),
  groups: realisticCluster.groups.filter((g) => g.id !== "rebalancing"),
};

describe("full loads", () => {
  it("writes the first load page by page, and answers nothing until it is committed", () => {
    const store = openStore(tempDbPath());
    const changes = changesOf(realisticCluster);
    const session = store.writer.beginResync();
    const [first, ...rest] = pages(changes, 7);
    session.addPage(first ?? []);
    // Written straight into the tables (no staging copy), but not yet a finished sync.
    expect(store.mirror.count()).toBe(7);
    expect(store.syncState.get().initialSyncDone).toBe(false);
    for (const page of rest) session.addPage(page);
    const result = session.commit(10);
    expect(result).toMatchObject({ puts: changes.length, deletes: 0, unchanged: 0, decodeErrors: 0 });
    expect(store.syncState.get()).toMatchObject({ initialSyncDone: true, revision: 10, resyncCount: 0 });
    expect(store.mirror.count()).toBe(changes.length);

    const reference = openStore();
    const once = reference.writer.beginResync();
    once.addPage(changes);
    once.commit(10);
    expect(dump(store)).toEqual(dump(reference));
  });

  it("converges after a first load that failed half-way, deleting what etcd no longer has", () => {
    const store = openStore(tempDbPath());
    const broken = store.writer.beginResync();
    broken.addPage(changesOf(realisticCluster).slice(0, 20));
    broken.abort();
    expect(store.syncState.get().initialSyncDone).toBe(false);

    // The retry finds rows, so it stages and diffs; keys of the old attempt that etcd no longer has go.
    const retry = store.writer.beginResync();
    for (const page of pages(changesOf(smaller, 3), 5)) retry.addPage(page);
    const result = retry.commit(12);
    expect(result.deletes).toBeGreaterThan(0);
    expect(store.syncState.get()).toMatchObject({ initialSyncDone: true, revision: 12 });

    const reference = openStore();
    const once = reference.writer.beginResync();
    once.addPage(changesOf(smaller, 3));
    once.commit(12);
    expect(dump(store)).toEqual(dump(reference));
    expect(store.reads.listTopics(null, 10).items.map((t) => t.name)).toEqual(["events", "orders"]);
  });

  it("keeps serving the old state during a later resync until its commit", () => {
    const store = openStore(tempDbPath());
    const first = store.writer.beginResync();
    first.addPage(changesOf(realisticCluster));
    first.commit(10);

    const resync = store.writer.beginResync();
    resync.addPage(changesOf(smaller, 11));
    expect(store.reads.listTopics(null, 10).items.map((t) => t.name)).toEqual(["audit", "events", "orders"]);
    const result = resync.commit(11);
    expect(result.deletes).toBeGreaterThan(0);
    expect(store.reads.listTopics(null, 10).items.map((t) => t.name)).toEqual(["events", "orders"]);
    expect(store.syncState.get()).toMatchObject({ revision: 11, resyncCount: 1 });
  });
});

describe("cluster totals", () => {
  const put = (key: string, value: Buffer, revision: number): KvChange => ({
    type: "put",
    key,
    value,
    modRevision: revision,
    createRevision: 2,
    version: 1,
    lease: "0",
  });

  it("follow the snapshot key: load, a new snapshot, a snapshot with duplicates, its delete", () => {
    const store = openStore();
    const load = store.writer.beginResync();
    load.addPage(changesOf(realisticCluster));
    load.commit(10);
    expect(store.reads.clusterOverview()).toMatchObject({ topic_count: 3, partition_count: 6 });

    store.writer.applyChanges([put(keys.snapshot(), encodeSnapshot(snapshotFor(smaller)), 11)], 11);
    expect(store.reads.clusterOverview()).toMatchObject({ topic_count: 2, partition_count: 5 });

    // A topic listed twice and a partition listed twice count once, as the tables hold them.
    const snapshot = snapshotFor(smaller);
    const [events] = snapshot.topics;
    const doubled = { ...snapshot, topics: [...snapshot.topics, events!] };
    doubled.topics[0] = { ...events!, partitions: [...events!.partitions, events!.partitions[0]!] };
    store.writer.applyChanges([put(keys.snapshot(), encodeSnapshot(doubled), 12)], 12);
    expect(store.reads.listTopics(null, 10).items).toHaveLength(2);
    expect(store.reads.clusterOverview()).toMatchObject({ topic_count: 2, partition_count: 5 });

    store.writer.applyChanges([{ ...put(keys.snapshot(), Buffer.alloc(0), 13), type: "delete" }], 13);
    expect(store.reads.clusterOverview()).toMatchObject({ snapshot_present: false, topic_count: 0, partition_count: 0 });
  });

  it("are backfilled when a database from before they were kept is opened", () => {
    const path = tempDbPath();
    const older = openDatabase(path, MIGRATIONS.filter((m) => m.version < 4));
    older.exec(`INSERT INTO cluster (id, controller_id, cluster_name, cluster_id, mod_revision) VALUES (1, 0, 'k', 'id', 5);
      INSERT INTO topics (name, topic_id, is_internal, error_code, partition_count) VALUES ('a', 'x', 0, 0, 2), ('b', 'y', 0, 0, 1);
      INSERT INTO partitions (topic, partition, leader, leader_epoch, replicas, isr, offline_replicas, error_code)
        VALUES ('a', 0, 0, 0, '[]', '[]', '[]', 0), ('a', 1, 0, 0, '[]', '[]', '[]', 0), ('b', 0, 0, 0, '[]', '[]', '[]', 0);`);
    older.close();
    const store = openStore(path);
    expect(store.reads.clusterOverview()).toMatchObject({ topic_count: 2, partition_count: 3 });
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma("user_version", { simple: true })).toBe(MIGRATIONS.at(-1)?.version);
    raw.close();
  });
});
