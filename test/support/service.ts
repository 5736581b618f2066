/** Starts the real service (store, etcd sync, HTTP) for end-to-end tests, and an SDK client for it. */
import { vi } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { loadConfig } from "../../src/config.js";
import { silentLogger } from "../../src/log.js";
import { startService, type RunningService } from "../../src/service.js";

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

/** The structured result of a successful tool call (throws with the text of an error result). */
export async function callTool<T = Record<string, unknown>>(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<T> {
  const result = await client.callTool({ name, arguments: args });
  if (result.isError) {
    const text = (result.content as { text?: string }[])[0]?.text;
    throw new Error(`tool ${name} failed: ${text}`);
  }
  return result.structuredContent as T;
}

/**
 * Calls a tool until it succeeds: a freshly started process answers "snapshot not ready" until its
 * first sync, and cluster_metrics fails until the first scrape.
 */
export async function callToolWhenReady<T = Record<string, unknown>>(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<T> {
  return await vi.waitFor(() => callTool<T>(client, name, args), { timeout: 20_000, interval: 100 });
}

/** The text of an error result (throws if the call succeeded). */
export async function toolError(client: Client, name: string, args: Record<string, unknown> = {}): Promise<string> {
  const result = await client.callTool({ name, arguments: args });
  if (!result.isError) throw new Error(`tool ${name} unexpectedly succeeded`);
  return (result.content as { text: string }[])[0]?.text ?? "";
}

/** The service's audit_log table after writing out the rows still queued in its batch. */
export function auditedRows(service: RunningService): RunningService["store"]["audit"] {
  service.audit.flush();
  return service.store.audit;
}
