/**
 * One MCP tool = one definition: name, terse description, zod input and output shapes, scope, and a
 * plain handler of (context, args) that returns data. `runTool` is the one path every transport
 * takes: it awaits the definition's `load` step if it has one, runs the handler in one read transaction, adds the `freshness` object, fits the answer
 * into the result budget (budget.ts) and turns errors into `isError` results an agent can act on.
 * `registerDefinedTool` adds the read-only annotations and the portable JSON Schemas for MCP.
 */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { CallToolResult, ServerNotification, ServerRequest, Tool } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { Logger } from "../log.js";
import { fitAnswer, type ListCut, type ResultBudget } from "./budget.js";
import type { KeyDependencies } from "../store/index.js";
import type { CallContext, Transport } from "./call-context.js";
import type { ToolContext } from "./context.js";
import { notReady, ToolError } from "./errors.js";
import { etcdUnreachable, freshnessModeSchema, freshnessOf, freshnessSchema } from "./freshness.js";
import { toolJsonSchema } from "./json-schema.js";

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

/** A handler's answer with a list the result budget may shorten, and how the answer says so. */
export class CuttableAnswer<O> {
  constructor(
    readonly data: O,
    readonly cut: ListCut,
  ) {}
}

export interface ToolDefinition<I extends z.ZodRawShape, O extends z.ZodRawShape> {
  name: string;
  title: string;
  /** One or two sentences: what it answers, when to use it, what it costs, how to page. */
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
  /**
   * The etcd keys the answer depends on, from the arguments: any of them whose current value does not
   * decode makes the answer stale, with a reason naming it (src/store/undecodable-keys.ts).
   */
  dependsOn?(args: z.infer<z.ZodObject<I>>): KeyDependencies;
  handler(
    ctx: ToolContext,
    args: z.infer<z.ZodObject<I>>,
    loaded?: unknown,
  ): z.infer<z.ZodObject<O>> | CuttableAnswer<z.infer<z.ZodObject<O>>>;
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

/** Fields every answer may carry besides the tool's own (the SDK validates them like the rest). */
const COMMON_OUTPUT = {
  clipped: z.boolean().optional(),
  freshness: freshnessSchema,
};

function budgetFor(ctx: ToolContext, transport: Transport): ResultBudget {
  return transport === "rest"
    ? { maxBytes: ctx.results.restMaxBytes, form: "json" }
    : { maxBytes: ctx.results.mcpMaxBytes, form: "mcp" };
}

/**
 * Runs a definition's handler and shapes its answer (no server involved). The sync state, the
 * handler's reads and freshness share one read transaction, so the revision an answer reports is
 * the one its data comes from (a `load` step runs before it, so freshness is not older than what it
 * loaded). `args.freshness` picks the freshness form; REST always gets the full one.
 */
export async function runTool(
  def: AnyToolDefinition,
  ctx: ToolContext,
  args: Record<string, unknown>,
  logger: Logger,
  transport: Transport,
): Promise<ToolRun> {
  const { freshness: mode, ...toolArgs } = args;
  const full = transport === "rest" || mode === "full";
  let revision = 0;
  try {
    let loaded: unknown;
    if (def.load) {
      const sync = ctx.store.syncState.get();
      revision = sync.revision;
      if (def.needsSnapshot && !sync.initialSyncDone) throw notReady(sync.revision, etcdUnreachable(sync));
      loaded = await def.load(ctx, toolArgs as never);
    }
    const { data, cut, freshness } = ctx.store.reads.consistent(() => {
      const sync = ctx.store.syncState.get();
      revision = sync.revision;
      if (def.needsSnapshot && !sync.initialSyncDone) throw notReady(sync.revision, etcdUnreachable(sync));
      const answer = def.handler(ctx, toolArgs as never, loaded);
      return {
        ...(answer instanceof CuttableAnswer ? answer : { data: answer, cut: null }),
        freshness: freshnessOf(ctx, sync, full ? "full" : "compact", def.dependsOn?.(toolArgs as never)),
      };
    });
    const fitted = fitAnswer(data, { freshness }, cut, budgetFor(ctx, transport));
    return {
      result: { content: [{ type: "text", text: fitted.text }], structuredContent: fitted.body },
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
  const run = await runTool(def, ctx, args, call.logger, call.context.transport);
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

interface ToolSchemas {
  /** The zod schemas the SDK validates a call's arguments and answer with. */
  input: z.ZodObject;
  output: z.ZodObject;
  /** How tools/list shows the tool: portable, lean JSON Schemas (json-schema.ts). */
  listing: Tool;
}

/**
 * A definition's schemas, built once per definition: every session's server registers every tool,
 * and fresh zod objects (and JSON Schema conversions) per registration would cost every session.
 */
const schemaCache = new WeakMap<AnyToolDefinition, ToolSchemas>();

function schemasOf(def: AnyToolDefinition): ToolSchemas {
  let schemas = schemaCache.get(def);
  if (!schemas) {
    const input = z.object({ ...def.input, freshness: freshnessModeSchema }).strict();
    const output = z.object({ ...def.output, ...COMMON_OUTPUT });
    const listing: Tool = {
      name: def.name,
      title: def.title,
      description: def.description,
      inputSchema: toolJsonSchema(input, "input") as Tool["inputSchema"],
      outputSchema: toolJsonSchema(output, "output") as Tool["outputSchema"],
      annotations: READ_ONLY_ANNOTATIONS,
    };
    schemas = { input, output, listing };
    schemaCache.set(def, schemas);
  }
  return schemas;
}

/** How tools/list shows a definition (made once). */
export function toolListing(def: AnyToolDefinition): Tool {
  return schemasOf(def).listing;
}

/** Registers one definition on an MCP server. */
export function registerDefinedTool(
  server: McpServer,
  def: AnyToolDefinition,
  ctx: ToolContext,
  options: RegisterOptions,
): void {
  const { input, output } = schemasOf(def);
  server.registerTool(
    def.name,
    {
      title: def.title,
      description: def.description,
      inputSchema: input,
      outputSchema: output,
      annotations: READ_ONLY_ANNOTATIONS,
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
