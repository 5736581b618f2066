/**
 * The latency matrix: every tool case at every concurrency level, over real HTTP with the SDK
 * client, N callers each with its own session, issuing calls back to back. Around each cell the
 * harness reads etcd's request counters, so every cell also says how many etcd requests it caused.
 */
import { openCpuWindow, processCpuMs } from "./cpu.js";
import { requestCounts, requestDelta, type EtcdDelta } from "./etcd.js";
import { call, closeAll, connect, connectMany, type Client } from "./mcp.js";
import type { Memory } from "./child.js";
import type { Workload } from "./sizes.js";
import { summarize, type LatencySummary } from "./stats.js";

export interface ToolCase {
  /** Short label used in reports, e.g. "fetch_offsets (1,000 partitions)". */
  label: string;
  tool: string;
  args: Record<string, unknown>;
  /** A tool the Go-style baseline does not have (consumer_lag): measured for our service only. */
  oursOnly?: boolean;
}

export interface CellResult {
  label: string;
  tool: string;
  concurrency: number;
  calls: number;
  errors: number;
  firstError?: string;
  latencyMs: LatencySummary;
  /** Successful calls per second over the cell's wall time. */
  throughput: number;
  wallMs: number;
  /** etcd requests started while the cell ran (nothing else talks to etcd meanwhile). */
  etcd: EtcdDelta;
  /** The service's memory right after the cell (VmRSS, VmHWM), when the harness can read it. */
  memoryAfter?: Memory;
  /** CPUs used meanwhile by processes other than the harness, the service and etcd (ideally 0; NaN: cell too short to tell). */
  foreignCpus: number;
  /** CPUs etcd used during the cell (its own housekeeping; the service makes no requests). */
  etcdCpus?: number;
}

interface CallerStats {
  latencies: number[];
  errors: number;
  firstError?: string;
}

async function caller(client: Client, c: ToolCase, until: () => boolean): Promise<CallerStats> {
  const stats: CallerStats = { latencies: [], errors: 0 };
  while (!until()) {
    const started = performance.now();
    try {
      const outcome = await call(client, c.tool, c.args);
      if (outcome.ok) stats.latencies.push(performance.now() - started);
      else {
        stats.errors++;
        stats.firstError ??= outcome.error;
      }
    } catch (err) {
      stats.errors++;
      stats.firstError ??= err instanceof Error ? err.message : String(err);
    }
  }
  return stats;
}

async function runCell(
  clients: Client[],
  c: ToolCase,
  workload: Workload,
  metricsUrl: string,
  ownPids: number[],
  etcdPid?: number,
): Promise<CellResult> {
  for (let i = 0; i < workload.warmupCalls; i++) {
    await Promise.all(clients.map((client) => call(client, c.tool, c.args).catch(() => undefined)));
  }
  const minPerCaller = Math.ceil(workload.minCallsPerCell / clients.length);
  const before = await requestCounts(metricsUrl);
  const cpu = openCpuWindow(ownPids);
  const etcdCpuBefore = etcdPid === undefined ? 0 : processCpuMs(etcdPid);
  const started = performance.now();
  const results = await Promise.all(
    clients.map((client) => {
      let issued = 0;
      // Stop once the budget is spent and this caller made its share of the minimum.
      return caller(client, c, () => issued++ >= minPerCaller && performance.now() - started >= workload.budgetMs);
    }),
  );
  const wallMs = performance.now() - started;
  const foreignCpus = cpu.foreignCpus();
  const etcdCpus =
    etcdPid === undefined ? undefined : Math.round(((processCpuMs(etcdPid) - etcdCpuBefore) / wallMs) * 100) / 100;
  const after = await requestCounts(metricsUrl);
  const latencies = results.flatMap((r) => r.latencies);
  const errors = results.reduce((n, r) => n + r.errors, 0);
  const firstError = results.find((r) => r.firstError !== undefined)?.firstError;
  return {
    label: c.label,
    tool: c.tool,
    concurrency: clients.length,
    calls: latencies.length + errors,
    errors,
    ...(firstError !== undefined ? { firstError } : {}),
    latencyMs: summarize(latencies),
    throughput: Math.round((latencies.length / wallMs) * 1000 * 10) / 10,
    wallMs: Math.round(wallMs),
    etcd: requestDelta(before, after),
    foreignCpus,
    ...(etcdCpus !== undefined ? { etcdCpus } : {}),
  };
}

/** One second of the settle phase: how many untimed calls it made and their median. */
export interface SettleSecond {
  calls: number;
  p50: number;
}

/**
 * The settle phase: round-robin calls over every case from one session for `settleMs`, untimed as
 * far as the cells go, but kept per second so the result shows how long the service (and the
 * machine) took to reach a steady state after the cold sync.
 */
async function settle(baseUrl: string, cases: ToolCase[], settleMs: number): Promise<SettleSecond[]> {
  if (settleMs <= 0) return [];
  const client = await connect(baseUrl);
  const seconds: number[][] = [];
  const started = performance.now();
  try {
    for (let i = 0; performance.now() - started < settleMs; i++) {
      const c = cases[i % cases.length] as ToolCase;
      const callStarted = performance.now();
      await call(client, c.tool, c.args).catch(() => undefined);
      const second = Math.floor((callStarted - started) / 1000);
      (seconds[second] ??= []).push(performance.now() - callStarted);
    }
  } finally {
    await closeAll([client]);
  }
  return Array.from(seconds, (s = []) => ({ calls: s.length, p50: s.length > 0 ? summarize(s).p50 : NaN }));
}

export interface LatencyMatrix {
  /** The settle phase, second by second (empty without one). */
  settle: SettleSecond[];
  cells: CellResult[];
}

/**
 * Runs every case at every concurrency level against the service at `baseUrl`, after the settle
 * phase. Each cell gets fresh sessions, so no cell inherits another's session state.
 */
export async function runLatencyMatrix(
  baseUrl: string,
  cases: ToolCase[],
  workload: Workload,
  metricsUrl: string,
  progress: (line: string) => void,
  ownPids: number[],
  memory?: () => Memory,
  etcdPid?: number,
): Promise<LatencyMatrix> {
  const settled = await settle(baseUrl, cases, workload.settleMs);
  if (settled.length > 0) {
    const p50s = settled.map((s) => s.p50.toFixed(2)).join(" ");
    progress(`  settle: ${settled.length} s of round-robin calls; p50 per second (ms): ${p50s}`);
  }
  const cells: CellResult[] = [];
  for (const concurrency of workload.concurrency) {
    for (const c of cases) {
      const clients = await connectMany(baseUrl, concurrency);
      let cell: CellResult;
      try {
        cell = await runCell(clients, c, workload, metricsUrl, ownPids, etcdPid);
      } finally {
        await closeAll(clients);
      }
      if (memory) cell.memoryAfter = memory();
      cells.push(cell);
      progress(
        `  ${c.label.padEnd(42)} c=${String(concurrency).padStart(2)}  p50 ${cell.latencyMs.p50.toFixed(2)} ms  ` +
          `p99 ${cell.latencyMs.p99.toFixed(2)} ms  ${cell.throughput}/s  n=${cell.calls}` +
          `${cell.errors > 0 ? `  errors=${cell.errors} (${cell.firstError})` : ""}  etcd Range=${cell.etcd.Range}` +
          `${cell.memoryAfter ? `  rss ${(cell.memoryAfter.rss / 1048576).toFixed(0)} MB` : ""}` +
          `${(cell.etcdCpus ?? 0) >= 0.1 ? `  (etcd used ${cell.etcdCpus} CPUs)` : ""}` +
          `${cell.foreignCpus >= 0.1 ? `  (other processes used ${cell.foreignCpus} CPUs meanwhile)` : ""}`,
      );
    }
  }
  return { settle: settled, cells };
}
