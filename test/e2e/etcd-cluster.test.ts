/**
 * etcd as production runs it, on loopback: a three-member cluster losing its leader, and losing
 * its quorum; a single etcd frozen with SIGSTOP. What an agent sees (through the SDK client over
 * real HTTP) and what /readyz says, during the fault and after it heals.
 */
import { describe, expect, it, vi } from "vitest";
import { Etcd3 } from "etcd3";
import { createEtcdClient } from "../../src/sync/etcd/etcd-client.js";
import { startEtcd } from "../../bench/lib/etcd-process.js";
import { startEtcdCluster } from "../support/etcd-cluster.js";
import { clusterWriter, connectedService, orders0, readiness } from "../support/cluster-service.js";
import { useCleanups } from "../support/harness.js";

const { defer } = useCleanups();

/**
 * The product's client sends etcd's require-leader metadata: on a member without a leader, a read
 * and a watch fail at once with "no leader", where a plain client waits for its deadline.
 */
async function expectRequireLeader(endpoint: string): Promise<void> {
  // Once the member itself knows it has no leader (one election timeout without heartbeats).
  await vi.waitFor(async () => {
    const health = (await (await fetch(`${endpoint}/health`)).json()) as { health: string };
    expect(health.health).toBe("false");
  }, 10_000);
  const deadline = (): { deadline: Date } => ({ deadline: new Date(Date.now() + 1000) });
  const product = createEtcdClient({ endpoints: [endpoint], namespace: "", dialTimeoutMs: 2000, pageSize: 1, backoffMaxMs: 1 });
  const plain = new Etcd3({ hosts: [endpoint] });
  try {
    await expect(product.get("/kafscale/").options(deadline()).exec()).rejects.toThrow(/no leader/);
    await expect(plain.get("/kafscale/").options(deadline()).exec()).rejects.not.toThrow(/no leader/);
    const watcher = product.watch().prefix("/kafscale/").watcher();
    await expect(new Promise((_, reject) => watcher.on("disconnected", reject).on("error", reject))).rejects.toThrow(
      /no leader/,
    );
    await watcher.cancel();
  } finally {
    product.close();
    plain.close();
  }
}

describe("a three-member etcd cluster", () => {
  it("leader killed: the watch moves to another member and a new commit is visible soon after", async () => {
    const cluster = await startEtcdCluster();
    defer(() => cluster.destroy());
    const leader = await cluster.leaderIndex();
    // The service dials the leader first, so killing it takes the watch's own member away.
    const order = [leader, ...[0, 1, 2].filter((i) => i !== leader)];
    const writer = await clusterWriter(cluster.endpoints);
    defer(() => writer.close());
    const endpoints = order.map((i) => cluster.endpoints[i] as string);
    const { service, client } = await connectedService(endpoints, writer.namespace, {}, defer);

    await cluster.members[leader]?.stop("SIGKILL");
    const revision = await writer.putEndOffset(4242);
    await service.sync?.waitForRevision(revision, 15_000);
    const answer = await vi.waitFor(async () => {
      const a = await orders0(client);
      expect(a.freshness).toMatchObject({ etcd_link: "connected", stale: false });
      return a;
    }, 10_000);
    expect(answer.endOffset).toBe(4242);
    expect(answer.freshness.revision).toBeGreaterThanOrEqual(revision);
    expect(service.store.syncState.get().resyncCount).toBe(0);
  });

  it("quorum lost (two members stopped): answers stale with the reason, /readyz 503; regained: caught up", async () => {
    const cluster = await startEtcdCluster();
    defer(() => cluster.destroy());
    const writer = await clusterWriter(cluster.endpoints);
    defer(() => writer.close());
    await writer.putEndOffset(100);
    const { service, client } = await connectedService(cluster.endpoints, writer.namespace, {}, defer);

    await Promise.all([cluster.members[1]?.stop("SIGKILL"), cluster.members[2]?.stop("SIGKILL")]);
    const during = await vi.waitFor(async () => {
      const a = await orders0(client);
      expect(a.freshness.stale).toBe(true);
      expect(a.freshness.etcd_link).not.toBe("connected");
      return a;
    }, 10_000);
    // Still answering from the last good snapshot, and saying why it cannot vouch for it.
    expect(during.endOffset).toBe(100);
    expect(during.freshness.stale_reasons.join("; ")).toMatch(/etcd (cannot be reached|link \w+) since/);
    expect(during.freshness.etcd_last_error).toMatch(/no leader|did not answer in time|refused the connection/);
    const notReady = await readiness(service);
    expect(notReady.status).toBe(503);
    expect(notReady.reason).toMatch(/^etcd /);
    await expectRequireLeader(cluster.endpoints[0] as string);

    await Promise.all([cluster.members[1]?.start(), cluster.members[2]?.start()]);
    await cluster.waitHealthy();
    const revision = await writer.putEndOffset(200);
    await service.sync?.waitForRevision(revision, 20_000);
    await vi.waitFor(async () => {
      const a = await orders0(client);
      expect(a).toMatchObject({ endOffset: 200, freshness: { stale: false, etcd_link: "connected" } });
    }, 10_000);
    expect((await readiness(service)).status).toBe(200);
  });
});

describe("a frozen etcd (SIGSTOP)", () => {
  it("reads as reconnecting within the probe deadline, not 'connected' for 30 s, and recovers on SIGCONT", async () => {
    const etcd = await startEtcd();
    defer(() => etcd.destroy());
    const writer = await clusterWriter([etcd.endpoint]);
    defer(() => writer.close());
    // FAST_LINK: probe every 200 ms with a 1 s deadline. With the defaults (5 s + 3 s) a stall shows
    // within 8 s; the old probe waited for the 30 s request deadline whatever its interval.
    const { service, client } = await connectedService([etcd.endpoint], writer.namespace, {}, defer);

    process.kill(etcd.pid, "SIGSTOP");
    let resumed = false;
    const resume = (): void => {
      if (!resumed) process.kill(etcd.pid, "SIGCONT");
      resumed = true;
    };
    defer(resume);
    const frozen = await vi.waitFor(async () => {
      const a = await orders0(client);
      expect(a.freshness.etcd_link).toBe("reconnecting");
      return a;
    }, { timeout: 10_000, interval: 100 });
    expect(frozen.freshness.stale).toBe(true);
    expect(frozen.freshness.etcd_last_error).toMatch(/did not answer in time|not established/);
    expect((await readiness(service)).status).toBe(503);

    resume();
    const revision = await writer.putEndOffset(777);
    await service.sync?.waitForRevision(revision, 20_000);
    await vi.waitFor(async () => {
      expect(await orders0(client)).toMatchObject({ endOffset: 777, freshness: { etcd_link: "connected", stale: false } });
    }, 20_000);
  });
});
