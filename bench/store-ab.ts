/**
 * `tsx bench/store-ab.ts <checkout A> <checkout B> [rounds]`: the store's hot paths of two checkouts
 * of this repository side by side, in one process, on the same generated cluster (100 topics × 300
 * partitions with end offsets, 20 groups committing to 4 topics each: 54k keys). Runs alternate
 * between A and B, and each operation is timed in CPU time (user + system), which a busy shared
 * machine disturbs far less than wall time; the report gives the median and minimum per operation.
 *
 * Used to check that a change to the write path, the snapshot decoder or the offsets read costs
 * nothing measurable (e.g. #11: undecodable keys held at their last good value, one lag rule).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { rangePuts, type Put } from "./lib/range-puts.js";

/** The change shape both checkouts apply (the type of this checkout; only puts are generated). */
type Change = Put;

/** The slice of a checkout's modules this comparison calls (stable across the versions compared). */
interface Checkout {
  name: string;
  buildClusterKvs(spec: unknown): { key: string; value: Buffer }[];
  decodeSnapshot(value: Uint8Array): unknown;
  nextOffsetKey(topic: string, partition: number): string;
  createStore(path: string): {
    writer: {
      // Synchronous in older checkouts, asynchronous (a promise to await) since long writes.
      beginResync(): { addPage(kvs: Change[], revision: number): unknown; commit(revision: number): unknown };
      applyChanges(changes: Change[], revision: number): unknown;
    };
    reads: { fetchOffsets(group: string, topics: string[] | null, after: null, limit: number): unknown };
    close(): void;
  };
}

async function load(root: string, name: string): Promise<Checkout> {
  const spec = await import(join(root, "src/demo/cluster-spec.ts"));
  const decode = await import(join(root, "src/kafscale/decode.ts"));
  const keys = await import(join(root, "src/kafscale/keys.ts"));
  const store = await import(join(root, "src/store/index.ts"));
  return {
    name,
    buildClusterKvs: spec.buildClusterKvs,
    decodeSnapshot: decode.decodeSnapshot,
    nextOffsetKey: keys.keys.nextOffset,
    createStore: store.createStore,
  };
}

const [rootA, rootB, roundsArg] = process.argv.slice(2);
if (!rootA || !rootB) {
  process.stderr.write("usage: tsx bench/store-ab.ts <checkout A> <checkout B> [rounds]\n");
  process.exit(2);
}
const rounds = Number(roundsArg ?? 40);
const checkouts = [await load(resolve(rootA), "A"), await load(resolve(rootB), "B")];

const topics = Array.from({ length: 100 }, (_, i) => ({
  name: `topic-${String(i).padStart(3, "0")}`,
  partitions: 300,
  endOffsets: Array.from({ length: 300 }, (_, p) => 1000 + p),
  config: {},
}));
const groups = Array.from({ length: 20 }, (_, g) => ({
  id: `group-${String(g).padStart(2, "0")}`,
  state: "stable",
  members: [{ id: "m1", assignments: { [(topics[g * 4] as { name: string }).name]: [0, 1] } }],
  offsets: Object.fromEntries(
    [0, 1, 2, 3].map((k) => [(topics[g * 4 + k] as { name: string }).name, Array.from({ length: 300 }, (_, p) => 900 + p)]),
  ),
}));
const spec = { clusterName: "k", clusterId: "id", brokers: 3, topics, groups };
const changes: Change[] = rangePuts((checkouts[1] as Checkout).buildClusterKvs(spec));

const cpuMs = (fn: () => void): number => {
  const before = process.cpuUsage();
  fn();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
};
/** The same for work that awaits (nothing else runs in this process meanwhile). */
const cpuMsAsync = async (fn: () => Promise<void>): Promise<number> => {
  const before = process.cpuUsage();
  await fn();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
};
const samples = new Map<string, number[]>();
const record = (operation: string, checkout: string, ms: number): void => {
  const key = `${operation}|${checkout}`;
  samples.set(key, [...(samples.get(key) ?? []), ms]);
};

const dirs: string[] = [];
const stores: ReturnType<Checkout["createStore"]>[] = [];
for (const c of checkouts) {
  const dir = mkdtempSync(join(tmpdir(), `store-ab-${c.name}-`));
  dirs.push(dir);
  const store = c.createStore(join(dir, "snapshot.db"));
  record("cold load of 54k keys (once)", c.name, await cpuMsAsync(async () => {
    const session = store.writer.beginResync();
    for (let i = 0; i < changes.length; i += 10_000) await session.addPage(changes.slice(i, i + 10_000), 10);
    await session.commit(10);
  }));
  stores.push(store);
}

const snapshot = (changes[0] as Change).value;
let revision = 11;
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? [0, 1] : [1, 0];
  for (const i of order) {
    const c = checkouts[i] as Checkout;
    const store = stores[i] as ReturnType<Checkout["createStore"]>;
    record("decode a 30k-partition snapshot", c.name, cpuMs(() => c.decodeSnapshot(snapshot)));
    record("fetch_offsets read, 1,200 partitions", c.name, cpuMs(() => store.reads.fetchOffsets("group-07", null, null, 5000)));
    record("fetch_offsets read, one topic (300)", c.name, cpuMs(() => store.reads.fetchOffsets("group-07", ["topic-029"], null, 5000)));
    record("fetch_offsets read, page of 100", c.name, cpuMs(() => store.reads.fetchOffsets("group-07", null, null, 100)));
    const base = revision;
    record("apply 20 batches of 20 end-offset puts", c.name, cpuMs(() => {
      let r = base;
      for (let b = 0; b < 20; b++) {
        const batch: Change[] = [];
        for (let k = 0; k < 20; k++, r++) {
          batch.push({ ...(changes[0] as Change), key: c.nextOffsetKey("topic-000", (b * 20 + k) % 300), value: Buffer.from(String(r)), modRevision: r });
        }
        store.writer.applyChanges(batch, r - 1);
      }
    }));
  }
  revision += 1000;
}
for (const store of stores) store.close();
for (const dir of dirs) rmSync(dir, { recursive: true, force: true });

const stat = (xs: number[]): string => {
  const sorted = [...xs].sort((a, b) => a - b);
  return `median ${(sorted[Math.floor(sorted.length / 2)] as number).toFixed(3)} ms, min ${(sorted[0] as number).toFixed(3)} ms`;
};
const operations = [...new Set([...samples.keys()].map((k) => k.split("|")[0] as string))];
for (const operation of operations) {
  process.stdout.write(`${operation}\n  A: ${stat(samples.get(`${operation}|A`) ?? [0])}\n  B: ${stat(samples.get(`${operation}|B`) ?? [0])}\n`);
}
