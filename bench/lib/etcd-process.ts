/**
 * Starts a real etcd (Debian package `etcd-server`) on free loopback ports with a temp data dir.
 * It lives with the benchmark so that bench/ stands alone; the tests import it from here.
 * Used by the vitest global setup (one shared etcd), by tests that stop and restart their own etcd,
 * and by the benchmark (bench/lib/etcd.ts, with larger limits).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ETCD_INSTALL_HINT =
  "etcd is required for the test suite and was not found. Install it with: " +
  "sudo apt-get update && sudo apt-get install -y etcd-server   (or put an `etcd` binary on PATH / set ETCD_BIN)";

export interface EtcdProcess {
  /** Client endpoint, e.g. http://127.0.0.1:23791 */
  endpoint: string;
  /** etcd's own Prometheus endpoint (counts requests served). */
  metricsUrl: string;
  dataDir: string;
  /** `etcd --version`'s version, e.g. "3.4.23". */
  version: string;
  /** The running etcd's process ID (changes after stop/start; 0 while stopped). */
  readonly pid: number;
  stop(): Promise<void>;
  /** Starts etcd again on the same ports and data dir. */
  start(): Promise<void>;
  /** Stops etcd and removes its data dir. */
  destroy(): Promise<void>;
}

export function etcdBinary(): string {
  return process.env.ETCD_BIN ?? "etcd";
}

/** Throws the install hint when no etcd binary answers `--version`; returns its version. */
export function assertEtcdInstalled(): string {
  const probe = spawnSync(etcdBinary(), ["--version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) throw new Error(ETCD_INSTALL_HINT);
  return /etcd Version: (\S+)/.exec(probe.stdout)?.[1] ?? "unknown";
}

/** Server TLS for the client port (files made by the caller, e.g. with openssl). */
export interface EtcdTlsFiles {
  certFile: string;
  keyFile: string;
  /** The CA that client certificates must chain to (with `clientCertAuth`). */
  trustedCaFile?: string;
  /** Mutual TLS: refuse clients without a certificate signed by `trustedCaFile`. */
  clientCertAuth?: boolean;
}

export interface StartEtcdOptions {
  /** Largest request etcd accepts (default 32 MiB: large Kafscale clusters write multi-MiB snapshot keys). */
  maxRequestBytes?: number;
  /** More etcd flags, e.g. `--quota-backend-bytes`. */
  extraArgs?: string[];
  /** Serve the client port over TLS (the endpoint becomes https://); health is checked on the plain metrics port. */
  tls?: EtcdTlsFiles;
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

/** Waits until `healthUrl` (etcd's /health, which needs a leader) answers ok; fails early if `child` exits. */
export async function waitHealthy(
  healthUrl: string,
  child: ChildProcess,
  log: () => string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`etcd exited with ${child.exitCode ?? child.signalCode}:\n${log()}`);
    }
    try {
      const res = await fetch(healthUrl);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`etcd did not become healthy within ${timeoutMs / 1000}s:\n${log()}`);
}

/** Starts a fresh etcd with its own ports and data dir. */
export async function startEtcd(options: StartEtcdOptions = {}): Promise<EtcdProcess> {
  const version = assertEtcdInstalled();
  const clientPort = await freePort();
  const peerPort = await freePort();
  const metricsPort = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "kafscale-mcp-etcd-"));
  const endpoint = `${options.tls ? "https" : "http"}://127.0.0.1:${clientPort}`;
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  const tlsArgs = options.tls
    ? [
        "--cert-file", options.tls.certFile,
        "--key-file", options.tls.keyFile,
        ...(options.tls.trustedCaFile ? ["--trusted-ca-file", options.tls.trustedCaFile] : []),
        ...(options.tls.clientCertAuth ? ["--client-cert-auth"] : []),
      ]
    : [];
  let child: ChildProcess | null = null;
  let output = "";

  const start = async (): Promise<void> => {
    output = "";
    child = spawn(
      etcdBinary(),
      [
        "--name", "test",
        "--data-dir", dataDir,
        "--listen-client-urls", endpoint,
        "--advertise-client-urls", endpoint,
        "--listen-peer-urls", `http://127.0.0.1:${peerPort}`,
        "--initial-advertise-peer-urls", `http://127.0.0.1:${peerPort}`,
        "--initial-cluster", `test=http://127.0.0.1:${peerPort}`,
        "--listen-metrics-urls", `http://127.0.0.1:${metricsPort}`,
        // Large Kafscale clusters write snapshot keys of several MiB (default limit 1.5 MiB).
        "--max-request-bytes", String(options.maxRequestBytes ?? 32 * 1024 * 1024),
        "--log-level", "error",
        "--logger", "zap",
        ...tlsArgs,
        ...(options.extraArgs ?? []),
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    // The metrics port serves /health over plain HTTP, whatever the client port's TLS.
    await waitHealthy(`http://127.0.0.1:${metricsPort}/health`, child, () => output);
  };

  const stop = async (): Promise<void> => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once("exit", () => resolve());
      running.kill("SIGTERM");
      setTimeout(() => running.kill("SIGKILL"), 5000).unref();
    });
  };

  const destroy = async (): Promise<void> => {
    await stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await start();
  } catch (err) {
    await destroy();
    throw err;
  }
  return {
    endpoint,
    metricsUrl,
    dataDir,
    version,
    get pid() {
      return (child as ChildProcess | null)?.pid ?? 0;
    },
    stop,
    start,
    destroy,
  };
}
