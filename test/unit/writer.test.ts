/**
 * The write path's two full-load modes against a real SQLite file: the first load into an empty
 * store writes page by page; every later resync stages, diffs and swaps in one transaction.
 */
import { describe, expect, it } from "vitest";
import { buildClusterKvs, type ClusterSpec } from "../../src/demo/cluster-spec.js";
import type { Store } from "../../src/store/index.js";
import { READ_MODEL_TABLES } from "../../src/store/table-dump.js";
import type { KvChange } from "../../src/sync/records.js";
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
  for (const table of READ_MODEL_TABLES) out[table] = [...store.tables.rows(table)].map((r) => r.cells.join("|"));
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
