/**
 * Which pages a watch batch (and then a lag evaluation) writes, table by table. Every page a
 * transaction dirties is appended to the WAL at COMMIT and copied into the database file again by
 * the next checkpoint, both on the service's main thread, so pages a change are the write path's
 * I/O cost. The generated cluster goes into a snapshot file through the product's writer; SQLite's
 * automatic checkpoint is off for the measurement, the WAL is emptied, `--batches` batches of
 * `--batch` changes of the freshness workload's shape are applied (committed offsets and end offsets
 * alternating over its keys), and the WAL's frames are attributed to tables and indexes with the
 * dbstat table. `--evaluate` then empties the WAL again and attributes one lag evaluation's frames.
 *
 *   npx tsx bench/write-pages.ts --size L [--batch 150] [--batches 6] [--evaluate]
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createStore } from "../src/store/index.js";
import { Database } from "../src/store/sqlite-driver.js";
import { freshnessChanges } from "./lib/freshness-changes.js";
import { generateCluster } from "./lib/generator.js";
import { SHAPES, isSizeName } from "./lib/sizes.js";
import { loadKeys } from "./lib/snapshot-store.js";

const { values } = parseArgs({
  options: {
    size: { type: "string", default: "M" },
    batch: { type: "string", default: "150" },
    batches: { type: "string", default: "6" },
    evaluate: { type: "boolean", default: false },
  },
  strict: true,
});
const size = values.size;
if (!isSizeName(size)) throw new Error(`--size must be S, M or L, got "${size}"`);
const batch = Number(values.batch);
const batches = Number(values.batches);
if (![batch, batches].every((n) => Number.isInteger(n) && n >= 1)) throw new Error("--batch and --batches: whole numbers ≥ 1");
const SAMPLE_INTERVAL_MS = 5_000;
const WRITES_PER_SECOND = 2_000;

// No automatic checkpoint on the store's connection: every page written stays in the WAL to be counted.
type Pragma = (this: unknown, source: string, options?: unknown) => unknown;
const proto = Database.prototype as unknown as { pragma: Pragma };
const original = proto.pragma;
proto.pragma = function (source, options) {
  return original.call(this, /^\s*wal_autocheckpoint\s*=/.test(source) ? "wal_autocheckpoint = 0" : source, options);
};

/** WAL frames by the table or index that owns their page (dbstat of `side`), per change. */
function attribute(walPath: string, side: InstanceType<typeof Database>, changes: number): void {
  const wal = readFileSync(walPath);
  const pageSize = wal.readUInt32BE(8);
  const owner = new Map<number, string>();
  for (const row of side.prepare("SELECT name, pageno FROM dbstat").iterate() as Iterable<{ name: string; pageno: number }>) {
    owner.set(row.pageno, row.name);
  }
  const frames = new Map<string, { frames: number; pages: Set<number> }>();
  let total = 0;
  // A WAL is a 32-byte header, then frames of a 24-byte header (page number first, the header's two
  // salts at 8–15) and one page. A frame with other salts is left over from before a restart of the log.
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
    if (wal.compare(wal, 16, 24, at + 8, at + 16) !== 0) break;
    const page = wal.readUInt32BE(at);
    const name = owner.get(page) ?? "(a page no table owns now)";
    const entry = frames.get(name) ?? { frames: 0, pages: new Set<number>() };
    entry.frames++;
    entry.pages.add(page);
    frames.set(name, entry);
    total++;
  }
  console.log(`  ${total} WAL frames, ${(total / changes).toFixed(2)} a change`);
  for (const [name, entry] of [...frames].sort((a, b) => b[1].frames - a[1].frames)) {
    console.log(`    ${name.padEnd(36)} ${(entry.frames / changes).toFixed(2)} a change (${entry.pages.size} distinct pages)`);
  }
}

const cluster = generateCluster(SHAPES[size]);
const dir = mkdtempSync(join(tmpdir(), "kafscale-mcp-write-pages-"));
const path = join(dir, "snapshot.db");
let now = Date.parse("2026-01-01T00:00:00Z");
// No checkpoint helper either (the store's default): a log it copied completely would restart under the next write.
const store = createStore(path, { now: () => now, checkpointHelper: false });
const side = new Database(path);
try {
  let revision = await loadKeys(store, cluster.kvs, now);
  await store.lag.evaluator.run();
  side.pragma("wal_checkpoint(TRUNCATE)");
  let value = 1_000_000;
  for (let b = 0; b < batches; b++) {
    const changes = freshnessChanges(cluster.handles, b * batch, batch, revision, value, now);
    revision += batch;
    value += batch;
    now += (batch / WRITES_PER_SECOND) * 1000;
    store.writer.applyChanges(changes, revision, now);
  }
  const changes = batch * batches;
  console.log(`size ${size}: ${changes} changes in ${batches} transactions of ${batch}`);
  attribute(`${path}-wal`, side, changes);
  if (values.evaluate) {
    side.pragma("wal_checkpoint(TRUNCATE)");
    now += SAMPLE_INTERVAL_MS;
    const run = await store.lag.evaluator.run();
    console.log(`one lag evaluation after them: ${run.partitions} partitions of ${run.groups} groups judged`);
    attribute(`${path}-wal`, side, changes);
  }
} finally {
  side.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
}
