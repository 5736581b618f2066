/**
 * The freshness phase's prober, in its own small process (forked by freshness.ts), which forks the
 * writer (writer-process.ts) itself: the writer's sampled puts reach the prober over their own IPC
 * channel, and the calls' answers are read on an event loop that does nothing else.
 *
 * Before, the probes ran in the harness, whose heap holds the generated cluster (about 340 MB RSS at
 * size L): a sample waited there for the harness's event loop, up to 63 ms between the put's
 * acknowledgement and the first call (2026-11-27, "ack → probe sent" in the slowest samples), and
 * an answer that had arrived waited the same way before its time was taken. That was the harness's
 * delay, counted as the service's. The prober reports its own event loop's delay over the measured
 * window, so what remains of it is visible with the results.
 *
 * For each sampled put it polls `fetch_offsets {group, topics:[topic]}` back to back on an idle
 * session until the committed offset is at least the written value (freshness.ts says what is
 * measured and why). The sessions are bare ones (bare-mcp-session.ts: less CPU taken from the
 * service under test) unless the run asks for the SDK client (--prober-client sdk).
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { selfCpuMs as cpuMsNow } from "./cpu.js";
import { call, closeAll, connectMany } from "./mcp.js";
import { openBareSession, type BareSession } from "./bare-mcp-session.js";
import { wallClockMs } from "./wall-clock.js";
import type { WriterConfig, WriterDone, WriterMeasuring, WriterSample } from "./writer-process.js";
import { serveForkedRun } from "./forked-run.js";
import { openRunQueueWindow, type RunQueueShare, type RunQueueWindow } from "./run-queue.js";

/** The MCP client the probes use (bare-mcp-session.ts says why bare is the default). */
export type ProberClient = "bare" | "sdk";

/** What a probe needs of its session, whichever client is behind it. */
type ProbeSession = Pick<BareSession, "call" | "close">;

export interface ProberConfig {
  baseUrl: string;
  client: ProberClient;
  sessions: number;
  timeoutMs: number;
  writer: WriterConfig;
}

/** One sample's put-to-visible, taken apart. */
export interface SampleTiming {
  afterAckMs: number;
  /** Put issued → first tool answer showing it (adds etcd's own commit latency). */
  afterIssueMs: number;
  /** Ack → the probe's first call sent: the writer's report reaching the prober (IPC, the prober's event loop). */
  toProbeMs: number;
  polls: number;
  /** The duration of the call whose answer showed the value. */
  showingCallMs: number;
  /** The longest call before it (0 with one poll): a slow "not yet" answer. */
  slowestEarlierCallMs: number;
}

export interface ProberDone {
  type: "done";
  writer: WriterDone;
  samples: number;
  skippedBusy: number;
  timeouts: number;
  polls: number;
  timings: SampleTiming[];
  /** The prober's own event-loop delay over the measured window (ms): its share of every number. */
  loopDelayMs: { p99: number; max: number };
  /** The prober's CPU time over the measured window, ms. */
  measuredCpuMs: number;
  /** Its threads' CPU and run-queue wait over the measured window (null: not Linux). */
  runQueue: RunQueueShare | null;
}

export type ProberMessage = WriterMeasuring | ProberDone;

interface OffsetRow {
  partition: number;
  offset: number;
}

function showsValue(data: Record<string, unknown> | undefined, sample: WriterSample): boolean {
  const rows = (data?.offsets ?? []) as OffsetRow[] | null;
  const row = rows?.find((r) => r.partition === sample.target.partition);
  return row !== undefined && row.offset >= sample.value;
}

async function run(config: ProberConfig, send: (m: ProberMessage) => void): Promise<void> {
  const probes: ProbeSession[] =
    config.client === "sdk"
      ? (await connectMany(config.baseUrl, config.sessions)).map((c) => ({ call: (t, a) => call(c, t, a), close: () => closeAll([c]) }))
      : await Promise.all(Array.from({ length: config.sessions }, () => openBareSession(config.baseUrl)));
  const idle = [...probes];
  const timings: SampleTiming[] = [];
  const inProgress = new Set<Promise<void>>();
  let samples = 0;
  let skippedBusy = 0;
  let timeouts = 0;
  let polls = 0;
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  let measuredCpuStart = cpuMsNow();
  let runQueue: RunQueueWindow | undefined;

  const probe = async (client: ProbeSession, sample: WriterSample): Promise<void> => {
    const giveUpAt = wallClockMs() + config.timeoutMs;
    const args = { group_id: sample.target.group, topics: [sample.target.topic] };
    const toProbeMs = wallClockMs() - sample.ackedAt;
    let slowestEarlierCallMs = 0;
    for (let n = 1; ; n++) {
      polls++;
      const sent = wallClockMs();
      const outcome = await client.call("fetch_offsets", args);
      const arrived = wallClockMs();
      if (outcome.ok && showsValue(outcome.data, sample)) {
        timings.push({
          afterAckMs: Math.max(0, arrived - sample.ackedAt),
          afterIssueMs: arrived - sample.issuedAt,
          toProbeMs,
          polls: n,
          showingCallMs: arrived - sent,
          slowestEarlierCallMs,
        });
        return;
      }
      slowestEarlierCallMs = Math.max(slowestEarlierCallMs, arrived - sent);
      if (arrived > giveUpAt) {
        timeouts++;
        return;
      }
    }
  };

  const writer = fork(fileURLToPath(new URL("./writer-process.ts", import.meta.url)), [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const done = await new Promise<WriterDone>((resolve, reject) => {
    writer.on("message", (m: WriterSample | WriterMeasuring | WriterDone) => {
      if (m.type === "done") return resolve(m);
      if (m.type === "measuring") {
        measuredCpuStart = cpuMsNow();
        runQueue = openRunQueueWindow(process.pid);
        loopDelay.enable();
        send(m);
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
    writer.send(config.writer);
  });
  await Promise.all(inProgress);
  loopDelay.disable();
  const runQueueShare = runQueue?.close() ?? null;
  await Promise.all(probes.map((p) => p.close().catch(() => undefined)));
  const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
  send({
    type: "done",
    writer: done,
    samples,
    skippedBusy,
    timeouts,
    polls,
    timings,
    loopDelayMs: { p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) },
    measuredCpuMs: cpuMsNow() - measuredCpuStart,
    runQueue: runQueueShare,
  });
}

serveForkedRun<ProberConfig, ProberMessage>(run);
