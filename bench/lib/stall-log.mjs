/**
 * Preloaded into a profiled service (`node --import bench/lib/stall-log.mjs`, see
 * bench/huge-revision.ts --profile): a 10 ms timer notes every stretch in which the event loop did
 * not run it for longer than KAFSCALE_MCP_BENCH_STALL_MS (default 200), as one JSON line in
 * `$KAFSCALE_MCP_BENCH_STALL_DIR/stalls-<pid>.jsonl`: start and end on the monotonic clock in µs
 * (the clock of a V8 CPU profile's timestamps), so bench/profile-summary.ts --stalls can say what
 * ran in each.
 */
import { appendFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.env.KAFSCALE_MCP_BENCH_STALL_DIR;
const limitMs = Number(process.env.KAFSCALE_MCP_BENCH_STALL_MS ?? 200);
if (dir) {
  const file = join(dir, `stalls-${process.pid}.jsonl`);
  const nowUs = () => Number(process.hrtime.bigint() / 1000n);
  let last = nowUs();
  setInterval(() => {
    const now = nowUs();
    if (now - last > limitMs * 1000) appendFileSync(file, `${JSON.stringify({ startUs: last, endUs: now, ms: Math.round((now - last) / 1000) })}\n`);
    last = now;
  }, 10).unref();
}
