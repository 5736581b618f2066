/**
 * A realistic small cluster (contract §1–§4) shared by every test layer: the fast tool tests load
 * it straight into a store, the integration and end-to-end tests write it into a real etcd.
 */
import type { ClusterSpec } from "../../src/demo/cluster-spec.js";

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
