import { createStore } from "/work/wt/lag/src/store/index.js";
const store = createStore(process.argv[2]!);
const t = performance.now();
const run = await store.lag.evaluator.run();
console.log("full evaluation", Math.round(performance.now() - t), "ms", run.partitions);
store.close();
