import { rmSync } from "node:fs";
import { buildClusterKvs } from "/work/wt/lag/src/demo/cluster-spec.js";
import { createStore } from "/work/wt/lag/src/store/index.js";
import { applyToStore, commitWrite, endWrite } from "/work/wt/lag/test/support/lag-script.js";
const path = "/tmp/chart.db";
for (const f of [path, path + "-wal", path + "-shm"]) rmSync(f, { force: true });
const T0 = Date.parse("2026-11-26T10:00:00Z");
let now = T0;
const store = createStore(path, { now: () => now });
const spec = { clusterName: "c", clusterId: "c", brokers: 1, at: "2026-11-26T10:00:00Z",
  topics: [{ name: "orders", partitions: 2, endOffsets: [0, 0] }],
  groups: [{ id: "billing", state: "stable" as const, members: [{ id: "m1", assignments: { orders: [0, 1] } }], offsets: { orders: [0, 0] } }] };
const load = store.writer.beginResync();
load.addPage(buildClusterKvs(spec).map((kv) => ({ type: "put" as const, key: kv.key, value: kv.value, modRevision: 1, createRevision: 1, version: 1, lease: "0" })));
load.commit(1);
let rev = 1;
for (let t = 5; t <= 60; t += 5) {
  now = T0 + t * 1000;
  applyToStore(store, [endWrite("orders", 0, 100 * t), endWrite("orders", 1, 100 * t), commitWrite("billing", "orders", 0, 50 * t, now), commitWrite("billing", "orders", 1, 100 * t - 200, now)], ++rev, now);
}
await store.lag.evaluator.run();
store.close();
