/** Command-line options of `npm run bench -- …`. */
import { parseArgs } from "node:util";
import { isSizeName, type SizeName } from "./sizes.js";
import type { Runtime } from "./targets.js";
import type { ProberClient } from "./prober-process.js";

export interface BenchOptions {
  size: SizeName;
  /** Tiny workload (one concurrency level, a few calls, a 1 s freshness phase): the smoke test. */
  quick: boolean;
  skipBaseline: boolean;
  /** Directory for the result JSON. */
  outDir: string;
  runtime: Runtime;
  /** Reuse dist/ as it is instead of building it first. */
  noBuild: boolean;
  /** Measure this committed version (exported and built in a temp dir) instead of the working tree. */
  ref: string | undefined;
  /** Diffs applied to an exported copy of the code before building (proposed src/ fixes). */
  patches: string[];
  /** Rewrite this size's section of docs/BENCHMARKS.md (default: on, except with --quick). */
  updateDocs: boolean;
  /** Write a V8 CPU profile of our service to <out>/profiles/. */
  profile: boolean;
  /**
   * Node.js flags for our service, recorded with the results; null: the flags the image ships with
   * (NODE_OPTIONS in the Dockerfile).
   */
  nodeArgs: string[] | null;
  /** Preload bench/lib/memory-probe.mjs into our service: V8 heap / external memory over the run. */
  memoryTrace: boolean;
  /** Extra KAFSCALE_MCP_* settings for our service (--env KEY=VALUE), recorded with the results. */
  env: Record<string, string>;
  /** Names a variant run: result file <size>-<tag>-<date>.json, its own docs section. */
  tag: string | undefined;
  /** The freshness prober's MCP client (bench/lib/bare-mcp-session.ts; "sdk": the official client, for comparison). */
  proberClient: ProberClient;
  /** Wait up to this long for other processes to leave the CPUs alone before starting (0: don't). */
  waitQuietMs: number;
  /** The command as typed, recorded with the results. */
  command: string;
}

export const USAGE = `usage: npm run bench -- [--size S|M|L] [--quick] [--skip-baseline] [--out DIR]
                        [--runtime dist|tsx] [--no-build] [--ref REF] [--patch FILE]…
                        [--node-arg FLAG]… [--env KEY=VALUE]… [--memory-trace] [--tag NAME]
                        [--wait-quiet SECONDS] [--no-docs] [--profile] [--prober-client bare|sdk]

  --size S|M|L     cluster size (default S): S ≈ 1k partitions, M ≈ 10k, L = 100k partitions, ~300k keys
  --quick          tiny workload that only proves the harness runs (used by the test suite)
  --skip-baseline  measure only our service
  --out DIR        where the result JSON goes (default bench/results)
  --runtime R      dist: build once and run node dist/cli.js (default, the production build);
                   tsx: node --import tsx src/cli.ts (no build; more memory)
  --no-build       use dist/ as it is
  --ref REF        measure a committed version (git archive REF → temp dir → build) instead of the working tree
  --patch FILE     apply a diff to an exported copy (of REF, or of the working tree) before building;
                   repeatable; src/ itself is never touched
  --no-docs        do not rewrite this size's section of docs/BENCHMARKS.md
  --node-arg FLAG  Node.js flags for our service (repeatable), e.g. --node-arg=--max-old-space-size=128;
                   they replace the image's NODE_OPTIONS (Dockerfile), which are used by default
  --env KEY=VALUE  an extra setting for our service (repeatable), e.g. --env KAFSCALE_MCP_ETCD_PAGE_SIZE=10000
  --tag NAME       a variant run: result file <size>-NAME-<date>.json and its own section in the docs
  --wait-quiet S   before starting, wait up to S seconds until other processes use < 0.15 CPUs
                   (default 600; 0 with --quick); every cell also records what others used meanwhile
  --memory-trace   sample our service's V8 heap and external memory (process.memoryUsage) every 250 ms
  --profile        write a CPU profile of our service (node --cpu-prof) and its event-loop stalls over 50 ms next to the results
  --prober-client C  the freshness prober's MCP client: bare (default; node:http, bench/lib/bare-mcp-session.ts) or
                   sdk (the official SDK client, which costs the shared cores about 0.12 CPUs more at 2,000 writes/s)`;

export function parseBenchArgs(argv: string[], defaultOutDir: string): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      size: { type: "string", default: "S" },
      quick: { type: "boolean", default: false },
      "skip-baseline": { type: "boolean", default: false },
      out: { type: "string" },
      runtime: { type: "string", default: "dist" },
      "no-build": { type: "boolean", default: false },
      ref: { type: "string" },
      patch: { type: "string", multiple: true, default: [] },
      "no-docs": { type: "boolean", default: false },
      profile: { type: "boolean", default: false },
      "node-arg": { type: "string", multiple: true, default: [] },
      "memory-trace": { type: "boolean", default: false },
      env: { type: "string", multiple: true, default: [] },
      tag: { type: "string" },
      "wait-quiet": { type: "string" },
      "prober-client": { type: "string", default: "bare" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const size = values.size.toUpperCase();
  if (!isSizeName(size)) throw new Error(`--size must be S, M or L, got "${values.size}"\n\n${USAGE}`);
  if (values.runtime !== "dist" && values.runtime !== "tsx") {
    throw new Error(`--runtime must be dist or tsx, got "${values.runtime}"`);
  }
  const proberClient = values["prober-client"];
  if (proberClient !== "bare" && proberClient !== "sdk") throw new Error(`--prober-client must be bare or sdk, got "${proberClient}"`);
  if ((values.ref !== undefined || values.patch.length > 0) && (values.runtime !== "dist" || values["no-build"])) {
    throw new Error("--ref and --patch build an exported copy: they need --runtime dist and no --no-build");
  }
  return {
    size,
    quick: values.quick,
    skipBaseline: values["skip-baseline"],
    outDir: values.out ?? defaultOutDir,
    runtime: values.runtime,
    noBuild: values["no-build"],
    ref: values.ref,
    patches: values.patch,
    updateDocs: !values["no-docs"] && !values.quick,
    profile: values.profile,
    nodeArgs: values["node-arg"].length > 0 ? values["node-arg"] : null,
    memoryTrace: values["memory-trace"],
    proberClient,
    env: Object.fromEntries(
      values.env.map((pair) => {
        const at = pair.indexOf("=");
        if (at <= 0) throw new Error(`--env expects KEY=VALUE, got "${pair}"`);
        return [pair.slice(0, at), pair.slice(at + 1)];
      }),
    ),
    tag: values.tag,
    waitQuietMs: Number(values["wait-quiet"] ?? (values.quick ? 0 : 600)) * 1000,
    command: ["npm run bench --", ...argv].join(" ").replace(/ --$/, ""),
  };
}
