/**
 * The result document of one run (written as JSON, rendered into docs/BENCHMARKS.md) and the
 * comparison against the targets of issue #6 / design.md.
 */
import type { FreshnessResult } from "./freshness.js";
import type { CellResult, SettleSecond } from "./latency.js";
import type { CodeInfo, MachineInfo } from "./machine.js";
import type { ClusterShape, SizeName, Workload } from "./sizes.js";
import type { LogRecord, Memory } from "./child.js";
import type { ColdSync, Runtime } from "./targets.js";
import type { LagHistorySize } from "./lag-history.js";

export interface DbSize {
  db: number;
  wal: number;
  shm: number;
  total: number;
}

/** process.memoryUsage() of the service as sampled by bench/lib/memory-probe.mjs (--memory-trace). */
export interface MemoryTrace {
  samples: number;
  /** Largest value of each field over the run, bytes. */
  max: { rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };
  last: { rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };
}

type MemoryFields = MemoryTrace["max"];
const MEMORY_FIELDS = ["rss", "heapTotal", "heapUsed", "external", "arrayBuffers"] as const;

export function memoryTraceOf(logs: readonly LogRecord[]): MemoryTrace | undefined {
  const samples = logs.filter((r) => r.msg === "bench memory") as unknown as MemoryFields[];
  const last = samples.at(-1);
  if (!last) return undefined;
  const max = Object.fromEntries(MEMORY_FIELDS.map((f) => [f, Math.max(...samples.map((s) => s[f]))])) as MemoryFields;
  const pick = Object.fromEntries(MEMORY_FIELDS.map((f) => [f, last[f]])) as MemoryFields;
  return { samples: samples.length, max, last: pick };
}

export interface ServiceResult {
  /** With --memory-trace: the V8 heap and external memory behind the RSS numbers. */
  memoryTrace?: MemoryTrace;
  coldSync?: ColdSync;
  /** Memory after the initial load, after the latency matrix, and at the end (peakRss = peak so far). */
  memory: { afterSync?: Memory; afterLatency?: Memory; end: Memory };
  database?: { afterSync: DbSize; end: DbSize };
  /** The settle phase before the cells, second by second: how long the warm-up after the cold sync took. */
  settle?: SettleSecond[];
  latency: CellResult[];
  freshness: FreshnessResult[];
  /** CPU time the process used over the whole run, ms. */
  cpuMs: number;
  /** Where a CPU profile was written (--profile). */
  profile?: string;
  /** Consumer lag (issue 14): the first evaluation after the cold sync, and the history's size at the end. */
  lag?: { firstEvaluationMs: number; history: LagHistorySize };
}

export interface Comparison {
  label: string;
  concurrency: number;
  oursP50: number;
  baselineP50: number;
  /** baseline / ours: how many times faster we are (p50, p99) and how many more calls/s we serve. */
  p50Speedup: number;
  p99Speedup: number;
  throughputRatio: number;
  /**
   * Time etcd itself spent serving the baseline's reads, per call: a floor no client of the
   * Go design can beat (it still has to wait for each GET), whatever its language.
   */
  baselineEtcdServerMsPerCall: number;
  /** baselineEtcdServerMsPerCall / ours p50: the speed-up against that floor. */
  floorSpeedup: number;
}

export interface TargetCheck {
  id: string;
  target: string;
  measured: string;
  /** null: not measured in this run, or the target is defined for another size. */
  met: boolean | null;
  note?: string;
}

export interface BenchResult {
  schema: 1;
  size: SizeName;
  /** Variant runs (--tag), e.g. a proposed setting or patch. */
  tag?: string;
  quick: boolean;
  startedAt: string;
  durationMs: number;
  command: string;
  runtime: Runtime;
  machine: MachineInfo;
  code: CodeInfo;
  etcd: { version: string; maxRequestBytes: number; quotaBackendBytes: number; loadMs: number; revision: number };
  dataset: {
    shape: ClusterShape;
    keyCounts: Record<string, number>;
    bytes: { total: number; largestValue: number };
    digest: string;
    firehose: { topic: string; group: string; partitions: number };
  };
  workload: Workload;
  /** Environment given to our service beyond endpoints and paths (e.g. the rate limit switched off). */
  serviceEnv: Record<string, string>;
  /** Extra Node.js flags given to our service (--node-arg). */
  serviceNodeArgs: string[];
  /**
   * CPUs used by processes outside the benchmark: before it started (after --wait-quiet), and
   * during the timed cells and freshness phases (mean and worst). Non-zero means a noisy neighbour.
   */
  foreignCpus: { preflight: number; cellsMean: number; cellsMax: number; freshnessMax: number };
  ours: ServiceResult;
  baseline: ServiceResult | null;
  comparison: Comparison[];
  targets: TargetCheck[];
}

const ratio = (a: number, b: number): number => (b > 0 ? Math.round((a / b) * 10) / 10 : NaN);

/** Summarises what other processes used during a run's cells and freshness phases. */
export function foreignSummary(preflight: number, services: (ServiceResult | null)[]): BenchResult["foreignCpus"] {
  const measured = (v: number | null | undefined): v is number => typeof v === "number" && Number.isFinite(v);
  const cells = services.flatMap((s) => s?.latency ?? []).map((c) => c.foreignCpus).filter(measured);
  const fresh = services.flatMap((s) => s?.freshness ?? []).map((f) => f.foreignCpus).filter(measured);
  const mean = cells.length > 0 ? cells.reduce((a, b) => a + b, 0) / cells.length : 0;
  return {
    preflight,
    cellsMean: Math.round(mean * 100) / 100,
    cellsMax: Math.max(0, ...cells),
    freshnessMax: Math.max(0, ...fresh),
  };
}

export function compare(ours: CellResult[], baseline: CellResult[]): Comparison[] {
  return ours.flatMap((o) => {
    const b = baseline.find((x) => x.label === o.label && x.concurrency === o.concurrency);
    if (!b) return [];
    const floor = b.calls > 0 ? Math.round((b.etcd.rangeServerMs / b.calls) * 1000) / 1000 : NaN;
    return [
      {
        label: o.label,
        concurrency: o.concurrency,
        oursP50: o.latencyMs.p50,
        baselineP50: b.latencyMs.p50,
        p50Speedup: ratio(b.latencyMs.p50, o.latencyMs.p50),
        p99Speedup: ratio(b.latencyMs.p99, o.latencyMs.p99),
        throughputRatio: ratio(o.throughput, b.throughput),
        baselineEtcdServerMsPerCall: floor,
        floorSpeedup: ratio(floor, o.latencyMs.p50),
      },
    ];
  });
}

const ms = (v: number): string => `${v.toFixed(2)} ms`;
const n = (v: number): string => v.toLocaleString("en-US");
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** Checks a run against the targets; latency and cold-sync targets are defined at size L. */
export function checkTargets(r: Omit<BenchResult, "targets">): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const atL = r.size === "L";
  const sizeNote = atL ? undefined : "target defined at size L; shown for reference";

  const etcdFromTools = r.ours.latency.reduce((n, c) => n + c.etcd.Range + c.etcd.Txn + c.etcd.Put, 0);
  const rangeInFreshness = r.ours.freshness.reduce((n, f) => n + f.etcd.Range + f.etcd.Txn, 0);
  const calls = r.ours.latency.reduce((n, c) => n + c.calls, 0);
  checks.push({
    id: "zero-etcd-requests",
    target: "0 etcd requests caused by tool calls",
    measured: `${etcdFromTools} during ${n(calls)} timed calls; ${rangeInFreshness} Range/Txn during the freshness probes`,
    met: etcdFromTools === 0 && rangeInFreshness === 0,
  });

  // The latency targets cover the tool mix an agent calls; the 1,000-row fetch_offsets answer has
  // its own target (the speed-up below), and is reported next to them.
  const single = r.ours.latency.filter((c) => c.concurrency === 1);
  const isFirehose = (c: CellResult): boolean => c.label.startsWith("fetch_offsets (firehose");
  const isLag = (c: CellResult): boolean => c.tool === "consumer_lag";
  const typical = single.filter((c) => !isFirehose(c) && !isLag(c));
  const firehose = single.find(isFirehose);
  if (typical.length > 0) {
    for (const [key, limit] of [["p50", 2], ["p99", 10]] as const) {
      const worst = typical.reduce((a, b) => (b.latencyMs[key] > a.latencyMs[key] ? b : a));
      const over = typical.filter((c) => c.latencyMs[key] > limit).map((c) => `${c.label} ${ms(c.latencyMs[key])}`);
      const notes = [
        over.length > 0 ? `over the target: ${over.join("; ")}` : undefined,
        firehose ? `the ${n(r.dataset.firehose.partitions)}-row fetch_offsets answer: ${key} ${ms(firehose.latencyMs[key])}` : undefined,
        sizeNote,
      ].filter(Boolean);
      checks.push({
        id: `latency-${key}`,
        target: `tool latency ${key} ≤ ${limit} ms (one caller; every tool but the ${n(r.dataset.firehose.partitions)}-row fetch_offsets)`,
        measured: `worst: ${worst.label} ${ms(worst.latencyMs[key])}`,
        met: atL ? over.length === 0 : null,
        ...(notes.length > 0 ? { note: notes.join("; ") } : {}),
      });
    }
  }

  const lag = single.find(isLag);
  checks.push({
    id: "consumer-lag-p50",
    target: `consumer_lag over all ${n(r.dataset.shape.groups)} groups p50 ≤ 20 ms (one caller, history on)`,
    measured: lag ? `p50 ${ms(lag.latencyMs.p50)}, p99 ${ms(lag.latencyMs.p99)}` : "not measured",
    met: lag && atL ? lag.latencyMs.p50 <= 20 : null,
    ...(sizeNote ? { note: sizeNote } : {}),
  });

  const history = r.ours.lag?.history;
  checks.push({
    id: "lag-history-size",
    target: "the lag history adds ≤ 30% to the database",
    measured: history
      ? `${mb(history.historyBytes)} of history tables next to ${mb(history.restBytes)}: +${(history.historyShare * 100).toFixed(1)}% ` +
        `(${n(history.points)} points in ${n(history.series)} series); all lag tables, verdicts included: ` +
        `${mb(history.lagBytes)}, +${(history.share * 100).toFixed(1)}%`
      : "not measured",
    met: history && atL ? history.historyShare <= 0.3 : null,
    ...(history
      ? {
          note:
            `${history.bytesPerPoint} bytes a point now (key included); windows fill to ${history.windowPoints} points over time: ` +
            `full windows are measured by bench/lag-cost.ts${sizeNote ? `; ${sizeNote}` : ""}`,
        }
      : sizeNote
        ? { note: sizeNote }
        : {}),
  });

  const fo = r.comparison.find((c) => c.concurrency === 1 && c.label.startsWith("fetch_offsets (firehose"));
  checks.push({
    id: "fetch-offsets-speedup",
    target: `fetch_offsets on the ${n(r.dataset.firehose.partitions)}-partition group ≥ 20× faster than the baseline (p50, one caller)`,
    measured: fo
      ? `${fo.p50Speedup}× (ours ${ms(fo.oursP50)}, baseline ${ms(fo.baselineP50)}); ` +
        `${fo.floorSpeedup}× against etcd's own time serving the baseline's GETs (${ms(fo.baselineEtcdServerMsPerCall)} per call)`
      : "baseline not run",
    met: fo ? fo.p50Speedup >= 20 : null,
    ...(r.dataset.firehose.partitions < 1000 ? { note: "the target is for a 1,000-partition group (sizes M and L)" } : {}),
  });

  const fresh = r.ours.freshness.find((f) => f.targetRate === 2000);
  checks.push({
    id: "freshness-p99",
    target: "put-to-visible p99 ≤ 50 ms at 2,000 writes/s",
    measured: fresh
      ? `p99 ${ms(fresh.visibleAfterAckMs.p99)} (p50 ${ms(fresh.visibleAfterAckMs.p50)}; ${n(fresh.writer.achievedRate)} writes/s achieved)`
      : "not run at 2,000 writes/s",
    met: fresh ? fresh.visibleAfterAckMs.p99 <= 50 && fresh.timeouts === 0 : null,
  });

  const cold = r.ours.coldSync;
  checks.push({
    id: "cold-sync",
    target: "cold sync ≤ 15 s (size L, ~300k keys)",
    measured: cold ? `${(cold.spawnToLoadedMs / 1000).toFixed(2)} s for ${n(cold.keys)} keys` : "not measured",
    met: cold && atL ? cold.spawnToLoadedMs <= 15_000 : null,
    ...(sizeNote ? { note: sizeNote } : {}),
  });

  const peak = r.ours.memory.end.peakRss;
  checks.push({
    id: "rss",
    target: "resident memory ≤ 256 MB",
    measured: `peak ${mb(peak)} over the run (${mb(r.ours.coldSync?.memory.peakRss ?? NaN)} at the end of the cold sync)`,
    met: peak <= 256 * 1024 * 1024,
  });
  return checks;
}
