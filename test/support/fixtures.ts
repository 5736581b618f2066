/** A realistic small cluster (contract §1–§4) used by the integration and end-to-end tests. */
import { randomUUID } from "node:crypto";
import type { Etcd3, Namespace } from "etcd3";
import { createEtcdClient } from "../../src/sync/etcd/etcd-client.js";
import { inject } from "vitest";
import type { ClusterSpec } from "../../src/demo/cluster-spec.js";
import { buildClusterKvs } from "../../src/demo/cluster-spec.js";
import { putAll } from "../../src/cli/demo-seed.js";

export const realisticCluster: ClusterSpec = {
  clusterName: "kafscale",
  clusterId: "6f1c2d3e-0000-4000-8000-000000000001",
  brokers: 3,
  topics: [
    {
      name: "orders",
      partitions: 3,
      config: { retentionMs: 86_400_000, replicationFactor: 1 },
      endOffsets: [100, 200, 300],
      partitionStates: true,
      leases: [0, 1, null],
    },
    { name: "events", partitions: 2, config: {}, endOffsets: [50, 60] },
    { name: "audit", partitions: 1 },
  ],
  groups: [
    {
      id: "billing",
      state: "stable",
      generation: 3,
      members: [
        { id: "m1", assignments: { orders: [0, 1] } },
        { id: "m2", assignments: { orders: [2] } },
      ],
      offsets: { orders: [90, 200, 250] },
      leaseBroker: 1,
    },
    { id: "rebalancing", state: "preparing_rebalance", members: [{ id: "x1", assignments: { events: [0, 1] } }] },
    // Emptied group: Kafscale deleted its metadata key, the offsets live on.
    { id: "nightly-report", offsets: { events: [10, null] } },
  ],
};

/** A client for the shared etcd plus a fresh namespace, so test files never see each other's keys. */
export function testEtcd(endpoint: string = inject("etcdEndpoint")): {
  endpoint: string;
  client: Etcd3;
  namespace: string;
  keyspace: Namespace;
} {
  // The product's client factory, so tests run with the same gRPC options as the service.
  const client = createEtcdClient({
    endpoints: [endpoint],
    namespace: "",
    dialTimeoutMs: 5000,
    pageSize: 2000,
    backoffMaxMs: 15_000,
  });
  const namespace = `/test-${randomUUID()}`;
  return { endpoint, client, namespace, keyspace: client.namespace(namespace) };
}

/** Writes a spec into etcd (one put per key, as Kafscale would) and returns the last revision. */
export async function writeCluster(keyspace: Namespace, spec: ClusterSpec): Promise<number> {
  return await putAll(keyspace, buildClusterKvs(spec));
}
