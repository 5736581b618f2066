/**
 * The benchmark's MCP client: the official SDK over streamable HTTP, one session per caller.
 * It never calls tools/list, so the SDK does not validate answers against output schemas on the
 * client side: the timings are the server's and the transport's, not AJV's in the harness.
 */
import { setMaxListeners } from "node:events";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

export type { Client };

// Each request adds an abort listener to the session's signal until GC runs (see latency.ts);
// harmless here, so keep the warning about it out of the benchmark's output.
setMaxListeners(0);

export async function connect(baseUrl: string): Promise<Client> {
  const client = new Client({ name: "kafscale-mcp-bench", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`)));
  return client;
}

export async function connectMany(baseUrl: string, count: number): Promise<Client[]> {
  return Promise.all(Array.from({ length: count }, () => connect(baseUrl)));
}

export async function closeAll(clients: Client[]): Promise<void> {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
}

export interface CallOutcome {
  ok: boolean;
  /** structuredContent of a successful call. */
  data?: Record<string, unknown>;
  /** Text of an error result. */
  error?: string;
}

export async function call(client: Client, tool: string, args: Record<string, unknown>): Promise<CallOutcome> {
  const result = await client.callTool({ name: tool, arguments: args });
  if (result.isError) {
    return { ok: false, error: (result.content as { text?: string }[])[0]?.text ?? "error without text" };
  }
  return { ok: true, data: result.structuredContent as Record<string, unknown> };
}
