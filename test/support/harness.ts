/**
 * Per-test resources that clean up after themselves: temp dirs, stores, sync loops, etcd clients.
 * Call `useCleanups()` once per file; everything registered runs (in reverse) after each test.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import type { Etcd3, Namespace } from "etcd3";
import { silentLogger } from "../../src/log.js";
import { createStore, type Store } from "../../src/store/index.js";
import { createEtcdSync, type EtcdSync } from "../../src/sync/etcd/etcd-sync.js";

export interface Harness {
  defer(cleanup: () => Promise<void> | void): void;
  tempDir(prefix?: string): string;
  /** A file path for a snapshot database in a fresh temp dir. */
  tempDbPath(): string;
  openStore(path?: string): Store;
  /**
   * Closes the store after the test, once its background checkpoint (started after a first load) is
   * done: that worker opens the file on its own, and removing the temp dir under it fails (ENOTEMPTY).
   */
  closeAfterTest(store: Store): void;
  /** Starts a sync loop with short probe and backoff intervals (stopped after the test). */
  startSync(store: Store, client: Etcd3, keyspace: Namespace, pageSize?: number): EtcdSync;
  /** Runs an initial sync into the database at `path` and closes it again (a service that was stopped). */
  syncAndStop(path: string, client: Etcd3, keyspace: Namespace): Promise<void>;
}

export function useCleanups(): Harness {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const defer = (cleanup: () => Promise<void> | void): void => {
    cleanups.push(cleanup);
  };
  const tempDir = (prefix = "kafscale-mcp-test-"): string => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    defer(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  };
  const closeAfterTest = (store: Store): void =>
    defer(async () => {
      await store.idle();
      store.close();
    });
  const openStore = (path = ":memory:"): Store => {
    const store = createStore(path);
    closeAfterTest(store);
    return store;
  };
  const startSync = (store: Store, client: Etcd3, keyspace: Namespace, pageSize = 5): EtcdSync => {
    const sync = createEtcdSync({
      store,
      client,
      keyspace,
      logger: silentLogger,
      pageSize,
      probeIntervalMs: 100,
      backoffBaseMs: 50,
      backoffCapMs: 500,
    });
    sync.start();
    defer(() => sync.stop());
    return sync;
  };
  return {
    defer,
    tempDir,
    tempDbPath: () => join(tempDir(), "snapshot.db"),
    openStore,
    closeAfterTest,
    startSync,
    syncAndStop: async (path, client, keyspace) => {
      const store = createStore(path);
      const sync = createEtcdSync({ store, client, keyspace, logger: silentLogger });
      sync.start();
      await sync.ready();
      await sync.stop();
      store.close();
    },
  };
}
