/**
 * `npx tsx bench/etcd-page-size.ts [--keys N] [--pages 10000,2000]`: how long a full paged range read
 * of N keys takes from a real etcd at each page size (what KAFSCALE_MCP_ETCD_PAGE_SIZE trades: a
 * smaller page is a shorter event-loop turn in the service, but etcd 3.4 walks the rest of the range
 * for every page). Each size is read twice, alternating; wall time, the client's CPU and the load.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Etcd3 } from "etcd3";
import { startEtcd } from "./lib/etcd-process.js";

const { values } = parseArgs({ options: { keys: { type: "string", default: "320000" }, pages: { type: "string", default: "10000,2000" } } });
const keys = Number(values.keys);
const pageSizes = values.pages.split(",").map(Number);

const etcd = await startEtcd();
const client = new Etcd3({ hosts: etcd.endpoint });
try {
  const value = "x".repeat(60);
  for (let i = 0; i < keys; i += 1000) {
    const puts = [];
    for (let j = i; j < Math.min(keys, i + 1000); j++) puts.push(client.put(`/kafscale/k/${String(j).padStart(8, "0")}`).value(value).exec());
    await Promise.all(puts);
  }
  // The etcd3 client's raw KV service: a range from a start key with a limit, as a paged sync reads.
  const kv = (client as unknown as { kv: { range(req: object): Promise<{ kvs: { key: Buffer }[]; more: boolean }> } }).kv;
  for (const pageSize of [...pageSizes, ...pageSizes]) {
    const started = performance.now();
    const cpu = process.cpuUsage();
    let from = Buffer.from("/kafscale/");
    let read = 0;
    for (;;) {
      const page = await kv.range({ key: from, range_end: Buffer.from("/kafscale0"), limit: pageSize, sort_order: "Ascend", sort_target: "Key" });
      read += page.kvs.length;
      const last = page.kvs.at(-1);
      if (!page.more || last === undefined) break;
      from = Buffer.concat([last.key, Buffer.from([0])]);
    }
    const used = process.cpuUsage(cpu);
    console.log(
      `page ${pageSize}: ${read} keys in ${(performance.now() - started).toFixed(0)} ms (client CPU ${((used.user + used.system) / 1000).toFixed(0)} ms; load ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")})`,
    );
  }
} finally {
  client.close();
  await etcd.destroy();
}
