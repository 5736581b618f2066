/** Starts the real service (store, etcd sync, HTTP) for end-to-end tests, and an SDK client for it. */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { loadConfig } from "../../src/config.js";
import { silentLogger } from "../../src/log.js";
import { startService, type RunningService } from "../../src/service.js";
import { afterAll, beforeAll } from "vitest";
import { realisticCluster, testEtcd, writeCluster } from "./fixtures.js";

export { callTool, callToolWhenReady, toolError } from "./tool-calls.js";

/**
 * Starts the service against `endpoint` (etcd) in `namespace`, on a free loopback port; `now` is the
 * service's clock (a test clock from ./clock.ts instead of sleeps).
 */
export async function startTestService(
  endpoint: string,
  namespace: string,
  env: Record<string, string> = {},
  options: { now?: () => number } = {},
): Promise<RunningService> {
  const config = loadConfig({
    KAFSCALE_MCP_HTTP_ADDR: "127.0.0.1:0",
    KAFSCALE_MCP_ETCD_ENDPOINTS: endpoint,
    KAFSCALE_MCP_ETCD_NAMESPACE: namespace,
    KAFSCALE_MCP_DB_PATH: ":memory:",
    KAFSCALE_MCP_LINK_PROBE_INTERVAL: "200ms",
    KAFSCALE_MCP_SHUTDOWN_GRACE: "100ms",
    // Audit records still reach the audit_log table; keep them off the test runner's stdout.
    KAFSCALE_MCP_AUDIT_STDOUT: "false",
    // Tests fire hundreds of calls a second; the rate limit has its own tests (test/e2e/auth.test.ts).
    KAFSCALE_MCP_RATE_LIMIT: "0",
    ...env,
  });
  return startService({ config, logger: silentLogger, now: options.now });
}

/** Connects an official SDK client over streamable HTTP. */
export async function connectClient(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: "kafscale-mcp-tests", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers } }));
  return client;
}

/** The service's audit_log table after writing out the rows still queued in its batch. */
export function auditedRows(service: RunningService): RunningService["store"]["audit"] {
  service.audit.flush();
  return service.store.audit;
}

/**
 * For a whole test file: the realistic cluster written into a fresh etcd namespace and a service
 * synced from it (started before the first test, closed after the last). `env` adds settings.
 */
export function useClusterService(env: Record<string, string> = {}): {
  etcd: ReturnType<typeof testEtcd>;
  service: () => RunningService;
} {
  const etcd = testEtcd();
  let running: RunningService | null = null;
  beforeAll(async () => {
    await writeCluster(etcd.keyspace, realisticCluster);
    running = await startTestService(etcd.endpoint, etcd.namespace, env);
    await running.sync?.ready();
  });
  afterAll(async () => {
    await running?.close();
    etcd.client.close();
  });
  return {
    etcd,
    service: () => {
      if (!running) throw new Error("useClusterService: use it inside a test");
      return running;
    },
  };
}
