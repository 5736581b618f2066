/**
 * The freshness phase's write load, in its own process (forked by freshness.ts) so its pacing and
 * timestamps do not share an event loop with the prober. It puts committed offsets and end offsets
 * at a steady rate, as consumers committing and brokers flushing would, and reports every sampled
 * put (value, when it was issued, when etcd acknowledged it) to the parent over IPC. Its puts go over
 * plain HTTP/2 (raw-etcd-put.ts): half the CPU of etcd3's client, on the cores the service shares.
 *
 * Timestamps are `wallClockMs()` (wall-clock.ts): comparable across the two processes.
 *
 * A warm-up at the same rate comes first and is not measured: a freshly forked writer spends its
 * first second or two compiling (tsx, its etcd client, V8's JIT) while the puts fall due, and on a 2-core
 * machine that backlog alone put etcd-alone's put latency p99 at 270–350 ms against 35 ms from the
 * third second on (2026-11-26, `bench/etcd-alone.ts`). The service under test gets the warm-up's
 * puts too, so it is in its steady state when the measured window opens. The writer tells the
 * parent when it opens (`measuring`), so counters read around the window leave the warm-up out.
 */
import { encodeCommittedOffset, encodeNextOffset } from "../../src/kafscale/encode.js";
import { keys } from "../../src/kafscale/keys.js";
import type { CommittedTarget, PartitionTarget } from "./generator.js";
import { selfCpuMs as cpuMsNow } from "./cpu.js";
import { rawEtcdPutter } from "./raw-etcd-put.js";
import { openRunQueueWindow, type RunQueueShare, type RunQueueWindow } from "./run-queue.js";
import { summarize, type LatencySummary } from "./stats.js";
import { wallClockMs } from "./wall-clock.js";
import { serveForkedRun } from "./forked-run.js";

export interface WriterConfig {
  endpoint: string;
  ratePerSecond: number;
  /** Puts at the same rate before the measured window, neither sampled nor timed. */
  warmupMs: number;
  /** The measured window. */
  durationMs: number;
  /** Every n-th put is sampled; n is even, so samples always land on committed-offset puts. */
  sampleEvery: number;
  /** Values start here and grow by one per put, so a later value implies an earlier one was applied. */
  valueBase: number;
  committedTargets: CommittedTarget[];
  nextOffsetTargets: PartitionTarget[];
}

export interface WriterSample {
  type: "sample";
  target: CommittedTarget;
  value: number;
  issuedAt: number;
  ackedAt: number;
}

/** Sent once, when the warm-up ends and the measured window opens. */
export interface WriterMeasuring {
  type: "measuring";
}

export interface WriterDone {
  type: "done";
  /** Puts issued in the measured window (warm-up puts are not counted, here or below). */
  issued: number;
  acknowledged: number;
  failed: number;
  firstError?: string;
  achievedRate: number;
  /** Ticks where the in-flight cap stopped the writer from keeping the rate. */
  throttledTicks: number;
  putLatencyMs: LatencySummary;
  /** The writer's own CPU time over its whole life, warm-up included, ms (it exits before the harness could read it from /proc). */
  cpuMs: number;
  /** The writer's CPU time in the measured window, ms. */
  measuredCpuMs: number;
  /** Its threads' CPU and run-queue wait over the measured window (null: not Linux). */
  runQueue: RunQueueShare | null;
}

const MAX_IN_FLIGHT = 512;
const TICK_MS = 5;

type WriterMessage = WriterSample | WriterMeasuring | WriterDone;

async function run(config: WriterConfig, send: (m: WriterMessage) => void): Promise<void> {
  const client = rawEtcdPutter(config.endpoint);
  const putLatencies: number[] = [];
  let issued = 0;
  let acknowledged = 0;
  let failed = 0;
  let inFlight = 0;
  let throttledTicks = 0;
  let firstError: string | undefined;
  /** Sequence number of the first measured put (Infinity during the warm-up). */
  let firstMeasured = Number.POSITIVE_INFINITY;
  let measuredCpuStart = 0;
  let runQueue: RunQueueWindow | undefined;
  const committedAt = new Date().toISOString();

  const put = (seq: number): Promise<void> => {
    const value = config.valueBase + seq;
    const committed = seq % 2 === 0;
    let key: string;
    let bytes: Buffer;
    let target: CommittedTarget | undefined;
    if (committed) {
      target = config.committedTargets[(seq / 2) % config.committedTargets.length] as CommittedTarget;
      key = keys.committedOffset(target.group, target.topic, target.partition);
      bytes = encodeCommittedOffset({ offset: value, metadata: "", committedAt });
    } else {
      const p = config.nextOffsetTargets[((seq - 1) / 2) % config.nextOffsetTargets.length] as PartitionTarget;
      key = keys.nextOffset(p.topic, p.partition);
      bytes = encodeNextOffset(value);
    }
    const measured = seq >= firstMeasured;
    const issuedAt = wallClockMs();
    inFlight++;
    return client
      .put(key, bytes)
      .then(
        () => {
          if (!measured) return;
          const ackedAt = wallClockMs();
          acknowledged++;
          putLatencies.push(ackedAt - issuedAt);
          if (target && seq % config.sampleEvery === 0) send({ type: "sample", target, value, issuedAt, ackedAt });
        },
        (err: unknown) => {
          if (!measured) return;
          failed++;
          firstError ??= err instanceof Error ? err.message : String(err);
        },
      )
      .finally(() => inFlight--);
  };

  const pending = new Set<Promise<void>>();
  const started = wallClockMs();
  const endMs = config.warmupMs + config.durationMs;
  let measuringSince = started;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = wallClockMs() - started;
      if (firstMeasured === Number.POSITIVE_INFINITY && elapsed >= config.warmupMs) {
        firstMeasured = issued;
        measuringSince = wallClockMs();
        measuredCpuStart = cpuMsNow();
        runQueue = openRunQueueWindow(process.pid);
        send({ type: "measuring" });
      }
      const due = config.ratePerSecond * (Math.min(elapsed, endMs) / 1000);
      let throttled = false;
      while (issued < Math.floor(due)) {
        if (inFlight >= MAX_IN_FLIGHT) {
          throttled = true;
          break;
        }
        const p = put(issued++);
        pending.add(p);
        void p.then(() => pending.delete(p));
      }
      if (throttled && firstMeasured !== Number.POSITIVE_INFINITY) throttledTicks++;
      if (elapsed >= endMs) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
  const issuingMs = wallClockMs() - measuringSince;
  const runQueueShare = runQueue?.close() ?? null;
  const measuredIssued = issued - firstMeasured;
  await Promise.all(pending);
  client.close();
  send({
    type: "done",
    issued: measuredIssued,
    acknowledged,
    failed,
    ...(firstError !== undefined ? { firstError } : {}),
    achievedRate: Math.round((measuredIssued / issuingMs) * 1000),
    throttledTicks,
    putLatencyMs: summarize(putLatencies),
    cpuMs: cpuMsNow(),
    measuredCpuMs: cpuMsNow() - measuredCpuStart,
    runQueue: runQueueShare,
  });
}

serveForkedRun<WriterConfig, WriterMessage>(run);
