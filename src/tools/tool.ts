/**
 * One MCP tool = one definition: name, terse description, zod input and output shapes, scope, and a
 * plain handler of (context, args) that returns data. `registerDefinedTool` is the thin wrapper that
 * adds the read-only annotations, the `freshness` object, `structuredContent` plus the same JSON as
 * text, and turns errors into `isError` results an agent can act on.
 */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { CallToolResult, ServerNotification, ServerRequest } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { Logger } from "../log.js";
import type { KeyDependencies } from "../store/index.js";
import type { CallContext } from "./call-context.js";
import type { ToolContext } from "./context.js";
import { notReady, ToolError } from "./errors.js";
import { freshnessOf, freshnessSchema } from "./freshness.js";

/**
 * Tool sets a caller may be granted. "observe": the read-only tools. "mutate" is reserved for
 * Kafscale's phase-2 mutation tools: v1 defines no tool with it, and no auth mode grants it.
 */
export type ToolScope = "observe" | "mutate";

export const READ_ONLY_ANNOTATIONS = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
} as const;

export interface ToolDefinition<I extends z.ZodRawShape, O extends z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  scope: ToolScope;
  input: I;
  output: O;
  /** False for tools that answer without the etcd snapshot (cluster_metrics). */
  needsSnapshot: boolean;
  /**
   * The etcd keys the answer depends on, from the arguments: any of them whose current value does not
   * decode makes the answer stale, with a reason naming it (src/store/undecodable-keys.ts).
   */
  dependsOn?(args: z.infer<z.ZodObject<I>>): KeyDependencies;
  handler(ctx: ToolContext, args: z.infer<z.ZodObject<I>>): z.infer<z.ZodObject<O>>;
}

/** Erases the generic parameters, so definitions of different shapes fit in one list. */
export type AnyToolDefinition = ToolDefinition<z.ZodRawShape, z.ZodRawShape>;

export function defineTool<I extends z.ZodRawShape, O extends z.ZodRawShape>(
  def: ToolDefinition<I, O>,
): AnyToolDefinition {
  return def as unknown as AnyToolDefinition;
}

/** What happened in one tool call; the audit trail and metrics listen to this. */
export interface ToolCallEvent {
  tool: string;
  args: unknown;
  outcome: "ok" | "tool_error" | "internal_error";
  error?: string;
  latencyMs: number;
  revision: number;
  /** Who called, through what (built by the transport). */
  context: CallContext;
  /** The JSON-RPC id of the `tools/call` request; null for REST. */
  rpcId: string | number | null;
}

/** The SDK's per-request extras, as a tool callback receives them. */
export type McpRequestExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export interface RegisterOptions {
  logger: Logger;
  onToolCall?: (event: ToolCallEvent) => void;
  /** Builds the typed call context from the SDK's extras (the transport knows how it stored it). */
  contextOf(extra: McpRequestExtra): CallContext;
}

function textResult(text: string): CallToolResult {
  return { isError: true, content: [{ type: "text", text }] };
}

/** One run of a tool: the MCP result, and what REST and the audit trail need to know about it. */
export interface ToolRun {
  result: CallToolResult;
  outcome: ToolCallEvent["outcome"];
  error?: string;
  /** HTTP status for the REST API: 200, the ToolError's status, or 500. */
  status: number;
  /** The etcd revision the answer was served from. */
  revision: number;
}

/** Runs a definition's handler and shapes its answer (no server involved: unit tests call this). */
export function runTool(
  def: AnyToolDefinition,
  ctx: ToolContext,
  args: Record<string, unknown>,
  logger: Logger,
): ToolRun {
  // One read of the sync state per call: the revision checked, served and reported are the same.
  const sync = ctx.store.syncState.get();
  const revision = sync.revision;
  try {
    if (def.needsSnapshot && !sync.initialSyncDone) throw notReady(sync.revision);
    const data = def.handler(ctx, args as never);
    const body = { ...data, freshness: freshnessOf(ctx, sync, def.dependsOn?.(args as never)) };
    return {
      result: { content: [{ type: "text", text: JSON.stringify(body) }], structuredContent: body },
      outcome: "ok",
      status: 200,
      revision,
    };
  } catch (err) {
    if (err instanceof ToolError) {
      return { result: textResult(err.text), outcome: "tool_error", error: err.message, status: err.status, revision };
    }
    logger.error("tool failed", { tool: def.name, error: err instanceof Error ? err.stack : String(err) });
    return {
      result: textResult(`internal error in ${def.name}; the service log has details`),
      outcome: "internal_error",
      error: err instanceof Error ? err.message : String(err),
      status: 500,
      revision,
    };
  }
}

/**
 * Runs a tool for a caller and reports the call (audit, metrics) with its latency: the one path
 * shared by MCP registration and the REST routes.
 */
export function runReported(
  def: AnyToolDefinition,
  ctx: ToolContext,
  args: Record<string, unknown>,
  call: { context: CallContext; rpcId: string | number | null; logger: Logger; onToolCall?: (event: ToolCallEvent) => void },
): ToolRun {
  const started = performance.now();
  const run = runTool(def, ctx, args, call.logger);
  call.onToolCall?.({
    tool: def.name,
    args,
    outcome: run.outcome,
    error: run.error,
    latencyMs: performance.now() - started,
    revision: run.revision,
    context: call.context,
    rpcId: call.rpcId,
  });
  return run;
}

/** Registers one definition on an MCP server. */
export function registerDefinedTool(
  server: McpServer,
  def: AnyToolDefinition,
  ctx: ToolContext,
  options: RegisterOptions,
): void {
  server.registerTool(
    def.name,
    {
      title: def.title,
      description: def.description,
      inputSchema: z.object(def.input).strict(),
      outputSchema: z.object({ ...def.output, freshness: freshnessSchema }),
      annotations: { title: def.title, ...READ_ONLY_ANNOTATIONS },
    },
    async (args: Record<string, unknown>, extra: McpRequestExtra) =>
      runReported(def, ctx, args, {
        context: options.contextOf(extra),
        rpcId: extra.requestId,
        logger: options.logger,
        onToolCall: options.onToolCall,
      }).result,
  );
}
