/**
 * The service as deployed, for fault tests: `kafscale-mcp serve` in a real child process with the
 * image's heap flags (the Dockerfile's NODE_OPTIONS), its JSON log parsed as it arrives, its memory
 * read from /proc, and a prober that keeps asking /healthz and records how long each answer took.
 */
import { shippedNodeArgs } from "./shipped-node-options.js";
import { REPO_ROOT, spawnChild, type ChildHandle, type LogRecord } from "./child.js";

export interface ServiceProcess {
  child: ChildHandle;
  /** http://127.0.0.1:port */
  url: string;
  /** The JSON body and status of GET /readyz. */
  readyz(): Promise<{ status: number; body: Record<string, unknown> }>;
  stop(): Promise<void>;
}

/** The Dockerfile's NODE_OPTIONS, e.g. ["--max-old-space-size=192", "--max-semi-space-size=16"]. */
export const SHIPPED_NODE_ARGS = shippedNodeArgs(REPO_ROOT);

/**
 * Starts `kafscale-mcp serve` with the image's heap flags (and `extraNodeArgs`, e.g. a profiler's);
 * resolves once it listens.
 */
export async function startServiceProcess(name: string, env: Record<string, string>, extraNodeArgs: string[] = []): Promise<ServiceProcess> {
  const child = spawnChild(name, [...SHIPPED_NODE_ARGS, ...extraNodeArgs, "--import", "tsx", "src/cli.ts", "serve"], {
    KAFSCALE_MCP_HTTP_ADDR: "127.0.0.1:0",
    KAFSCALE_MCP_AUDIT_STDOUT: "false",
    KAFSCALE_MCP_LINK_PROBE_INTERVAL: "500ms",
    ...env,
  });
  const listening = await child.waitForLog((r) => r.msg === "listening", 120_000);
  const url = String(listening.url).replace(/\/mcp$/, "");
  return {
    child,
    url,
    readyz: async () => {
      const res = await fetch(`${url}/readyz`);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
    stop: () => child.stop(30_000),
  };
}

/** Waits for a log record of `child` that matches, failing with its recent output otherwise. */
export function logOf(child: ChildHandle, match: (r: LogRecord) => boolean, timeoutMs = 120_000): Promise<LogRecord> {
  return child.waitForLog(match, timeoutMs);
}

export interface HealthProbe {
  /** Longest /healthz answer so far, in ms (a request that failed counts as Infinity). */
  worstMs(): number;
  /** Starts a new phase: worstMs() from now on. */
  reset(): void;
  stop(): Promise<void>;
}

/** Asks `url`/healthz back to back (a 50 ms pause between answers) until stopped. */
export function probeHealth(url: string): HealthProbe {
  let worst = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(10_000) });
        await res.text();
        worst = Math.max(worst, res.ok ? performance.now() - started : Infinity);
      } catch {
        if (running) worst = Infinity;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    worstMs: () => worst,
    reset: () => {
      worst = 0;
    },
    stop: async () => {
      running = false;
      await loop;
    },
  };
}
