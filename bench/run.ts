/**
 * `npm run bench -- --size S|M|L`: the cached read model against live etcd reads, at scale (#6).
 *
 * 1. Generate the seeded synthetic cluster and load it into a fresh local etcd (txn batches).
 * 2. Our service, as its own process: cold sync (time, CPU, peak RSS), then the latency matrix
 *    (every tool × 1/8/32 callers over HTTP with the SDK client, etcd requests counted per cell),
 *    then freshness under 500 and 2,000 writes/s, then memory and database size.
 * 3. The Go-style baseline (bench/baseline/, not part of the product): the same matrix and phases.
 * 4. Results to bench/results/<size>-<date>.json and this size's section of docs/BENCHMARKS.md.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { parseBenchArgs, type BenchOptions } from "./lib/args.js";
import { buildExported, buildWorkingTree, type BuiltCode } from "./lib/build.js";
import { REPO_ROOT, type Memory } from "./lib/child.js";
import { waitForProcessQuiet, waitForQuiet } from "./lib/cpu.js";
import {
  benchEtcdClient,
  ETCD_MAX_REQUEST_BYTES,
  ETCD_QUOTA_BACKEND_BYTES,
  loadKvs,
  startBenchEtcd,
  type EtcdProcess,
} from "./lib/etcd.js";
import { measureFreshness, type FreshnessResult } from "./lib/freshness.js";
import type { ProberClient } from "./lib/prober-process.js";
import { generateCluster, type GeneratedCluster, type WorkloadHandles } from "./lib/generator.js";
import { lagHistorySize, waitForLagEvaluation } from "./lib/lag-history.js";
import { runLatencyMatrix, type ToolCase } from "./lib/latency.js";
import { shippedNodeArgs } from "./lib/shipped-node-options.js";
import { codeInfo, machineInfo } from "./lib/machine.js";
import { renderSection, writeSection } from "./lib/report.js";
import { checkTargets, compare, foreignSummary, memoryTraceOf, type BenchResult, type ServiceResult } from "./lib/results.js";
import { QUICK, SHAPES, WORKLOADS, type Workload } from "./lib/sizes.js";
import { databaseSize, distEntry, startBaseline, startOurs, type RunningTarget } from "./lib/targets.js";

/**
 * Settings our service gets beyond endpoints and paths. The per-principal rate limit (600 calls/min
 * by default) would cap every caller far below what the benchmark measures; it guards a shared
 * deployment against one agent, not the data path under test. The etcd link probe is a Range request
 * on a timer (0.2/s by default, measured on its own by bench/probe-cost.ts); an hour between probes
 * keeps it out of etcd's request counters, so they show what tool calls cause: nothing. The result
 * budget (60 KB by default, about 180 offset rows) is raised so the firehose case still answers all
 * 1,000 partitions in one call, as the baseline does: the comparison is of the data path, not of
 * page sizes.
 */
const SERVICE_ENV = {
  KAFSCALE_MCP_RATE_LIMIT: "0",
  KAFSCALE_MCP_LINK_PROBE_INTERVAL: "1h",
  KAFSCALE_MCP_MAX_RESULT_BYTES: "2000000",
};

const started = performance.now();
const say = (line: string): void => console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s] ${line}`);

/** The Node.js flags our service runs with: --node-arg, or those the image ships with. */
function serviceNodeArgs(options: BenchOptions, built: BuiltCode): string[] {
  return options.nodeArgs ?? shippedNodeArgs(built.root);
}

/** What the measurements need from the generated cluster (the keys themselves are dropped after loading). */
interface Plan {
  cases: ToolCase[];
  handles: WorkloadHandles;
  dataset: BenchResult["dataset"];
  loadMs: number;
  revision: number;
}

function toolCases(cluster: GeneratedCluster): ToolCase[] {
  const h = cluster.handles;
  const firehose = cluster.spec.topics.find((t) => t.name === h.firehoseTopic)?.partitions ?? 0;
  const sampleTopics = Object.keys(cluster.spec.groups.find((g) => g.id === h.sampleGroup)?.offsets ?? {});
  return [
    { label: "cluster_status", tool: "cluster_status", args: { topic_limit: 100 } },
    { label: "list_topics (limit 100)", tool: "list_topics", args: { limit: 100 } },
    { label: "describe_topics (3 topics)", tool: "describe_topics", args: { names: h.describeTopics } },
    { label: "list_groups (limit 100)", tool: "list_groups", args: { limit: 100 } },
    { label: "describe_group", tool: "describe_group", args: { group_id: h.sampleGroup } },
    {
      label: `fetch_offsets (typical group, ${sampleTopics.length} topics)`,
      tool: "fetch_offsets",
      args: { group_id: h.sampleGroup, topics: sampleTopics },
    },
    {
      label: `fetch_offsets (firehose, ${firehose.toLocaleString("en-US")} partitions)`,
      tool: "fetch_offsets",
      args: { group_id: h.firehoseGroup, topics: [h.firehoseTopic], limit: firehose },
    },
    { label: "describe_configs (5 topics)", tool: "describe_configs", args: { topics: h.configTopics } },
    { label: "consumer_lag (all groups, first page)", tool: "consumer_lag", args: {}, oursOnly: true },
  ];
}

/** Each process's CPU and run-queue wait over a freshness window, for the log. */
function runQueueLine(shares: FreshnessResult["runQueue"]): string {
  return Object.entries(shares)
    .map(([name, s]) => (s === null ? `${name} unknown` : `${name} ${s.ran}/${s.waited} (${s.mainRan}/${s.mainWaited})`))
    .join(", ");
}

/** Freshness values only grow over the whole run, so "value ≥ written" always means "applied". */
let freshnessPhase = 0;

async function measureTarget(
  target: RunningTarget,
  plan: Plan,
  cases: ToolCase[],
  etcd: EtcdProcess,
  workload: Workload,
  proberClient: ProberClient,
): Promise<Pick<ServiceResult, "settle" | "latency" | "freshness"> & { afterLatency: Memory }> {
  say(`latency matrix against ${target.child.name} (${target.url})`);
  const memory = () => target.child.memory();
  const ownPids = [etcd.pid, target.child.pid];
  const etcdSettledMs = await waitForProcessQuiet(etcd.pid, 60_000, 0.1);
  if (etcdSettledMs > 1_500) say(`waited ${(etcdSettledMs / 1000).toFixed(1)} s for etcd's post-load housekeeping to finish`);
  const { settle, cells: latency } = await runLatencyMatrix(
    target.url,
    cases,
    workload,
    etcd.metricsUrl,
    say,
    ownPids,
    memory,
    etcd.pid,
  );
  const afterLatency = memory();
  const freshness = [];
  for (const rate of workload.freshnessRates) {
    say(
      `freshness: ${rate} writes/s for ${workload.freshnessDurationMs / 1000} s (after ${workload.freshnessWarmupMs / 1000} s ` +
        `of warm-up at that rate) against ${target.child.name}`,
    );
    const f = await measureFreshness({
      baseUrl: target.url,
      etcdEndpoint: etcd.endpoint,
      metricsUrl: etcd.metricsUrl,
      handles: plan.handles,
      ratePerSecond: rate,
      warmupMs: workload.freshnessWarmupMs,
      durationMs: workload.freshnessDurationMs,
      samplesPerSecond: workload.freshnessSamplesPerSecond,
      valueBase: ++freshnessPhase * 1_000_000_000,
      servicePid: target.child.pid,
      etcdPid: etcd.pid,
      proberClient,
    });
    say(
      `  visible after ack p50 ${f.visibleAfterAckMs.p50} ms, p99 ${f.visibleAfterAckMs.p99} ms ` +
        `(${f.visibleAfterAckMs.count} samples, ${f.writer.achievedRate} writes/s achieved, ${f.pollsPerSecond} polls/s; ` +
        `the prober's own event-loop delay p99 ${f.proberLoopDelayMs.p99} ms, max ${f.proberLoopDelayMs.max} ms)`,
    );
    const apply = f.serviceApplyDelay;
    say(
      `  etcd put latency p50 ${f.writer.putLatencyMs.p50} ms, p99 ${f.writer.putLatencyMs.p99} ms` +
        (apply === null
          ? ""
          : `; the service's own part (event → commit): ${(apply.within50ms * 100).toFixed(2)}% of ${apply.batches} batches ` +
            `within 50 ms, p99 ≤ ${apply.p99AtMostMs} ms`),
    );
    const { loopDelayMs, fetchOffsets } = f.service;
    say(
      `  the service's event-loop delay ${loopDelayMs === null ? "unknown" : `p99 ${loopDelayMs.p99} ms, max ${loopDelayMs.max} ms`}; ` +
        `its fetch_offsets handler: ${fetchOffsets.calls} calls, p99 ≤ ${fetchOffsets.p99AtMostMs} ms`,
    );
    say(
      `  slowest ${f.slowest.length} samples (visible after ack / ack → probe sent / polls / showing call / slowest earlier call, ms): ` +
        f.slowest.map((t) => `${t.afterAckMs}/${t.toProbeMs}/${t.polls}/${t.showingCallMs}/${t.slowestEarlierCallMs}`).join(" "),
    );
    say(`  cores used / waiting for a core (main thread's): ${runQueueLine(f.runQueue)}`);
    freshness.push(f);
  }
  return { settle, latency, freshness, afterLatency };
}

/** Event-loop stalls a profiled run logs: longer than this (a tool call's share of the 50 ms freshness budget). */
const PROFILE_STALL_MS = 50;

async function runOurs(
  options: BenchOptions,
  built: BuiltCode,
  plan: Plan,
  etcd: EtcdProcess,
  workload: Workload,
  workDir: string,
): Promise<ServiceResult> {
  const dbPath = join(workDir, "kafscale-mcp.db");
  const profileDir = join(options.outDir, "profiles");
  if (options.profile) mkdirSync(profileDir, { recursive: true });
  const nodeArgs = [
    ...serviceNodeArgs(options, built),
    // With a profile, the stall log too: `bench/profile-summary.ts --stalls` then says what ran in each.
    ...(options.profile
      ? ["--cpu-prof", "--cpu-prof-dir", profileDir, "--import", pathToFileURL(join(REPO_ROOT, "bench", "lib", "stall-log.mjs")).href]
      : []),
    ...(options.memoryTrace ? ["--import", pathToFileURL(join(REPO_ROOT, "bench", "lib", "memory-probe.mjs")).href] : []),
  ];
  say(`starting our service (${options.runtime === "dist" ? "node dist/cli.js serve" : "tsx src/cli.ts serve"})`);
  const ours = await startOurs({
    runtime: options.runtime,
    root: built.root,
    etcdEndpoint: etcd.endpoint,
    dbPath,
    nodeArgs,
    timeoutMs: 10 * 60_000,
    env: {
      ...SERVICE_ENV,
      ...(options.profile ? { KAFSCALE_MCP_BENCH_STALL_DIR: profileDir, KAFSCALE_MCP_BENCH_STALL_MS: String(PROFILE_STALL_MS) } : {}),
      ...options.env,
    },
  });
  try {
    const cold = ours.coldSync;
    say(
      `cold sync: ${cold.keys} keys in ${(cold.spawnToLoadedMs / 1000).toFixed(2)} s from process start, ` +
        `peak RSS ${(cold.memory.peakRss / 1048576).toFixed(1)} MB`,
    );
    const afterSync = databaseSize(dbPath);
    const firstEvaluationMs = await waitForLagEvaluation(ours.url, 10 * 60_000);
    say(
      firstEvaluationMs === null
        ? "lag: this build has no consumer_lag (before the lag history): its case and the lag tables are skipped"
        : `lag: first evaluation answered ${(firstEvaluationMs / 1000).toFixed(2)} s after /readyz`,
    );
    const cases = firstEvaluationMs === null ? plan.cases.filter((c) => c.tool !== "consumer_lag") : plan.cases;
    const { afterLatency, ...measured } = await measureTarget(ours, plan, cases, etcd, workload, options.proberClient);
    const trace = options.memoryTrace ? memoryTraceOf(ours.child.logs) : undefined;
    const result: ServiceResult = {
      ...(trace ? { memoryTrace: trace } : {}),
      coldSync: cold,
      memory: { afterSync: cold.memory, afterLatency, end: ours.child.memory() },
      database: { afterSync, end: databaseSize(dbPath) },
      ...measured,
      cpuMs: ours.child.cpuMs(),
      ...(options.profile ? { profile: relative(REPO_ROOT, profileDir) } : {}),
    };
    // The history's size is read from the file once the service has closed it (WAL folded back).
    await ours.child.stop();
    if (firstEvaluationMs === null) return result;
    const history = lagHistorySize(dbPath);
    say(`lag: history and verdicts ${(history.lagBytes / 1048576).toFixed(1)} MB, ${(history.share * 100).toFixed(1)}% of the rest of the database`);
    return { ...result, lag: { firstEvaluationMs, history } };
  } finally {
    await ours.child.stop();
  }
}

async function runBaseline(plan: Plan, etcd: EtcdProcess, workload: Workload, proberClient: ProberClient): Promise<ServiceResult> {
  say("starting the Go-style baseline (bench/baseline/server.ts)");
  const baseline = await startBaseline({ etcdEndpoint: etcd.endpoint, timeoutMs: 5 * 60_000 });
  try {
    const cases = plan.cases.filter((c) => !c.oursOnly);
    const { afterLatency, ...measured } = await measureTarget(baseline, plan, cases, etcd, workload, proberClient);
    return { memory: { afterLatency, end: baseline.child.memory() }, ...measured, cpuMs: baseline.child.cpuMs() };
  } finally {
    await baseline.child.stop();
  }
}

/** Builds (or exports and builds) the code under test; `cleanup` removes an exported tree. */
function prepareCode(options: BenchOptions): BuiltCode {
  if (options.runtime === "tsx" || options.noBuild) {
    if (options.runtime === "dist" && !existsSync(distEntry(REPO_ROOT))) {
      throw new Error("dist/cli.js is missing: run without --no-build, or use --runtime tsx");
    }
    return { root: REPO_ROOT, code: codeInfo(), cleanup: () => undefined };
  }
  if (options.ref === undefined && options.patches.length === 0) {
    say("building the working tree: tsc -p tsconfig.build.json → dist/");
    return buildWorkingTree();
  }
  const what = `${options.ref ?? "the working tree"}${options.patches.length > 0 ? ` + ${options.patches.join(", ")}` : ""}`;
  say(`building ${what} in a temp dir: tsc -p tsconfig.build.json`);
  return buildExported(options.ref, options.patches);
}

/**
 * Generates the cluster and loads it into etcd. Only the plan leaves this function: at size L the
 * keys and the spec are a few hundred MB of heap that would otherwise stay reachable in the harness
 * (whose SDK clients do the timed calls) for the whole run.
 */
async function generateAndLoad(options: BenchOptions, etcd: EtcdProcess): Promise<Plan> {
  const shape = SHAPES[options.size];
  say(`generating size ${options.size} (seed 0x${shape.seed.toString(16)})`);
  const cluster = generateCluster(shape);
  say(`${cluster.keyCounts.total} keys, ${(cluster.bytes.total / 1048576).toFixed(1)} MB, digest ${cluster.digest.slice(0, 16)}`);
  say(`etcd ${etcd.version} at ${etcd.endpoint}; loading`);
  const client = benchEtcdClient(etcd.endpoint);
  const loadStarted = performance.now();
  const revision = await loadKvs(client, cluster.kvs);
  const loadMs = Math.round(performance.now() - loadStarted);
  client.close();
  say(`loaded in ${(loadMs / 1000).toFixed(2)} s (revision ${revision})`);
  return {
    cases: toolCases(cluster),
    handles: cluster.handles,
    dataset: {
      shape,
      keyCounts: cluster.keyCounts,
      bytes: cluster.bytes,
      digest: cluster.digest,
      firehose: {
        topic: cluster.handles.firehoseTopic,
        group: cluster.handles.firehoseGroup,
        partitions: shape.firehosePartitions,
      },
    },
    loadMs,
    revision,
  };
}

async function measure(options: BenchOptions, built: BuiltCode, startedAt: string): Promise<BenchResult> {
  const workload = options.quick ? QUICK : WORKLOADS[options.size];
  const preflight = options.waitQuietMs > 0 ? await waitForQuiet(options.waitQuietMs, 0.15, say) : 0;
  if (options.waitQuietMs > 0) say(`other processes use ${preflight} CPUs; starting`);
  const workDir = mkdtempSync(join(tmpdir(), "kafscale-mcp-bench-"));
  const etcd = await startBenchEtcd();
  try {
    const plan = await generateAndLoad(options, etcd);
    const ours = await runOurs(options, built, plan, etcd, workload, workDir);
    const baseline = options.skipBaseline ? null : await runBaseline(plan, etcd, workload, options.proberClient);
    const partial: Omit<BenchResult, "targets"> = {
      schema: 1,
      size: options.size,
      ...(options.tag ? { tag: options.tag } : {}),
      quick: options.quick,
      startedAt,
      durationMs: Math.round(performance.now() - started),
      command: options.command,
      runtime: options.runtime,
      machine: machineInfo(etcd.version),
      code: built.code,
      etcd: {
        version: etcd.version,
        maxRequestBytes: ETCD_MAX_REQUEST_BYTES,
        quotaBackendBytes: ETCD_QUOTA_BACKEND_BYTES,
        loadMs: plan.loadMs,
        revision: plan.revision,
      },
      dataset: plan.dataset,
      workload,
      serviceEnv: { ...SERVICE_ENV, ...options.env },
      serviceNodeArgs: serviceNodeArgs(options, built),
      foreignCpus: foreignSummary(preflight, [ours, baseline]),
      ours,
      baseline,
      comparison: baseline ? compare(ours.latency, baseline.latency) : [],
    };
    return { ...partial, targets: checkTargets(partial) };
  } finally {
    await etcd.destroy();
    rmSync(workDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const options = parseBenchArgs(process.argv.slice(2), join(REPO_ROOT, "bench", "results"));
  const startedAt = new Date().toISOString();
  const built = prepareCode(options);
  let result: BenchResult;
  try {
    result = await measure(options, built, startedAt);
  } finally {
    built.cleanup();
  }
  mkdirSync(options.outDir, { recursive: true });
  const name = [options.size, options.tag, options.quick ? "quick" : undefined, startedAt.slice(0, 10)];
  const file = join(options.outDir, `${name.filter(Boolean).join("-")}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  say(`results: ${relative(REPO_ROOT, file)}`);
  if (options.updateDocs) {
    const doc = join(REPO_ROOT, "docs", "BENCHMARKS.md");
    const section = options.tag ? `${options.size}-${options.tag}` : options.size;
    writeSection(doc, section, renderSection(result, relative(REPO_ROOT, file)));
    say(`updated ${relative(REPO_ROOT, doc)} (section ${section})`);
  }
  for (const t of result.targets) {
    say(`${t.met === null ? "n/a " : t.met ? "MET " : "MISS"}  ${t.target}: ${t.measured}`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
