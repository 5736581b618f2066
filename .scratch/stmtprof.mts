import Database from "better-sqlite3";
const times = new Map<string, { ms: number; n: number }>();
const probe = new Database(":memory:");
const proto = Object.getPrototypeOf(probe.prepare("SELECT 1"));
for (const m of ["run", "get", "all", "iterate"]) {
  const orig = proto[m];
  proto[m] = function (this: any, ...args: any[]) {
    const t = performance.now();
    try { return orig.apply(this, args); } finally {
      const key = (this.source as string).replace(/\s+/g, " ").slice(0, 90);
      const e = times.get(key) ?? { ms: 0, n: 0 }; e.ms += performance.now() - t; e.n++; times.set(key, e);
    }
  };
}
const { createStore } = await import("/work/wt/lag/src/store/index.js");
const store = createStore(process.argv[2]!);
const t = performance.now();
await store.lag.evaluator.run();
console.log("total", Math.round(performance.now() - t));
for (const [k, v] of [...times].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12)) console.log(v.ms.toFixed(0).padStart(6), String(v.n).padStart(7), k);
store.close();
