/**
 * The live file under an outside reader, as in issue 19: a real `sqlite3` session holds a read
 * transaction on the live database while a real etcd write stream goes through the sync. The
 * starvation is reported (state, one log line per change, the /readyz reason past the budget) while
 * it lasts; once the session ends, the WAL shrinks back under its limit while the writes go on.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { createLogger } from "../../src/log.js";
import { createStore, walReadinessProblem, type Store } from "../../src/store/index.js";
import { createWalMonitor } from "../../src/sync/ops/wal-monitor.js";
import { realisticCluster, testEtcd, writeCluster } from "../support/fixtures.js";
import { useCleanups } from "../support/harness.js";
import { manualTimer } from "../support/manual-timer.js";
import { startOffsetStream, writeRevision } from "../support/ops-data.js";
import { openSqliteSession } from "../support/sqlite-cli.js";

const { defer, tempDir, startSync, closeAfterTest } = useCleanups();

const MiB = 2 ** 20;

describe("the live file's WAL under a reader", () => {
  it("reports checkpoint starvation while a sqlite3 session holds a transaction, and shrinks back once it ends", async () => {
    const { client, keyspace } = testEtcd();
    defer(() => client.close());
    await writeCluster(keyspace, realisticCluster);
    const path = join(tempDir(), "live.db");
    const store: Store = createStore(path, { walSizeLimitBytes: MiB });
    closeAfterTest(store);
    const sync = startSync(store, client, keyspace);
    await sync.ready();

    const clock = { now: 1_800_000_000_000 };
    const logs: { level: string; msg: string; wal_bytes: number }[] = [];
    const monitor = createWalMonitor({
      probe: store.probeWal as NonNullable<Store["probeWal"]>,
      limits: { sizeLimitBytes: MiB, starvedAfterMs: 30_000, budgetBytes: 4 * MiB },
      logger: createLogger("info", (line) => logs.push(JSON.parse(line))),
      now: () => clock.now,
      timer: manualTimer(),
    });
    // One check per 5 s of the injected clock.
    const check = () => {
      clock.now += 5000;
      return monitor.check();
    };

    const stream = startOffsetStream(keyspace);
    defer(() => stream.stop());
    const writesApplied = async (count: number): Promise<void> => {
      const target = store.syncState.get().revision + count;
      await vi.waitFor(() => expect(store.syncState.get().revision).toBeGreaterThanOrEqual(target), { timeout: 20_000 });
    };

    // Healthy: checkpoints complete, the WAL stays under its limit.
    await writesApplied(100);
    expect(check()).toMatchObject({ starved: false, overBudget: false });
    expect(monitor.status()?.walBytes).toBeLessThanOrEqual(MiB);

    const reader = openSqliteSession(path);
    defer(() => reader.close());
    expect(Number(await reader.query("BEGIN; SELECT count(*) FROM kv;"))).toBeGreaterThan(0);

    // Starved: no complete checkpoint for 30 s (injected clock) and the WAL above its limit...
    await vi.waitFor(() => expect(check().starved).toBe(true), { timeout: 20_000, interval: 20 });
    const starved = monitor.status();
    expect(starved?.walBytes).toBeGreaterThan(MiB);
    expect(clock.now - (starved?.lastCompleteCheckpointAt ?? 0)).toBeGreaterThanOrEqual(30_000);
    // ...and growing past the disk budget: /readyz gets a reason.
    await vi.waitFor(() => expect(check().overBudget).toBe(true), { timeout: 20_000, interval: 20 });
    expect(walReadinessProblem(monitor.status())).toMatch(
      /^live database WAL at \d+\.\d MiB, over its budget of 4\.0 MiB \(no complete checkpoint for \d+s: a reader is holding a transaction open/,
    );
    await writesApplied(20);
    check();
    expect(logs.map((l) => l.level)).toEqual(["warn", "error"]);
    expect(logs[0]?.msg).toMatch(/^live database checkpoint starved/);
    expect(logs[1]?.msg).toMatch(/^live database WAL over its disk budget/);

    // The session ends; the writes go on and the WAL is cut back to its limit.
    await reader.close();
    const putsAtRelease = stream.puts();
    await vi.waitFor(
      () => {
        const status = check();
        expect(status).toMatchObject({ starved: false, overBudget: false });
        expect(status.walBytes).toBeLessThanOrEqual(MiB);
      },
      { timeout: 20_000, interval: 20 },
    );
    await writesApplied(100);
    expect(stream.puts()).toBeGreaterThan(putsAtRelease);
    expect(check()).toMatchObject({ starved: false, overBudget: false });
    expect(monitor.status()?.walBytes).toBeLessThanOrEqual(MiB);
    expect(walReadinessProblem(monitor.status())).toBeNull();
    expect(logs.map((l) => l.level)).toEqual(["warn", "error", "info", "info"]);
    expect(logs.slice(2).map((l) => l.msg).sort()).toEqual([
      "live database WAL back under its disk budget",
      "live database checkpoint completed again; the WAL shrinks back to its limit with the next write",
    ]);
  });

  it("cuts a grown WAL back once the reader is gone even when no write follows (an idle cluster)", async () => {
    const path = join(tempDir(), "live.db");
    const store: Store = createStore(path, { walSizeLimitBytes: MiB });
    closeAfterTest(store);
    const probe = store.probeWal as NonNullable<Store["probeWal"]>;
    await writeRevision(store, 2, 100);
    const reader = openSqliteSession(path);
    defer(() => reader.close());
    await reader.query("BEGIN; SELECT count(*) FROM kv;");
    for (let revision = 3; revision <= 40; revision++) await writeRevision(store, revision, 100, "m".repeat(1000));
    const pinned = probe();
    expect(pinned.complete).toBe(false);
    expect(pinned.walBytes).toBeGreaterThan(4 * MiB);
    expect(probe().walBytes).toBe(pinned.walBytes);

    await reader.close();
    // No write since: the probe's complete checkpoint truncates the WAL itself.
    expect(probe()).toMatchObject({ complete: true, walBytes: 0 });
    expect(store.syncState.get().revision).toBe(40);
  });

  it("keeps the WAL under its limit by itself: checkpoints at half the limit, and cut back after a reader (journal_size_limit)", async () => {
    const path = join(tempDir(), "live.db");
    const store: Store = createStore(path, { walSizeLimitBytes: MiB });
    closeAfterTest(store);
    const walBytes = (): number => statSync(`${path}-wal`).size;
    const fat = "m".repeat(1000);
    // No monitor here: only SQLite's own automatic checkpoints run.
    for (let revision = 2; revision <= 30; revision++) {
      await writeRevision(store, revision, 100, fat);
      expect(walBytes()).toBeLessThanOrEqual(MiB);
    }
    const reader = openSqliteSession(path);
    defer(() => reader.close());
    await reader.query("BEGIN; SELECT count(*) FROM kv;");
    for (let revision = 31; revision <= 70; revision++) await writeRevision(store, revision, 100, fat);
    expect(walBytes()).toBeGreaterThan(4 * MiB);
    await reader.close();
    for (let revision = 71; revision <= 76; revision++) {
      await writeRevision(store, revision, 100, fat);
      if (revision > 72) expect(walBytes()).toBeLessThanOrEqual(MiB);
    }
  });
});
