/**
 * Freshness under a steady write load: how long after etcd acknowledges a put does the first tool
 * answer show it? The writer process (writer-process.ts) keeps the rate; for each sampled put the
 * prober process (prober-process.ts, the writer's parent) polls `fetch_offsets {group, topics:[topic]}`
 * back to back until the committed offset is at least the written value. Put-to-visible = arrival of
 * that answer − the put's acknowledgement. Neither runs in this harness process, whose large heap
 * (the generated cluster) made samples wait for its event loop.
 *
 * Honest about its own overhead: each poll is a full MCP call the service must also answer while it
 * applies the write stream, so the prober's load (polls/s, reported) is part of the measurement,
 * and its resolution is one call's latency. A sample that arrives while every probe session is busy
 * is skipped (counted), so probes never queue behind each other and inflate the numbers.
 *
 * The writer warms up at the same rate first (writer-process.ts says why); etcd's request counts, the
 * CPU window and the service's apply-delay histogram are read from the moment it reports the
 * measured window open, so they cover the same 10 s as the samples.
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { applyDelayDelta, type ApplyDelaySummary } from "./apply-delay.js";
import { REPO_ROOT } from "./child.js";
import { openCpuWindow } from "./cpu.js";
import { requestCounts, requestDelta, type EtcdDelta } from "./etcd.js";
import type { WorkloadHandles } from "./generator.js";
import type { ProberClient, ProberConfig, ProberDone, ProberMessage, SampleTiming } from "./prober-process.js";
import { openRunQueueWindow, type RunQueueShare, type RunQueueWindow } from "./run-queue.js";
import { readServiceCounters, serviceWindow, type ServiceCounters, type ServiceWindow } from "./service-window.js";
import { summarize, type LatencySummary } from "./stats.js";
import type { WriterConfig, WriterDone } from "./writer-process.js";

export interface FreshnessResult {
  targetRate: number;
  /** The prober's MCP client (--prober-client). */
  proberClient: ProberClient;
  /** Unmeasured puts at the same rate before the window. */
  warmupMs: number;
  durationMs: number;
  writer: Omit<WriterDone, "type">;
  samples: number;
  probed: number;
  skippedBusy: number;
  timeouts: number;
  /** Put acknowledged by etcd → first tool answer showing it. */
  visibleAfterAckMs: LatencySummary;
  /** Put issued → first tool answer showing it (adds etcd's own commit latency). */
  visibleAfterIssueMs: LatencySummary;
  /** Where the slowest samples' time went (the slowest 2%, slowest first). */
  slowest: Omit<SampleTiming, "afterIssueMs">[];
  /** The prober's own event-loop delay over the window: how late it can have noticed a sample or an answer. */
  proberLoopDelayMs: { p99: number; max: number };
  polls: number;
  pollsPerSecond: number;
  /** etcd requests during the phase: the writer's Puts, plus whatever the service under test reads. */
  etcd: EtcdDelta;
  /** CPUs used meanwhile by processes other than the benchmark's own (ideally 0). */
  foreignCpus: number;
  /** The service's own part: watch event arrival → batch committed (null: a service without the metric). */
  serviceApplyDelay: ApplyDelaySummary | null;
  /** The service's event-loop delay and its fetch_offsets handler's duration over the window. */
  service: ServiceWindow;
  /**
   * Each process's CPU over the window and the time its threads waited for a core (run-queue wait,
   * src: /proc schedstat); a value is null where it could not be read (not Linux).
   */
  runQueue: Record<"service" | "etcd" | "prober" | "writer", RunQueueShare | null>;
}

const PROBE_SESSIONS = 4;
const PROBE_TIMEOUT_MS = 5_000;

/** The share of samples `slowest` keeps. */
const SLOWEST_SHARE = 0.02;
const round1 = (ms: number): number => Math.round(ms * 10) / 10;

interface MeasuredWindow {
  before: Awaited<ReturnType<typeof requestCounts>>;
  serviceBefore: ServiceCounters;
  cpu: ReturnType<typeof openCpuWindow>;
  runQueue: { service: RunQueueWindow; etcd: RunQueueWindow };
  started: number;
}

/** Counters at the opening of the writer's measured window. */
async function openMeasuredWindow(options: {
  metricsUrl: string;
  baseUrl: string;
  servicePid: number;
  etcdPid: number;
}): Promise<MeasuredWindow> {
  // The benchmark's long-lived processes, for CPU accounting (the writer and prober report their own).
  const cpu = openCpuWindow([options.etcdPid, options.servicePid]);
  const runQueue = { service: openRunQueueWindow(options.servicePid), etcd: openRunQueueWindow(options.etcdPid) };
  const started = performance.now();
  const [before, serviceBefore] = await Promise.all([requestCounts(options.metricsUrl), readServiceCounters(options.baseUrl)]);
  return { before, serviceBefore, cpu, runQueue, started };
}

export async function measureFreshness(options: {
  baseUrl: string;
  etcdEndpoint: string;
  metricsUrl: string;
  handles: WorkloadHandles;
  ratePerSecond: number;
  warmupMs: number;
  durationMs: number;
  samplesPerSecond: number;
  valueBase: number;
  /** The service under test's process and etcd's. */
  servicePid: number;
  etcdPid: number;
  proberClient: ProberClient;
}): Promise<FreshnessResult> {
  // A step of two keeps samples on committed-offset puts (even sequence numbers).
  const every = Math.max(2, 2 * Math.round(options.ratePerSecond / options.samplesPerSecond / 2));
  const writerConfig: WriterConfig = {
    endpoint: options.etcdEndpoint,
    ratePerSecond: options.ratePerSecond,
    warmupMs: options.warmupMs,
    durationMs: options.durationMs,
    sampleEvery: every,
    valueBase: options.valueBase,
    committedTargets: options.handles.committedTargets,
    nextOffsetTargets: options.handles.nextOffsetTargets,
  };
  let window: Promise<MeasuredWindow> | undefined;
  const prober = fork(fileURLToPath(new URL("./prober-process.ts", import.meta.url)), [], {
    cwd: REPO_ROOT,
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const config: ProberConfig = {
    baseUrl: options.baseUrl,
    client: options.proberClient,
    sessions: PROBE_SESSIONS,
    timeoutMs: PROBE_TIMEOUT_MS,
    writer: writerConfig,
  };
  const done = await new Promise<ProberDone>((resolve, reject) => {
    prober.on("message", (m: ProberMessage) => {
      if (m.type === "done") return resolve(m);
      window = openMeasuredWindow(options);
    });
    prober.once("exit", (code) => reject(new Error(`freshness prober exited with ${code} before reporting`)));
    prober.send(config);
  });
  if (!window) throw new Error("freshness writer reported done without opening its measured window");
  const { before, serviceBefore, cpu, runQueue, started } = await window;
  const longLivedShares = { service: runQueue.service.close(), etcd: runQueue.etcd.close() };
  // First, before anything else scrapes the service: its loop-delay histogram covers the window until then.
  const serviceAfter = await readServiceCounters(options.baseUrl);
  const elapsedMs = performance.now() - started;
  const foreignCpus = cpu.foreignCpus(done.writer.measuredCpuMs + done.measuredCpuMs);
  const after = await requestCounts(options.metricsUrl);
  const { type: _type, ...writerStats } = done.writer;
  const { timings, polls } = done;
  return {
    targetRate: options.ratePerSecond,
    proberClient: options.proberClient,
    warmupMs: options.warmupMs,
    durationMs: options.durationMs,
    writer: writerStats,
    samples: done.samples,
    probed: timings.length + done.timeouts,
    skippedBusy: done.skippedBusy,
    timeouts: done.timeouts,
    visibleAfterAckMs: summarize(timings.map((t) => t.afterAckMs)),
    visibleAfterIssueMs: summarize(timings.map((t) => t.afterIssueMs)),
    slowest: timings
      .sort((a, b) => b.afterAckMs - a.afterAckMs)
      .slice(0, Math.max(1, Math.ceil(timings.length * SLOWEST_SHARE)))
      .map((t) => ({
        afterAckMs: round1(t.afterAckMs),
        toProbeMs: round1(t.toProbeMs),
        polls: t.polls,
        showingCallMs: round1(t.showingCallMs),
        slowestEarlierCallMs: round1(t.slowestEarlierCallMs),
      })),
    proberLoopDelayMs: done.loopDelayMs,
    polls,
    pollsPerSecond: Math.round((polls / elapsedMs) * 1000),
    etcd: requestDelta(before, after),
    foreignCpus,
    serviceApplyDelay: applyDelayDelta(serviceBefore.applyDelay, serviceAfter.applyDelay),
    service: serviceWindow(serviceBefore, serviceAfter),
    runQueue: { ...longLivedShares, prober: done.runQueue, writer: done.writer.runQueue },
  };
}
