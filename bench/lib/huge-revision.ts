/**
 * One etcd revision that deletes every key (`etcdctl del --prefix /kafscale/`), and a full resync of
 * the same keys, against the service as deployed: real child processes with the image's heap flags,
 * a real etcd of their own. Shared by the regression test (a small but multi-chunk cluster, in
 * `npm test`) and the benchmark (400k keys, `bench/huge-revision.ts`), which differ only in size.
 *
 * It used to run the service out of memory (the etcd3 client decoded the whole 400k-event watch
 * response into objects: 220 MB of heap against a 192 MB limit), and again on every restart when
 * the delete happened while it was stopped (the catch-up replays the same revision); /healthz went
 * unanswered for seconds while one transaction applied it.
 *
 * One load serves every case: service A is running when the delete happens; service B is a copy of
 * A's database, first resynced after a compaction (the full resync), then stopped while the delete
 * happens and started again afterwards (the replayed revision).
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Etcd3 } from "etcd3";
import { buildClusterKvs, type ClusterSpec, type KeyValue } from "../../src/demo/cluster-spec.js";
import { createEtcdClient } from "../../src/sync/etcd/etcd-client.js";
import { Database } from "../../src/store/sqlite-driver.js";
import { REPO_ROOT } from "./child.js";
import { startEtcd } from "./etcd-process.js";
import { logOf, probeHealth, startServiceProcess, type ServiceProcess } from "./service-process.js";

/** The cluster's shape: every group commits an offset on every partition of every topic. */
export interface HugeClusterShape {
  topics: number;
  partitions: number;
  groups: number;
}

/** 400,001 keys: 10,000 end offsets + 39 × 10,000 committed offsets + the snapshot key. */
export const SHAPE_400K: HugeClusterShape = { topics: 100, partitions: 100, groups: 39 };

/** Keys of a shape: end offsets, committed offsets, and the snapshot key. */
export function keyCount(shape: HugeClusterShape): number {
  return shape.topics * shape.partitions * (1 + shape.groups) + 1;
}

/** The three phases a /healthz prober and the memory reading cover. */
export interface PhaseResult {
  /** Wall time of the phase, ms. */
  ms: number;
  /** Longest /healthz answer during the phase, ms (Infinity if one went unanswered). */
  worstHealthzMs: number;
  /** Peak RSS (VmHWM) of the process that ran the phase, bytes. */
  peakRssBytes: number;
  /** Consumer-group counts readers saw during the phase (a half-applied revision would show others). */
  groupCounts: number[];
  /**
   * Longest stretch in which the service's event loop did not turn during the phase, ms, as the
   * service itself saw it (bench/lib/stall-log.mjs, stalls over 100 ms; 0 when none): unlike the
   * /healthz time it leaves out the prober's and the kernel's delays on a busy machine.
   */
  worstStallMs: number;
  /** The machine's 1-minute load average at the end of the phase (/proc/loadavg). */
  load1: number;
}

export interface HugeRevisionResult {
  keys: number;
  /** etcd bulk load and the service's initial load, ms. */
  loadMs: number;
  initialLoadMs: number;
  /** B resyncs every key after a compaction. */
  resync: PhaseResult;
  /** The delete, applied by A while it runs. */
  liveDelete: PhaseResult;
  /** The same delete, replayed by B after a restart. */
  replayedDelete: PhaseResult;
  /** Exit of each stopped service (all expected 0); an unclean one with its last warnings and errors. */
  exits: { code: number | null; signal: string | null; errors?: string[] }[];
  /**
   * The change events the live delete made (one transaction derives them all before its commit):
   * rows and bytes (summary + details JSON) per kind, read from A's file afterwards.
   */
  deleteEvents: { kind: string; rows: number; bytes: number }[];
  /** `kafscale-mcp verify` on both files afterwards. */
  verify: { status: number | null; out: string }[];
}

function clusterKvs(shape: HugeClusterShape): KeyValue[] {
  const topics = Array.from({ length: shape.topics }, (_, t) => ({
    name: `topic-${String(t).padStart(3, "0")}`,
    partitions: shape.partitions,
    endOffsets: Array.from({ length: shape.partitions }, (_, p) => 10_000 + p),
  }));
  const offsets = Object.fromEntries(topics.map((t) => [t.name, Array.from({ length: shape.partitions }, (_, p) => 5_000 + p)]));
  const spec: ClusterSpec = {
    clusterName: "huge",
    clusterId: "6f1c2d3e-0000-4000-8000-000000000400",
    brokers: 3,
    topics,
    groups: Array.from({ length: shape.groups }, (_, g) => ({ id: `group-${String(g).padStart(2, "0")}`, offsets })),
  };
  return buildClusterKvs(spec);
}

/**
 * Writes `kvs` in txns of `perTxn` puts (etcd started with a raised --max-txn-ops), two in flight. A
 * txn etcd times out on (a busy shared machine) is sent again: puts of the same values are idempotent.
 */
async function bulkLoad(client: Etcd3, kvs: readonly KeyValue[], perTxn = 2000, inFlight = 2): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < kvs.length) {
      const batch = kvs.slice(next, (next += perTxn));
      for (let attempt = 1; ; attempt++) {
        try {
          await client.kv.txn({
            compare: [],
            success: batch.map(({ key, value }) => ({ request_put: { key: Buffer.from(key), value } })),
            failure: [],
          });
          break;
        } catch (err) {
          if (attempt >= 5) throw err;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

/**
 * Deletes every key under /kafscale/ in one request (one revision) and returns a revision at or after
 * it. etcd may answer "request timed out" on a busy machine and still apply the delete: then the
 * prefix is read until it is empty, and etcd's current revision is the answer.
 */
async function deleteEverything(client: Etcd3): Promise<number> {
  try {
    return Number((await client.delete().prefix("/kafscale/").exec()).header.revision);
  } catch {
    for (;;) {
      const res = await client.getAll().prefix("/kafscale/").count().catch(() => null);
      if (res === 0) return Number((await client.get("/kafscale/").exec()).header.revision);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** The stall log a service preloads (see bench/lib/stall-log.mjs). */
const STALL_LOG = join(REPO_ROOT, "bench/lib/stall-log.mjs");

/** The monotonic clock in µs: the clock of the stall log, shared by every process of the machine. */
const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

/**
 * The longest part of a stall in `file` within [fromUs, toUs], ms (0 when none): clipped, so that a
 * process's start (loading its modules, before it listens) does not count for the phase after it.
 */
function worstStall(file: string, fromUs: number, toUs: number): number {
  if (!existsSync(file)) return 0;
  const inPhase = readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as { startUs: number; endUs: number })
    .map((stall) => (Math.min(stall.endUs, toUs) - Math.max(stall.startUs, fromUs)) / 1000);
  return Math.max(0, ...inPhase);
}

/** `kafscale-mcp verify` as a user runs it. */
function verifyCli(db: string, endpoint: string): { status: number | null; out: string } {
  const res = spawnSync(process.execPath, ["--import", "tsx", "src/cli.ts", "verify", "--db", db], {
    cwd: REPO_ROOT,
    env: { ...process.env, KAFSCALE_MCP_ETCD_ENDPOINTS: endpoint, KAFSCALE_MCP_LOG_LEVEL: "warn" },
    encoding: "utf8",
    timeout: 300_000,
  });
  return { status: res.status, out: `${res.stdout}${res.stderr}` };
}

/**
 * Keeps asking for the consumer groups and records every count seen. The delete removes the groups'
 * offsets one group after another (key order), so a reader that could see half of the revision
 * would see a count between 0 and the number of groups.
 */
function watchGroupCounts(url: string): { counts: Set<number>; stop(): Promise<void> } {
  const counts = new Set<number>();
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const res = await fetch(`${url}/api/v1/groups?limit=100`);
        if (res.ok) counts.add(((await res.json()) as { groups: unknown[] }).groups.length);
        else await res.text();
      } catch {
        // The health probe reports unanswered requests; this one only looks at answers.
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    counts,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** Waits (by polling /readyz) until `service` has applied `revision`. */
async function appliedAtLeast(service: ServiceProcess, revision: number): Promise<void> {
  for (;;) {
    const { body } = await service.readyz();
    if (Number(body.revision) >= revision) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Runs the scenario in `workDir` (two database files) and returns what it saw. `env` is added to
 * both services' environment (e.g. a small KAFSCALE_MCP_ETCD_PAGE_SIZE for a multi-page resync),
 * `nodeArgs` to their Node.js flags (e.g. a CPU profiler's).
 */
export async function runHugeRevision(
  shape: HugeClusterShape,
  workDir: string,
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
): Promise<HugeRevisionResult> {
  const etcd = await startEtcd({ extraArgs: ["--max-txn-ops", "10000", "--quota-backend-bytes", String(4 * 1024 ** 3)] });
  const client = createEtcdClient({ endpoints: [etcd.endpoint], namespace: "", dialTimeoutMs: 5000, pageSize: 1000, backoffMaxMs: 15_000 });
  const running = new Set<ServiceProcess>();
  const exits: HugeRevisionResult["exits"] = [];
  const stallDir = env.KAFSCALE_MCP_BENCH_STALL_DIR ?? join(workDir, "stalls");
  mkdirSync(stallDir, { recursive: true });
  const start = async (name: string, db: string): Promise<ServiceProcess> => {
    const service = await startServiceProcess(
      name,
      { KAFSCALE_MCP_ETCD_ENDPOINTS: etcd.endpoint, KAFSCALE_MCP_DB_PATH: db, KAFSCALE_MCP_BENCH_STALL_DIR: stallDir, KAFSCALE_MCP_BENCH_STALL_MS: "100", ...env },
      [...nodeArgs, "--import", STALL_LOG],
    );
    running.add(service);
    return service;
  };
  const stop = async (service: ServiceProcess): Promise<void> => {
    running.delete(service);
    await service.stop();
    const exit = await service.child.exited;
    // Why a process did not exit cleanly: its last warnings and errors.
    const errors = service.child.logs
      .filter((r) => r.level === "warn" || r.level === "error")
      .slice(-3)
      .map((r) => `${String(r.msg)}${r.error === undefined ? "" : `: ${String(r.error)}`}`);
    exits.push(exit.code === 0 ? exit : { ...exit, errors });
  };
  /** Runs `phase` on `service` with a /healthz prober and a group-count reader around it. */
  const measured = async (service: ServiceProcess, phase: () => Promise<void>): Promise<PhaseResult> => {
    const health = probeHealth(service.url);
    const groups = watchGroupCounts(service.url);
    const started = performance.now();
    const fromUs = monotonicUs();
    try {
      await phase();
    } finally {
      await health.stop();
      await groups.stop();
    }
    return {
      ms: performance.now() - started,
      worstHealthzMs: health.worstMs(),
      peakRssBytes: service.child.memory().peakRss,
      groupCounts: [...groups.counts].sort((x, y) => x - y),
      worstStallMs: worstStall(join(stallDir, `stalls-${service.child.pid}.jsonl`), fromUs, monotonicUs()),
      load1: Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]),
    };
  };

  try {
    const dbA = join(workDir, "a.db");
    const dbB = join(workDir, "b.db");
    let t = performance.now();
    const kvs = clusterKvs(shape);
    await bulkLoad(client, kvs);
    const loadMs = performance.now() - t;

    // A loads the cluster; B starts from a copy of A's database.
    t = performance.now();
    let a = await start("service A", dbA);
    await logOf(a.child, (r) => r.msg === "etcd sync: initial load done", 600_000);
    const initialLoadMs = performance.now() - t;
    await stop(a);
    copyFileSync(dbA, dbB);
    a = await start("service A", dbA);

    // The full resync: B's resume revision is compacted away while it is stopped.
    await client.put("/kafscale/unknown/bump").value("1").exec();
    const bump = await client.put("/kafscale/unknown/bump").value("2").exec();
    await client.kv.compact({ revision: bump.header.revision, physical: true });
    let b = await start("service B", dbB);
    const resync = await measured(b, async () => {
      await logOf(b.child, (r) => r.msg === "etcd sync: resync done", 600_000);
    });
    await stop(b);

    // The delete while A runs (and B is stopped).
    let deleteRevision = 0;
    const liveDelete = await measured(a, async () => {
      deleteRevision = await deleteEverything(client);
      await appliedAtLeast(a, deleteRevision);
    });

    // B catches up over the same revision after a restart (a watch replay).
    b = await start("service B", dbB);
    const replayedDelete = await measured(b, () => appliedAtLeast(b, deleteRevision));
    await stop(a);
    await stop(b);

    const events = new Database(dbA, { readonly: true });
    const deleteEvents = events
      .prepare<[number], { kind: string; rows: number; bytes: number }>(
        "SELECT kind, count(*) AS rows, sum(length(summary) + length(details)) AS bytes FROM events WHERE revision >= ? GROUP BY kind ORDER BY kind",
      )
      .all(deleteRevision);
    events.close();

    return {
      keys: kvs.length,
      loadMs,
      initialLoadMs,
      resync,
      liveDelete,
      replayedDelete,
      exits,
      deleteEvents,
      verify: [dbA, dbB].map((db) => verifyCli(db, etcd.endpoint)),
    };
  } finally {
    for (const service of running) await service.stop();
    client.close();
    await etcd.destroy();
  }
}
