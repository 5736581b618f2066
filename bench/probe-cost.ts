/**
 * What the etcd link probe costs etcd per second, per service replica: one idle sync (watch open,
 * no writes) against a real etcd for `--seconds`, at the default probe interval and at 1 s, read
 * from etcd's own /metrics (requests by method, bytes in and out) and etcd's CPU time (/proc).
 *
 *   npx tsx bench/probe-cost.ts [--seconds 60] [--keys 10000]
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Etcd3 } from "etcd3";
import { silentLogger } from "../src/log.js";
import { createStore } from "../src/store/index.js";
import { createEtcdSync } from "../src/sync/etcd/etcd-sync.js";
import { rotatingConnector } from "../src/sync/etcd/member-connector.js";
import { startEtcd, type EtcdProcess } from "./lib/etcd-process.js";

interface Sample {
  requests: Map<string, number>;
  receivedBytes: number;
  sentBytes: number;
  cpuSeconds: number;
}

async function sample(etcd: EtcdProcess): Promise<Sample> {
  const text = await (await fetch(etcd.metricsUrl)).text();
  const requests = new Map<string, number>();
  let receivedBytes = 0;
  let sentBytes = 0;
  for (const line of text.split("\n")) {
    const started = /^grpc_server_started_total\{grpc_method="(\w+)".*\} (\S+)$/.exec(line);
    if (started) requests.set(started[1] as string, (requests.get(started[1] as string) ?? 0) + Number(started[2]));
    if (line.startsWith("etcd_network_client_grpc_received_bytes_total ")) receivedBytes = Number(line.split(" ")[1]);
    if (line.startsWith("etcd_network_client_grpc_sent_bytes_total ")) sentBytes = Number(line.split(" ")[1]);
  }
  // utime + stime in clock ticks (fields 14 and 15 of /proc/<pid>/stat; 100 ticks per second on Linux).
  const fields = readFileSync(`/proc/${etcd.pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / 100;
  return { requests, receivedBytes, sentBytes, cpuSeconds };
}

/** The same counters with no service attached: etcd's own idle cost, to subtract. */
async function idle(etcd: EtcdProcess, seconds: number): Promise<string> {
  const before = await sample(etcd);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const after = await sample(etcd);
  return `no service, ${seconds} s: etcd CPU ${(((after.cpuSeconds - before.cpuSeconds) / seconds) * 1000).toFixed(2)} ms/s`;
}

async function measure(etcd: EtcdProcess, probeIntervalMs: number, seconds: number): Promise<string> {
  const store = createStore(":memory:");
  const sync = createEtcdSync({
    store,
    logger: silentLogger,
    connector: rotatingConnector({ endpoints: [etcd.endpoint], namespace: "", dialTimeoutMs: 5000, pageSize: 10_000, backoffMaxMs: 15_000 }),
    probeIntervalMs,
  });
  sync.start();
  await sync.ready();
  // Let the watch be confirmed (its first probes) before counting.
  while (store.syncState.get().phase !== "watching") await new Promise((r) => setTimeout(r, 50));
  const before = await sample(etcd);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const after = await sample(etcd);
  await sync.stop();
  store.close();
  const perSecond = (a: number, b: number): string => ((b - a) / seconds).toFixed(3);
  const methods = [...after.requests.keys()]
    .map((m) => [m, (after.requests.get(m) ?? 0) - (before.requests.get(m) ?? 0)] as const)
    .filter(([, n]) => n > 0)
    .map(([m, n]) => `${m} ${(n / seconds).toFixed(3)}/s`);
  return [
    `probe interval ${probeIntervalMs} ms, ${seconds} s idle:`,
    `  etcd requests: ${methods.join(", ") || "none"}`,
    `  bytes into etcd ${perSecond(before.receivedBytes, after.receivedBytes)}/s, out of etcd ${perSecond(before.sentBytes, after.sentBytes)}/s`,
    `  etcd CPU ${(((after.cpuSeconds - before.cpuSeconds) / seconds) * 1000).toFixed(2)} ms/s (all of etcd, clock-tick resolution)`,
  ].join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: "string" }, keys: { type: "string" } } });
  const seconds = Number(values.seconds ?? 60);
  const keys = Number(values.keys ?? 10_000);
  const etcd = await startEtcd();
  try {
    const client = new Etcd3({ hosts: [etcd.endpoint] });
    for (let i = 0; i < keys; i += 500) {
      await Promise.all(
        Array.from({ length: Math.min(500, keys - i) }, (_, j) =>
          client.put(`/kafscale/topics/t${i + j}/partitions/0/next_offset`).value(String(i + j)).exec(),
        ),
      );
    }
    client.close();
    process.stdout.write(`etcd ${etcd.version}, ${keys} keys under /kafscale/\n`);
    process.stdout.write(`${await idle(etcd, seconds)}\n`);
    process.stdout.write(`${await measure(etcd, 5000, seconds)}\n`);
    process.stdout.write(`${await measure(etcd, 1000, seconds)}\n`);
  } finally {
    await etcd.destroy();
  }
}

await main();
