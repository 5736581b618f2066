/**
 * How the ops copy (KAFSCALE_MCP_OPS_COPY) costs the service at the benchmark sizes: the time one copy
 * takes, and the longest the event loop is held by one step of it (the latency a tool call can meet
 * during a copy). In-process, against a snapshot file loaded from the generated cluster.
 *
 *   npx tsx bench/ops-copy.ts [--size S|M|L] [--audit-rows N] [--runs N]
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createStore, type AuditRow } from "../src/store/index.js";
import type { KvChange } from "../src/kafscale/records.js";
import { generateCluster } from "./lib/generator.js";
import { isSizeName, SHAPES } from "./lib/sizes.js";

const { values } = parseArgs({
  options: { size: { type: "string", default: "S" }, "audit-rows": { type: "string", default: "50000" }, runs: { type: "string", default: "3" } },
});
const size = (values.size ?? "S").toUpperCase();
if (!isSizeName(size)) throw new Error(`--size must be S, M or L, got ${values.size}`);
const auditRows = Number(values["audit-rows"]);
const runs = Number(values.runs);

/**
 * The longest gap between two turns of the event loop while `work` runs: wall time (what a tool call
 * waiting behind it meets, including time the OS gave to other processes) and this process's CPU time
 * in the same gap (the work itself).
 */
async function longestBlock(work: () => Promise<void>): Promise<{ wallMs: number; cpuMs: number }> {
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  let wallMs = 0;
  let cpuMs = 0;
  let ticking = true;
  const tick = (): void => {
    const now = performance.now();
    const cpu = process.cpuUsage(lastCpu);
    wallMs = Math.max(wallMs, now - last);
    cpuMs = Math.max(cpuMs, (cpu.user + cpu.system) / 1000);
    last = now;
    lastCpu = process.cpuUsage();
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  await work();
  ticking = false;
  return { wallMs, cpuMs };
}

const dir = mkdtempSync(join(tmpdir(), "kafscale-mcp-ops-bench-"));
try {
  const cluster = generateCluster(SHAPES[size]);
  const store = createStore(join(dir, "live.db"));
  const load = store.writer.beginResync();
  const changes: KvChange[] = cluster.kvs.map((kv, i) => ({
    type: "put",
    key: kv.key,
    value: Buffer.from(kv.value),
    modRevision: i + 2,
    createRevision: i + 2,
    version: 1,
    lease: "0",
  }));
  for (let i = 0; i < changes.length; i += 10_000) load.addPage(changes.slice(i, i + 10_000));
  load.commit(changes.length + 1);
  const row: AuditRow = {
    at: new Date().toISOString(),
    requestId: "req-0123456789",
    subject: "https://issuer.example#agent-1",
    clientId: "agent",
    authMode: "oidc",
    tool: "fetch_offsets",
    arguments: JSON.stringify({ group_id: "billing", topics: ["orders"] }),
    outcome: "ok",
    reason: null,
    status: null,
    latencyMs: 1.2,
    revision: 1,
    remoteAddr: "10.0.0.1",
    sessionId: "session-0123456789",
  };
  for (let i = 0; i < auditRows; i += 10_000) store.audit.recordMany(Array.from({ length: Math.min(10_000, auditRows - i) }, () => row));
  store.probeWal?.();
  const liveBytes = statSync(join(dir, "live.db")).size;
  console.log(`size ${size}: ${cluster.kvs.length} keys, ${auditRows} audit rows, live file ${(liveBytes / 2 ** 20).toFixed(1)} MiB`);

  // The noise floor: the same measurement with nothing running (a busy machine preempts us too).
  const idle = await longestBlock(() => new Promise<void>((resolve) => setTimeout(resolve, 1000)));
  console.log(`  idle for 1 s: longest event-loop gap ${idle.wallMs.toFixed(1)} ms wall, ${idle.cpuMs.toFixed(1)} ms CPU`);
  for (const includeAudit of [false, true]) {
    for (let run = 0; run < runs; run++) {
      const started = performance.now();
      let steps = 0;
      let bytes = 0;
      const block = await longestBlock(async () => {
        const result = await store.publishOpsCopy({
          target: join(dir, "ops.db"),
          mode: 0o640,
          includeAudit,
          intervalMs: 60_000,
          now: Date.now,
        });
        steps = result.steps;
        bytes = result.bytes;
      });
      const took = performance.now() - started;
      console.log(
        `  ${includeAudit ? "with audit   " : "without audit"} run ${run + 1}: ${(took / 1000).toFixed(2)} s, ${steps} steps, ` +
          `longest event-loop gap ${block.wallMs.toFixed(1)} ms wall, ${block.cpuMs.toFixed(1)} ms CPU; copy ${(bytes / 2 ** 20).toFixed(1)} MiB`,
      );
    }
  }
  store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
