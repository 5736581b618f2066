/**
 * What deriving change events (src/store/change-feed.ts) adds to the write path, at the benchmark
 * sizes: the same batches applied by the real writer and by one whose feed does nothing, on two
 * snapshot files loaded from the generated cluster. Three workloads: offset commits and end offsets
 * (the 2,000 writes/s of a busy cluster, 8 changes per transaction as the watch batches them), group
 * metadata rewrites (heartbeats and rebalances), and the snapshot key rewritten with one leader moved.
 * Runs alternate between the two writers; medians are reported.
 *
 *   npx tsx bench/change-feed-cost.ts [--size S|M|L] [--runs N]
 */
import { DEFAULT_LAG_SETTINGS } from "../src/kafscale/lag-status.js";
import { createLagHistory } from "../src/store/lag-history.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { openDatabase } from "../src/store/database.js";
import { createChangeFeed, type ChangeFeed } from "../src/store/change-feed.js";
import { createCheckpointScheduler, createWriteGate } from "../src/store/long-write.js";
import { createSyncWriter, type SyncWriter } from "../src/store/writer.js";
import { encodeCommittedOffset, encodeNextOffset, encodeSnapshot } from "../src/kafscale/encode.js";
import { keys } from "../src/kafscale/keys.js";
import type { KvChange } from "../src/kafscale/records.js";
import { groupMetadataValue, snapshotFor } from "../src/demo/cluster-spec.js";
import { generateCluster } from "./lib/generator.js";
import { isSizeName, SHAPES } from "./lib/sizes.js";

const { values } = parseArgs({ options: { size: { type: "string", default: "M" }, runs: { type: "string", default: "5" } } });
const size = (values.size ?? "M").toUpperCase();
if (!isSizeName(size)) throw new Error(`--size must be S, M or L, got ${values.size}`);
const runs = Number(values.runs);

const NO_EVENTS: ChangeFeed = {
  batch: () => ({ before: () => null, after: () => undefined, commit: () => undefined }),
  markStart: () => undefined,
};

const cluster = generateCluster(SHAPES[size]);
const dir = mkdtempSync(join(tmpdir(), "kafscale-mcp-feed-bench-"));
let revision = cluster.kvs.length + 1;
const put = (key: string, value: Buffer): KvChange => ({
  type: "put",
  key,
  value,
  modRevision: ++revision,
  createRevision: 2,
  version: 2,
  lease: "0",
});

async function loadedWriter(name: string, events: boolean): Promise<SyncWriter> {
  const db = openDatabase(join(dir, `${name}.db`));
  // The lag history runs in both variants, as in the service: only the change feed differs.
  const lag = createLagHistory(db, DEFAULT_LAG_SETTINGS);
  const feed = events ? createChangeFeed(db, { retentionMs: 0, maxEvents: 100_000 }) : NO_EVENTS;
  const writer = createSyncWriter(db, 10_000, { gate: createWriteGate(), checkpoints: createCheckpointScheduler(db) }, lag, feed);
  const load = writer.beginResync();
  const changes = cluster.kvs.map((kv, i) => ({ ...put(kv.key, Buffer.from(kv.value)), modRevision: i + 2, version: 1 }));
  for (let i = 0; i < changes.length; i += 10_000) await load.addPage(changes.slice(i, i + 10_000), cluster.kvs.length + 1);
  await load.commit(cluster.kvs.length + 1);
  return writer;
}

/** CPU milliseconds `apply` takes for `batches` (each one transaction). */
function cpuMs(writer: SyncWriter, batches: KvChange[][]): number {
  const start = process.cpuUsage();
  for (const batch of batches) writer.applyChanges(batch, batch.at(-1)?.modRevision ?? revision);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const targets = cluster.handles.committedTargets;
function offsetBatches(count: number): KvChange[][] {
  const out: KvChange[][] = [];
  for (let b = 0; b < count; b++) {
    const batch: KvChange[] = [];
    for (let i = 0; i < 8; i++) {
      const t = targets[(b * 8 + i) % targets.length] as (typeof targets)[number];
      batch.push(
        i % 2 === 0
          ? put(keys.committedOffset(t.group, t.topic, t.partition), encodeCommittedOffset({ offset: revision, metadata: "", committedAt: "2026-11-24T09:00:00Z" }))
          : put(keys.nextOffset(t.topic, t.partition), encodeNextOffset(revision)),
      );
    }
    out.push(batch);
  }
  return out;
}

const groupIds = [...new Set(targets.map((t) => t.group))];
function groupBatches(count: number): KvChange[][] {
  return Array.from({ length: count }, (_, b) => {
    const groupId = groupIds[b % groupIds.length] as string;
    const value = groupMetadataValue({
      id: groupId,
      state: "stable",
      generation: 100 + b,
      members: ["m1", "m2", "m3"].slice(0, 2 + (b % 2)).map((id) => ({ id, assignments: {} })),
    });
    return [put(keys.groupMetadata(groupId), value)];
  });
}

function snapshotBatch(moved: boolean): KvChange[] {
  const snapshot = snapshotFor(cluster.spec);
  if (moved) {
    const topic = snapshot.topics[0];
    const first = topic?.partitions[0];
    if (topic && first) topic.partitions[0] = { ...first, leader: (first.leader + 1) % cluster.spec.brokers };
  }
  return [put(keys.snapshot(), encodeSnapshot(snapshot))];
}

try {
  console.log(`size ${size}: ${cluster.kvs.length} keys, ${SHAPES[size].partitions} partitions; ${runs} runs each, medians`);
  const withEvents = await loadedWriter("with", true);
  const without = await loadedWriter("without", false);
  const measure = (name: string, unit: string, perUnit: number, make: () => KvChange[][]): void => {
    const a: number[] = [];
    const b: number[] = [];
    for (let run = 0; run < runs; run++) {
      b.push(cpuMs(without, make()));
      a.push(cpuMs(withEvents, make()));
    }
    const on = median(a) / perUnit;
    const off = median(b) / perUnit;
    console.log(
      `  ${name}: ${off.toFixed(3)} ms → ${on.toFixed(3)} ms per ${unit} with events (${(((on - off) / off) * 100).toFixed(1)}%)`,
    );
  };
  measure("offset commits + end offsets, 8 per transaction", "1,000 changes", 2, () => offsetBatches(250));
  measure("group metadata rewrites (rebalance: member joins/leaves)", "change", 200, () => groupBatches(200));
  let flip = false;
  measure("snapshot rewrite, one leader moved", "snapshot", 1, () => [snapshotBatch((flip = !flip))]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
