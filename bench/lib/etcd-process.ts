/**
 * A real etcd on free loopback ports with a temp data dir — a copy of test/support/etcd-process.ts
 * that also takes extra flags (the benchmark raises the request size limit and the backend quota).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface EtcdProcess {
  /** Client endpoint, e.g. http://127.0.0.1:23791 */
  endpoint: string;
  /** etcd's own Prometheus endpoint (counts the requests it serves). */
  metricsUrl: string;
  dataDir: string;
  /** etcd's process ID (for its memory use). */
  pid: number;
  version: string;
  /** Stops etcd and removes its data dir. */
  destroy(): Promise<void>;
}

export function etcdBinary(): string {
  return process.env.ETCD_BIN ?? "etcd";
}

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitHealthy(endpoint: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`etcd exited with ${child.exitCode}:\n${log()}`);
    try {
      if ((await fetch(`${endpoint}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`etcd did not become healthy within 20s:\n${log()}`);
}

/** Starts a fresh etcd with its own ports and data dir. */
export async function startEtcd(options: { extraArgs?: string[] } = {}): Promise<EtcdProcess> {
  const probe = spawnSync(etcdBinary(), ["--version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    throw new Error("etcd not found: sudo apt-get install -y etcd-server (or put etcd on PATH / set ETCD_BIN)");
  }
  const version = /etcd Version: (\S+)/.exec(probe.stdout)?.[1] ?? "unknown";
  const [clientPort, peerPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  const dataDir = mkdtempSync(join(tmpdir(), "kafscale-mcp-bench-etcd-"));
  const endpoint = `http://127.0.0.1:${clientPort}`;
  let output = "";
  const child = spawn(
    etcdBinary(),
    [
      "--name", "bench",
      "--data-dir", dataDir,
      "--listen-client-urls", endpoint,
      "--advertise-client-urls", endpoint,
      "--listen-peer-urls", `http://127.0.0.1:${peerPort}`,
      "--initial-advertise-peer-urls", `http://127.0.0.1:${peerPort}`,
      "--initial-cluster", `bench=http://127.0.0.1:${peerPort}`,
      "--listen-metrics-urls", `http://127.0.0.1:${metricsPort}`,
      "--log-level", "error",
      "--logger", "zap",
      ...(options.extraArgs ?? []),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const destroy = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 5000).unref();
      });
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitHealthy(endpoint, child, () => output);
  } catch (err) {
    await destroy();
    throw err;
  }
  return {
    endpoint,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    dataDir,
    pid: child.pid as number,
    version,
    destroy,
  };
}
