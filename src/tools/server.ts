/**
 * `createMcpServer`: a fresh MCP server with the selected tools, the resources those tools allow and
 * the prompts registered. One per session (the SDK binds a server to one transport); cheap, because
 * tools only close over the shared store.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv";
import { ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import type { Logger } from "../log.js";
import type { ToolContext } from "./context.js";
import type { CallContext } from "./call-context.js";
import { registerPrompts } from "./prompts.js";
import { registerResources } from "./resources.js";
import {
  registerDefinedTool,
  toolListing,
  type AnyToolDefinition,
  type McpRequestExtra,
  type ToolCallEvent,
} from "./tool.js";

export const SERVER_NAME = "kafscale-mcp";
export const SERVER_VERSION = "0.1.0";

/** Sent once per session: what every tool shares, so the tool schemas need not repeat it. */
const INSTRUCTIONS =
  "Read-only view of a Kafscale (Kafka-compatible) cluster, answered from a local snapshot of its etcd " +
  "metadata and broker metrics. Every result has `freshness` {source, revision, age_ms, stale, stale_reasons}; " +
  'check `stale` before acting on it (`freshness: "full"` adds the etcd link state, sync and scrape times). ' +
  "Lists are paged: `truncated: true` means more follow, so call again with `next_cursor`; `left_out` counts " +
  "the items of a page held back to keep the result small. `clipped: true` means a value was shortened. " +
  "Prompts guide common workflows (diagnose_consumer_lag, cluster_health_report, what_changed).";

export interface McpServerOptions {
  ctx: ToolContext;
  tools: readonly AnyToolDefinition[];
  logger: Logger;
  onToolCall?: (event: ToolCallEvent) => void;
  /** The typed call context of a request (see RegisterOptions.contextOf). */
  contextOf(extra: McpRequestExtra): CallContext;
}

/**
 * One JSON Schema validator for every server (made on first use). The SDK builds an Ajv instance per
 * server unless given one (~19 KB of heap per MCP session); it only needs it for elicitation, which
 * these tools never do.
 */
let sharedValidator: AjvJsonSchemaValidator | null = null;

/** Creates a server exposing `tools` (already filtered by scope and allow-list). */
export function createMcpServer(options: McpServerOptions): McpServer {
  const server = new McpServer(
    { name: SERVER_NAME, version: SERVER_VERSION },
    {
      capabilities: { tools: {}, resources: {}, prompts: {} },
      instructions: INSTRUCTIONS,
      jsonSchemaValidator: (sharedValidator ??= new AjvJsonSchemaValidator()),
    },
  );
  const registration = { logger: options.logger, onToolCall: options.onToolCall, contextOf: options.contextOf };
  for (const tool of options.tools) registerDefinedTool(server, tool, options.ctx, registration);
  // tools/list from the listings made once per tool (portable, lean schemas: json-schema.ts) instead
  // of the SDK's conversion of every zod schema on every request. Calls still go through the SDK,
  // which validates arguments and answers against the zod schemas.
  const tools = options.tools.map(toolListing);
  server.server.setRequestHandler(ListToolsRequestSchema, () => ({ tools }));
  registerResources(server, { ...registration, ctx: options.ctx, tools: options.tools });
  registerPrompts(server);
  return server;
}
