/**
 * The write path's two full-load modes against a real SQLite file: the first load into an empty
 * store writes page by page; every later resync stages, diffs and swaps in one transaction.
 */
import { describe, expect, it } from "vitest";
import { Database } from "../../src/store/sqlite-driver.js";
import { buildClusterKvs, snapshotFor, type ClusterSpec } from "../../src/demo/cluster-spec.js";
import { openDatabase } from "../../src/store/database.js";
import { MIGRATIONS } from "../../src/store/migrations.js";
import { createStore, type Store } from "../../src/store/index.js";
import { encodeCommittedOffset, encodeNextOffset, encodeSnapshot } from "../../src/kafscale/encode.js";
import { keys } from "../../src/kafscale/keys.js";
import type { KvChange } from "../../src/kafscale/records.js";
import { realisticCluster } from "../support/fixtures.js";
import { useCleanups } from "../support/harness.js";

const { openStore, tempDbPath, closeAfterTest } = useCleanups();

/** The spec's keys in key order, as an etcd range read returns them. */
function changesOf(spec: ClusterSpec, revision = 2): KvChange[] {
  const kvs = buildClusterKvs(spec).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return kvs.map((kv) => ({
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
  it("writes the first load page by page, and answers nothing until it is committed", async () => {
    const store = openStore(tempDbPath());
    const changes = changesOf(realisticCluster);
    const session = store.writer.beginResync();
    const [first, ...rest] = pages(changes, 7);
    await session.addPage(first ?? [], 10);
    // Written straight into the tables (no staging copy), but not yet a finished sync.
    expect(store.mirror.count()).toBe(7);
    expect(store.syncState.get().initialSyncDone).toBe(false);
    for (const page of rest) await session.addPage(page, 10);
    const result = await session.commit(10);
    expect(result).toMatchObject({ puts: changes.length, deletes: 0, unchanged: 0, decodeErrors: 0 });
    expect(store.syncState.get()).toMatchObject({ initialSyncDone: true, revision: 10, resyncCount: 0 });
    expect(store.mirror.count()).toBe(changes.length);

    const reference = openStore();
    const once = reference.writer.beginResync();
    await once.addPage(changes, 10);
    await once.commit(10);
    expect(dump(store)).toEqual(dump(reference));
  });

  it("converges after a first load that failed half-way, deleting what etcd no longer has", async () => {
    const store = openStore(tempDbPath());
    const broken = store.writer.beginResync();
    await broken.addPage(changesOf(realisticCluster).slice(0, 20), 10);
    broken.abort();
    expect(store.syncState.get().initialSyncDone).toBe(false);

    // The retry finds rows, so it stages and diffs; keys of the old attempt that etcd no longer has go.
    const retry = store.writer.beginResync();
    for (const page of pages(changesOf(smaller, 3), 5)) await retry.addPage(page, 12);
    const result = await retry.commit(12);
    expect(result.deletes).toBeGreaterThan(0);
    expect(store.syncState.get()).toMatchObject({ initialSyncDone: true, revision: 12 });

    const reference = openStore();
    const once = reference.writer.beginResync();
    await once.addPage(changesOf(smaller, 3), 12);
    await once.commit(12);
    expect(dump(store)).toEqual(dump(reference));
    expect(store.reads.listTopics(null, 10).items.map((t) => t.name)).toEqual(["events", "orders"]);
  });

  it("keeps serving the old state during a later resync until its commit", async () => {
    const store = openStore(tempDbPath());
    const first = store.writer.beginResync();
    await first.addPage(changesOf(realisticCluster), 10);
    await first.commit(10);

    const resync = store.writer.beginResync();
    await resync.addPage(changesOf(smaller, 11), 11);
    expect(store.reads.listTopics(null, 10).items.map((t) => t.name)).toEqual(["audit", "events", "orders"]);
    const result = await resync.commit(11);
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

  it("follow the snapshot key: load, a new snapshot, a snapshot with duplicates, its delete", async () => {
    const store = openStore();
    const load = store.writer.beginResync();
    await load.addPage(changesOf(realisticCluster), 10);
    await load.commit(10);
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

  it("are backfilled when a database from before they were kept is opened", async () => {
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

describe("watch changes to existing keys", () => {
  const change = (key: string, value: Buffer, revision: number, type: "put" | "delete" = "put"): KvChange => ({
    type,
    key,
    value,
    modRevision: revision,
    createRevision: 2,
    version: revision,
    lease: "0",
  });
  const commit = (offset: number): Buffer =>
    encodeCommittedOffset({ offset, metadata: `m${offset}`, committedAt: "2026-11-26T10:00:00Z" });
  const tablesOf = (store: Store, names: string[]): Record<string, string[]> =>
    Object.fromEntries(Object.entries(dump(store)).filter(([name]) => names.includes(name)));

  it("leave the same rows as a fresh load of the final values (offsets updated in place, new, deleted, re-created, undecodable)", async () => {
    const store = openStore();
    const load = store.writer.beginResync();
    await load.addPage(changesOf(realisticCluster), 10);
    await load.commit(10);

    const committed = keys.committedOffset("billing", "orders", 1);
    const fresh = keys.committedOffset("billing", "orders", 7);
    const end = keys.nextOffset("orders", 0);
    const steps: KvChange[][] = [
      [change(committed, commit(201), 11), change(end, encodeNextOffset(900), 11)],
      [change(fresh, commit(5), 12), change(committed, commit(202), 12)],
      [change(fresh, Buffer.alloc(0), 13, "delete"), change(end, encodeNextOffset(901), 13)],
      [change(fresh, commit(6), 14)],
      // Undecodable: the last good rows stay until a good value replaces them in place.
      [change(committed, Buffer.from("{not json"), 15)],
      [change(committed, commit(203), 16), change(end, encodeNextOffset(950), 16)],
    ];
    const final = new Map(changesOf(realisticCluster).map((c) => [c.key, c]));
    let revision = 10;
    for (const batch of steps) {
      revision = batch[0]!.modRevision;
      store.writer.applyChanges(batch, revision);
      for (const c of batch) {
        if (c.type === "delete") final.delete(c.key);
        else final.set(c.key, c);
      }
    }
    expect(store.reads.groupOffsets("billing", ["orders"]).find((o) => o.partition === 1)?.offset).toBe(203);

    const reference = openStore();
    const referenceLoad = reference.writer.beginResync();
    await referenceLoad.addPage([...final.values()].sort((a, b) => (a.key < b.key ? -1 : 1)), revision);
    await referenceLoad.commit(revision);
    const names = ["kv", "committed_offsets", "end_offsets"];
    expect(tablesOf(store, names)).toEqual(tablesOf(reference, names));
  });

  it("re-classify a key whose stored kind this build reads differently, index included", () => {
    const path = tempDbPath();
    const key = keys.committedOffset("billing", "orders", 0);
    let store = openStore(path);
    store.writer.applyChanges([change(key, commit(1), 11)], 11);
    store.close();
    // As an older build that did not know the kind would have stored it.
    const raw = new Database(path);
    raw.prepare("UPDATE kv SET kind = 'unknown' WHERE key = ?").run(key);
    raw.close();

    store = openStore(path);
    store.writer.applyChanges([change(key, commit(2), 12)], 12);
    store.close();
    const check = new Database(path, { readonly: true });
    expect(check.prepare("SELECT kind FROM kv INDEXED BY kv_kind WHERE kind = 'committed_offset' AND key = ?").get(key)).toEqual({
      kind: "committed_offset",
    });
    expect(check.prepare("SELECT count(*) AS n FROM kv INDEXED BY kv_kind WHERE kind = 'unknown'").get()).toEqual({ n: 0 });
    expect(check.pragma("integrity_check", { simple: true })).toBe("ok");
    check.close();
  });
});

describe("a first load into an empty store", () => {
  const AT = Date.parse("2026-11-27T06:00:00Z");
  const SERIES = ["lag_commit_series", "lag_end_offset_series"];
  const READ_MODEL = ["kv", "committed_offsets", "end_offsets", "topics", "partitions"];
  const storeAt = (path: string): Store => {
    const store = createStore(path, { now: () => AT });
    closeAfterTest(store);
    return store;
  };
  /** The read model's rows (dump) and the lag series (not part of it), read through a connection of their own. */
  const tablesOf = (store: Store, path: string): Record<string, string[]> => {
    const rows = Object.fromEntries(Object.entries(dump(store)).filter(([name]) => READ_MODEL.includes(name)));
    const check = new Database(path, { readonly: true });
    for (const table of SERIES) {
      rows[table] = (check.prepare(`SELECT *, hex(points) AS points FROM ${table} ORDER BY 1, 2, 3`).all() as object[]).map(
        (r) => JSON.stringify(r),
      );
    }
    check.close();
    return rows;
  };
  /** The tables after a first load of the fixture into the file at `path`, in pages as a range read delivers them. */
  const loadedTables = async (path = tempDbPath()): Promise<Record<string, string[]>> => {
    const store = storeAt(path);
    const load = store.writer.beginResync();
    for (const page of pages(changesOf(realisticCluster), 9)) await load.addPage(page, 10);
    await load.commit(10);
    return tablesOf(store, path);
  };

  it("writes the rows and lag series the watch path writes, without looking for old ones", async () => {
    const loaded = await loadedTables();
    // The watch path looks for each key's rows and series before it writes them.
    const watchedPath = tempDbPath();
    const watched = storeAt(watchedPath);
    watched.writer.applyChanges(changesOf(realisticCluster), 10);
    expect(loaded.lag_commit_series?.length).toBeGreaterThan(0);
    expect(loaded.lag_end_offset_series?.length).toBeGreaterThan(0);
    expect(loaded).toEqual(tablesOf(watched, watchedPath));
  });

  it("overwrites offsets and series left without their keys (a hand-edited file) instead of failing", async () => {
    const path = tempDbPath();
    const edited = openDatabase(path);
    edited.exec(`INSERT INTO committed_offsets VALUES ('billing', 'orders', 1, 999999, 'stale', '2020-01-01T00:00:00Z', 1);
      INSERT INTO end_offsets VALUES ('orders', 0, 999999, 1);
      INSERT INTO lag_commit_series VALUES ('billing', 'orders', 1, x'00');
      INSERT INTO lag_end_offset_series VALUES ('orders', 0, x'00');`);
    edited.close();
    expect(await loadedTables(path)).toEqual(await loadedTables());
  });
});
