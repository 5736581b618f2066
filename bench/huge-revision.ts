/**
 * The 400k-key huge revision and resync of issue 11 item 2, measured: the service as deployed (child
 * processes with the image's heap flags), a real etcd of its own. Prints, per phase (a 400k-key
 * resync after a compaction, the prefix delete applied live, the same delete replayed after a
 * restart), the wall time, the longest /healthz answer (probed back to back, 50 ms apart), the
 * longest event-loop stall inside the service (bench/lib/stall-log.mjs), the peak RSS of the
 * process and the load average; then `verify` on both files, and the change events of the delete.
 * The regression test runs the same scenario smaller (test/integration/huge-revision.test.ts).
 *
 *   npx tsx bench/huge-revision.ts [--topics 100] [--partitions 100] [--groups 39] [--profile DIR]
 *
 * --profile DIR: each service writes a V8 CPU profile into DIR, and its stall log there too; `npx tsx bench/profile-summary.ts --stalls DIR/stalls-PID.jsonl
 * DIR/CPU.*.PID.*.cpuprofile` then says what ran during each stall.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { keyCount, runHugeRevision, SHAPE_400K, type PhaseResult } from "./lib/huge-revision.js";

const { values } = parseArgs({
  options: {
    topics: { type: "string", default: String(SHAPE_400K.topics) },
    partitions: { type: "string", default: String(SHAPE_400K.partitions) },
    groups: { type: "string", default: String(SHAPE_400K.groups) },
    profile: { type: "string" },
  },
});
const shape = { topics: Number(values.topics), partitions: Number(values.partitions), groups: Number(values.groups) };
const dir = mkdtempSync(join(tmpdir(), "kafscale-mcp-huge-bench-"));
console.log(`huge revision: ${keyCount(shape)} keys (${JSON.stringify(shape)}), work dir ${dir}`);
try {
  const profileDir = values.profile === undefined ? undefined : resolve(values.profile);
  if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true });
  const result = await runHugeRevision(
    shape,
    dir,
    profileDir === undefined ? {} : { KAFSCALE_MCP_BENCH_STALL_DIR: profileDir },
    profileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${profileDir}`],
  );
  const row = (name: string, phase: PhaseResult): string =>
    `${name.padEnd(16)} ${(phase.ms / 1000).toFixed(1).padStart(7)} s   longest /healthz ${Math.round(phase.worstHealthzMs)
      .toString()
      .padStart(5)} ms   longest stall in the service ${Math.round(phase.worstStallMs)} ms   peak RSS ${Math.round(phase.peakRssBytes / 2 ** 20)} MiB   group counts seen ${phase.groupCounts.join(",")}   load ${phase.load1}`;
  console.log(`etcd load ${(result.loadMs / 1000).toFixed(1)} s; service initial load ${(result.initialLoadMs / 1000).toFixed(1)} s`);
  console.log(row("resync", result.resync));
  console.log(row("live delete", result.liveDelete));
  console.log(row("replayed delete", result.replayedDelete));
  console.log(`exits: ${JSON.stringify(result.exits)}`);
  const events = result.deleteEvents.map((e) => `${e.kind} ${e.rows} rows / ${e.bytes} bytes`).join(", ");
  console.log(`change events of the live delete: ${events || "none"}`);
  for (const verify of result.verify) console.log(`verify: exit ${verify.status}; ${verify.out.trim().split("\n").at(-1)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
