/**
 * Preloaded into the service under test to see what its garbage collector does during a run:
 *
 *   npm run bench -- --size L --skip-baseline --no-docs --node-arg=--max-old-space-size=192 \
 *     --node-arg=--max-semi-space-size=16 --node-arg=--import=$PWD/bench/lib/gc-trace.mjs
 *
 * (--node-arg replaces the image's flags, so they are given again.) Every collection becomes one line
 * of `<tmpdir>/gc-trace-<pid>.txt`: seconds since the process started, the kind (minor = scavenge,
 * major = mark-compact, incr = incremental marking, weak = weak callbacks), its pause in ms, and the
 * heap used after it in MB. The service's CPU profile (--profile) starts at the same moment, so a
 * window such as a freshness phase is the same seconds in both.
 */
import { appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { constants, PerformanceObserver } from "node:perf_hooks";

const file = join(tmpdir(), `gc-trace-${process.pid}.txt`);
const kinds = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: "major",
  [constants.NODE_PERFORMANCE_GC_MINOR]: "minor",
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incr",
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weak",
};
let lines = [];
const flush = () => {
  if (lines.length === 0) return;
  appendFileSync(file, `${lines.join("\n")}\n`);
  lines = [];
};
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    // startTime counts from the process's start (performance.timeOrigin).
    const at = (entry.startTime / 1000).toFixed(2);
    const heapMb = (process.memoryUsage().heapUsed / 1048576).toFixed(0);
    lines.push(`${at} ${kinds[entry.detail?.kind] ?? entry.detail?.kind} ${entry.duration.toFixed(2)} ${heapMb}`);
  }
}).observe({ entryTypes: ["gc"] });
// Written once a second, off the collections themselves.
setInterval(flush, 1000).unref();
process.once("exit", flush);
