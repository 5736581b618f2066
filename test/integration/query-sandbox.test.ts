/**
 * query_snapshot's sandbox with hostile SQL, on a real snapshot file and a real sandbox process:
 * writes, ATTACH, PRAGMA, load_extension, two statements, private tables and leaky table-valued
 * functions are refused; a runaway query is really stopped at the time cap (its process is gone)
 * while the service's thread keeps answering; rows, bytes and memory are bounded.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { buildClusterKvs } from "../../src/demo/cluster-spec.js";
import { rebuildCorruptSnapshot } from "../../src/store/corruption.js";
import { createStore, type Store } from "../../src/store/index.js";
import { createQuerySandbox, QueryError, type QuerySandbox } from "../../src/store/query-sandbox.js";
import { Database } from "../../src/store/sqlite-driver.js";
import { realisticCluster } from "../support/fixtures.js";
import { useCleanups } from "../support/harness.js";

const { defer, tempDbPath, closeAfterTest } = useCleanups();
const LIMITS = { maxRows: 500, maxBytes: 48_000 };
const RUNAWAY = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";

async function loadedStore(path = tempDbPath()): Promise<Store> {
  const store = createStore(path);
  const load = store.writer.beginResync();
  await load.addPage(
    buildClusterKvs(realisticCluster).map((kv) => ({
      type: "put" as const,
      key: kv.key,
      value: kv.value,
      modRevision: 7,
      createRevision: 7,
      version: 1,
      lease: "0",
    })),
    42,
  );
  await load.commit(42);
  return store;
}

async function deferredStore(): Promise<Store> {
  const store = await loadedStore();
  closeAfterTest(store);
  return store;
}

function sandboxFor(store: Store, timeoutMs = 10_000): QuerySandbox {
  const sandbox = createQuerySandbox({ path: store.path, timeoutMs });
  defer(() => sandbox.close());
  return sandbox;
}

/** Processes whose parent is `parent` (this one by default) and that run the sandbox's entry. */
function sandboxPids(parent = process.pid): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid !== parent) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes("query-child")) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** The scheduler state of a process (R running, S sleeping, …), or "" when it is gone. */
function procState(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  } catch {
    return "";
  }
}

async function refusal(sandbox: QuerySandbox, sql: string): Promise<QueryError> {
  const err = await sandbox.run(sql, LIMITS).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, sql).toBeInstanceOf(QueryError);
  return err as QueryError;
}

describe("query sandbox", () => {
  // One sandbox process answers every refusal: a refused statement never reaches SQLite's executor.
  let shared: { dir: string; store: Store; sandbox: QuerySandbox };
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "query-sandbox-"));
    const store = await loadedStore(join(dir, "snapshot.db"));
    shared = { dir, store, sandbox: createQuerySandbox({ path: store.path, timeoutMs: 10_000 }) };
  });
  afterAll(() => {
    shared.sandbox.close();
    shared.store.close();
    rmSync(shared.dir, { recursive: true, force: true });
  });

  it("answers a v_partition_lag query with the revision it read", async () => {
    const { sandbox } = shared;
    const result = await sandbox.run(
      "SELECT group_id, topic, partition, lag FROM v_partition_lag WHERE group_id = 'billing' ORDER BY partition",
      LIMITS,
    );
    expect(result).toMatchObject({
      columns: ["group_id", "topic", "partition", "lag"],
      rows: [
        ["billing", "orders", 0, 10],
        ["billing", "orders", 1, 0],
        ["billing", "orders", 2, 50],
      ],
      truncated: null,
      revision: 42,
    });
  });

  it("reads the new file once a corrupt snapshot was rebuilt under it (store.onReopen → sandbox.reopen, as the service wires it)", async () => {
    const store = await deferredStore();
    const sandbox = sandboxFor(store);
    defer(store.onReopen(() => sandbox.reopen()));
    const count = "SELECT count(*) AS n FROM topics";
    expect(await sandbox.run(count, LIMITS)).toMatchObject({ rows: [[realisticCluster.topics.length]], revision: 42 });
    // The file is moved aside and a fresh one takes its path: the sandbox's old connection would
    // keep reading the moved-aside file.
    const { carriedOver } = rebuildCorruptSnapshot(store);
    await carriedOver;
    expect(await sandbox.run(count, LIMITS)).toMatchObject({ rows: [[0]], revision: 0 });
  });

  it.each([
    ["a write", "INSERT INTO topics (name, topic_id, is_internal, error_code, partition_count) VALUES ('x', 'y', 0, 0, 1)", /only SELECT/],
    ["a write behind WITH", "WITH doomed AS (SELECT key FROM kv) DELETE FROM kv WHERE key IN (SELECT key FROM doomed)", /read and return rows/],
    ["DROP", "DROP TABLE kv", /only SELECT/],
    ["ATTACH", "ATTACH DATABASE '/tmp/elsewhere.db' AS other", /only SELECT/],
    ["ATTACH after a comment", "/* harmless */ -- really\n ATTACH ':memory:' AS m", /only SELECT/],
    ["PRAGMA with a side effect", "PRAGMA query_only = 0", /only SELECT/],
    ["a transaction", "BEGIN IMMEDIATE", /only SELECT/],
    ["VACUUM INTO a file", "VACUUM INTO '/tmp/copy.db'", /only SELECT/],
    ["load_extension", "SELECT load_extension('/tmp/evil.so')", /load_extension is not available/],
    ["load_extension as a quoted name", 'SELECT "LOAD_EXTENSION"(\'/tmp/evil.so\')', /load_extension is not available/],
    ["two statements", "SELECT 1; SELECT 2", /more than one statement/],
    ["the audit log", "SELECT * FROM audit_log", /audit_log is not available/],
    ["the audit log named by a string", "SELECT subject FROM 'audit_log' WHERE id > 0", /audit_log is not available/],
    ["the audit log in a subquery", "SELECT (SELECT count(*) FROM main.audit_log) AS n", /audit_log is not available/],
    ["a pragma table-valued function (the file's path)", "SELECT file FROM pragma_database_list", /pragma_database_list is not available/],
    ["dbstat", "SELECT name, pgsize FROM dbstat", /dbstat is not available/],
    ["a syntax error", "SELEKT 1", /only SELECT/],
  ])("refuses %s", async (_name, sql, message) => {
    const err = await refusal(shared.sandbox, sql);
    expect(err.reason).toBe("refused");
    expect(err.message).toMatch(message);
  });

  it("says in one line that it cannot read the snapshot while a degraded store holds the file exclusively, and answers once released", async () => {
    // A store whose disk is full opens its file in exclusive locking mode (src/store/generation.ts):
    // a second process cannot read it then. The sandbox used to exit with a stack trace.
    const store = await loadedStore();
    const path = store.path;
    store.close();
    const holder = new Database(path, { fileMustExist: true });
    defer(() => {
      holder.close();
    });
    holder.pragma("locking_mode = EXCLUSIVE");
    holder.prepare("SELECT revision FROM sync_state WHERE id = 1").get();
    const sandbox = createQuerySandbox({ path, timeoutMs: 10_000 });
    defer(() => sandbox.close());

    const err = (await sandbox.run("SELECT count(*) FROM topics", LIMITS).catch((e: unknown) => e)) as QueryError;
    expect(err).toBeInstanceOf(QueryError);
    expect(err.reason).toBe("unreadable");
    expect(err.message).toBe("the query sandbox cannot read the snapshot file: database is locked (SQLITE_BUSY)");

    holder.close();
    expect((await sandbox.run("SELECT count(*) AS n FROM topics", LIMITS)).rows).toEqual([[3]]);
  });

  it("stops a runaway query at the time cap — its process is killed — while the service's thread keeps answering", async () => {
    const store = await deferredStore();
    const others = sandboxPids();
    const sandbox = sandboxFor(store, 1500);
    // Warm up, so the query below is the only thing this sandbox's process is doing.
    await sandbox.run("SELECT 1", LIMITS);
    const started = sandboxPids().filter((p) => !others.includes(p));
    expect(started).toHaveLength(1);
    const pid = started[0] as number;

    let settled = false;
    const runaway = sandbox.run(RUNAWAY, LIMITS).finally(() => {
      settled = true;
    });
    // The event loop is free meanwhile: timers fire and the store answers, all before the cap.
    let ticks = 0;
    await vi.waitFor(
      () => {
        ticks++;
        expect(store.reads.listTopics(null, 10).items).toHaveLength(3);
        expect(ticks).toBeGreaterThanOrEqual(5);
      },
      { interval: 10 },
    );
    expect(settled).toBe(false);

    const err = (await runaway.catch((e: unknown) => e)) as QueryError;
    expect(err).toBeInstanceOf(QueryError);
    expect(err.reason).toBe("timeout");
    expect(err.message).toMatch(/longer than 1500 ms and was stopped/);
    // Really stopped: the process that ran it is gone, not left spinning on a core.
    await vi.waitFor(() => expect(() => process.kill(pid, 0)).toThrow(/ESRCH/), { timeout: 10_000 });
    expect(sandboxPids()).not.toContain(pid);

    // The next query gets a fresh process.
    expect((await sandbox.run("SELECT count(*) AS n FROM topics", LIMITS)).rows).toEqual([[3]]);
  });

  it("runs one query at a time, lets 8 wait, refuses more as busy, and refuses everything once closed", async () => {
    const sandbox = createQuerySandbox({ path: (await deferredStore()).path, timeoutMs: 600_000 });
    const outcomes = Array.from({ length: 10 }, () =>
      sandbox.run(RUNAWAY, LIMITS).then(
        () => "answered",
        (err: QueryError) => `${err.reason}: ${err.message}`,
      ),
    );
    // The tenth finds the running one and eight waiting.
    expect(await outcomes[9]).toBe("busy: 8 queries are already waiting; retry shortly");
    sandbox.close();
    expect(await Promise.all(outcomes.slice(0, 9))).toEqual(Array(9).fill("unavailable: the query sandbox is shut down"));
    expect(await sandbox.run("SELECT 1", LIMITS).catch((err: QueryError) => err.reason)).toBe("unavailable");
  });

  it("ends its process by itself when the service dies in the middle of a runaway query (SIGKILL)", async () => {
    const store = await deferredStore();
    const owner = spawn(process.execPath, ["--import", "tsx", "test/support/sandbox-owner.ts", store.path], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    defer(() => void owner.kill("SIGKILL"));
    await new Promise<void>((resolve) => owner.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("running") && resolve()));
    const ownerPid = owner.pid as number;
    // The sandbox process is busy on the runaway statement (running, not waiting for a message).
    let pid = 0;
    await vi.waitFor(
      () => {
        [pid = 0] = sandboxPids(ownerPid);
        expect(procState(pid)).toBe("R");
      },
      { timeout: 20_000, interval: 50 },
    );
    owner.kill("SIGKILL");
    // Orphaned while stuck in SQLite: its watchdog thread sees the parent gone and kills it.
    await vi.waitFor(() => expect(() => process.kill(pid, 0)).toThrow(/ESRCH/), { timeout: 10_000, interval: 50 });
  });

  it("caps rows and bytes, cuts long text, shows blobs by size, and keeps memory bounded", async () => {
    const sandbox = sandboxFor(await deferredStore());
    const many = await sandbox.run("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 10000) SELECT x FROM c", LIMITS);
    expect(many.rows).toHaveLength(500);
    expect(many.truncated).toBe("rows");

    const wide = await sandbox.run(
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 400) SELECT x, printf('%.300c', 'a') AS pad FROM c",
      LIMITS,
    );
    expect(wide.truncated).toBe("bytes");
    expect(JSON.stringify(wide.rows).length).toBeLessThanOrEqual(LIMITS.maxBytes);

    const cells = await sandbox.run("SELECT printf('%.5000c', 'x') AS long, value AS raw FROM kv WHERE kind = 'snapshot'", LIMITS);
    const [long, raw] = cells.rows[0] as [string, string];
    expect(long).toMatch(/^x{2000}… \[5000 chars\]$/);
    expect(raw).toMatch(/^<blob \d+ bytes>$/);

    // A value larger than the sandbox's data limit fails inside SQLite, not in the service.
    const err = await refusal(sandbox, "SELECT length(randomblob(400000000)) AS n");
    expect(err.reason).toBe("failed");
    expect(err.message).toMatch(/out of memory/);
    expect((await sandbox.run("SELECT 2 AS two", LIMITS)).rows).toEqual([[2]]);
  });
});
