/**
 * The bundled demo cluster: what `kafscale-mcp demo` serves. A realistic Kafscale layout (three
 * brokers, topics with and without configs, groups in several states, one emptied group known only
 * from its offsets, lag), loaded through the same decoders and store as live etcd data.
 */
import type { Store } from "../store/index.js";
import type { KvChange } from "../kafscale/records.js";
import { buildClusterKvs, type ClusterSpec, type KeyValue } from "./cluster-spec.js";

const ramp = (n: number, base: number, step: number): number[] => Array.from({ length: n }, (_, i) => base + i * step);

export const demoCluster: ClusterSpec = {
  clusterName: "kafscale-demo",
  clusterId: "00000000-demo-4000-8000-000000000001",
  brokers: 3,
  at: "2026-11-24T08:00:00Z",
  topics: [
    { name: "orders", partitions: 6, config: { retentionMs: 604_800_000 }, endOffsets: ramp(6, 120_000, 1_500), leases: [0, 1, 2, 0, 1, 2], partitionStates: true },
    { name: "payments", partitions: 3, config: { retentionMs: 2_592_000_000, retentionBytes: 10_737_418_240 }, endOffsets: [48_210, 47_995, 48_871], leases: [0, 1, 2] },
    { name: "clickstream", partitions: 12, config: { retentionMs: 86_400_000, segmentBytes: 268_435_456 }, endOffsets: ramp(12, 2_400_000, 37_000) },
    { name: "inventory-updates", partitions: 4, config: {}, endOffsets: [9_120, 9_004, 8_877, 9_310] },
    { name: "audit-log", partitions: 1, endOffsets: [3_341] },
  ],
  groups: [
    {
      id: "billing-service",
      state: "stable",
      generation: 12,
      members: [
        { id: "billing-service-7d9f-0", assignments: { payments: [0, 1], orders: [0, 1, 2] } },
        { id: "billing-service-7d9f-1", assignments: { payments: [2], orders: [3, 4, 5] } },
      ],
      offsets: { payments: [48_210, 47_990, 48_860], orders: ramp(6, 119_990, 1_500) },
      leaseBroker: 1,
    },
    {
      id: "analytics-etl",
      state: "stable",
      generation: 4,
      members: [{ id: "analytics-etl-5c1b-0", assignments: { clickstream: ramp(12, 0, 1) } }],
      offsets: { clickstream: ramp(12, 2_251_000, 36_500) },
      leaseBroker: 0,
    },
    {
      id: "fraud-detector",
      state: "preparing_rebalance",
      generation: 31,
      members: [{ id: "fraud-detector-a1-0", assignments: { payments: [0, 1, 2] } }],
      offsets: { payments: [47_100, 46_950, null] },
      leaseBroker: 2,
    },
    { id: "inventory-sync", state: "empty", offsets: { "inventory-updates": [9_120, 9_004, 8_877, 9_310] } },
    // Emptied group: Kafscale deleted its metadata key; its offsets (and lag) live on.
    { id: "nightly-report", offsets: { orders: [100_000, 101_500, 103_000, 104_500, 106_000, 107_500] } },
  ],
};

/**
 * Loads key/values into the store as one full sync, as if etcd held exactly these keys: each key at
 * its own revision, the snapshot at revision = number of keys + 1. Returns that revision.
 */
export function loadKeyValues(store: Store, kvs: readonly KeyValue[], now: number = Date.now()): number {
  const changes: KvChange[] = kvs.map((kv, i) => ({
    type: "put",
    key: kv.key,
    value: kv.value,
    modRevision: i + 2,
    createRevision: i + 2,
    version: 1,
    lease: "0",
  }));
  const revision = kvs.length + 1;
  const session = store.writer.beginResync();
  session.addPage(changes);
  session.commit(revision, now);
  return revision;
}

/** Loads the keys a cluster spec implies (see {@link loadKeyValues}); tests load their fixtures this way. */
export function loadClusterSpec(store: Store, spec: ClusterSpec, now?: number): number {
  return loadKeyValues(store, buildClusterKvs(spec), now);
}

/**
 * Loads the demo cluster into the store (see {@link loadClusterSpec}), labelled "demo". A store that
 * already holds a snapshot of a live cluster is refused, never overwritten (`demo --db` pointed at the
 * service's own file by mistake); an earlier demo snapshot is replaced.
 */
export function loadDemoCluster(store: Store, spec: ClusterSpec = demoCluster): number {
  const existing = store.syncState.get();
  if (existing.revision > 0 && existing.source !== "demo") {
    throw new Error(
      `${store.path} holds a snapshot of a live cluster (source ${existing.source}, revision ${existing.revision}); ` +
        "the demo will not overwrite it. Choose another file for the demo snapshot.",
    );
  }
  const revision = loadClusterSpec(store, spec);
  store.syncState.setSource("demo");
  return revision;
}
