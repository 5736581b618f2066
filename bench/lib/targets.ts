/**
 * The two services under test, each started as its own process against the benchmark's etcd:
 *  - ours: `kafscale-mcp serve` — the production build (`node dist/cli.js serve`) by default, or
 *    `node --import tsx src/cli.ts serve` (`--runtime tsx`, used by the smoke test: no build step);
 *  - the baseline: bench/baseline/server.ts, Kafscale's Go data path rebuilt on the same SDK.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnChild, type ChildHandle, type LogRecord, type Memory } from "./child.js";

export type Runtime = "dist" | "tsx";

export interface RunningTarget {
  child: ChildHandle;
  /** Base URL (http://127.0.0.1:port); MCP is at /mcp. */
  url: string;
}

export interface ColdSync {
  /** Process spawn → the "initial load done" log line reached the harness (includes Node start-up). */
  spawnToLoadedMs: number;
  /** First log line → "initial load done", both by the service's own clock. */
  firstLogToLoadedMs: number | null;
  /** Process spawn → /readyz answered 200. */
  spawnToReadyMs: number;
  revision: number;
  keys: number;
  /** CPU time (user + system) the service used up to the end of the load. */
  cpuMs: number;
  memory: Memory;
}

const urlOf = (record: LogRecord): string => String(record.url).replace(/\/mcp$/, "");

async function waitReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) throw new Error(`${url}/readyz not 200 within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function startOurs(options: {
  runtime: Runtime;
  /** Directory holding dist/ (the repository, or an exported --ref tree). */
  root: string;
  etcdEndpoint: string;
  dbPath: string;
  nodeArgs: string[];
  timeoutMs: number;
  env: Record<string, string>;
}): Promise<RunningTarget & { coldSync: ColdSync }> {
  const entry = options.runtime === "dist" ? ["dist/cli.js"] : ["--import", "tsx", "src/cli.ts"];
  const child = spawnChild("kafscale-mcp", [...options.nodeArgs, ...entry, "serve"], {
    KAFSCALE_MCP_HTTP_ADDR: "127.0.0.1:0",
    KAFSCALE_MCP_ETCD_ENDPOINTS: options.etcdEndpoint,
    KAFSCALE_MCP_DB_PATH: options.dbPath,
    KAFSCALE_MCP_LOG_LEVEL: "info",
    ...options.env,
  }, options.root);
  try {
    // A local etcd has no reason to fail a read: the first link failure ends the run, with its reason,
    // instead of the service retrying until the timeout.
    const loaded = await child.waitForLog(
      (r) => r.msg === "etcd sync: initial load done" || r.msg === "etcd sync: link failure",
      options.timeoutMs,
    );
    if (loaded.msg !== "etcd sync: initial load done") {
      throw new Error(`cold sync failed: ${String(loaded.error)} (after ${Math.round(loaded.receivedAt - child.spawnedAt)} ms)`);
    }
    // Read at once: the peak belongs to the load, before any tool call.
    const memory = child.memory();
    const cpuMs = child.cpuMs();
    const listening = await child.waitForLog((r) => r.msg === "listening", options.timeoutMs);
    const url = urlOf(listening);
    await waitReady(url, options.timeoutMs);
    const readyAt = performance.now();
    const firstTime = Date.parse(String(child.logs[0]?.time));
    const loadedTime = Date.parse(String(loaded.time));
    return {
      child,
      url,
      coldSync: {
        spawnToLoadedMs: Math.round(loaded.receivedAt - child.spawnedAt),
        firstLogToLoadedMs: Number.isFinite(firstTime) && Number.isFinite(loadedTime) ? loadedTime - firstTime : null,
        spawnToReadyMs: Math.round(readyAt - child.spawnedAt),
        revision: Number(loaded.revision),
        keys: Number(loaded.keys),
        cpuMs,
        memory,
      },
    };
  } catch (err) {
    await child.stop(1000);
    throw err;
  }
}

export async function startBaseline(options: { etcdEndpoint: string; timeoutMs: number }): Promise<RunningTarget> {
  const child = spawnChild("go-style baseline", ["--import", "tsx", "bench/baseline/server.ts"], {
    BASELINE_ETCD_ENDPOINTS: options.etcdEndpoint,
    BASELINE_HTTP_ADDR: "127.0.0.1:0",
  });
  try {
    const listening = await child.waitForLog((r) => r.msg === "listening", options.timeoutMs);
    return { child, url: urlOf(listening) };
  } catch (err) {
    await child.stop(1000);
    throw err;
  }
}

/** Sizes of the SQLite file and its WAL and shared-memory files, bytes. */
export function databaseSize(dbPath: string): { db: number; wal: number; shm: number; total: number } {
  const size = (path: string): number => (existsSync(path) ? statSync(path).size : 0);
  const db = size(dbPath);
  const wal = size(`${dbPath}-wal`);
  const shm = size(`${dbPath}-shm`);
  return { db, wal, shm, total: db + wal + shm };
}

export function distEntry(repoRoot: string): string {
  return join(repoRoot, "dist", "cli.js");
}
