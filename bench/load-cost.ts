/**
 * What the first load costs the write path at a size, without etcd: the generated cluster's keys go
 * into an empty snapshot file through the product's writer in range-read pages of 10,000 keys (the
 * direct load of src/store/writer.ts, which the etcd watcher's cold sync takes), `--rounds` times,
 * each into a new file. Measured per round: wall time and this process's CPU time (the checkpoint
 * helper's and the fold-back worker's threads are in the process, so their CPU is included). A cold
 * sync at size L is mostly this write; etcd's range reads and the decoding of their pages come on top.
 *
 *   npx tsx bench/load-cost.ts [--size L] [--rounds 3]
 *
 * CPU time is this process's (process.cpuUsage), so another process on the machine slows it less than
 * it slows wall time; run A and B alternately and compare medians.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createStore } from "../src/store/index.js";
import { selfCpuMs } from "./lib/cpu.js";
import { generateCluster } from "./lib/generator.js";
import { rangePuts } from "./lib/range-puts.js";
import { SHAPES, isSizeName } from "./lib/sizes.js";

const PAGE = 10_000;

const { values } = parseArgs({
  options: {
    size: { type: "string", default: "L" },
    rounds: { type: "string", default: "3" },
  },
});
const size = values.size;
const rounds = Number(values.rounds);
if (!isSizeName(size) || !Number.isInteger(rounds) || rounds < 1) {
  throw new Error("--size takes S, M or L; --rounds a positive integer");
}

const cluster = generateCluster(SHAPES[size]);
// In key order with one revision, as a range read pinned to a revision returns them.
const revision = cluster.kvs.length + 1;
const changes = rangePuts(cluster.kvs).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
console.log(`size ${size}: ${changes.length.toLocaleString("en-US")} keys in pages of ${PAGE.toLocaleString("en-US")}`);

for (let round = 1; round <= rounds; round++) {
  const dir = mkdtempSync(join(tmpdir(), "kafscale-mcp-load-cost-"));
  const store = createStore(join(dir, "snapshot.db"));
  try {
    const cpuBefore = selfCpuMs();
    const started = performance.now();
    const session = store.writer.beginResync();
    for (let i = 0; i < changes.length; i += PAGE) await session.addPage(changes.slice(i, i + PAGE), revision);
    await session.commit(revision);
    const wallMs = performance.now() - started;
    const cpuMs = selfCpuMs() - cpuBefore;
    console.log(
      `round ${round}: wall ${(wallMs / 1000).toFixed(2)} s, CPU ${(cpuMs / 1000).toFixed(2)} s ` +
        `(load average ${loadavg()[0]?.toFixed(1)})`,
    );
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
