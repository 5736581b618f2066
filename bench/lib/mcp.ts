/**
 * The benchmark's MCP client: the official SDK over streamable HTTP, one session per caller.
 * It never calls tools/list, so the SDK does not validate answers against output schemas on the
 * client side: the timings are the server's and the transport's, not AJV's in the harness.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

export type { Client };

/**
 * fetch for the SDK transport, minus the session's abort signal on POSTs. undici adds an abort
 * listener to that one long-lived signal for every request and drops it only when the request is
 * garbage-collected, and adding a listener walks the whole list: profiling 4,000 calls on one session
 * (client and service in one process), 7% of all CPU time went to that walk. A POST's response
 * always ends by itself here, and the harness closes a session only once its calls are done; the GET
 * stream keeps the signal, so close() still ends it.
 */
const fetchWithoutPostSignal: typeof fetch = (url, init) =>
  fetch(url, init?.method === "POST" ? { ...init, signal: null } : init);

export async function connect(baseUrl: string): Promise<Client> {
  const client = new Client({ name: "kafscale-mcp-bench", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), { fetch: fetchWithoutPostSignal }));
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
