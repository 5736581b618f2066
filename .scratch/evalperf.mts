import { generateCluster } from "/work/wt/lag/bench/lib/generator.js";
import { SHAPES } from "/work/wt/lag/bench/lib/sizes.js";
import { createStore } from "/work/wt/lag/src/store/index.js";
import { rmSync } from "node:fs";
const size = (process.argv[2] ?? "M") as "M" | "L";
const path = `/tmp/evalperf-${size}.db`;
rmSync(path, { force: true }); rmSync(path + "-wal", { force: true }); rmSync(path + "-shm", { force: true });
const cluster = generateCluster(SHAPES[size]);
const store = createStore(path);
let t = performance.now();
const load = store.writer.beginResync();
for (let i = 0; i < cluster.kvs.length; i += 10000) {
  load.addPage(cluster.kvs.slice(i, i + 10000).map((kv) => ({ type: "put" as const, key: kv.key, value: kv.value, modRevision: 2, createRevision: 2, version: 1, lease: "0" })));
}
load.commit(2);
console.log(size, "load", Math.round(performance.now() - t), "ms", cluster.kvs.length, "keys");
t = performance.now();
const run = await store.lag.evaluator.run();
console.log("full evaluation", Math.round(performance.now() - t), "ms", run);
t = performance.now();
const run2 = await store.lag.evaluator.run();
console.log("idle evaluation", Math.round(performance.now() - t), "ms", run2.groups);
const reads = store.lag.reads;
for (const sort of ["attention", "lag", "time_lag", "trend"] as const) {
  const ts: number[] = [];
  for (let i = 0; i < 30; i++) { const s = performance.now(); reads.consistent(() => reads.sortedGroups({}, sort, 51)); ts.push(performance.now() - s); }
  ts.sort((a, b) => a - b);
  console.log("sortedGroups", sort, "p50", ts[15].toFixed(2), "ms");
}
{
  const ts: number[] = [];
  const topic = cluster.handles.describeTopics[0]!;
  for (let i = 0; i < 30; i++) { const s = performance.now(); reads.topicGroups(topic, Date.now()); ts.push(performance.now() - s); }
  ts.sort((a, b) => a - b);
  console.log("topicGroups p50", ts[15].toFixed(2), "ms");
}
store.close();
