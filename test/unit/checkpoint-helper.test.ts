/**
 * The steady-state checkpoint helper (src/store/checkpoint-worker.ts): a worker thread per writable
 * database file copies the WAL back into the file, so the writer's own checkpoint inside COMMIT finds
 * little left. Real files, real worker threads; the waits are on the helper's own counters.
 */
import { existsSync } from "node:fs";
import { describe, expect, it, vi } from "vitest";
import { encodeCommittedOffset } from "../../src/kafscale/encode.js";
import { keys } from "../../src/kafscale/keys.js";
import type { KvChange } from "../../src/kafscale/records.js";
import { startCheckpointHelper } from "../../src/store/checkpoint-worker.js";
import { openDatabase } from "../../src/store/database.js";
import { createStore } from "../../src/store/index.js";
import { UNTIL } from "../support/conditions.js";
import { useCleanups } from "../support/harness.js";

const { openStore, tempDbPath, defer, closeAfterTest } = useCleanups();

function createStoreWithHelper(path: string): ReturnType<typeof createStore> {
  const store = createStore(path, { checkpointHelper: true });
  closeAfterTest(store);
  return store;
}

/** `count` committed offsets of one group, each a key of its own, at `revision`. */
function commits(count: number, revision: number): KvChange[] {
  return Array.from({ length: count }, (_, i) => ({
    type: "put" as const,
    key: keys.committedOffset(`group-${i % 50}`, `topic-${i % 7}`, i),
    value: encodeCommittedOffset({ offset: revision * 10 + i, metadata: "x".repeat(200), committedAt: "2026-11-26T10:00:00Z" }),
    modRevision: revision,
    createRevision: 2,
    version: 1,
    lease: "0",
  }));
}

describe("checkpoint helper", () => {
  it("copies the WAL back while the writer keeps writing, and lets go of the file on close", async () => {
    const path = tempDbPath();
    const limit = 256 * 1024;
    const store = createStore(path, { walSizeLimitBytes: limit, checkpointHelper: true });
    let closed = false;
    defer(() => {
      if (!closed) store.close();
    });
    expect(store.checkpointHelperStats()).toMatchObject({ failures: 0 });

    for (let revision = 2; revision < 60; revision++) store.writer.applyChanges(commits(400, revision), revision);
    // The helper catches up with everything written: every frame of the log is in the file.
    await vi.waitFor(() => {
      const stats = store.checkpointHelperStats();
      expect(stats?.checkpointedFrames).toBeGreaterThan(0);
      expect(stats?.checkpointedFrames).toBe(stats?.logFrames);
    }, UNTIL);
    expect(store.checkpointHelperStats()?.failures).toBe(0);
    expect(store.reads.groupOffsets("group-3", null).length).toBeGreaterThan(0);

    store.close();
    closed = true;
    // close() waited for the helper: the writer was the last connection, folded the WAL back and removed it.
    expect(existsSync(`${path}-wal`)).toBe(false);
    const reopened = openStore(path);
    expect(reopened.reads.groupOffsets("group-3", null).map((o) => o.offset)).toContain(59 * 10 + 3);
  });

  it("runs by default, and not when turned off, nor for a private \":memory:\" store", () => {
    expect(openStore(tempDbPath()).checkpointHelperStats()).toMatchObject({ failures: 0 });
    const off = createStore(tempDbPath(), { checkpointHelper: false });
    closeAfterTest(off);
    expect(off.checkpointHelperStats()).toBeNull();
    expect(createStoreWithHelper(":memory:").checkpointHelperStats()).toBeNull();
  });

  it("never checkpoints beside a checkpoint the main thread runs through exclusive()", async () => {
    // A helper passing every millisecond, against main-thread checkpoints after every write: SQLite
    // reports a checkpoint busy when it meets another one, so none of these may be.
    const path = tempDbPath();
    const db = openDatabase(path);
    db.exec("CREATE TABLE fat (id INTEGER PRIMARY KEY, body TEXT)");
    const helper = startCheckpointHelper(path, 1);
    if (helper === null) throw new Error("no worker thread");
    defer(() => {
      helper.stop();
      db.close();
    });
    const insert = db.prepare("INSERT OR REPLACE INTO fat (id, body) VALUES (?, ?)");
    const busy: number[] = [];
    for (let i = 0; i < 400; i++) {
      db.transaction(() => {
        for (let row = 0; row < 8; row++) insert.run(row, `${i}`.padEnd(3900, "x"));
      })();
      const row = helper.exclusive(() => (db.pragma("wal_checkpoint(PASSIVE)") as { busy: number }[])[0]);
      if (row?.busy !== 0) busy.push(i);
      // Let the helper pass in between, so the two keep crossing.
      if (i % 20 === 0) await vi.waitFor(() => expect(helper.stats().passes).toBeGreaterThan(i / 20), UNTIL);
    }
    expect(busy).toEqual([]);
    expect(helper.stats().failures).toBe(0);
  });

  it("stops at once when the store closes before it ever ran, and closing twice is harmless", () => {
    const path = tempDbPath();
    const store = createStoreWithHelper(path);
    store.close();
    store.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
  });
});
