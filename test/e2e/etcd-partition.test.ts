/**
 * The member the service reads from is cut off from its two peers while its client port stays
 * reachable (each member in its own network namespace; iptables rules only inside them). It still
 * answers Status and serializable reads with the old data, so only a currency proof (linearizable
 * probe, require-leader watch) tells. Needs root, ip and iptables: missing ones fail with a hint.
 */
import { describe, expect, it, vi } from "vitest";
import { Etcd3 } from "etcd3";
import { silentLogger } from "../../src/log.js";
import { createStore } from "../../src/store/index.js";
import { verifySnapshot } from "../../src/sync/etcd/verify.js";
import { startEtcdCluster, type EtcdCluster } from "../support/etcd-cluster.js";
import { clusterWriter, connectedService, orders0, readiness, type Writer } from "../support/cluster-service.js";
import { useCleanups } from "../support/harness.js";

const { defer, tempDbPath } = useCleanups();

async function partitionedCluster(): Promise<{ cluster: EtcdCluster; writer: Writer }> {
  const cluster = await startEtcdCluster({ network: "netns" });
  defer(() => cluster.destroy());
  // The test writes through the two members that stay together.
  const writer = await clusterWriter(cluster.endpoints.slice(1));
  defer(() => writer.close());
  return { cluster, writer };
}

/** Cuts member 0 off (healed after the test) and commits 200 on the majority; returns its revision. */
async function isolateAndCommit(cluster: EtcdCluster, writer: Writer): Promise<number> {
  cluster.isolate(0);
  defer(() => cluster.heal(0));
  return writer.putEndOffset(200);
}

/** `verify` of the service's snapshot file against the majority: no difference. */
async function expectVerifyClean(path: string, endpoints: string[], namespace: string): Promise<void> {
  const store = createStore(path);
  const client = new Etcd3({ hosts: endpoints });
  try {
    const report = await verifySnapshot({ store, client, keyspace: client.namespace(namespace), logger: silentLogger });
    expect(report.problems).toEqual([]);
    expect(report.differences).toBe(0);
  } finally {
    client.close();
    store.close();
  }
}

describe("the service's etcd member partitioned from its peers", () => {
  it("given only that member: stale within 10 s with the reason, /readyz 503; healed: caught up, verify clean", async () => {
    const { cluster, writer } = await partitionedCluster();
    await writer.putEndOffset(100);
    const path = tempDbPath();
    const endpoints = [cluster.endpoints[0] as string];
    const { service, client } = await connectedService(endpoints, writer.namespace, { KAFSCALE_MCP_DB_PATH: path }, defer);
    // The majority moves on; the isolated member still holds 100.
    const revision = await isolateAndCommit(cluster, writer);
    const stale = await vi.waitFor(
      async () => {
        const a = await orders0(client);
        expect(a.freshness.stale).toBe(true);
        return a;
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(stale.endOffset).toBe(100);
    expect(stale.freshness.etcd_link).not.toBe("connected");
    expect(stale.freshness.stale_reasons.join("; ")).toMatch(/^etcd (cannot be reached|link \w+) since/);
    expect(stale.freshness.etcd_last_error).toMatch(/no leader|did not answer in time/);
    expect(stale.freshness.etcd_last_error).not.toMatch(/127\.0\.0\.1|10\.99\./);
    const notReady = await readiness(service);
    expect(notReady.status).toBe(503);

    cluster.heal(0);
    await service.sync?.waitForRevision(revision, 30_000);
    await vi.waitFor(async () => {
      expect(await orders0(client)).toMatchObject({ endOffset: 200, freshness: { stale: false, etcd_link: "connected" } });
    }, 20_000);
    expect((await readiness(service)).status).toBe(200);
    expect(service.store.syncState.get().resyncCount).toBe(0);
    await expectVerifyClean(path, cluster.endpoints.slice(1), writer.namespace);
  });

  it("given all three endpoints: never answers the old value as fresh, resumes on another member within 10 s", async () => {
    const { cluster, writer } = await partitionedCluster();
    await writer.putEndOffset(100);
    const path = tempDbPath();
    // The service dials the first endpoint first: that is the member to cut off.
    const env = { KAFSCALE_MCP_DB_PATH: path };
    const { service, client } = await connectedService(cluster.endpoints, writer.namespace, env, defer);
    const revision = await isolateAndCommit(cluster, writer);
    const committedAt = Date.now();
    const caughtUp = await vi.waitFor(
      async () => {
        const a = await orders0(client);
        // The old value may be served while the probe has not yet failed; past the probe budget
        // (200 ms interval + 1 s deadline, well inside 10 s) it must be marked stale.
        if (a.endOffset === 100 && Date.now() - committedAt > 5000) expect(a.freshness.stale).toBe(true);
        expect(a).toMatchObject({ endOffset: 200, freshness: { stale: false, etcd_link: "connected" } });
        // The writer's put may have been retried (its first attempt timed out on a busy machine but
        // committed): the same value then lands twice, and the answer catches up to the last one.
        expect(a.freshness.revision).toBeGreaterThanOrEqual(revision);
        return a;
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(caughtUp.freshness.revision).toBeGreaterThanOrEqual(revision);
    expect(service.store.syncState.get().resyncCount).toBe(0);
    await expectVerifyClean(path, cluster.endpoints.slice(1), writer.namespace);
  });

  it("given one Service address in front of all members: a new connection lands on a healthy member", async () => {
    const { cluster, writer } = await partitionedCluster();
    await writer.putEndOffset(100);
    // Round robin per connection, as kube-proxy: the service's first connection lands on member 0.
    const address = await cluster.serviceAddress();
    const { service, client } = await connectedService([address], writer.namespace, {}, defer);
    const revision = await isolateAndCommit(cluster, writer);
    await service.sync?.waitForRevision(revision, 10_000);
    await vi.waitFor(async () => {
      expect(await orders0(client)).toMatchObject({ endOffset: 200, freshness: { stale: false, etcd_link: "connected" } });
    }, 10_000);
  });
});
