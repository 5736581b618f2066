/**
 * The MCP tools over the SDK's in-memory transport: a real Client and a real McpServer linked
 * directly, so every call goes through the SDK's argument and output validation (and the client's
 * check against the listed output schema) without HTTP. For measuring and testing answers.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { silentLogger } from "../../src/log.js";
import type { Store } from "../../src/store/index.js";
import type { CallContext } from "../../src/tools/call-context.js";
import type { ToolContext } from "../../src/tools/context.js";
import { ALL_TOOLS } from "../../src/tools/index.js";
import { createMcpServer } from "../../src/tools/server.js";

export interface InMemoryTools {
  client: Client;
  ctx: ToolContext;
  close(): Promise<void>;
}

export interface InMemoryOptions {
  now: () => number;
  /** KAFSCALE_MCP_MAX_RESULT_BYTES (default 60,000, as the service's). */
  mcpMaxBytes?: number;
  restMaxBytes?: number;
  metricsConfigured?: boolean;
}

const LOCAL: CallContext = {
  principal: { subject: "local:bench", authMode: "none", scopes: ["observe"] },
  transport: "stdio",
  requestId: null,
  remoteAddr: null,
  sessionId: null,
};

/** Connects a client to a server with every tool, answering from `store`. */
export async function connectInMemory(store: Store, options: InMemoryOptions): Promise<InMemoryTools> {
  const ctx: ToolContext = {
    store,
    staleAfterMs: 30_000,
    metricsStaleAfterMs: 40_000,
    metricsConfigured: options.metricsConfigured ?? true,
    results: { mcpMaxBytes: options.mcpMaxBytes ?? 60_000, restMaxBytes: options.restMaxBytes ?? 8_000_000 },
    now: options.now,
  };
  const server = createMcpServer({ ctx, tools: ALL_TOOLS, logger: silentLogger, contextOf: () => LOCAL });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: "kafscale-mcp-in-memory", version: "1.0.0" });
  await client.connect(clientSide);
  return {
    client,
    ctx,
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}
