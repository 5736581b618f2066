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
import type { CallContext } from "./call-context.js";
import type { ToolContext } from "./context.js";
import { notReady, ToolError } from "./errors.js";
import { etcdUnreachable, freshnessOf, freshnessSchema } from "./freshness.js";

/**
 * Tool sets a caller may be granted. "observe": the read-only tools. "query": query_snapshot, which
 * reads every table of the snapshot with SQL, so it is granted on its own (never implied by observe).
 * "mutate" is reserved for Kafscale's phase-2 mutation tools: v1 defines no tool with it, and no auth
 * mode grants it.
 */
export type ToolScope = "observe" | "query" | "mutate";

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
   * Work that cannot run on the service's thread (query_snapshot's sandbox process), awaited before
   * the handler, which gets its result as `loaded`. Most tools have none.
   */
  load?(ctx: ToolContext, args: z.infer<z.ZodObject<I>>): Promise<unknown>;
  handler(ctx: ToolContext, args: z.infer<z.ZodObject<I>>, loaded?: unknown): z.infer<z.ZodObject<O>>;
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
export async function runTool(
  def: AnyToolDefinition,
  ctx: ToolContext,
  args: Record<string, unknown>,
  logger: Logger,
): Promise<ToolRun> {
  // One read of the sync state per call: the revision checked, served and reported are the same
  // (a tool with a `load` step reads it again once that is done, so freshness is not older than the data).
  let sync = ctx.store.syncState.get();
  let revision = sync.revision;
  try {
    if (def.needsSnapshot && !sync.initialSyncDone) throw notReady(sync.revision, etcdUnreachable(sync));
    let loaded: unknown;
    if (def.load) {
      loaded = await def.load(ctx, args as never);
      sync = ctx.store.syncState.get();
      revision = sync.revision;
    }
    const data = def.handler(ctx, args as never, loaded);
    const body = { ...data, freshness: freshnessOf(ctx, sync) };
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
export async function runReported(
  def: AnyToolDefinition,
  ctx: ToolContext,
  args: Record<string, unknown>,
  call: { context: CallContext; rpcId: string | number | null; logger: Logger; onToolCall?: (event: ToolCallEvent) => void },
): Promise<ToolRun> {
  const started = performance.now();
  const run = await runTool(def, ctx, args, call.logger);
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

/**
 * A definition's MCP input and output schemas, built once per definition: every session's server
 * registers every tool, and fresh zod objects per registration were most of a session's heap.
 */
const mcpSchemas = new WeakMap<AnyToolDefinition, { input: z.ZodObject; output: z.ZodObject }>();
function mcpSchemasOf(def: AnyToolDefinition): { input: z.ZodObject; output: z.ZodObject } {
  let schemas = mcpSchemas.get(def);
  if (schemas === undefined) {
    schemas = { input: z.object(def.input).strict(), output: z.object({ ...def.output, freshness: freshnessSchema }) };
    mcpSchemas.set(def, schemas);
  }
  return schemas;
}

/** Registers one definition on an MCP server. */
export function registerDefinedTool(
  server: McpServer,
  def: AnyToolDefinition,
  ctx: ToolContext,
  options: RegisterOptions,
): void {
  const schemas = mcpSchemasOf(def);
  server.registerTool(
    def.name,
    {
      title: def.title,
      description: def.description,
      inputSchema: schemas.input,
      outputSchema: schemas.output,
      annotations: { title: def.title, ...READ_ONLY_ANNOTATIONS },
    },
    async (args: Record<string, unknown>, extra: McpRequestExtra) =>
      (
        await runReported(def, ctx, args, {
          context: options.contextOf(extra),
          rpcId: extra.requestId,
          logger: options.logger,
          onToolCall: options.onToolCall,
        })
      ).result,
  );
}
