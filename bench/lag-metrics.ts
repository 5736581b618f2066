/**
 * What a Prometheus scrape of /metrics/lag costs at the benchmark sizes: the generated cluster
 * (bench/lib/generator.ts: at L 2,000 groups, 200k committed offsets) loaded into a snapshot file,
 * the lag evaluator run once (so the statuses and time lags exist), then scrapes over real HTTP
 * (express + the service's own handler; curl reads the response to the end), group-level and
 * partition-level. Reports each kind's median and slowest of `--runs` scrapes: this process's CPU
 * time per scrape served (the work itself: on a shared, busy machine wall time also holds the time
 * the OS gave to other processes), the wall time (what Prometheus waits), the CPU time of the render
 * alone (no socket), the series count and the response size.
 *
 *   npx tsx bench/lag-metrics.ts [--size S|M|L] [--runs N]
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { availableParallelism, loadavg, tmpdir } from "node:os";
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
// The load and the evaluation leave a large WAL that a worker thread folds back into the file
// (src/store/checkpoint-worker.ts); its CPU time would count in this process's CPU per scrape.
const wal = join(dir, "snapshot.db-wal");
const walWaitStarted = performance.now();
while (existsSync(wal) && statSync(wal).size > 16 * 1024 * 1024 && performance.now() - walWaitStarted < 90_000) {
  await new Promise((resolve) => setTimeout(resolve, 500));
}
const walWaitMs = performance.now() - walWaitStarted;

const app = express();
const configs: Record<string, LagMetricsConfig> = {
  group: { partitions: false, auth: "none" },
  partition: { partitions: true, auth: "none" },
};
for (const [kind, config] of Object.entries(configs)) {
  app.get(`/${kind}`, lagMetricsHandler(store.lag.series, config, Date.now, (err) => { throw err; }));
}
// What a scrape costs this process besides the series (spawning curl, accepting the connection).
app.get("/empty", (_req, res) => {
  res.status(204).end();
});
const server = app.listen(0, "127.0.0.1");
await new Promise((resolve) => server.once("listening", resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

/**
 * One scrape by curl, another process on a new connection each time (as Prometheus: one scrape per
 * interval): this process only serves, so its CPU time over the scrape is the server's work
 * (reading, rendering, writing to the socket). An in-process client would add its own parsing, and
 * the CPU loop below once blocked its keep-alive connection past the server's keepAliveTimeout,
 * which reset the next scrape (ECONNRESET; docs/BENCHMARKS.md).
 */
function curl(url: string): Promise<{ wallMs: number; cpuMs: number; bytes: number }> {
  const started = performance.now();
  const before = process.cpuUsage();
  return new Promise((resolve, reject) => {
    const child = spawn("curl", ["--silent", "--show-error", "--fail", "--output", "/dev/null", "--write-out", "%{size_download}", url]);
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      const used = process.cpuUsage(before);
      if (code !== 0) reject(new Error(`curl ${url} exited ${code}: ${err}`));
      else resolve({ wallMs: performance.now() - started, cpuMs: (used.user + used.system) / 1000, bytes: Number(out) });
    });
  });
}

const loadNow = (): string => loadavg().map((l) => l.toFixed(1)).join(" ");
console.log(
  `load average ${loadNow()} on ${availableParallelism()} cores; size ${size}: ${shape.groups} groups, ${cluster.keyCounts.committed_offset ?? "?"} committed offsets, ` +
    `${shape.partitions} partitions; lag evaluation ${evaluationMs.toFixed(0)} ms; ${(walWaitMs / 1000).toFixed(1)} s until the WAL was ` +
    `${existsSync(wal) ? `${(statSync(wal).size / 1048576).toFixed(1)} MiB` : "gone"}; ${runs} scrapes each (after one warm-up)`,
);
const fmt = (xs: number[]): string => `median ${median(xs).toFixed(1)}, slowest ${Math.max(...xs).toFixed(1)} ms`;
const overhead: number[] = [];
for (let i = 0; i < runs; i++) overhead.push((await curl(`${base}/empty`)).cpuMs);
console.log(`an empty response costs this process ${fmt(overhead)} of CPU (curl's spawn, the connection): included below`);
for (const [kind, config] of Object.entries(configs)) {
  await curl(`${base}/${kind}`);
  const wall: number[] = [];
  const served: number[] = [];
  let bytes = 0;
  for (let i = 0; i < runs; i++) {
    const scrape = await curl(`${base}/${kind}`);
    wall.push(scrape.wallMs);
    served.push(scrape.cpuMs);
    bytes = scrape.bytes;
  }
  // The render alone (read + text, no socket), and the series it has.
  const render: number[] = [];
  let series = 0;
  for (let i = 0; i < runs; i++) {
    const before = process.cpuUsage();
    renderLagMetrics(store.lag.series, config, Date.now(), () => {});
    const used = process.cpuUsage(before);
    render.push((used.user + used.system) / 1000);
  }
  renderLagMetrics(store.lag.series, config, Date.now(), (chunk) => {
    for (const line of chunk.toString("latin1").split("\n")) if (line !== "" && !line.startsWith("#")) series++;
  });
  console.log(
    `${kind}-level scrape (load ${loadNow()}): CPU per scrape served over HTTP ${fmt(served)}; wall ${fmt(wall)}; ` +
      `render alone CPU ${fmt(render)}; ${series} series, ${(bytes / 1024 / 1024).toFixed(2)} MiB`,
  );
}
server.close();
store.close();
rmSync(dir, { recursive: true, force: true });
