/**
 * Keeps the benchmark harness (bench/, issue #6) working: a quick size-S run end to end — its own
 * etcd, our service and the Go-style baseline as child processes, every tool over HTTP, the
 * freshness writer — and checks the result document's shape. Timings are not asserted (CI machines
 * vary); what is asserted is that tool calls on our service cause no etcd request, while the
 * baseline's do (which proves the counting works).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generateCluster } from "../bench/lib/generator.js";
import type { BenchResult } from "../bench/lib/results.js";
import { SHAPES } from "../bench/lib/sizes.js";
import { TOOL_NAMES } from "../src/tools/index.js";

/** SHA-256 of every key and value of size S. Changes only when the generator or the encoders change. */
const SIZE_S_DIGEST = "bbf6b6387c567a11";

function runBench(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "bench/run.ts", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("exit", (code) => resolve({ code, output }));
  });
}

describe("benchmark harness (bench/)", () => {
  const outDir = mkdtempSync(join(tmpdir(), "kafscale-mcp-bench-smoke-"));
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it("generates the same cluster from the same seed", () => {
    const a = generateCluster(SHAPES.S);
    const b = generateCluster(SHAPES.S);
    expect(a.digest).toBe(b.digest);
    expect(a.digest.slice(0, 16)).toBe(SIZE_S_DIGEST);
    expect(a.keyCounts.next_offset).toBe(SHAPES.S.partitions);
    expect(a.keyCounts.topic_config).toBe(SHAPES.S.topics);
    expect(a.handles.committedTargets.length).toBeGreaterThan(0);
  });

  it("runs size S end to end (quick mode) and writes a complete result", { timeout: 600_000 }, async () => {
    const { code, output } = await runBench(["--size", "S", "--quick", "--runtime", "tsx", "--out", outDir]);
    expect(code, output).toBe(0);
    const files = readdirSync(outDir).filter((f) => f.endsWith(".json"));
    expect(files).toHaveLength(1);
    const r = JSON.parse(readFileSync(join(outDir, files[0] as string), "utf8")) as BenchResult;

    expect(r).toMatchObject({ schema: 1, size: "S", quick: true, runtime: "tsx" });
    expect(r.machine.cpus).toBeGreaterThan(0);
    expect(r.dataset.digest.slice(0, 16)).toBe(SIZE_S_DIGEST);
    expect(r.ours.coldSync?.keys).toBe(r.dataset.keyCounts.total);
    expect(r.ours.coldSync?.memory.peakRss).toBeGreaterThan(0);
    expect(r.ours.database?.end.total).toBeGreaterThan(0);

    const labels = r.ours.latency.map((c) => c.label);
    expect(labels.length).toBeGreaterThan(0);
    expect(new Set(labels).size).toBe(labels.length);
    for (const cell of r.ours.latency) expect(TOOL_NAMES, cell.label).toContain(cell.tool);
    // consumer_lag is ours alone: the Go-style baseline has no such tool.
    expect(r.baseline?.latency.map((c) => c.label)).toEqual(labels.filter((l) => !l.startsWith("consumer_lag")));
    expect(r.ours.lag?.firstEvaluationMs).toBeGreaterThanOrEqual(0);
    expect(r.ours.lag?.history.points).toBeGreaterThan(0);
    expect(r.ours.lag?.history.lagBytes).toBeGreaterThan(0);
    for (const cell of [...r.ours.latency, ...(r.baseline?.latency ?? [])]) {
      expect(cell.errors, `${cell.label}: ${cell.firstError}`).toBe(0);
      expect(cell.calls).toBeGreaterThanOrEqual(r.workload.minCallsPerCell);
      expect(cell.latencyMs.p50).toBeGreaterThan(0);
    }

    // Our tool calls never reach etcd; the baseline's fetch_offsets does, once per partition.
    for (const cell of r.ours.latency) expect(cell.etcd, cell.label).toMatchObject({ Range: 0, Txn: 0, Put: 0 });
    const baselineFetch = r.baseline?.latency.find((c) => c.label.startsWith("fetch_offsets (firehose"));
    expect(baselineFetch?.etcd.Range).toBe(baselineFetch!.calls * SHAPES.S.firehosePartitions);
    expect(r.targets.find((t) => t.id === "zero-etcd-requests")?.met).toBe(true);

    for (const f of [...r.ours.freshness, ...(r.baseline?.freshness ?? [])]) {
      expect(f.writer.acknowledged).toBeGreaterThan(0);
      expect(f.visibleAfterAckMs.count).toBeGreaterThan(0);
      expect(f.timeouts).toBe(0);
      // The prober (its own process) reports its event loop's delay over the window.
      expect(Number.isFinite(f.proberLoopDelayMs.p99) && f.proberLoopDelayMs.max >= f.proberLoopDelayMs.p99).toBe(true);
      expect(f.proberClient).toBe("bare");
      // Each process's CPU and run-queue wait over the window (Linux schedstat): the service, etcd,
      // the prober and the writer all ran, and a main thread's share is part of its process's.
      for (const [name, share] of Object.entries(f.runQueue)) {
        expect(share, name).not.toBeNull();
        expect(share!.ran, name).toBeGreaterThan(0);
        expect(share!.mainRan, name).toBeLessThanOrEqual(share!.ran);
        expect(share!.mainWaited, name).toBeLessThanOrEqual(share!.waited);
      }
    }
    expect(r.ours.freshness[0]?.etcd.Range).toBe(0);
    // Every cell both services answer: consumer_lag's is ours alone.
    expect(r.comparison.length).toBe(r.ours.latency.filter((c) => c.tool !== "consumer_lag").length);
  });
});
