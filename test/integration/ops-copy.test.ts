/**
 * The ops copy (KAFSCALE_MCP_OPS_COPY) with real files, the real `sqlite3` shell, a reader running as
 * another user (setpriv), a read-only bind mount and a full tmpfs: published on schedule, always a
 * whole database, readable where a WAL database is not, without the audit log unless asked, and a
 * failure never touches the service.
 */
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setImmediate as nextTurn } from "node:timers/promises";
import { Database } from "../../src/store/sqlite-driver.js";
import { describe, expect, it, vi } from "vitest";
import type { OpsCopyConfig } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import type { Store } from "../../src/store/index.js";
import { MIGRATIONS } from "../../src/store/migrations.js";
import { createOpsCopier, type OpsCopier } from "../../src/sync/ops/ops-copier.js";
import { useCleanups } from "../support/harness.js";
import { manualTimer, type ManualTimer } from "../support/manual-timer.js";
import { auditRow, REVISION_CHECK_SQL, writeRevision } from "../support/ops-data.js";
import { NOBODY, openSqliteSession, sqliteQuery } from "../support/sqlite-cli.js";
import { UNTIL } from "../support/conditions.js";

const { defer, tempDir, openStore } = useCleanups();

/** A directory every user can traverse (mkdtemp makes 0700 ones), for readers running as nobody. */
function openTempDir(): string {
  const dir = tempDir("kafscale-mcp-ops-");
  chmodSync(dir, 0o755);
  return dir;
}

interface Setup {
  store: Store;
  copier: OpsCopier;
  timer: ManualTimer;
  logs: { level: string; msg: string; error?: string }[];
  clock: { now: number };
  config: OpsCopyConfig;
}

function setup(dir: string, copyPath: string, overrides: Partial<OpsCopyConfig> = {}): Setup {
  const store = openStore(join(dir, "live.db"));
  const timer = manualTimer();
  const clock = { now: 1_800_000_000_000 };
  const logs: Setup["logs"] = [];
  const config: OpsCopyConfig = { path: copyPath, intervalMs: 60_000, mode: 0o640, includeAudit: false, ...overrides };
  const copier = createOpsCopier({
    store,
    config,
    logger: createLogger("info", (line) => logs.push(JSON.parse(line))),
    now: () => clock.now,
    timer,
  });
  defer(() => copier.stop());
  return { store, copier, timer, logs, clock, config };
}

function readCopy(path: string): { revision: number; whole: boolean; copy: Record<string, number | null> } {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const [revision, whole] = db.prepare(REVISION_CHECK_SQL).raw(true).get() as [number, number];
    const copy = db.prepare("SELECT * FROM ops_copy").get() as Record<string, number | null>;
    // Whole: every offset belongs to the revision in sync_state, and the stamp agrees with it.
    return { revision, whole: whole === 1 && copy.revision === revision, copy };
  } finally {
    db.close();
  }
}

const workFiles = (dir: string): string[] => readdirSync(dir).filter((name) => /\.(staging|tmp)/.test(name));

describe("ops copy", () => {
  it("publishes a copy at start and again each time the interval elapses, stamped with its revision and time", async () => {
    const dir = openTempDir();
    const copyPath = join(dir, "ops", "kafscale-mcp-ops.db");
    mkdirSync(join(dir, "ops"));
    const { store, copier, timer, clock, logs } = setup(dir, copyPath);
    await writeRevision(store, 10, 50);

    copier.start();
    await vi.waitFor(() => expect(copier.status().state).toBe("ok"), UNTIL);
    expect(timer.pendingDelay()).toBe(60_000);
    const first = readCopy(copyPath);
    expect(first).toMatchObject({ revision: 10, whole: true });
    expect(first.copy).toEqual({
      id: 1,
      revision: 10,
      synced_at: expect.any(Number),
      copied_at: clock.now,
      published_at: clock.now,
      interval_ms: 60_000,
      includes_audit: 0,
      schema_version: (MIGRATIONS.at(-1) as { version: number }).version,
    });

    await writeRevision(store, 11, 50);
    clock.now += 60_000;
    timer.fire();
    await vi.waitFor(() => expect(copier.status().revision).toBe(11), UNTIL);
    expect(readCopy(copyPath)).toMatchObject({ revision: 11, whole: true, copy: { copied_at: clock.now } });
    expect(timer.pendingDelay()).toBe(60_000);

    // Rollback-journal mode (file format bytes 18 and 19 are 1; 2 would be WAL), the configured mode,
    // nothing left beside it, and readable by the real sqlite3 shell.
    const header = readFileSync(copyPath).subarray(18, 20);
    expect([...header]).toEqual([1, 1]);
    expect(statSync(copyPath).mode & 0o777).toBe(0o640);
    expect(readdirSync(join(dir, "ops"))).toEqual(["kafscale-mcp-ops.db"]);
    expect(await sqliteQuery(copyPath, "PRAGMA journal_mode; PRAGMA integrity_check;")).toBe("delete\nok");
    expect(copier.status()).toMatchObject({ state: "ok", revision: 11, consecutiveFailures: 0, failuresTotal: 0 });
    expect(logs.map((l) => l.msg)).toEqual(["ops copy published"]);
  });

  it("publishes nothing before the first full sync, then the first copy once it is done", async () => {
    const dir = openTempDir();
    const copyPath = join(dir, "ops.db");
    const { store, copier, timer } = setup(dir, copyPath);

    copier.start();
    await vi.waitFor(() => expect(timer.pendingDelay()).toBe(1000), UNTIL);
    expect(copier.status()).toMatchObject({ state: "waiting", lastAttemptAt: null });
    expect(readdirSync(dir).filter((name) => name.startsWith("ops"))).toEqual([]);

    await writeRevision(store, 5, 10);
    timer.fire();
    await vi.waitFor(() => expect(copier.status().state).toBe("ok"), UNTIL);
    expect(readCopy(copyPath).revision).toBe(5);
  });

  it("is always a whole database: readers opening it while copies are published see the old or the new one", async () => {
    const dir = openTempDir();
    const copyPath = join(dir, "ops.db");
    const store = openStore(join(dir, "live.db"));
    await writeRevision(store, 100, 500);
    const publish = (): Promise<unknown> =>
      // Small steps, so each copy is spread over many turns of the event loop for the readers to land in.
      store.publishOpsCopy({ target: copyPath, mode: 0o644, includeAudit: false, intervalMs: 1000, now: Date.now, pagesPerStep: 16, rowsPerStep: 50 });
    await publish();

    // An outside reader: the real sqlite3 shell in a loop, opening the file afresh each time.
    const shell = execFileSync("sh", ["-c", "command -v sqlite3"]).toString().trim();
    const loop = `while :; do ${shell} -readonly ${copyPath} "PRAGMA quick_check; ${REVISION_CHECK_SQL};" 2>&1; echo ---; done`;
    const outside = backgroundLoop(loop);
    defer(() => {
      outside.stop();
    });

    // An inside reader: opens the copy between every two steps of the publisher.
    let publishing = false;
    let opensDuringPublish = 0;
    const seen = new Set<number>();
    const problems: string[] = [];
    let done = false;
    const inside = (async () => {
      while (!done) {
        try {
          const { revision, whole } = readCopy(copyPath);
          if (!whole) problems.push(`revision ${revision} not whole`);
          seen.add(revision);
        } catch (err) {
          problems.push((err as Error).message);
        }
        if (publishing) opensDuringPublish++;
        await nextTurn();
      }
    })();

    for (let revision = 101; revision <= 104; revision++) {
      await writeRevision(store, revision, 500);
      publishing = true;
      await publish();
      publishing = false;
      await vi.waitFor(() => expect(seen.has(revision) || problems.length > 0).toBe(true), UNTIL);
    }
    await vi.waitFor(() => expect(outside.output()).toContain("104|1"), UNTIL);
    done = true;
    await inside;
    // Every complete read (the last one may have been cut off by the kill).
    const reads = outside.stop().split("---\n").slice(0, -1);
    expect(problems).toEqual([]);
    expect(opensDuringPublish).toBeGreaterThan(20);
    expect([...seen].sort()).toEqual([100, 101, 102, 103, 104]);
    expect(reads.length).toBeGreaterThan(5);
    for (const read of reads) expect(read).toMatch(/^ok\n10[0-4]\|1\n$/);
  });

  it("opens from a read-only directory and a read-only mount, where a WAL database cannot", async () => {
    const dir = openTempDir();
    // The ops group's view: the directory is theirs to read, not to write (group r-x, setgid so the
    // copy inherits the group), the copy is 0640; the reader runs as nobody:nogroup via setpriv.
    const opsDir = join(dir, "ops");
    mkdirSync(opsDir);
    chownSync(opsDir, 0, NOBODY.gid);
    chmodSync(opsDir, 0o2750);
    const copyPath = join(opsDir, "ops.db");
    const { store, copier } = setup(dir, copyPath, { mode: 0o640 });
    await writeRevision(store, 7, 20);
    await copier.runOnce();
    expect(copier.status().state).toBe("ok");
    expect(statSync(copyPath).gid).toBe(NOBODY.gid);

    await expect(sqliteQuery(copyPath, `${REVISION_CHECK_SQL}; SELECT count(*) FROM v_group_lag;`, { as: NOBODY })).resolves.toBe(
      "7|1\n1",
    );
    // The setup really is read-only for that reader: it cannot create a file there...
    expect(() => execFileSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "touch", join(opsDir, "x")], { stdio: "pipe" })).toThrow();
    // ...so a WAL database in the same place cannot be opened (it needs its -shm file).
    const walPath = join(opsDir, "wal.db");
    await sqliteQuery(walPath, "PRAGMA journal_mode = WAL; CREATE TABLE t (x); INSERT INTO t VALUES (1);");
    chmodSync(walPath, 0o640);
    await expect(sqliteQuery(walPath, "SELECT count(*) FROM t;", { as: NOBODY })).rejects.toThrow(/readonly database/);

    // A read-only bind mount of the directory (a sidecar's readOnly volume mount): even root cannot
    // write there, and the copy still opens.
    const mountPoint = join(dir, "ro");
    mkdirSync(mountPoint);
    execFileSync("mount", ["--bind", opsDir, mountPoint]);
    defer(() => {
      execFileSync("umount", [mountPoint]);
    });
    execFileSync("mount", ["-o", "remount,bind,ro", mountPoint]);
    expect(() => writeFileSync(join(mountPoint, "x"), "")).toThrow(/EROFS/);
    await expect(sqliteQuery(join(mountPoint, "ops.db"), REVISION_CHECK_SQL)).resolves.toBe("7|1");
    await expect(sqliteQuery(join(mountPoint, "wal.db"), "SELECT count(*) FROM t;")).rejects.toThrow(/unable to open/);
  });

  it("a reader holding the copy open for the whole test changes nothing for the service", async () => {
    const dir = openTempDir();
    const copyPath = join(dir, "ops.db");
    const { store, copier, timer } = setup(dir, copyPath);
    await writeRevision(store, 20, 500);
    copier.start();
    await vi.waitFor(() => expect(copier.status().revision).toBe(20), UNTIL);

    const reader = openSqliteSession(copyPath);
    defer(() => reader.close());
    expect(await reader.query(`BEGIN; ${REVISION_CHECK_SQL};`)).toBe("20|1");

    const probe = store.probeWal as NonNullable<Store["probeWal"]>;
    for (let revision = 21; revision <= 30; revision++) {
      await writeRevision(store, revision, 500);
      // The live file does not notice the reader: every checkpoint completes, the WAL stays small.
      expect(probe()).toMatchObject({ complete: true });
      timer.fire();
      await vi.waitFor(() => expect(copier.status().revision).toBe(revision), UNTIL);
    }
    expect(probe().walBytes).toBeLessThanOrEqual(16 * 2 ** 20);
    expect(copier.status()).toMatchObject({ state: "ok", failuresTotal: 0 });
    // The reader still sees the copy it opened, whole; a new reader sees the newest.
    expect(await reader.query(`${REVISION_CHECK_SQL};`)).toBe("20|1");
    expect(readCopy(copyPath).revision).toBe(30);
    await reader.close();
  });

  it("leaves the audit log out by default, with no trace of its rows in the file; includes it when asked", async () => {
    const dir = openTempDir();
    const store = openStore(join(dir, "live.db"));
    await writeRevision(store, 3, 200);
    const old = new Date(Date.now() - 86_400_000).toISOString();
    // Rows the retention prune deletes: gone from the table, their bytes still in the live file's free space.
    store.audit.recordMany(Array.from({ length: 300 }, () => auditRow("pruned-marker-7f3a", old)));
    store.audit.prune(Date.now() - 3_600_000);
    store.audit.recordMany(Array.from({ length: 20 }, () => auditRow("kept-marker-91c2")));
    await writeRevision(store, 4, 200);
    store.probeWal?.();
    const live = readFileSync(join(dir, "live.db"));
    expect(live.includes("pruned-marker-7f3a")).toBe(true);
    expect(live.includes("kept-marker-91c2")).toBe(true);

    const publish = (target: string, includeAudit: boolean): Promise<unknown> =>
      store.publishOpsCopy({ target, mode: 0o640, includeAudit, intervalMs: 60_000, now: Date.now, rowsPerStep: 50 });
    const without = join(dir, "without.db");
    await publish(without, false);
    const bytes = readFileSync(without);
    expect(bytes.includes("pruned-marker-7f3a")).toBe(false);
    expect(bytes.includes("kept-marker-91c2")).toBe(false);
    expect(await sqliteQuery(without, "SELECT count(*) FROM audit_log; SELECT includes_audit FROM ops_copy;")).toBe("0\n0");

    // Everything else is there, row for row, with the same schema and schema version.
    const compare = `SELECT (SELECT group_concat(type || name || sql, ';') FROM (SELECT * FROM sqlite_schema WHERE name != 'ops_copy' ORDER BY name)),
      (SELECT count(*) FROM kv), (SELECT sum(committed_offset) FROM committed_offsets), (SELECT group_concat(name || seq) FROM sqlite_sequence WHERE name != 'audit_log');
      PRAGMA user_version;`;
    const liveAnswer = await sqliteQuery(join(dir, "live.db"), compare, { readonly: true });
    expect(await sqliteQuery(without, compare)).toBe(liveAnswer);
    const liveTables = await sqliteQuery(join(dir, "live.db"), ".dump kv committed_offsets change_log", { readonly: true });
    expect(await sqliteQuery(without, ".dump kv committed_offsets change_log")).toBe(liveTables);

    const withAudit = join(dir, "with.db");
    await publish(withAudit, true);
    const auditDump = "SELECT id, at, subject, arguments FROM audit_log ORDER BY id;";
    expect(await sqliteQuery(withAudit, auditDump)).toBe(await sqliteQuery(join(dir, "live.db"), auditDump, { readonly: true }));
    expect(await sqliteQuery(withAudit, "SELECT count(*) FROM audit_log; SELECT includes_audit FROM ops_copy;")).toBe("20\n1");
  });

  it("a hot journal left beside the copy (someone wrote to it and was killed) does not reach the next copy", async () => {
    const dir = openTempDir();
    const copyPath = join(dir, "ops.db");
    const { store, copier } = setup(dir, copyPath, { mode: 0o644 });
    await writeRevision(store, 60, 300);
    await copier.runOnce();
    // A writer that spills its transaction into the file and dies before committing: a hot journal.
    const writer = spawn("sqlite3", [copyPath]);
    const ready = new Promise<void>((resolve) => writer.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("spilled") && resolve()));
    writer.stdin.write("PRAGMA cache_size = 1; BEGIN; DELETE FROM kv; DELETE FROM committed_offsets; SELECT 'spilled';\n");
    await ready;
    writer.kill("SIGKILL");
    await new Promise((resolve) => writer.once("exit", resolve));
    expect(statSync(`${copyPath}-journal`).size).toBeGreaterThan(0);

    await writeRevision(store, 61, 300);
    await copier.runOnce();
    // The first reader of the new copy finds no journal to "roll back" into it.
    expect(await sqliteQuery(copyPath, `PRAGMA integrity_check; ${REVISION_CHECK_SQL}; SELECT count(*) FROM committed_offsets;`)).toBe(
      "ok\n61|1\n300",
    );
    expect(readdirSync(dir).filter((name) => name.startsWith("ops.db"))).toEqual(["ops.db"]);
  });

  it("a copy that fails (disk full) keeps the previous copy and the service going, logs once per state change, and recovers", async () => {
    const dir = openTempDir();
    const opsDir = join(dir, "ops");
    mkdirSync(opsDir);
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", opsDir]);
    defer(() => {
      execFileSync("umount", [opsDir]);
    });
    const copyPath = join(opsDir, "ops.db");
    const { store, copier, logs } = setup(dir, copyPath);
    await writeRevision(store, 40, 500);
    await copier.runOnce();
    expect(copier.status()).toMatchObject({ state: "ok", revision: 40 });
    const size = statSync(copyPath).size;

    // Fill the volume so that a new copy cannot fit next to the published one.
    const free = Number(execFileSync("df", ["--output=avail", "-B1", opsDir]).toString().split("\n")[1]);
    writeFileSync(join(opsDir, "filler"), Buffer.alloc(free - Math.floor(size / 2)));
    for (const revision of [41, 42]) {
      await writeRevision(store, revision, 500);
      await copier.runOnce();
    }
    expect(copier.status()).toMatchObject({
      state: "failing",
      revision: 40,
      consecutiveFailures: 2,
      failuresTotal: 2,
      lastError: expect.stringMatching(/^ops copy: .*(disk is full|ENOSPC)/),
    });
    expect(logs.filter((l) => l.level === "warn")).toHaveLength(1);
    expect(readCopy(copyPath)).toMatchObject({ revision: 40, whole: true });
    expect(readdirSync(opsDir).sort()).toEqual(["filler", "ops.db"]);
    // The service did not notice: the live database took every write.
    expect(store.syncState.get().revision).toBe(42);

    rmSync(join(opsDir, "filler"));
    await copier.runOnce();
    expect(copier.status()).toMatchObject({ state: "ok", revision: 42, consecutiveFailures: 0, failuresTotal: 2, lastError: null });
    expect(readCopy(copyPath)).toMatchObject({ revision: 42, whole: true });
    expect(logs.map((l) => [l.level, l.msg])).toEqual([
      ["info", "ops copy published"],
      ["warn", "ops copy failed; the previous copy stays in place and the next interval retries"],
      ["info", "ops copy recovered"],
    ]);
    expect(workFiles(opsDir)).toEqual([]);
  });

  it("reports a missing directory as a failure that names it", async () => {
    const dir = openTempDir();
    const { store, copier } = setup(dir, join(dir, "missing", "ops.db"));
    await writeRevision(store, 70, 10);
    expect(await copier.runOnce()).toMatchObject({
      state: "failing",
      lastError: `ops copy: creating a work file in ${join(dir, "missing")}: ENOENT: no such file or directory, open '${join(dir, "missing")}/.ops.db.${process.pid}.staging'`,
    });
    mkdirSync(join(dir, "missing"));
    expect(await copier.runOnce()).toMatchObject({ state: "ok", revision: 70 });
  });

  it("stopping abandons a copy in progress, leaving no work files; start removes those of a crashed run", async () => {
    const dir = openTempDir();
    const copyPath = join(dir, "ops.db");
    // Work files a killed process left behind (another pid).
    writeFileSync(join(dir, ".ops.db.4242.staging"), "x");
    writeFileSync(join(dir, ".ops.db.4242.tmp-journal"), "x");
    writeFileSync(join(dir, ".ops.db.keep"), "not ours");
    const { store, copier } = setup(dir, copyPath);
    await writeRevision(store, 50, 3000);
    copier.start();
    expect(workFiles(dir)).toEqual([]);
    expect(copier.status().lastAttemptAt).not.toBeNull();
    await copier.stop();
    expect(workFiles(dir)).toEqual([]);
    expect(readdirSync(dir)).toContain(".ops.db.keep");
    expect(readdirSync(dir)).not.toContain("ops.db");
    expect(copier.status()).toMatchObject({ state: "waiting", failuresTotal: 0 });
  });
});

/** A shell loop in the background; `stop()` kills it and returns everything it printed. */
function backgroundLoop(script: string): { output(): string; stop(): string } {
  const child = spawn("sh", ["-c", script], { detached: true });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return {
    output: () => output,
    stop: () => {
      if (child.exitCode === null && child.pid !== undefined) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      return output;
    },
  };
}
