/**
 * The freshness phase's write load, in its own process (forked by freshness.ts) so its pacing and
 * timestamps do not share an event loop with the prober. It puts committed offsets and end offsets
 * at a steady rate, as consumers committing and brokers flushing would, and reports every sampled
 * put (value, when it was issued, when etcd acknowledged it) to the parent over IPC.
 *
 * Timestamps are `wallClockMs()` (wall-clock.ts): comparable across the two processes.
 */
import { encodeCommittedOffset, encodeNextOffset } from "../../src/kafscale/encode.js";
import { keys } from "../../src/kafscale/keys.js";
import { benchEtcdClient } from "./etcd.js";
import type { CommittedTarget, PartitionTarget } from "./generator.js";
import { summarize, type LatencySummary } from "./stats.js";
import { wallClockMs } from "./wall-clock.js";

export interface WriterConfig {
  endpoint: string;
  ratePerSecond: number;
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

export interface WriterDone {
  type: "done";
  issued: number;
  acknowledged: number;
  failed: number;
  firstError?: string;
  achievedRate: number;
  /** Ticks where the in-flight cap stopped the writer from keeping the rate. */
  throttledTicks: number;
  putLatencyMs: LatencySummary;
  /** The writer's own CPU time, ms (it exits before the harness could read it from /proc). */
  cpuMs: number;
}

const MAX_IN_FLIGHT = 512;
const TICK_MS = 5;

async function run(config: WriterConfig, send: (m: WriterSample | WriterDone) => void): Promise<void> {
  const client = benchEtcdClient(config.endpoint);
  const putLatencies: number[] = [];
  let issued = 0;
  let acknowledged = 0;
  let failed = 0;
  let inFlight = 0;
  let throttledTicks = 0;
  let firstError: string | undefined;
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
    const issuedAt = wallClockMs();
    inFlight++;
    return client
      .put(key)
      .value(bytes)
      .exec()
      .then(
        () => {
          const ackedAt = wallClockMs();
          acknowledged++;
          putLatencies.push(ackedAt - issuedAt);
          if (target && seq % config.sampleEvery === 0) send({ type: "sample", target, value, issuedAt, ackedAt });
        },
        (err: unknown) => {
          failed++;
          firstError ??= err instanceof Error ? err.message : String(err);
        },
      )
      .finally(() => inFlight--);
  };

  const pending = new Set<Promise<void>>();
  const started = wallClockMs();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = wallClockMs() - started;
      const due = config.ratePerSecond * (Math.min(elapsed, config.durationMs) / 1000);
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
      if (throttled) throttledTicks++;
      if (elapsed >= config.durationMs) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
  const issuingMs = wallClockMs() - started;
  await Promise.all(pending);
  client.close();
  send({
    type: "done",
    issued,
    acknowledged,
    failed,
    ...(firstError !== undefined ? { firstError } : {}),
    achievedRate: Math.round((issued / issuingMs) * 1000),
    throttledTicks,
    putLatencyMs: summarize(putLatencies),
    cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
  });
}

process.once("message", (config: WriterConfig) => {
  const send = (m: WriterSample | WriterDone): void => void process.send?.(m);
  run(config, send).then(
    () => process.disconnect?.(),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
});
