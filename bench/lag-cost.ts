/**
 * What consumer lag over time (issue 14) costs at a size, without etcd or HTTP: the generated
 * cluster goes into a snapshot file through the product's writer (bench/lib/snapshot-store.ts), then
 * `--rounds` rounds of producing and consuming — every end offset and every committed offset moves
 * once per round, one sample interval apart on a test clock, written through the writer in batches as
 * the watch would apply them — fill every series' window. Measured:
 *
 *   - the evaluator: the first (full) evaluation after the load, and a full re-judgement with every
 *     series holding a whole window (wall and CPU time of this process);
 *   - `consumer_lag` over all groups, one caller, through the SDK client and server in memory
 *     (p50/p99 of back-to-back calls; over HTTP add the transport's ~1 ms, see the latency matrix);
 *   - the lag tables' share of the database (SQLite's page accounting, bench/lib/lag-history.ts)
 *     after the load (one point per series) and with every series holding a whole window.
 *
 * Freshness under write load and the service's RSS with history on are measured by the full run
 * (`npm run bench -- --size L`), which always has the history on.
 *
 *   npx tsx bench/lag-cost.ts                      # size L, 30 rounds; rewrites its docs section
 *   npx tsx bench/lag-cost.ts --size M --no-docs
 *   npx tsx bench/lag-cost.ts --size M --jitter    # uneven steps: second deltas not all zero
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { encodeCommittedOffset, encodeNextOffset } from "../src/kafscale/encode.js";
import { keys } from "../src/kafscale/keys.js";
import type { KvChange } from "../src/kafscale/records.js";
import { createStore, type EvaluationRun, type Store } from "../src/store/index.js";
import { decodeSeries, encodeSeries } from "../src/store/lag-history-codec.js";
import { Database } from "../src/store/sqlite-driver.js";
import { REPO_ROOT } from "./lib/child.js";
import { generateCluster, type GeneratedCluster } from "./lib/generator.js";
import { connectInMemory } from "./lib/in-memory-tools.js";
import { lagHistorySize, type LagHistorySize } from "./lib/lag-history.js";
import { writeSection } from "./lib/report.js";
import { SHAPES, isSizeName, type SizeName } from "./lib/sizes.js";
import { loadKeys, recordBrokerScrapes } from "./lib/snapshot-store.js";
import { percentile } from "./lib/stats.js";

const T0 = Date.parse("2026-11-26T10:00:00Z");
const INTERVAL_MS = 5_000;
/** Changes per write batch: about what the watch applies in one transaction under a burst. */
const BATCH = 5_000;
const n = (v: number): string => v.toLocaleString("en-US");
const loadAverage = (): string => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MB`;

interface Timed {
  wallMs: number;
  cpuMs: number;
  run: EvaluationRun;
}

interface Latency {
  label: string;
  calls: number;
  p50: number;
  p99: number;
  /** CPU time of this process (client and server both) per call: less sensitive to a busy machine than wall time. */
  cpuPerCallMs: number;
  groupsAnswered: number;
}

/** A committed offset or end offset the rounds move, and where it started. */
interface Series {
  key: string;
  base: number;
  kind: "end" | "commit";
  /** The history row's key: [topic, partition] or [group, topic, partition]. */
  row: (string | number)[];
}

/** Every end offset and committed offset of the generated cluster. */
function seriesOf(cluster: GeneratedCluster): Series[] {
  const series: Series[] = [];
  for (const t of cluster.spec.topics) {
    for (let p = 0; p < t.partitions; p++) series.push({ key: keys.nextOffset(t.name, p), base: t.endOffsets?.[p] ?? 0, kind: "end", row: [t.name, p] });
  }
  for (const g of cluster.spec.groups) {
    for (const [topic, offsets] of Object.entries(g.offsets ?? {})) {
      offsets.forEach((offset, p) => {
        if (offset !== null) {
          series.push({ key: keys.committedOffset(g.id, topic, p), base: offset, kind: "commit", row: [g.id, topic, p] });
        }
      });
    }
  }
  return series;
}

/** A deterministic pseudo-random integer in [0, range) for series `i` in round `r`. */
function noise(i: number, r: number, range: number): number {
  let h = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(r + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  return ((h ^ (h >>> 13)) >>> 0) % range;
}

/** Series `i`'s value after round `r`: +100 a round for end offsets, +90 for commits (uneven with jitter). */
function valueAt(s: Series, i: number, r: number, jitter: boolean): number {
  const step = s.kind === "end" ? 100 : 90;
  if (!jitter) return s.base + step * r;
  let sum = s.base;
  for (let k = 1; k <= r; k++) sum += step / 2 + noise(i, k, step + 1);
  return sum;
}

/** When each round 1..rounds is written (index 0: the load). */
function roundTimes(rounds: number, jitter: boolean): number[] {
  const times = [T0];
  for (let r = 1; r <= rounds; r++) times.push((times[r - 1] as number) + INTERVAL_MS + (jitter ? noise(-1, r, 300) : 0));
  return times;
}

/**
 * `--direct`: every series' window written straight into the history tables, exactly the points the
 * writer keeps for these rounds (each round changes every value at least one interval after the
 * last), after the writer has applied the last round (so the current values and its points are the
 * writer's own). For size L, where writing 30 rounds of 300k changes through the writer takes longer
 * than this shared machine allows; size M measures the writer path.
 */
function fillWindows(path: string, series: readonly Series[], times: readonly number[], windowPoints: number, jitter: boolean): void {
  const db = new Database(path);
  try {
    const rounds = times.length - 1;
    const tables = { end: "lag_end_offset_series", commit: "lag_commit_series" };
    const get = {
      end: db.prepare("SELECT points FROM lag_end_offset_series WHERE topic = ? AND partition = ?"),
      commit: db.prepare("SELECT points FROM lag_commit_series WHERE group_id = ? AND topic = ? AND partition = ?"),
    };
    const put = {
      end: db.prepare(`INSERT OR REPLACE INTO ${tables.end} (topic, partition, points) VALUES (?, ?, ?)`),
      commit: db.prepare(`INSERT OR REPLACE INTO ${tables.commit} (group_id, topic, partition, points) VALUES (?, ?, ?, ?)`),
    };
    db.transaction(() => {
      series.forEach((s, i) => {
        const stored = get[s.kind].get(...s.row) as { points: Buffer } | undefined;
        const first = stored === undefined ? undefined : decodeSeries(stored.points)[0];
        if (first === undefined) throw new Error(`no history for ${s.key}`);
        const points = [first];
        for (let r = 1; r <= rounds; r++) points.push({ at: times[r] as number, value: valueAt(s, i, r, jitter) });
        put[s.kind].run(...s.row, encodeSeries(points.slice(Math.max(0, points.length - windowPoints))));
      });
    })();
  } finally {
    db.close();
  }
}

/**
 * Round `r`: producers add 100 offsets per partition, consumers commit 90 more (lag grows slowly).
 * With `jitter`, each series moves by its own uneven steps (±50% around those, fixed by series and
 * round), so the history's second deltas are not all zero as with even steps.
 */
function roundChanges(series: readonly Series[], r: number, at: number, revision: number, jitter: boolean): KvChange[] {
  const committedAt = new Date(at).toISOString();
  return series.map((s, i) => ({
    type: "put",
    key: s.key,
    value:
      s.kind === "end"
        ? encodeNextOffset(valueAt(s, i, r, jitter))
        : encodeCommittedOffset({ offset: valueAt(s, i, r, jitter), metadata: "", committedAt }),
    modRevision: revision,
    createRevision: 1,
    version: r + 1,
    lease: "0",
  }));
}

async function timed(store: Store): Promise<Timed> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const run = await store.lag.evaluator.run();
  const used = process.cpuUsage(cpu);
  return { wallMs: performance.now() - started, cpuMs: (used.user + used.system) / 1000, run };
}

async function latencies(store: Store, now: () => number, calls: number): Promise<Latency[]> {
  const tools = await connectInMemory(store, { now });
  try {
    const cases: [string, Record<string, unknown>][] = [
      ["consumer_lag (no arguments: every group, the default first page)", {}],
      ["consumer_lag sort: time_lag", { sort: "time_lag" }],
      ["consumer_lag status: WARN, limit 100", { status: "WARN", limit: 100 }],
    ];
    const out: Latency[] = [];
    for (const [label, args] of cases) {
      let groupsAnswered = 0;
      for (let i = 0; i < 20; i++) await tools.client.callTool({ name: "consumer_lag", arguments: args });
      const times: number[] = [];
      const cpu = process.cpuUsage();
      for (let i = 0; i < calls; i++) {
        const started = performance.now();
        const result = await tools.client.callTool({ name: "consumer_lag", arguments: args });
        times.push(performance.now() - started);
        if (result.isError) throw new Error(`${label}: ${(result.content as { text: string }[])[0]?.text}`);
        groupsAnswered = (result.structuredContent as { groups: unknown[] }).groups.length;
      }
      const used = process.cpuUsage(cpu);
      times.sort((a, b) => a - b);
      const cpuPerCallMs = (used.user + used.system) / 1000 / calls;
      out.push({ label, calls, p50: percentile(times, 50), p99: percentile(times, 99), cpuPerCallMs, groupsAnswered });
    }
    return out;
  } finally {
    await tools.close();
  }
}

function sizeLine(s: LagHistorySize): string {
  return (
    `lag tables ${mb(s.lagBytes)} against ${mb(s.restBytes)} for everything else: +${(s.share * 100).toFixed(1)}% ` +
    `(${n(s.series)} series, ${n(s.points)} points, ${s.bytesPerPoint} bytes a point)`
  );
}

function tableRows(s: LagHistorySize): string[] {
  return s.tables.map((t) => `| \`${t.name}\` | ${t.rows === null ? "index" : n(t.rows)} | ${mb(t.bytes)} |`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      size: { type: "string", default: "L" },
      rounds: { type: "string", default: "30" },
      calls: { type: "string", default: "200" },
      jitter: { type: "boolean", default: false },
      direct: { type: "boolean", default: false },
      "no-docs": { type: "boolean", default: false },
    },
  });
  const size = values.size ?? "L";
  if (!isSizeName(size)) throw new Error(`unknown size ${size} (S, M or L)`);
  const rounds = Number(values.rounds);
  const calls = Number(values.calls);
  const jitter = values.jitter === true;
  const direct = values.direct === true;
  const times = roundTimes(rounds, jitter);
  const started = performance.now();
  const log = (line: string): void => console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s] ${line}`);

  const loadStart = loadAverage();
  log(`size ${size}: generating (load ${loadStart})`);
  const cluster = generateCluster(SHAPES[size as SizeName]);
  const dir = mkdtempSync(join(tmpdir(), "kafscale-lag-cost-"));
  const path = join(dir, "snapshot.db");
  const clock = { now: T0 };
  const settings = { intervalMs: INTERVAL_MS, windowPoints: 30 };
  let store = createStore(path, { lag: settings, now: () => clock.now });
  try {
    log(`loading ${n(cluster.kvs.length)} keys`);
    let revision = await loadKeys(store, cluster.kvs, T0);
    recordBrokerScrapes(store, cluster.spec.brokers, T0);
    const first = await timed(store);
    log(`first evaluation: ${first.wallMs.toFixed(0)} ms wall, ${first.cpuMs.toFixed(0)} ms CPU, ${n(first.run.partitions)} partitions`);
    const afterLoad = await latencies(store, () => clock.now, calls);
    store.close();
    const loadSize = lagHistorySize(path);
    log(`after the load: ${sizeLine(loadSize)}`);

    store = createStore(path, { lag: settings, now: () => clock.now });
    const series = seriesOf(cluster);
    let writeMs = 0;
    const writeCpu = process.cpuUsage();
    // With jitter, rounds are 5.0-5.3 s apart (never less: each change keeps a point).
    for (let r = direct ? rounds : 1; r <= rounds; r++) {
      clock.now = times[r] as number;
      const changes = roundChanges(series, r, clock.now, 0, jitter);
      const writeStarted = performance.now();
      for (let i = 0; i < changes.length; i += BATCH) {
        revision++;
        const batch = changes.slice(i, i + BATCH).map((c) => ({ ...c, modRevision: revision }));
        store.writer.applyChanges(batch, revision, clock.now);
      }
      writeMs += performance.now() - writeStarted;
      if (r % 5 === 0) log(`round ${r}/${rounds}: ${n(changes.length)} changes`);
    }
    const writeCpuUsed = process.cpuUsage(writeCpu);
    if (direct) {
      store.close();
      fillWindows(path, series, times, settings.windowPoints, jitter);
      log("windows written directly");
      store = createStore(path, { lag: settings, now: () => clock.now });
    }
    const writeCpuMs = (writeCpuUsed.user + writeCpuUsed.system) / 1000;
    const full = await timed(store);
    log(`evaluation with full windows: ${full.wallMs.toFixed(0)} ms wall, ${full.cpuMs.toFixed(0)} ms CPU, ${n(full.run.partitions)} partitions`);
    const fullWindow = await latencies(store, () => clock.now, calls);
    store.close();
    const fullSize = lagHistorySize(path);
    log(`full windows: ${sizeLine(fullSize)}`);

    const loadEnd = loadAverage();
    const command = `npx tsx bench/lag-cost.ts${size === "L" ? "" : ` --size ${size}`}${rounds === 30 ? "" : ` --rounds ${rounds}`}${jitter ? " --jitter" : ""}${direct ? " --direct" : ""}`;
    const section = [
      `## Consumer lag cost — size ${size}, ${new Date().toISOString().slice(0, 10)}`,
      "",
      `- Command: \`${command}\` (no etcd, no HTTP: the generated keys go into a snapshot file through the writer; ` +
        `then ${rounds} rounds, ${INTERVAL_MS / 1000} s apart on a test clock, each moving every end offset (+100) and every ` +
        `committed offset (+90) in batches of ${n(BATCH)} changes; calls through the SDK client and server in memory).`,
      `- Dataset: ${n(cluster.spec.topics.length)} topics, ${n(cluster.keyCounts.next_offset ?? 0)} partitions, ` +
        `${n(cluster.spec.groups.length)} groups, ${n(cluster.keyCounts.committed_offset ?? 0)} committed offsets; digest \`${cluster.digest.slice(0, 16)}\`.`,
      `- Machine: ${process.arch}, Node ${process.version}; the machine is shared, other processes ran meanwhile: load average ${loadStart} at the start, ${loadEnd} at the end (\`/proc/loadavg\`, 1/5/15 min).`,
      `- Steps: ${jitter ? "uneven (\`--jitter\`: every series' steps vary ±50% round to round, rounds 5.0-5.3 s apart)" : "even (every round +100 / +90, exactly 5 s apart)"}.`,
      "",
      `| Measure | After the load (1 point a series) | After ${rounds} rounds (${Math.min(rounds + 1, settings.windowPoints)} points a series) |`,
      "|---|---:|---:|",
      `| Full evaluation: wall / CPU | ${first.wallMs.toFixed(0)} ms / ${first.cpuMs.toFixed(0)} ms | ${full.wallMs.toFixed(0)} ms / ${full.cpuMs.toFixed(0)} ms |`,
      ...afterLoad.map((a, i) => {
        const b = fullWindow[i] as Latency;
        return (
          `| ${a.label}: p50 / p99 / CPU a call (${calls} calls; ${a.groupsAnswered} and ${b.groupsAnswered} groups a page) | ` +
          `${a.p50.toFixed(2)} / ${a.p99.toFixed(2)} / ${a.cpuPerCallMs.toFixed(2)} ms | ${b.p50.toFixed(2)} / ${b.p99.toFixed(2)} / ${b.cpuPerCallMs.toFixed(2)} ms |`
        );
      }),
      `| Lag tables and indexes | ${mb(loadSize.lagBytes)} | ${mb(fullSize.lagBytes)} |`,
      `| Everything else in the file | ${mb(loadSize.restBytes)} | ${mb(fullSize.restBytes)} |`,
      `| History tables (\`lag_end_offset_series\`, \`lag_commit_series\`) | ${mb(loadSize.historyBytes)} | ${mb(fullSize.historyBytes)} |`,
      `| What the history adds to the database (history tables / everything else) | +${(loadSize.historyShare * 100).toFixed(1)}% | +${(fullSize.historyShare * 100).toFixed(1)}% |`,
      `| What all lag tables add (history and verdicts) | +${(loadSize.share * 100).toFixed(1)}% | +${(fullSize.share * 100).toFixed(1)}% |`,
      `| Points kept (series) | ${n(loadSize.points)} (${n(loadSize.series)}) | ${n(fullSize.points)} (${n(fullSize.series)}) |`,
      "",
      direct
        ? `\`--direct\`: the writer applied round ${rounds} only (${n(series.length)} changes: ${(writeMs / 1000).toFixed(1)} s wall, ` +
          `${(writeCpuMs / 1000).toFixed(1)} s CPU, history included); every series' window was then written straight into the history tables.`
        : `Writing the ${rounds} rounds (${n(series.length)} changes each) took ${(writeMs / 1000).toFixed(1)} s wall, ` +
        `${(writeCpuMs / 1000).toFixed(1)} s CPU in all (${n(Math.round((rounds * series.length) / (writeCpuMs / 1000)))} changes per CPU second), history included.`,
      "",
      `Lag tables after ${rounds} rounds:`,
      "",
      "| Table or index | Rows | Size |",
      "|---|---:|---:|",
      ...tableRows(fullSize),
    ].join("\n");
    console.log(`\n${section}\n`);
    const outDir = join(REPO_ROOT, "bench", "results");
    mkdirSync(outDir, { recursive: true });
    const file = join(outDir, `lag-cost-${size}${jitter ? "-jitter" : ""}-${new Date().toISOString().slice(0, 10)}.json`);
    writeFileSync(
      file,
      `${JSON.stringify({ command, digest: cluster.digest, rounds, jitter, loadStart, loadEnd, first, full, afterLoad, fullWindow, loadSize, fullSize, writeMs, writeCpuMs }, null, 2)}\n`,
    );
    log(`wrote ${file}`);
    if (!values["no-docs"]) {
      writeSection(join(REPO_ROOT, "docs", "BENCHMARKS.md"), `lag-cost-${size}${jitter ? "-jitter" : ""}`, section);
      log("updated docs/BENCHMARKS.md");
    }
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
