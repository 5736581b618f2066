/**
 * Corrupt pages in the snapshot file, found at run time and at start after an unclean stop. They
 * used to be blamed on etcd: the service answered until it needed a resync, then looped forever with
 * `etcd_link: down` and "database disk image is malformed", and `verify` told the operator to check
 * etcd. The snapshot is a cache and etcd is the truth: the file is moved aside and rebuilt from etcd,
 * the log says so, what etcd cannot give back (the audit log) is carried over as far as it can be
 * read, and `verify` names the corruption as local.
 */
import { spawnSync } from "node:child_process";
import { existsSync, openSync, writeSync, closeSync, statSync } from "node:fs";
import { Database } from "../../src/store/sqlite-driver.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStore } from "../../src/store/index.js";
import { createEtcdSync } from "../../src/sync/etcd/etcd-sync.js";
import { verifySnapshot } from "../../src/sync/etcd/verify.js";
import { encodeCommittedOffset } from "../../src/kafscale/encode.js";
import { keys } from "../../src/kafscale/keys.js";
import { createLogger, silentLogger } from "../../src/log.js";
import { startEtcd, type EtcdProcess } from "../../bench/lib/etcd-process.js";
import { realisticCluster, testEtcd, writeCluster } from "../support/fixtures.js";
import { useCleanups } from "../support/harness.js";
import { startServiceProcess } from "../../bench/lib/service-process.js";
import type { AuditRow } from "../../src/store/index.js";

const { tempDbPath, defer, closeAfterTest } = useCleanups();

// Compacting etcd must not disturb other files' pinned reads: an etcd of our own.
let etcd: EtcdProcess;
beforeAll(async () => {
  etcd = await startEtcd();
});
afterAll(async () => {
  await etcd.destroy();
});

/** A cluster big enough for the kv table to span many pages. */
async function writeBiggerCluster({ client, keyspace, namespace }: ReturnType<typeof testEtcd>): Promise<number> {
  let revision = await writeCluster(keyspace, realisticCluster);
  for (let i = 0; i < 1500; i += 100) {
    const ops = Array.from({ length: 100 }, (_, j) => ({
      request_put: {
        key: Buffer.from(`${namespace}${keys.committedOffset(`group-${(i + j) % 15}`, "orders", i + j)}`),
        value: encodeCommittedOffset({ offset: i + j, metadata: "x".repeat(100), committedAt: "2026-11-24T09:00:00Z" }),
      },
    }));
    const res = await client.kv.txn({ compare: [], success: ops, failure: [] });
    revision = Number(res.header.revision);
  }
  return revision;
}

/** Overwrites leaf pages in the middle of table `table` with random bytes. Returns how many. */
function corruptPages(path: string, table: string): number {
  const db = new Database(path, { readonly: true });
  const pageSize = db.pragma("page_size", { simple: true }) as number;
  const pages = (db.prepare("SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno").all(table) as { pageno: number }[]).map(
    (r) => r.pageno,
  );
  db.close();
  const middle = pages.slice(Math.floor(pages.length / 3), Math.floor((2 * pages.length) / 3));
  const fd = openSync(path, "r+");
  for (const page of middle) {
    const garbage = Buffer.alloc(pageSize);
    for (let i = 0; i < pageSize; i++) garbage[i] = (i * 7919 + page * 104729) & 0xff;
    writeSync(fd, garbage, 0, pageSize, (page - 1) * pageSize);
  }
  closeSync(fd);
  return middle.length;
}

const auditRow = (i: number): AuditRow => ({
  at: new Date(Date.UTC(2026, 10, 24, 9, 0, i)).toISOString(),
  requestId: `r${i}`,
  subject: "anonymous",
  clientId: null,
  authMode: "none",
  tool: "cluster_status",
  arguments: "{}",
  outcome: "ok",
  reason: null,
  status: null,
  latencyMs: 1,
  revision: 1,
  remoteAddr: null,
  sessionId: null,
});

describe("a corrupt snapshot file", () => {
  it("found at run time is rebuilt from etcd, and verify calls it local", async () => {
    const cluster = testEtcd(etcd.endpoint);
    const { client, keyspace, namespace } = cluster;
    defer(() => client.close());
    await writeBiggerCluster(cluster);
    const path = tempDbPath();

    let store = createStore(path);
    let sync = createEtcdSync({ store, client, keyspace, logger: silentLogger, pageSize: 200 });
    sync.start();
    await sync.ready();
    store.audit.recordMany(Array.from({ length: 50 }, (_, i) => auditRow(i)));
    await sync.stop();
    store.close();
    expect(corruptPages(path, "kv")).toBeGreaterThan(0);

    // verify says where the problem is: here, not in etcd.
    const verify = spawnSync(process.execPath, ["--import", "tsx", "src/cli.ts", "verify", "--db", path], {
      env: { ...process.env, KAFSCALE_MCP_ETCD_ENDPOINTS: etcd.endpoint, KAFSCALE_MCP_ETCD_NAMESPACE: namespace },
      encoding: "utf8",
    });
    expect(verify.status).toBe(1);
    expect(verify.stdout + verify.stderr).toMatch(/local snapshot .* is corrupt/);
    expect(verify.stdout + verify.stderr).toMatch(/not an etcd problem/);
    expect(verify.stdout + verify.stderr).not.toMatch(/KAFSCALE_MCP_ETCD_ENDPOINTS/);

    // The service opens the file (it was closed cleanly) and serves it until it needs a resync.
    const resumeFrom = await keyspace.put("/kafscale/unknown/x").value("1").exec();
    const compactAt = await keyspace.put("/kafscale/unknown/x").value("2").exec();
    await client.kv.compact({ revision: compactAt.header.revision, physical: true });
    expect(Number(resumeFrom.header.revision)).toBeLessThan(Number(compactAt.header.revision));
    const logs: Record<string, unknown>[] = [];
    const logger = createLogger("debug", (line) => logs.push(JSON.parse(line) as Record<string, unknown>));
    store = createStore(path);
    closeAfterTest(store);
    sync = createEtcdSync({ store, client, keyspace, logger, pageSize: 200, backoffBaseMs: 20, backoffCapMs: 200, probeIntervalMs: 100 });
    sync.start();
    defer(() => sync.stop());
    await sync.waitForRevision(Number(compactAt.header.revision), 60_000);

    expect(logs.some((r) => String(r.msg).startsWith("snapshot database file is corrupt; rebuilding it from etcd"))).toBe(true);
    expect(logs.filter((r) => r.msg === "etcd sync: link failure")).toEqual([]);
    expect(store.syncState.get()).toMatchObject({ initialSyncDone: true, linkState: "connected" });
    expect(store.health.problem()).toBeNull();
    expect(existsSync(`${path}.corrupt`)).toBe(true);
    await sync.stop();
    const report = await verifySnapshot({ store, client, keyspace, logger: silentLogger, pageSize: 500 });
    expect(report.differences).toBe(0);
    // The audit log was on intact pages: carried over, ids kept.
    await until(() => store.audit.recent(100).length >= 50);
    expect(store.audit.recent(100).map((r) => r.requestId)).toContain("r0");
  }, 120_000);

  it("found at start after an unclean stop is rebuilt from etcd before serving", async () => {
    const cluster = testEtcd(etcd.endpoint);
    defer(() => cluster.client.close());
    const revision = await writeBiggerCluster(cluster);
    const path = tempDbPath();
    const env = { KAFSCALE_MCP_ETCD_ENDPOINTS: etcd.endpoint, KAFSCALE_MCP_ETCD_NAMESPACE: cluster.namespace, KAFSCALE_MCP_DB_PATH: path };
    const first = await startServiceProcess("service", env);
    defer(() => first.stop());
    await waitReady(first.readyz);
    // The load's pages must be in the database file, not only in the WAL: damage to pages whose
    // frames are still in the WAL would be overwritten by the recovery, not found. Rather than wait
    // for the service's own checkpoints to empty the WAL (under load that can take longer than any
    // deadline), the test checkpoints it into the file and truncates it; killed once the service has
    // written since (its link probe, its lag verdicts), the WAL says "unclean stop".
    const walSize = (): number => (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0);
    const outside = new Database(path);
    try {
      outside.pragma("busy_timeout = 5000");
      await until(() => (outside.pragma("wal_checkpoint(TRUNCATE)") as { busy: number }[])[0]?.busy === 0, 60_000, "WAL checkpointed and truncated");
    } finally {
      outside.close();
    }
    // Frames written since are the service's own state rows and lag verdicts, never `kv` pages: no key
    // changed in etcd after the load.
    await until(() => walSize() > 0, 60_000, "a write after the truncation");
    process.kill(first.child.pid, "SIGKILL");
    await first.child.exited;
    expect(existsSync(`${path}-wal`)).toBe(true);
    expect(corruptPages(path, "kv")).toBeGreaterThan(0);

    const second = await startServiceProcess("service after corruption", env);
    defer(() => second.stop());
    await second.child.waitForLog((r) => String(r.msg).startsWith("snapshot database file is corrupt; moving it aside"), 60_000);
    const ready = await waitReady(second.readyz);
    expect(Number(ready.revision)).toBeGreaterThanOrEqual(revision);
    await second.stop();
    expect(await second.child.exited).toEqual({ code: 0, signal: null });
    const verify = spawnSync(process.execPath, ["--import", "tsx", "src/cli.ts", "verify", "--db", path], {
      env: { ...process.env, ...env, KAFSCALE_MCP_LOG_LEVEL: "warn" },
      encoding: "utf8",
    });
    expect(verify.stdout).toContain("result: no differences");
    expect(verify.status).toBe(0);
  }, 120_000);
});

async function until(check: () => boolean, timeoutMs = 30_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} not met in time`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function waitReady(readyz: () => Promise<{ status: number; body: Record<string, unknown> }>): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const { status, body } = await readyz();
    if (status === 200) return body;
    if (Date.now() > deadline) throw new Error(`not ready: ${JSON.stringify(body)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
