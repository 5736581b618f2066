/**
 * Can this machine host the freshness phase at all? The freshness writer of `bench/run.ts`
 * (bench/lib/writer-process.ts, same process, same keys, same rate) against an etcd of its own with
 * **no service watching**: etcd's put latency and the writer's CPU then say what the machine gives
 * before our service takes any share. The put-to-visible target (p99 ≤ 50 ms at 2,000 writes/s) is
 * only meaningful where etcd alone acknowledges those puts in a few ms; on a day when it takes
 * 100+ ms, every version of the service misses (docs/BENCHMARKS.md compares them on the same day).
 *
 * Each rate gets the harness's warm-up first (3 s at that rate, not measured; writer-process.ts says
 * why); `--warmup 0` shows what a cold writer adds.
 *
 *   npx tsx bench/etcd-alone.ts [--size M] [--rates 500,2000] [--seconds 10] [--warmup 3]
 */
import { fork } from "node:child_process";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { benchEtcdClient, loadKvs, startBenchEtcd } from "./lib/etcd.js";
import { generateCluster } from "./lib/generator.js";
import { SHAPES, WORKLOADS, isSizeName } from "./lib/sizes.js";
import type { WriterConfig, WriterDone } from "./lib/writer-process.js";

const { values } = parseArgs({
  options: {
    size: { type: "string", default: "M" },
    rates: { type: "string", default: "500,2000" },
    seconds: { type: "string", default: "10" },
    warmup: { type: "string", default: String(WORKLOADS.M.freshnessWarmupMs / 1000) },
  },
});
const size = values.size ?? "M";
if (!isSizeName(size)) throw new Error(`--size: one of ${Object.keys(SHAPES).join(", ")}`);
const rates = (values.rates ?? "").split(",").map(Number);
const durationMs = Number(values.seconds) * 1000;
const warmupMs = Number(values.warmup) * 1000;
if (rates.some((r) => !(r > 0)) || !(durationMs > 0) || !(warmupMs >= 0)) {
  throw new Error("--rates: positive numbers; --seconds: positive; --warmup: zero or more");
}

/** Runs the freshness writer once against `endpoint` and returns its report. */
function runWriter(config: WriterConfig): Promise<WriterDone> {
  const writer = fork(fileURLToPath(new URL("./lib/writer-process.ts", import.meta.url)), [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    writer.on("message", (m: { type: string }) => {
      if (m.type === "done") resolve(m as WriterDone);
    });
    writer.once("exit", (code) => reject(new Error(`writer exited with ${code} before reporting`)));
    writer.send(config);
  });
}

const cluster = generateCluster(SHAPES[size]);
const etcd = await startBenchEtcd();
try {
  const client = benchEtcdClient(etcd.endpoint);
  await loadKvs(client, cluster.kvs);
  client.close();
  console.log(`etcd ${etcd.version} loaded with size ${size} (${cluster.kvs.length} keys); no service watching`);
  let valueBase = 10_000_000;
  for (const rate of rates) {
    const done = await runWriter({
      endpoint: etcd.endpoint,
      ratePerSecond: rate,
      warmupMs,
      durationMs,
      sampleEvery: 1_000_000,
      valueBase,
      committedTargets: cluster.handles.committedTargets,
      nextOffsetTargets: cluster.handles.nextOffsetTargets,
    });
    valueBase += rate * ((warmupMs + durationMs) / 1000) + 1;
    const put = done.putLatencyMs;
    console.log(
      `${String(rate).padStart(5)} writes/s: achieved ${done.achievedRate}/s, put latency p50 ${put.p50.toFixed(2)} ms ` +
        `p99 ${put.p99.toFixed(2)} ms max ${put.max.toFixed(2)} ms; writer CPU ${(done.measuredCpuMs / 1000).toFixed(2)} s ` +
        `(measured window; ${(done.cpuMs / 1000).toFixed(2)} s its lifetime); load ${loadavg()[0]!.toFixed(2)}`,
    );
  }
} finally {
  await etcd.destroy();
}
