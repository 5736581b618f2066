/**
 * `npm run bench:speed`: the speed checks that used to sit in the test suite as wall-clock
 * assertions, where a busy machine made them fail. Run on demand, on a quiet machine; each check
 * prints its time against its budget and the script exits 1 if any is over.
 *
 *  - the Prometheus text parser on pathological lines (2 MB label values, digit runs, names,
 *    escapes) stays linear: five such lines within 2 s;
 *  - a hanging broker does not delay the others: a healthy broker's scrape is recorded within
 *    500 ms while another broker's request hangs;
 *  - stop() aborts a scrape in flight at once (within 1 s), not after the request timeout;
 *  - `snapshot` and `verify` give up on an unreachable etcd within 20 s (dial timeout 2 s), not after
 *    minutes of retries.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./lib/etcd-process.js";
import { brokerMetrics } from "../src/demo/demo-metrics.js";
import { silentLogger } from "../src/log.js";
import type { MetricsConfig } from "../src/config.js";
import { createStore, type Store } from "../src/store/index.js";
import { createMetricsPoller, type BrokerHost, type MetricsPoller } from "../src/sync/metrics/metrics-poller.js";
import { parsePrometheusText } from "../src/sync/metrics/prom-text.js";

interface Check {
  name: string;
  budgetMs: number;
  /** Runs the check and returns the time that counts, in ms. */
  run(): Promise<number>;
}

const PATHOLOGICAL_LINES: [string, string][] = [
  ["a very long unterminated label value", `m{a="${"x".repeat(2_000_000)}`],
  ["a very long run of digits", `m 1${"1".repeat(2_000_000)}x`],
  ["a very long name", `${"a".repeat(2_000_000)}{`],
  ["many escapes", `m{a="${"\\\\".repeat(500_000)}`],
];

/** A local broker: /broker/1 answers the sample, /broker/9 and /held never answer. */
async function startBrokers(): Promise<{ hostPort: string; close(): Promise<void> }> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === "/broker/1/metrics") res.writeHead(200, { "content-type": "text/plain" }).end(brokerMetrics());
    // Anything else hangs until the client gives up.
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    hostPort: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Runs `measure` against a poller scraping the local brokers, and cleans everything up after. */
async function withPoller(
  options: (hostPort: string) => { config: Partial<MetricsConfig>; brokerHosts?: () => BrokerHost[] },
  measure: (poller: MetricsPoller, store: Store) => Promise<number>,
): Promise<number> {
  const brokers = await startBrokers();
  const store = createStore(":memory:");
  const { config, brokerHosts } = options(brokers.hostPort);
  const poller = createMetricsPoller({
    store,
    config: { intervalMs: 15_000, timeoutMs: 5_000, retentionMs: 3_600_000, ...config },
    logger: silentLogger,
    brokerHosts,
  });
  try {
    return await measure(poller, store);
  } finally {
    await poller.stop();
    store.close();
    await brokers.close();
  }
}

/** Runs the CLI against an etcd endpoint nobody listens on; returns how long it took to give up (ms). */
async function cliAgainstDeadEtcd(args: (dir: string) => string[]): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "kafscale-mcp-speed-"));
  const env = {
    ...process.env,
    KAFSCALE_MCP_ETCD_ENDPOINTS: `http://127.0.0.1:${await freePort()}`,
    KAFSCALE_MCP_ETCD_DIAL_TIMEOUT: "2s",
  };
  const started = performance.now();
  try {
    const code = await new Promise<number>((resolve) =>
      execFile(process.execPath, ["--import", "tsx", "src/cli.ts", ...args(dir)], { env, timeout: 120_000 }, (err) =>
        resolve(err ? (typeof err.code === "number" ? err.code : -1) : 0),
      ),
    );
    if (code !== 1) throw new Error(`expected exit 1 (etcd unreachable), got ${code}`);
    return performance.now() - started;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const checks: Check[] = [
  ...PATHOLOGICAL_LINES.map(
    ([name, line]): Check => ({
      name: `prom-text: five lines of ${name}`,
      budgetMs: 2000,
      run: async () => {
        const started = performance.now();
        const r = parsePrometheusText(`${line}\n`.repeat(5));
        const ms = performance.now() - started;
        if (r.errors.length !== 5) throw new Error(`expected 5 errors, got ${r.errors.length}`);
        return ms;
      },
    }),
  ),
  {
    name: "poller: a healthy broker recorded while another hangs",
    budgetMs: 500,
    run: () =>
      withPoller(
        (hostPort) => ({
          config: { brokerUrlTemplate: "http://{host}/broker/{id}/metrics" },
          brokerHosts: () => [
            { nodeId: 1, host: hostPort },
            { nodeId: 9, host: hostPort },
          ],
        }),
        async (poller, store) => {
          const started = performance.now();
          const tick = poller.scrapeOnce();
          while (!store.metrics.latest()?.brokers[0]?.view) await new Promise((r) => setTimeout(r, 1));
          const ms = performance.now() - started;
          await poller.stop();
          await tick;
          return ms;
        },
      ),
  },
  {
    name: "poller: stop() aborts a scrape in flight",
    budgetMs: 1000,
    run: () =>
      withPoller(
        (hostPort) => ({ config: { brokerUrl: `http://${hostPort}/held`, timeoutMs: 30_000 } }),
        async (poller) => {
          const tick = poller.scrapeOnce();
          await new Promise((r) => setTimeout(r, 50));
          const started = performance.now();
          await poller.stop();
          await tick;
          return performance.now() - started;
        },
      ),
  },
  {
    name: "cli: snapshot gives up on an unreachable etcd",
    budgetMs: 20_000,
    run: () => cliAgainstDeadEtcd((dir) => ["snapshot", "--out", join(dir, "never.db")]),
  },
  {
    name: "cli: verify gives up on an unreachable etcd",
    budgetMs: 20_000,
    run: async () => {
      const dir = mkdtempSync(join(tmpdir(), "kafscale-mcp-speed-"));
      try {
        const db = join(dir, "unsynced.db");
        createStore(db).close();
        return await cliAgainstDeadEtcd(() => ["verify", "--db", db]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  },
];

let over = 0;
for (const check of checks) {
  const ms = await check.run();
  const ok = ms <= check.budgetMs;
  if (!ok) over++;
  console.log(`${ok ? "ok  " : "OVER"} ${ms.toFixed(1).padStart(8)} ms  (budget ${check.budgetMs} ms)  ${check.name}`);
}
process.exitCode = over > 0 ? 1 : 0;
