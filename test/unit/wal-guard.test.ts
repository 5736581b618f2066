/**
 * The WAL guard (src/store/wal-guard.ts) on real SQLite files beside a real checkpoint helper thread:
 * it reads the WAL index the way SQLite does, and keeps the WAL under its limit when the writer's own
 * automatic checkpoint does not run. Here that checkpoint is turned off outright, the worst case of
 * what a helper pass does to it now and then (SQLite skips it while the helper holds the lock).
 */
import { closeSync, statSync } from "node:fs";
import { describe, expect, it, vi } from "vitest";
import { startCheckpointHelper } from "../../src/store/checkpoint-worker.js";
import { openDatabase, type Db } from "../../src/store/database.js";
import { createWalGuard, openWalIndex, readWalIndexHeader as readHeader, type WalIndexHeader } from "../../src/store/wal-guard.js";
import { UNTIL } from "../support/conditions.js";
import { useCleanups } from "../support/harness.js";
import { openSqliteSession } from "../support/sqlite-cli.js";

const { defer, tempDbPath } = useCleanups();

const LIMIT_BYTES = 256 * 1024;

/** The header of the -shm file at `path`, read through a descriptor of its own. */
function readWalIndexHeader(path: string): WalIndexHeader | null {
  const fd = openWalIndex(path);
  if (fd === null) return null;
  try {
    return readHeader(fd);
  } finally {
    closeSync(fd);
  }
}

/** A writable snapshot file whose automatic checkpoint never runs, and its helper (one pass, at start). */
async function openWriter(): Promise<{ db: Db; path: string; walBytes: () => number; thresholdFrames: number; guard: ReturnType<typeof createWalGuard> }> {
  const path = tempDbPath();
  const db = openDatabase(path, undefined, { walSizeLimitBytes: LIMIT_BYTES });
  const thresholdFrames = db.pragma("wal_autocheckpoint", { simple: true }) as number;
  db.pragma("wal_autocheckpoint = 0");
  db.exec("CREATE TABLE fat (id INTEGER PRIMARY KEY, body TEXT)");
  // An hour between passes: after its first pass (awaited) the helper only takes part through exclusive().
  const helper = startCheckpointHelper(path, 3_600_000);
  if (helper === null) throw new Error("no worker thread");
  const guard = createWalGuard(db, path, thresholdFrames, helper);
  defer(() => {
    guard.close();
    helper.stop();
    db.close();
  });
  await vi.waitFor(() => expect(helper.stats().passes).toBe(1), UNTIL);
  const walBytes = (): number => statSync(`${path}-wal`).size;
  return { db, path, walBytes, thresholdFrames, guard };
}

/** One write transaction of about `pages` pages of new rows. */
function writePages(db: Db, pages: number, seed: number): void {
  const insert = db.prepare("INSERT OR REPLACE INTO fat (id, body) VALUES (?, ?)");
  db.transaction(() => {
    for (let i = 0; i < pages; i++) insert.run(seed * 1000 + i, `${seed}`.padEnd(3900, "x"));
  })();
}

describe("the WAL index header", () => {
  it("says what SQLite's own checkpoint reports: frames in the log, frames copied back", async () => {
    const { db, path } = await openWriter();
    for (let seed = 0; seed < 5; seed++) writePages(db, 4, seed);
    const before = readWalIndexHeader(`${path}-shm`);
    const row = (db.pragma("wal_checkpoint(PASSIVE)") as { log: number; checkpointed: number }[])[0];
    expect(row?.log).toBeGreaterThan(20);
    expect(before).toEqual({ logFrames: row?.log, backfilledFrames: 0 });
    expect(readWalIndexHeader(`${path}-shm`)).toEqual({ logFrames: row?.log, backfilledFrames: row?.checkpointed });
    // The next write restarts the log: few frames again, none copied yet.
    writePages(db, 1, 99);
    expect(readWalIndexHeader(`${path}-shm`)?.logFrames).toBeLessThan(5);
  });

  it("is null where there is no -shm file", () => {
    expect(readWalIndexHeader(`${tempDbPath()}-shm`)).toBeNull();
  });
});

describe("the WAL guard", () => {
  it("keeps the WAL under its limit when the writer's automatic checkpoint does not run", async () => {
    const { db, walBytes, guard, thresholdFrames } = await openWriter();
    for (let seed = 0; seed < 200; seed++) {
      writePages(db, 8, seed);
      guard.afterWrite();
      expect(walBytes()).toBeLessThanOrEqual(LIMIT_BYTES);
    }
    // About one checkpoint per threshold of frames written (8 pages and index pages per write).
    expect(guard.stats().checkpoints).toBeGreaterThanOrEqual(Math.floor((200 * 8) / thresholdFrames / 2));
  });

  it("while a reader pins the log, tries again only after another quarter of the threshold", async () => {
    const { db, path, guard, thresholdFrames } = await openWriter();
    writePages(db, 4, 0);
    const reader = openSqliteSession(path);
    defer(() => reader.close());
    await reader.query("BEGIN; SELECT count(*) FROM fat;");
    let frames = 0;
    for (let seed = 1; seed <= 100; seed++) {
      writePages(db, 8, seed);
      guard.afterWrite();
      frames = readWalIndexHeader(`${path}-shm`)?.logFrames ?? 0;
    }
    expect(frames).toBeGreaterThan(4 * thresholdFrames);
    const retries = guard.stats().checkpoints;
    expect(retries).toBeGreaterThan(0);
    expect(retries).toBeLessThanOrEqual(Math.ceil((frames - thresholdFrames) / (thresholdFrames / 4)) + 1);
    // Once the reader lets go, the next checkpoint completes and the log restarts.
    await reader.close();
    writePages(db, 8, 101);
    for (let seed = 102; seed < 110; seed++) {
      writePages(db, 8, seed);
      guard.afterWrite();
    }
    expect(readWalIndexHeader(`${path}-shm`)?.logFrames).toBeLessThan(2 * thresholdFrames);
  });
});
