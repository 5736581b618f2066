/**
 * What one watch change costs the write path at a size, without etcd or HTTP (issue 14: put-to-visible
 * at 2,000 writes/s with the lag history on). The generated cluster goes into a snapshot file through
 * the product's writer, then `--seconds` of the freshness workload's shape is applied as the watch
 * applier would under a storm: batches of `--batch` changes (committed offsets and end offsets
 * alternating over the workload's keys; 8 = 4 ms of 2,000 writes/s, the applier's commit gap), on a
 * test clock advancing 2,000 changes a second, with the lag evaluator run every 5 s of that clock as
 * the service runs it. Measured: this process's CPU time per change in the writer (the transaction,
 * COMMIT and its automatic checkpoints included) and in the evaluator, and the WAL left behind.
 *
 *   npx tsx bench/write-cost.ts --size M
 *   npx tsx bench/write-cost.ts --size M --pragma cache_size=-32768     # an A/B experiment
 *   npx tsx bench/write-cost.ts --size M --pragma wal_autocheckpoint=0  # no checkpoint inside COMMIT
 *   npx tsx bench/write-cost.ts --size M --no-evaluator
 *
 * --pragma NAME=VALUE (repeatable) is set on every connection the store opens, right after the
 * store's own settings, and wins over the store's own value of NAME: an experiment's lever, not a
 * setting of the service. CPU time is this process's (process.cpuUsage), so another process on the
 * machine slows it less than it slows wall time; run A and B alternately and compare medians.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createStore } from "../src/store/index.js";
import { Database } from "../src/store/sqlite-driver.js";
import { selfCpuMs } from "./lib/cpu.js";
import { freshnessChanges } from "./lib/freshness-changes.js";
import { generateCluster } from "./lib/generator.js";
import { SHAPES, isSizeName } from "./lib/sizes.js";
import { loadKeys } from "./lib/snapshot-store.js";

const { values } = parseArgs({
  options: {
    size: { type: "string", default: "M" },
    batch: { type: "string", default: "8" },
    seconds: { type: "string", default: "20" },
    pragma: { type: "string", multiple: true, default: [] },
    "no-evaluator": { type: "boolean", default: false },
  },
  strict: true,
});
const size = values.size;
if (!isSizeName(size)) throw new Error(`--size must be S, M or L, got "${size}"`);
const batch = Number(values.batch);
const seconds = Number(values.seconds);
if (!Number.isInteger(batch) || batch < 1 || !(seconds > 0)) throw new Error("--batch must be a whole number ≥ 1, --seconds > 0");
const evaluate = !values["no-evaluator"];
const WRITES_PER_SECOND = 2_000;
const EVALUATION_MS = 5_000;

/** NAME=VALUE pairs from --pragma; the store's own setting of NAME is replaced by VALUE. */
const overrides = new Map(
  values.pragma.map((pair) => {
    const at = pair.indexOf("=");
    if (at <= 0) throw new Error(`--pragma expects NAME=VALUE, got "${pair}"`);
    return [pair.slice(0, at).trim(), pair.slice(at + 1).trim()] as const;
  }),
);
if (overrides.size > 0) {
  // The experiment's hook into the driver: the store's own `NAME = value` pragmas are rewritten, and
  // the overrides are set once after journal_mode (the first setting openDatabase makes).
  type Pragma = (this: unknown, source: string, options?: unknown) => unknown;
  const proto = Database.prototype as unknown as { pragma: Pragma };
  const original = proto.pragma;
  proto.pragma = function (source, options) {
    const name = /^\s*(\w+)\s*=/.exec(source)?.[1];
    const replaced = name !== undefined && overrides.has(name) ? `${name} = ${overrides.get(name)}` : source;
    const result = original.call(this, replaced, options);
    if (/^journal_mode\b/.test(source)) for (const [n, v] of overrides) original.call(this, `${n} = ${v}`);
    return result;
  };
}

const cluster = generateCluster(SHAPES[size]);
const dir = mkdtempSync(join(tmpdir(), "kafscale-mcp-write-cost-"));
const path = join(dir, "snapshot.db");
let now = Date.parse("2026-01-01T00:00:00Z");
const store = createStore(path, { now: () => now });
try {
  let revision = await loadKeys(store, cluster.kvs, now);
  if (evaluate) await store.lag.evaluator.run();
  const batches = Math.round((seconds * WRITES_PER_SECOND) / batch);
  const batchMs = (batch / WRITES_PER_SECOND) * 1000;
  let value = 1_000_000;
  let writerCpu = 0;
  let evaluatorCpu = 0;
  let evaluations = 0;
  let nextEvaluation = now + EVALUATION_MS;
  const started = performance.now();
  for (let b = 0; b < batches; b++) {
    const changes = freshnessChanges(cluster.handles, b * batch, batch, revision, value, now);
    revision += batch;
    value += batch;
    now += batchMs;
    const before = selfCpuMs();
    store.writer.applyChanges(changes, revision, now);
    writerCpu += selfCpuMs() - before;
    if (evaluate && now >= nextEvaluation) {
      const at = selfCpuMs();
      await store.lag.evaluator.run();
      evaluatorCpu += selfCpuMs() - at;
      evaluations++;
      nextEvaluation += EVALUATION_MS;
    }
    // Turns for the store's own timers and its background checkpoint, as the service's event loop gives them.
    if (b % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  const wallS = (performance.now() - started) / 1000;
  const changes = batches * batch;
  let walMb = 0;
  try {
    walMb = statSync(`${path}-wal`).size / 1048576;
  } catch {
    // no WAL file left
  }
  const pragmas = [...overrides].map(([n, v]) => `${n}=${v}`).join(" ") || "(the store's own)";
  console.log(
    `size ${size}, ${changes.toLocaleString("en-US")} changes in batches of ${batch}, pragmas ${pragmas}, evaluator ${evaluate ? "on" : "off"}:\n` +
      `  writer    ${((writerCpu * 1000) / changes).toFixed(1)} µs CPU a change (${(writerCpu / batches).toFixed(3)} ms a transaction)\n` +
      `  evaluator ${((evaluatorCpu * 1000) / changes).toFixed(1)} µs CPU a change (${evaluations} runs, ${(evaluatorCpu / Math.max(1, evaluations)).toFixed(0)} ms a run)\n` +
      `  WAL file at the end ${walMb.toFixed(1)} MB; wall ${wallS.toFixed(1)} s; load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`,
  );
} finally {
  store.close();
  rmSync(dir, { recursive: true, force: true });
}
