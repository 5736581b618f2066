/**
 * Disk full and a read-only filesystem, for real: the snapshot lives on a small tmpfs mounted in
 * the test's temp dir, the service is a real child process with the image's heap flags.
 *
 * It used to crash-loop: SQLITE_FULL escaped from the failure handler itself (which wrote to the
 * database), and again on every restart while the disk was full, so the intact snapshot was never
 * served; a read-only file crash-looped with a stack trace. Now it keeps serving the last committed
 * snapshot, marked stale with the reason, /readyz 503 with it, logs once per change, and catches up
 * from the stored revision when space returns.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { encodeCommittedOffset } from "../../src/kafscale/encode.js";
import { keys } from "../../src/kafscale/keys.js";
import { realisticCluster, testEtcd, writeCluster } from "../support/fixtures.js";
import { useCleanups } from "../support/harness.js";
import { startServiceProcess, type ServiceProcess } from "../../bench/lib/service-process.js";
import { call, connect, type CallOutcome } from "../../bench/lib/mcp.js";
import { mountTmpfs } from "../support/tmpfs.js";

const { tempDir, defer } = useCleanups();

interface Answer {
  status: number;
  body: { topic_count?: number; freshness?: { stale: boolean; stale_reasons: string[]; revision: number } };
}

async function clusterStatus(service: ServiceProcess): Promise<Answer> {
  const res = await fetch(`${service.url}/api/v1/cluster`);
  return { status: res.status, body: (await res.json()) as Answer["body"] };
}

/** query_snapshot over MCP, as an agent calls it (one session per call). */
async function querySnapshot(service: ServiceProcess, sql: string): Promise<CallOutcome> {
  const client = await connect(service.url);
  try {
    return await call(client, "query_snapshot", { sql });
  } finally {
    await client.close();
  }
}

async function until<T>(probe: () => Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await probe();
    if (ok(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what}: not reached within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
}

/** A cluster in etcd, and the service's snapshot path on a fresh 16 MB tmpfs (unmounted in cleanup). */
async function clusterWithSnapshotOnTmpfs(prefix: string) {
  const etcd = testEtcd();
  defer(() => etcd.client.close());
  await writeCluster(etcd.keyspace, realisticCluster);
  const mnt = join(tempDir(prefix), "mnt");
  mkdirSync(mnt);
  const disk = mountTmpfs(mnt, 16);
  defer(() => disk.unmount());
  const env = {
    KAFSCALE_MCP_ETCD_ENDPOINTS: etcd.endpoint,
    KAFSCALE_MCP_ETCD_NAMESPACE: etcd.namespace,
    KAFSCALE_MCP_DB_PATH: join(mnt, "snapshot.db"),
    KAFSCALE_MCP_ENABLE_QUERY: "true",
  };
  return { etcd, disk, env };
}

describe("snapshot storage faults (tmpfs)", () => {
  it("survives a full disk (running and restarted), serving the last snapshot marked stale, and catches up when space returns", async () => {
    const { etcd, disk, env } = await clusterWithSnapshotOnTmpfs("kafscale-mcp-diskfull-");

    let service = await startServiceProcess("service", env);
    defer(() => service.stop());
    await until(() => service.readyz(), (r) => r.status === 200, "first sync");

    // The disk fills up, then Kafscale keeps committing offsets: new groups' too, so that catching up
    // needs new pages, not only room in pages the file already has (the lag history rewrites its
    // series in place since migration 8: three changed commits alone fit without growing the file).
    const filler = disk.fill();
    let last = 0;
    for (let i = 0; i < 300; i++) {
      const res = await etcd.keyspace
        .put(keys.committedOffset(i % 2 === 0 ? "billing" : `billing-${i}`, "orders", i % 3))
        .value(encodeCommittedOffset({ offset: 1000 + i, metadata: "", committedAt: "2026-11-24T09:00:00Z" }))
        .exec();
      last = Number(res.header.revision);
    }
    // Waits for the storage reason: on a busy machine a slow link probe can make /readyz 503 for a moment first.
    const storageReason = (r: { status: number; body: Record<string, unknown> }): boolean =>
      r.status === 503 && String(r.body.reason).startsWith("snapshot storage:");
    const full = await until(() => service.readyz(), storageReason, "/readyz 503 on a full disk");
    expect(String(full.body.reason)).toMatch(/^snapshot storage: disk full \(SQLITE_FULL\)/);
    const stale = await clusterStatus(service);
    expect(stale.status).toBe(200);
    expect(stale.body.topic_count).toBe(3);
    expect(stale.body.freshness?.stale).toBe(true);
    expect(stale.body.freshness?.stale_reasons.join("\n")).toMatch(/snapshot storage: disk full/);
    // Once per change of state, not once per refused write (there were hundreds).
    const failing = service.child.logs.filter((r) => r.msg === "snapshot storage failing");
    expect(failing.length).toBeGreaterThanOrEqual(1);
    expect(failing.length).toBeLessThanOrEqual(3);

    // query_snapshot's sandbox (its own read-only connection) still reads the file the store has open.
    expect(await querySnapshot(service, "SELECT count(*) AS n FROM topics")).toMatchObject({ ok: true, data: { rows: [[3]] } });

    // Restarted while the disk is still full: it comes up and serves the stored snapshot.
    await service.stop();
    expect(await service.child.exited).toEqual({ code: 0, signal: null });
    service = await startServiceProcess("service (disk full)", env);
    const restarted = await until(() => service.readyz(), storageReason, "/readyz after restart");
    expect(String(restarted.body.reason)).toMatch(/snapshot storage: (disk full|I\/O error)/);
    const served = await clusterStatus(service);
    expect(served.status).toBe(200);
    expect(served.body.topic_count).toBe(3);
    expect(served.body.freshness?.stale).toBe(true);
    // query_snapshot's sandbox reads the file beside the degraded store, and says the snapshot is stale.
    const query = await querySnapshot(service, "SELECT count(*) AS n FROM topics");
    expect(query).toMatchObject({ ok: true, data: { rows: [[3]], freshness: { stale: true } } });

    // Space returns: it catches up from its stored revision by itself.
    rmSync(filler);
    await until(() => service.readyz(), (r) => r.status === 200 && Number(r.body.revision) >= last, "catch-up", 120_000);
    await until(() => clusterStatus(service), (a) => a.body.freshness?.stale === false, "fresh answers");
    expect(service.child.logs.some((r) => r.msg === "snapshot storage writable again")).toBe(true);
    await service.stop();
    expect(await service.child.exited).toEqual({ code: 0, signal: null });

    const verify = spawnSync(process.execPath, ["--import", "tsx", "src/cli.ts", "verify", "--db", env.KAFSCALE_MCP_DB_PATH], {
      env: { ...process.env, ...env, KAFSCALE_MCP_LOG_LEVEL: "warn" },
      encoding: "utf8",
    });
    expect(verify.stdout).toContain("result: no differences");
    expect(verify.status).toBe(0);
  }, 300_000);

  it("serves a snapshot on a read-only filesystem read-only, saying so, instead of crash-looping", async () => {
    const { disk, env } = await clusterWithSnapshotOnTmpfs("kafscale-mcp-readonly-");
    let service = await startServiceProcess("service", env);
    await until(() => service.readyz(), (r) => r.status === 200, "first sync");
    await service.stop();

    disk.remount("ro");
    defer(() => disk.remount("rw"));
    service = await startServiceProcess("service (read-only)", env);
    defer(() => service.stop());
    const readyz = await until(() => service.readyz(), (r) => r.status === 503, "/readyz on a read-only file");
    expect(String(readyz.body.reason)).toMatch(/^snapshot storage: read-only \(SQLITE_/);
    const answer = await clusterStatus(service);
    expect(answer.status).toBe(200);
    expect(answer.body.topic_count).toBe(3);
    expect(answer.body.freshness?.stale_reasons.join("\n")).toMatch(/snapshot storage: read-only/);
    // query_snapshot too: its sandbox cannot read a WAL file in place there (no -shm can be created),
    // so it reads a copy in memory, as the store does (it used to fail with a stack trace).
    const query = await querySnapshot(service, "SELECT count(*) AS n FROM topics");
    expect(query).toMatchObject({ ok: true, data: { rows: [[3]], freshness: { stale: true } } });
    await service.stop();
    expect(await service.child.exited).toEqual({ code: 0, signal: null });
  }, 180_000);
});
