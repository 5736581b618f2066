/**
 * What fetch_offsets' per-partition verdicts cost a page (src/store/lag-reads.ts partitionStatuses):
 * every verdict of the group (before 2026-11-27) against the page's partitions only (a primary-key
 * seek each), for a group of `--partitions` partitions on one topic (1,000 = the largest group at size
 * L) and pages of `--page` rows. No etcd, no evaluator: the rows are written straight into a migrated
 * snapshot file.
 *
 *   npx tsx bench/page-verdicts.ts [--partitions 1000] [--page 100] [--calls 5000]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { openDatabase } from "../src/store/database.js";
import { createLagReads } from "../src/store/lag-reads.js";

const { values } = parseArgs({
  options: {
    partitions: { type: "string", default: "1000" },
    page: { type: "string", default: "100" },
    calls: { type: "string", default: "5000" },
  },
});
const partitions = Number(values.partitions);
const pageRows = Number(values.page);
const calls = Number(values.calls);
if (![partitions, pageRows, calls].every((n) => Number.isInteger(n) && n > 0) || pageRows > partitions) {
  throw new Error("--partitions, --page and --calls take positive integers, --page at most --partitions");
}

const dir = mkdtempSync(join(tmpdir(), "kafscale-mcp-page-verdicts-"));
const db = openDatabase(join(dir, "snapshot.db"));
try {
  const insert = db.prepare(
    `INSERT INTO lag_partition_status (group_id, topic, partition, status, lag, since, points)
     VALUES ('wide', 'orders', ?, 'OK', ?, 0, 30)`,
  );
  db.transaction(() => {
    for (let p = 0; p < partitions; p++) insert.run(p, (p * 7919) % 1000);
  })();
  const reads = createLagReads(db, { intervalMs: 5000, windowPoints: 30 });
  const pages = Math.ceil(partitions / pageRows);
  const pageOf = (i: number) =>
    Array.from({ length: Math.min(pageRows, partitions - (i % pages) * pageRows) }, (_, r) => ({
      topic: "orders",
      partition: (i % pages) * pageRows + r,
    }));
  const time = (read: (i: number) => unknown): number => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) read(i);
    return Number(process.hrtime.bigint() - started) / 1000 / calls;
  };
  // Alternating rounds; the first of each warms the statements and the page cache.
  const rounds: { every: number; page: number }[] = [];
  for (let round = 0; round < 4; round++) {
    rounds.push({
      every: time(() => reads.partitionStatuses("wide")),
      page: time((i) => reads.partitionStatuses("wide", pageOf(i))),
    });
  }
  const shown = rounds.slice(1);
  console.log(
    `a group of ${partitions.toLocaleString("en-US")} partitions, pages of ${pageRows}, µs a page's verdicts (rounds 2–4):\n` +
      `  every verdict of the group: ${shown.map((r) => r.every.toFixed(1)).join(", ")}\n` +
      `  the page's only:            ${shown.map((r) => r.page.toFixed(1)).join(", ")}`,
  );
} finally {
  db.close();
  rmSync(dir, { recursive: true, force: true });
}
