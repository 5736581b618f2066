/**
 * Freshness under a steady write load: how long after etcd acknowledges a put does the first tool
 * answer show it? The writer process (writer-process.ts) keeps the rate; for each sampled put a
 * prober polls `fetch_offsets {group, topics:[topic]}` back to back until the committed offset is
 * at least the written value. Put-to-visible = arrival of that answer − the put's acknowledgement.
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
import { applyDelayDelta, readApplyDelay, type ApplyDelaySummary } from "./apply-delay.js";
import { REPO_ROOT } from "./child.js";
import { openCpuWindow } from "./cpu.js";
import { requestCounts, requestDelta, type EtcdDelta } from "./etcd.js";
import type { WorkloadHandles } from "./generator.js";
import { call, closeAll, connectMany, type Client } from "./mcp.js";
import { summarize, type LatencySummary } from "./stats.js";
import { wallClockMs } from "./wall-clock.js";
import type { WriterConfig, WriterDone, WriterMeasuring, WriterSample } from "./writer-process.js";

export interface FreshnessResult {
  targetRate: number;
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
  slowest: SampleTiming[];
  polls: number;
  pollsPerSecond: number;
  /** etcd requests during the phase: the writer's Puts, plus whatever the service under test reads. */
  etcd: EtcdDelta;
  /** CPUs used meanwhile by processes other than the benchmark's own (ideally 0). */
  foreignCpus: number;
  /** The service's own part: watch event arrival → batch committed (null: a service without the metric). */
  serviceApplyDelay: ApplyDelaySummary | null;
}

const PROBE_SESSIONS = 4;
const PROBE_TIMEOUT_MS = 5_000;

/** One sample's put-to-visible, taken apart. */
export interface SampleTiming {
  afterAckMs: number;
  /** Ack → the probe's first call sent: the writer's report reaching the harness (IPC, the harness's own event loop). */
  toProbeMs: number;
  polls: number;
  /** The duration of the call whose answer showed the value. */
  showingCallMs: number;
  /** The longest call before it (0 with one poll): a slow "not yet" answer. */
  slowestEarlierCallMs: number;
}

/** The share of samples `slowest` keeps. */
const SLOWEST_SHARE = 0.02;
const round1 = (ms: number): number => Math.round(ms * 10) / 10;

interface OffsetRow {
  partition: number;
  offset: number;
}

function showsValue(data: Record<string, unknown> | undefined, sample: WriterSample): boolean {
  const rows = (data?.offsets ?? []) as OffsetRow[] | null;
  const row = rows?.find((r) => r.partition === sample.target.partition);
  return row !== undefined && row.offset >= sample.value;
}

interface MeasuredWindow {
  before: Awaited<ReturnType<typeof requestCounts>>;
  applyBefore: Awaited<ReturnType<typeof readApplyDelay>>;
  cpu: ReturnType<typeof openCpuWindow>;
  started: number;
}

/** Counters at the opening of the writer's measured window. */
async function openMeasuredWindow(options: { metricsUrl: string; baseUrl: string; ownPids: number[] }): Promise<MeasuredWindow> {
  const cpu = openCpuWindow(options.ownPids);
  const started = performance.now();
  const [before, applyBefore] = await Promise.all([requestCounts(options.metricsUrl), readApplyDelay(options.baseUrl)]);
  return { before, applyBefore, cpu, started };
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
  /** Long-lived processes of the benchmark (etcd, the service under test), for CPU accounting. */
  ownPids: number[];
}): Promise<FreshnessResult> {
  const probes: Client[] = await connectMany(options.baseUrl, PROBE_SESSIONS);
  const idle = [...probes];
  const afterAck: number[] = [];
  const afterIssue: number[] = [];
  const timings: SampleTiming[] = [];
  const inProgress = new Set<Promise<void>>();
  let samples = 0;
  let skippedBusy = 0;
  let timeouts = 0;
  let polls = 0;

  const probe = async (client: Client, sample: WriterSample): Promise<void> => {
    const giveUpAt = wallClockMs() + PROBE_TIMEOUT_MS;
    const args = { group_id: sample.target.group, topics: [sample.target.topic] };
    const toProbeMs = wallClockMs() - sample.ackedAt;
    let slowestEarlierCallMs = 0;
    for (let n = 1; ; n++) {
      polls++;
      const sent = wallClockMs();
      const outcome = await call(client, "fetch_offsets", args);
      const arrived = wallClockMs();
      if (outcome.ok && showsValue(outcome.data, sample)) {
        const afterAckMs = Math.max(0, arrived - sample.ackedAt);
        afterAck.push(afterAckMs);
        afterIssue.push(arrived - sample.issuedAt);
        timings.push({ afterAckMs, toProbeMs, polls: n, showingCallMs: arrived - sent, slowestEarlierCallMs });
        return;
      }
      slowestEarlierCallMs = Math.max(slowestEarlierCallMs, arrived - sent);
      if (arrived > giveUpAt) {
        timeouts++;
        return;
      }
    }
  };

  // A step of two keeps samples on committed-offset puts (even sequence numbers).
  const every = Math.max(2, 2 * Math.round(options.ratePerSecond / options.samplesPerSecond / 2));
  const config: WriterConfig = {
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
  const writer = fork(fileURLToPath(new URL("./writer-process.ts", import.meta.url)), [], {
    cwd: REPO_ROOT,
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const done = await new Promise<WriterDone>((resolve, reject) => {
    writer.on("message", (m: WriterSample | WriterMeasuring | WriterDone) => {
      if (m.type === "done") return resolve(m);
      if (m.type === "measuring") {
        window = openMeasuredWindow(options);
        return;
      }
      samples++;
      const client = idle.pop();
      if (!client) {
        skippedBusy++;
        return;
      }
      const p = probe(client, m).finally(() => {
        idle.push(client);
        inProgress.delete(p);
      });
      inProgress.add(p);
    });
    writer.once("exit", (code) => reject(new Error(`freshness writer exited with ${code} before reporting`)));
    writer.send(config);
  });
  await Promise.all(inProgress);
  if (!window) throw new Error("freshness writer reported done without opening its measured window");
  const { before, applyBefore, cpu, started } = await window;
  const elapsedMs = performance.now() - started;
  const foreignCpus = cpu.foreignCpus(done.measuredCpuMs);
  const after = await requestCounts(options.metricsUrl);
  const applyAfter = await readApplyDelay(options.baseUrl);
  await closeAll(probes);
  const { type: _type, ...writerStats } = done;
  return {
    targetRate: options.ratePerSecond,
    warmupMs: options.warmupMs,
    durationMs: options.durationMs,
    writer: writerStats,
    samples,
    probed: afterAck.length + timeouts,
    skippedBusy,
    timeouts,
    visibleAfterAckMs: summarize(afterAck),
    visibleAfterIssueMs: summarize(afterIssue),
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
    polls,
    pollsPerSecond: Math.round((polls / elapsedMs) * 1000),
    etcd: requestDelta(before, after),
    foreignCpus,
    serviceApplyDelay: applyDelayDelta(applyBefore, applyAfter),
  };
}
