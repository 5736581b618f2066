/**
 * Lag history across a restart, end to end: a producer/consumer timeline written into a real etcd and
 * watched by the real service into a snapshot file; the service stops and a new one starts on the
 * same file. The history must come back exactly as it was (it is written in the same transactions
 * as the offsets), stay bounded by the window however many samples arrive, and give the same
 * verdicts through the SDK client after the restart as before it.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { Database } from "../../src/store/sqlite-driver.js";
import { afterAll, describe, expect, it } from "vitest";
import type { ClusterSpec } from "../../src/demo/cluster-spec.js";
import type { RunningService } from "../../src/service.js";
import { testClock } from "../support/clock.js";
import { testEtcd, writeCluster } from "../support/fixtures.js";
import { useCleanups } from "../support/harness.js";
import { commitWrite, endWrite, writeToEtcd } from "../support/lag-script.js";
import { callTool, connectClient, startTestService } from "../support/service.js";

const { tempDbPath } = useCleanups();

const WINDOW = 5;
const STEP = 5;

/** Every kept point, in a stable order, read from the file while no service has it open. */
function historyOf(path: string): { ends: unknown[]; commits: unknown[] } {
  const db = new Database(path, { readonly: true });
  try {
    return {
      ends: db.prepare("SELECT topic, partition, at, end_offset FROM lag_end_offset_points ORDER BY topic, partition, at").all(),
      commits: db
        .prepare("SELECT group_id, topic, partition, at, committed_offset FROM lag_commit_points ORDER BY group_id, topic, partition, at")
        .all(),
    };
  } finally {
    db.close();
  }
}

describe("lag history across a restart (real etcd, snapshot file)", () => {
  const etcd = testEtcd();
  const running: { service?: RunningService; client?: Client } = {};
  /** Stops the client and the service (a restart's first half, and the cleanup). */
  const stop = async (): Promise<void> => {
    await running.client?.close();
    await running.service?.close();
    running.client = undefined;
    running.service = undefined;
  };
  afterAll(async () => {
    await stop();
    etcd.client.close();
  });

  it("comes back exactly as it was, stays bounded by the window, and gives the same verdicts", async () => {
    const clock = testClock({ frozen: true });
    const start = clock.now();
    const path = tempDbPath();
    const spec: ClusterSpec = {
      clusterName: "lag",
      clusterId: "lag-restart",
      brokers: 1,
      topics: [{ name: "orders", partitions: 2, endOffsets: [0, 0] }],
      groups: [{ id: "growing", offsets: { orders: [0, 0] } }],
      at: new Date(start).toISOString(),
    };
    await writeCluster(etcd.keyspace, spec);
    const env = { KAFSCALE_MCP_DB_PATH: path, KAFSCALE_MCP_LAG_SAMPLE_INTERVAL: `${STEP}s`, KAFSCALE_MCP_LAG_WINDOW: String(WINDOW) };
    const start1 = async (): Promise<RunningService> => {
      running.service = await startTestService(etcd.endpoint, etcd.namespace, env, { now: clock.now });
      await running.service.sync?.ready();
      return running.service;
    };
    /** One sample interval later: every partition produced 100/s, the group consumed 50/s. */
    const tick = async (service: RunningService, t: number): Promise<void> => {
      clock.advance(STEP * 1000);
      const at = start + t * 1000;
      const revision = await writeToEtcd(etcd.keyspace, [
        endWrite("orders", 0, 100 * t),
        endWrite("orders", 1, 100 * t),
        commitWrite("growing", "orders", 0, 50 * t, at),
        commitWrite("growing", "orders", 1, 50 * t, at),
      ]);
      await service.sync?.waitForRevision(revision);
    };

    let service = await start1();
    // Three times the window of samples: each series keeps only the last WINDOW.
    for (let t = STEP; t <= 3 * WINDOW * STEP; t += STEP) await tick(service, t);
    await service.store.lag.evaluator.run();
    running.client = await connectClient(service.url as string);
    const before = await callTool<any>(running.client, "consumer_lag", { group: "growing" });
    await stop();

    const kept = historyOf(path);
    expect(kept.ends).toHaveLength(2 * WINDOW);
    expect(kept.commits).toHaveLength(2 * WINDOW);
    // The newest WINDOW points of each series: 55 s to 75 s.
    expect((kept.commits as { at: number }[]).slice(0, WINDOW).map((p) => (p.at - start) / 1000)).toEqual([55, 60, 65, 70, 75]);

    service = await start1();
    expect(historyOf(path)).toEqual(kept);
    await service.store.lag.evaluator.run();
    running.client = await connectClient(service.url as string);
    const after = await callTool<any>(running.client, "consumer_lag", { group: "growing" });
    expect(after.groups).toEqual(before.groups);
    expect(after.groups[0]).toMatchObject({ status: "WARN", trend: "growing", window: { points: 4 * WINDOW, complete: true } });
    expect(after.groups[0].velocity).toEqual({ consumed_per_second: 100, produced_per_second: 200 });

    // More samples after the restart: still bounded, the oldest points make room.
    for (let t = 3 * WINDOW * STEP + STEP; t <= 4 * WINDOW * STEP; t += STEP) await tick(service, t);
    await stop();
    const later = historyOf(path);
    expect(later.ends).toHaveLength(2 * WINDOW);
    expect(later.commits).toHaveLength(2 * WINDOW);
    expect((later.ends as { at: number }[]).slice(0, WINDOW).map((p) => (p.at - start) / 1000)).toEqual([80, 85, 90, 95, 100]);
  });
});
