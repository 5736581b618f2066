/**
 * What a Prometheus scrape of /metrics/lag costs at the benchmark sizes: the generated cluster
 * (bench/lib/generator.ts: at L 2,000 groups, 200k committed offsets) loaded into a snapshot file,
 * the lag evaluator run once (so the statuses and time lags exist), then scrapes over real HTTP
 * (express + the service's own handler, the response read to the end), group-level and
 * partition-level. Reports each kind's median and slowest of `--runs` scrapes (wall time, what
 * Prometheus waits), the CPU time of one render in this process (the work itself: on a shared, busy
 * machine wall time also holds the time the OS gave to other processes), the series count and the
 * response size.
 *
 *   npx tsx bench/lag-metrics.ts [--size S|M|L] [--runs N]
 */
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import express from "express";
import type { LagMetricsConfig } from "../src/config.js";
import { lagMetricsHandler, renderLagMetrics } from "../src/http/lag-metrics.js";
import { createStore } from "../src/store/index.js";
import { generateCluster } from "./lib/generator.js";
import { loadKeys } from "./lib/snapshot-store.js";
import { isSizeName, SHAPES } from "./lib/sizes.js";

const { values } = parseArgs({ options: { size: { type: "string", default: "S" }, runs: { type: "string", default: "10" } } });
const size = (values.size ?? "S").toUpperCase();
if (!isSizeName(size)) throw new Error(`--size must be S, M or L, got ${values.size}`);
const runs = Number(values.runs);

const dir = mkdtempSync(join(tmpdir(), "kafscale-mcp-lag-metrics-bench-"));
const at = Date.now();
const shape = SHAPES[size];
const cluster = generateCluster(shape);
const store = createStore(join(dir, "snapshot.db"), { now: () => at });
await loadKeys(store, cluster.kvs, at);
const evaluated = performance.now();
await store.lag.evaluator.run();
const evaluationMs = performance.now() - evaluated;

const app = express();
const configs: Record<string, LagMetricsConfig> = {
  group: { partitions: false, auth: "none" },
  partition: { partitions: true, auth: "none" },
};
for (const [kind, config] of Object.entries(configs)) {
  app.get(`/${kind}`, lagMetricsHandler(store.lag.series, config, Date.now, (err) => { throw err; }));
}
const server = app.listen(0, "127.0.0.1");
await new Promise((resolve) => server.once("listening", resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

const load = (await import("node:os")).loadavg()[0]?.toFixed(1);
console.log(
  `load average ${load} on ${(await import("node:os")).availableParallelism()} cores; size ${size}: ${shape.groups} groups, ${cluster.keyCounts.committed_offset ?? "?"} committed offsets, ` +
    `${shape.partitions} partitions; lag evaluation ${evaluationMs.toFixed(0)} ms; ${runs} scrapes each (after one warm-up)`,
);
for (const kind of Object.keys(configs)) {
  await (await fetch(`${base}/${kind}`)).text();
  const times: number[] = [];
  let text = "";
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    text = await (await fetch(`${base}/${kind}`)).text();
    times.push(performance.now() - started);
  }
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const before = process.cpuUsage();
    store.lag.series.consistent(() => renderLagMetrics(store.lag.series, configs[kind] as LagMetricsConfig, Date.now(), () => {}));
    const used = process.cpuUsage(before);
    cpu.push((used.user + used.system) / 1000);
  }
  const series = text.split("\n").filter((l) => l !== "" && !l.startsWith("#")).length;
  console.log(
    `${kind}-level scrape: median ${median(times).toFixed(1)} ms, slowest ${Math.max(...times).toFixed(1)} ms wall over HTTP; ` +
      `render CPU median ${median(cpu).toFixed(1)} ms, slowest ${Math.max(...cpu).toFixed(1)} ms; ` +
      `${series} series, ${(Buffer.byteLength(text) / 1024 / 1024).toFixed(2)} MiB`,
  );
}
server.close();
store.close();
rmSync(dir, { recursive: true, force: true });
