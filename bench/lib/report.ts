/**
 * Renders a run as markdown and writes it into docs/BENCHMARKS.md, between the markers of its size
 * (`<!-- bench:M:start -->` … `<!-- bench:M:end -->`), so the surrounding text stays hand-written and
 * every number inside the markers comes from a result file.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { FreshnessResult } from "./freshness.js";
import type { CellResult, SettleSecond } from "./latency.js";
import type { BenchResult, DbSize } from "./results.js";

const n = (v: number): string => (Number.isFinite(v) ? v.toLocaleString("en-US") : "—");
const ms = (v: number | undefined): string => (v !== undefined && Number.isFinite(v) ? v.toFixed(2) : "—");
const mb = (bytes: number | undefined): string =>
  bytes !== undefined && Number.isFinite(bytes) ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : "—";
const s = (millis: number | undefined): string =>
  millis !== undefined && Number.isFinite(millis) ? `${(millis / 1000).toFixed(2)} s` : "—";
const x = (v: number | undefined): string => (v !== undefined && Number.isFinite(v) ? `${v}×` : "—");

function dbSize(d: DbSize | undefined): string {
  return d ? `${mb(d.total)} (db ${mb(d.db)} + wal ${mb(d.wal)})` : "—";
}

/** The consumer-lag rows: first evaluation, and the lag tables' pages at the end. */
function lagRows(r: BenchResult): string[] {
  const lag = r.ours.lag;
  if (!lag) return [];
  const tables = lag.history.tables.map((t) => `${t.name} ${mb(t.bytes)}${t.rows === null ? "" : ` (${n(t.rows)} rows)`}`);
  return [
    `| First lag evaluation answered, after \`/readyz\` | ${s(lag.firstEvaluationMs)} | |`,
    `| Lag history and verdicts at the end (SQLite pages) | ${mb(lag.history.lagBytes)}: ${tables.join(", ")} | |`,
  ];
}

function perCall(c: CellResult | undefined): string {
  if (!c || c.calls === 0) return "—";
  const total = c.etcd.Range + c.etcd.Txn + c.etcd.Put;
  return n(Math.round((total / c.calls) * 10) / 10);
}

/** The settle phase's median per second, ours and the baseline's: how long the warm-up took. */
function settleCurve(r: BenchResult): string {
  const curve = (list: SettleSecond[] | undefined): string =>
    list && list.length > 0 ? list.map((sec) => ms(sec.p50)).join(" ") : "—";
  const baseline = r.baseline ? `; baseline: ${curve(r.baseline.settle)}` : "";
  return `Median of the settle calls, second by second (ms; the mix includes the ${n(r.dataset.firehose.partitions)}-row fetch_offsets) — ours: ${curve(r.ours.settle)}${baseline}. `;
}

function latencyTable(r: BenchResult): string[] {
  const rows = [
    "| Tool | Callers | ours p50 | ours p99 | ours calls/s | baseline p50 | baseline p99 | baseline calls/s | p50 speed-up | etcd requests per call (ours / baseline) | etcd's own time per baseline call (1 caller) |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const o of r.ours.latency) {
    const b = r.baseline?.latency.find((c) => c.label === o.label && c.concurrency === o.concurrency);
    const cmp = r.comparison.find((c) => c.label === o.label && c.concurrency === o.concurrency);
    rows.push(
      `| ${o.label} | ${o.concurrency} | ${ms(o.latencyMs.p50)} | ${ms(o.latencyMs.p99)} | ${n(o.throughput)} | ` +
        `${ms(b?.latencyMs.p50)} | ${ms(b?.latencyMs.p99)} | ${b ? n(b.throughput) : "—"} | ${x(cmp?.p50Speedup)} | ` +
        `${perCall(o)} / ${perCall(b)} | ${o.concurrency === 1 ? ms(cmp?.baselineEtcdServerMsPerCall) : "—"} |`,
    );
  }
  return rows;
}

function freshnessRows(who: string, list: FreshnessResult[]): string[] {
  return list.map(
    (f) =>
      `| ${who} | ${n(f.targetRate)} / ${n(f.writer.achievedRate)} | ${ms(f.visibleAfterAckMs.p50)} | ` +
      `${ms(f.visibleAfterAckMs.p90)} | ${ms(f.visibleAfterAckMs.p99)} | ${ms(f.visibleAfterAckMs.max)} | ` +
      `${ms(f.visibleAfterIssueMs.p99)} | ${n(f.visibleAfterAckMs.count)} (${n(f.skippedBusy)} skipped, ${n(f.timeouts)} timed out) | ` +
      `${n(f.pollsPerSecond)} | ${ms(f.writer.putLatencyMs.p99)} | ${n(f.etcd.Range)} |`,
  );
}

function errorNotes(r: BenchResult): string[] {
  const cells = [
    ...r.ours.latency.map((c) => ["ours", c] as const),
    ...(r.baseline?.latency ?? []).map((c) => ["baseline", c] as const),
  ].filter(([, c]) => c.errors > 0);
  return cells.map(
    ([who, c]) => `- ${who}, ${c.label}, ${c.concurrency} callers: ${n(c.errors)} of ${n(c.calls)} calls failed (“${c.firstError}”).`,
  );
}

/** The markdown section for one run (without markers). */
export function renderSection(r: BenchResult, resultPath: string): string {
  const d = r.dataset;
  const k = d.keyCounts;
  const m = r.machine;
  const runtime =
    r.runtime === "dist" ? "production build (`node dist/cli.js serve`)" : "`node --import tsx src/cli.ts serve`";
  const lines = [
    `## Size ${r.size}${r.tag ? ` (variant “${r.tag}”)` : ""} — ${r.quick ? "quick run" : "full run"}, ${r.startedAt.slice(0, 10)}`,
    "",
    `- Command: \`${r.command}\` (took ${s(r.durationMs)}); our service ran as the ${runtime}; result file: [${resultPath}](../${resultPath}).`,
    `- Code: commit \`${r.code.commit}\`${r.code.srcDirty ? " plus uncommitted changes in src/ (the working tree was measured)" : ""}` +
      `${r.code.patches?.length ? `, with ${r.code.patches.map((p) => `[${p.file}](../${p.file})`).join(", ")} applied (a proposed src/ change, not yet in the product)` : ""}.`,
    `- Machine: ${m.cpus} CPUs (${m.cpuModel}), ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB RAM, ${m.os}, Node ${m.node}, etcd ${m.etcd}. ` +
      "etcd, our service or the baseline, and the load generator all share these CPUs.",
    `- Dataset (seed \`0x${d.shape.seed.toString(16)}\`): ${n(d.shape.topics)} topics, ${n(d.shape.partitions)} partitions, ` +
      `${n(d.shape.groups)} groups, ${n(k.committed_offset ?? 0)} committed offsets — ${n(k.total ?? 0)} keys, ` +
      `${mb(d.bytes.total)}; the snapshot value alone is ${mb(d.bytes.largestValue)}. Loaded into etcd in ${s(r.etcd.loadMs)}. ` +
      `Digest \`${d.digest.slice(0, 16)}\`.`,
    `- Service settings beyond endpoints and paths: ${Object.entries(r.serviceEnv).map(([key, v]) => `\`${key}=${v}\``).join(", ") || "none"}` +
      `${r.serviceNodeArgs.length > 0 ? `; Node.js flags: ${r.serviceNodeArgs.map((a) => `\`${a}\``).join(" ")}` : ""}.`,
    ...(r.foreignCpus
      ? [
          `- Other processes on the machine (not etcd, the service or the harness) used ${r.foreignCpus.cellsMean} CPUs on average ` +
            `during the timed cells (worst cell ${r.foreignCpus.cellsMax}, worst freshness phase ${r.foreignCpus.freshnessMax}; ` +
            `${r.foreignCpus.preflight} before the start).` +
            `${r.foreignCpus.cellsMax >= 0.2 || r.foreignCpus.freshnessMax >= 0.2 ? " **A noisy neighbour competed with part of this run: its latencies are pessimistic.**" : ""}`,
        ]
      : []),
    "",
    "### Targets",
    "",
    "| Target | Measured | Met |",
    "|---|---|---|",
    ...r.targets.map(
      (t) =>
        `| ${t.target} | ${t.measured}${t.note ? ` — ${t.note}` : ""} | ${t.met === null ? "n/a" : t.met ? "yes" : "**no**"} |`,
    ),
    "",
    "### Cold sync, memory, database",
    "",
    "| | ours | baseline |",
    "|---|---:|---:|",
    `| Cold sync: process start → initial load applied | ${s(r.ours.coldSync?.spawnToLoadedMs)} | no local state (reads etcd per call) |`,
    `| … by the service's own log clock | ${s(r.ours.coldSync?.firstLogToLoadedMs ?? undefined)} | |`,
    `| Process start → \`/readyz\` 200 | ${s(r.ours.coldSync?.spawnToReadyMs)} | |`,
    `| CPU time used by the cold sync | ${s(r.ours.coldSync?.cpuMs)} | |`,
    `| Peak RSS at the end of the cold sync | ${mb(r.ours.coldSync?.memory.peakRss)} | |`,
    `| Peak RSS over the whole run (VmHWM) | ${mb(r.ours.memory.end.peakRss)} | ${mb(r.baseline?.memory.end.peakRss)} |`,
    `| RSS at the end of the run | ${mb(r.ours.memory.end.rss)} | ${mb(r.baseline?.memory.end.rss)} |`,
    `| CPU time over the whole run | ${s(r.ours.cpuMs)} | ${s(r.baseline?.cpuMs)} |`,
    ...(r.ours.memoryTrace
      ? [
          `| V8 heap used / total, largest sampled | ${mb(r.ours.memoryTrace.max.heapUsed)} / ${mb(r.ours.memoryTrace.max.heapTotal)} | |`,
          `| External memory (Buffers), largest sampled | ${mb(r.ours.memoryTrace.max.external)} | |`,
        ]
      : []),
    `| Database on disk after the cold sync | ${dbSize(r.ours.database?.afterSync)} | |`,
    `| Database on disk at the end | ${dbSize(r.ours.database?.end)} | |`,
    ...lagRows(r),
    "",
    "### Tool latency over HTTP (ms) and throughput",
    "",
    `${r.workload.settleMs > 0 ? `After the cold sync, the harness waits until etcd is idle (below 0.1 CPUs; after a bulk load it keeps working for a while), then ${s(r.workload.settleMs)} of untimed round-robin calls over every tool from one session: right after a bulk load both the service and the harness run slower for a while (their garbage, cold caches), and the cells measure the steady state. ${settleCurve(r)}` : ""}` +
      `Each cell: callers with one MCP session each call the tool back to back for ${s(r.workload.budgetMs)} ` +
      `(at least ${r.workload.minCallsPerCell} calls), after ${r.workload.warmupCalls} warm-up calls each. ` +
      "Speed-up = baseline p50 / ours p50. etcd requests and etcd's own time serving reads " +
      "(`grpc_server_handling_seconds`, with `--metrics extensive`) are read from etcd's `/metrics` around each cell; " +
      "the latter only at one caller, where it is a floor for any client of the Go design (with more callers it includes queueing inside etcd).",
    "",
    ...latencyTable(r),
    "",
    "### Freshness under write load",
    "",
    "Writes alternate committed offsets and end offsets over a few thousand keys; sampled committed-offset puts are " +
      "probed with `fetch_offsets` back to back until the value shows. Visible = first answer showing it − etcd's acknowledgement of the put. " +
      `Each rate is measured for ${s(r.ours.freshness[0]?.durationMs ?? 0)} after ${s(r.ours.freshness[0]?.warmupMs ?? 0)} of unmeasured writes at that rate (the freshly forked writer's warm-up).`,
    "",
    "| Service | writes/s (target / achieved) | p50 | p90 | p99 | max | p99 from put issued | samples | probe polls/s | put latency p99 | etcd Range during phase |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...freshnessRows("ours", r.ours.freshness),
    ...freshnessRows("baseline", r.baseline?.freshness ?? []),
  ];
  const errors = errorNotes(r);
  if (errors.length > 0) lines.push("", "Failed calls:", "", ...errors);
  return lines.join("\n");
}

/**
 * Replaces the section `name` (a size, or size-tag for a variant) in the markdown file, or inserts
 * it before the next size's section (variants follow their size), else before the findings marker.
 */
export function writeSection(docPath: string, name: string, section: string): void {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const block = `${start}\n${section}\n${end}`;
  let doc = existsSync(docPath) ? readFileSync(docPath, "utf8") : "# Benchmarks\n\n<!-- bench:findings -->\n";
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (i >= 0 && j > i) {
    doc = doc.slice(0, i) + block + doc.slice(j + end.length);
  } else {
    const sizes = ["S", "M", "L"];
    const later = sizes.slice(sizes.indexOf(name.slice(0, 1)) + 1);
    const anchors = [...later.map((l) => `<!-- bench:${l}:start -->`), "<!-- bench:findings -->"];
    const at = anchors.map((a) => doc.indexOf(a)).find((p) => p >= 0);
    doc = at === undefined ? `${doc.trimEnd()}\n\n${block}\n` : `${doc.slice(0, at)}${block}\n\n${doc.slice(at)}`;
  }
  writeFileSync(docPath, doc);
}
