/**
 * Answer sizes (issue #13): the bytes — and about how many tokens, bytes / 4 — each tool's answer
 * takes with its default arguments at sizes M and L, against the clusters bench/lib/generator.ts
 * generates (the same seeds and digests as the timing benchmark). No etcd: the keys go straight into
 * a SQLite snapshot through the product's writer (bench/lib/snapshot-store.ts), and every call goes
 * through the SDK's client and server over the in-memory transport, with the service's default
 * result budget. This measures answers, not speed; it takes a minute or two, mostly generating L.
 *
 *   npx tsx bench/answer-sizes.ts                 # M and L; rewrites the section in docs/BENCHMARKS.md
 *   npx tsx bench/answer-sizes.ts --sizes S --no-docs
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { REPO_ROOT } from "./lib/child.js";
import { answerCalls, type AnswerCall } from "./lib/answer-calls.js";
import { generateCluster } from "./lib/generator.js";
import { connectInMemory } from "./lib/in-memory-tools.js";
import { writeSection } from "./lib/report.js";
import { SHAPES, isSizeName, type SizeName } from "./lib/sizes.js";
import { snapshotStore } from "./lib/snapshot-store.js";

interface Measured {
  label: string;
  bytes: number;
  /** What the answer holds: list length, truncated, left out, clipped. */
  shape: string;
  isError: boolean;
}

interface SizeResult {
  size: SizeName;
  digest: string;
  topics: number;
  partitions: number;
  toolsListBytes: number;
  toolCount: number;
  freshnessBytes: { compact: number; full: number };
  calls: Measured[];
}

const AT = Date.parse("2026-11-24T08:00:00Z");
const n = (v: number): string => v.toLocaleString("en-US");

const LISTS = ["topics", "groups", "offsets", "configs", "members", "brokers", "changes"];

function shapeOf(data: Record<string, unknown> | undefined): string {
  if (!data) return "";
  const parts: string[] = [];
  for (const key of LISTS) {
    const list = data[key];
    if (!Array.isArray(list)) continue;
    const partitions = key === "topics" ? list.reduce((sum: number, t) => sum + ((t as { partitions?: unknown[] }).partitions?.length ?? 0), 0) : 0;
    const noun = list.length === 1 ? key.replace(/s$/, "") : key;
    parts.push(`${n(list.length)} ${noun}${partitions > 0 ? ` (${n(partitions)} partitions)` : ""}`);
    break;
  }
  if (data.truncated === true || data.topics_truncated === true) parts.push("truncated");
  if (typeof data.left_out === "number") parts.push(`${n(data.left_out)} left out`);
  if (data.clipped === true) parts.push("clipped");
  return parts.join(", ");
}

async function measure(client: Client, call: AnswerCall): Promise<Measured> {
  const result = await client.callTool({ name: call.tool, arguments: call.args });
  return {
    label: call.label,
    bytes: Buffer.byteLength(JSON.stringify(result)),
    shape: result.isError ? `error: ${(result.content as { text: string }[])[0]?.text}` : shapeOf(result.structuredContent as Record<string, unknown>),
    isError: result.isError === true,
  };
}

async function measureSize(size: SizeName, log: (line: string) => void): Promise<SizeResult> {
  log(`size ${size}: generating`);
  const cluster = generateCluster(SHAPES[size]);
  log(`size ${size}: loading ${n(cluster.kvs.length)} keys into the snapshot`);
  const store = await snapshotStore(cluster.kvs, cluster.spec.brokers, AT);
  log(`size ${size}: one lag evaluation (the lag fields of the answers)`);
  store.lag.evaluator.runNow();
  const tools = await connectInMemory(store, { now: () => AT + 1_000 });
  try {
    const list = await tools.client.listTools();
    const calls: Measured[] = [];
    for (const call of answerCalls(cluster)) calls.push(await measure(tools.client, call));
    const freshnessOf = async (args: Record<string, unknown>): Promise<number> => {
      const result = await tools.client.callTool({ name: "list_topics", arguments: { limit: 1, ...args } });
      return Buffer.byteLength(JSON.stringify((result.structuredContent as { freshness: unknown }).freshness));
    };
    return {
      size,
      digest: cluster.digest.slice(0, 16),
      topics: cluster.spec.topics.length,
      partitions: cluster.keyCounts.next_offset ?? 0,
      toolsListBytes: Buffer.byteLength(JSON.stringify(list)),
      toolCount: list.tools.length,
      freshnessBytes: { compact: await freshnessOf({}), full: await freshnessOf({ freshness: "full" }) },
      calls,
    };
  } finally {
    await tools.close();
    store.close();
  }
}

function render(results: SizeResult[], command: string): string {
  const head = results.map((r) => `${r.size} bytes | ${r.size} ≈ tokens`).join(" | ");
  const last = results[results.length - 1] as SizeResult;
  const lines = [
    "## Answer sizes",
    "",
    `- Command: \`${command}\` (no etcd: the generated keys are written into the snapshot through the writer; ` +
      "calls go through the SDK client and server in memory, with the default result budget of 60,000 bytes).",
    `- Datasets: ${results.map((r) => `${r.size} = ${n(r.topics)} topics, ${n(r.partitions)} partitions, digest \`${r.digest}\``).join("; ")}.`,
    "- Bytes: the whole CallToolResult as JSON (text copy and structuredContent); tokens ≈ bytes / 4.",
    "",
    `| Call (default arguments) | ${head} | What the ${last.size} answer holds |`,
    `|---|${results.map(() => "---:|---:|").join("")}---|`,
  ];
  // Rows by position: every size makes the same calls (labels differ only where a size's firehose does).
  (results[0] as SizeResult).calls.forEach((first, i) => {
    const cells = results.map((r) => {
      const c = r.calls[i];
      return c ? `${n(c.bytes)} | ${n(Math.round(c.bytes / 4))}` : "— | —";
    });
    lines.push(`| ${last.calls[i]?.label ?? first.label} | ${cells.join(" | ")} | ${last.calls[i]?.shape ?? ""} |`);
  });
  lines.push(
    `| tools/list | ${results.map((r) => `${n(r.toolsListBytes)} | ${n(Math.round(r.toolsListBytes / 4))}`).join(" | ")} | ${last.toolCount} tools |`,
    "",
    `The freshness block: ${n(last.freshnessBytes.compact)} bytes compact (the default), ` +
      `${n(last.freshnessBytes.full)} bytes with \`freshness: "full"\` (REST always sends the full one).`,
  );
  return lines.join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { sizes: { type: "string", default: "M,L" }, "no-docs": { type: "boolean", default: false } } });
  const sizes = (values.sizes ?? "M,L").split(",").map((s) => s.trim());
  const bad = sizes.filter((s) => !isSizeName(s));
  if (bad.length > 0) throw new Error(`unknown size ${bad.join(", ")} (S, M or L)`);
  const started = performance.now();
  const log = (line: string): void => console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s] ${line}`);
  const results: SizeResult[] = [];
  for (const size of sizes as SizeName[]) results.push(await measureSize(size, log));
  const command = `npx tsx bench/answer-sizes.ts${values.sizes === "M,L" ? "" : ` --sizes ${values.sizes}`}`;
  const section = render(results, command);
  console.log(`\n${section}\n`);
  const dir = join(REPO_ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `answer-sizes-${new Date().toISOString().slice(0, 10)}.json`);
  writeFileSync(file, `${JSON.stringify({ command, results }, null, 2)}\n`);
  log(`wrote ${file}`);
  if (!values["no-docs"]) {
    writeSection(join(REPO_ROOT, "docs", "BENCHMARKS.md"), "answer-sizes", section);
    log("updated docs/BENCHMARKS.md");
  }
}

await main();
