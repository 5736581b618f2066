/**
 * MCP resources: `kafscale://schema` (every public table, view and column with its meaning, for
 * writing query_snapshot queries) and the templates `kafscale://topics/{name}` and
 * `kafscale://groups/{group_id}`, which answer with exactly what describe_topics and describe_group
 * answer (freshness included). A template is offered only to callers who may call its tool, and a
 * read is run, audited and counted as a call of that tool; the schema only to callers of query_snapshot.
 */
import { ResourceTemplate, type McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { ErrorCode, McpError, type ReadResourceResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { RelationSchema } from "../store/index.js";
import type { ToolContext } from "./context.js";
import { describeGroup } from "./describe-group.js";
import { describeTopics } from "./describe-topics.js";
import { querySnapshot } from "./query-snapshot.js";
import { runReported, type AnyToolDefinition, type McpRequestExtra, type RegisterOptions } from "./tool.js";

export const SCHEMA_URI = "kafscale://schema";

/** JSON-RPC code the MCP specification gives "resource not found". */
const RESOURCE_NOT_FOUND = -32002;

const SCHEMA_PREAMBLE = [
  "# Kafscale snapshot schema (SQLite), for query_snapshot",
  "",
  "One SELECT per call. Times kafscale-mcp records are Unix ms: datetime(at / 1000, 'unixepoch').",
  "Times Kafscale wrote are RFC 3339 text. JSON columns: json_each(), json_extract(), json_array_length().",
  "Lag: v_partition_lag and v_group_lag (lag = max(0, next_offset - committed_offset)). Change history: events.",
  "The audit log is not readable here.",
];

/** The schema resource's text: one section per relation, one line per column. */
export function schemaText(relations: readonly RelationSchema[]): string {
  const lines = [...SCHEMA_PREAMBLE];
  for (const r of relations) {
    lines.push("", `## ${r.type} ${r.name}: ${r.description}`);
    for (const c of r.columns) lines.push(`- ${c.name} ${c.type || "ANY"}${c.pk > 0 ? " (key)" : ""}: ${c.description}`);
  }
  return `${lines.join("\n")}\n`;
}

/** The URI template variable as one decoded string (a topic or group name). */
function variable(value: string | string[] | undefined): string {
  const text = Array.isArray(value) ? value.join(",") : (value ?? "");
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export interface ResourceOptions extends RegisterOptions {
  ctx: ToolContext;
  /** The tools this caller may call (already filtered by scope and allow-list). */
  tools: readonly AnyToolDefinition[];
}

/** Registers the resources the caller's tools allow. */
export function registerResources(server: McpServer, options: ResourceOptions): void {
  const { ctx, tools } = options;
  const permitted = (def: AnyToolDefinition): boolean => tools.includes(def);

  /** Runs `def` for a resource read; its answer's JSON is the resource, an error or a miss is thrown. */
  const read = async (
    uri: URL,
    def: AnyToolDefinition,
    args: Record<string, unknown>,
    extra: McpRequestExtra,
    missing: (body: Record<string, unknown>) => boolean,
  ): Promise<ReadResourceResult> => {
    // Resource reads skip the SDK's tool-argument validation: the tool's own input schema applies.
    const parsed = z.object(def.input).strict().safeParse(args);
    if (!parsed.success) throw new McpError(ErrorCode.InvalidParams, `Invalid resource URI ${uri.href}: ${parsed.error.issues[0]?.message}`);
    const run = await runReported(def, ctx, parsed.data, {
      context: options.contextOf(extra),
      rpcId: extra.requestId,
      logger: options.logger,
      onToolCall: options.onToolCall,
    });
    const text = (run.result.content[0] as { text?: string } | undefined)?.text ?? "";
    if (run.result.isError) throw new McpError(run.status === 404 ? RESOURCE_NOT_FOUND : -32603, text);
    if (missing(run.result.structuredContent as Record<string, unknown>)) {
      throw new McpError(RESOURCE_NOT_FOUND, `Resource not found: ${uri.href}`);
    }
    return { contents: [{ uri: uri.href, mimeType: "application/json", text }] };
  };

  if (permitted(querySnapshot)) {
    server.registerResource(
      "schema",
      SCHEMA_URI,
      {
        title: "Snapshot schema",
        description: "Every table, view and column query_snapshot can read, with what it means",
        mimeType: "text/markdown",
      },
      (uri) => ({ contents: [{ uri: uri.href, mimeType: "text/markdown", text: schemaText(ctx.store.schema()) }] }),
    );
  }
  if (permitted(describeTopics)) {
    server.registerResource(
      "topic",
      new ResourceTemplate("kafscale://topics/{name}", { list: undefined }),
      { title: "Topic", description: "One topic and its partitions, as describe_topics answers", mimeType: "application/json" },
      (uri, vars, extra) =>
        read(uri, describeTopics, { names: [variable(vars.name)] }, extra, (body) =>
          // describe_topics answers an unknown name with Kafka's UNKNOWN_TOPIC_OR_PARTITION (3).
          (body.topics as { error_code: number }[] | undefined)?.[0]?.error_code === 3,
        ),
    );
  }
  if (permitted(describeGroup)) {
    server.registerResource(
      "group",
      new ResourceTemplate("kafscale://groups/{group_id}", { list: undefined }),
      { title: "Consumer group", description: "One consumer group, as describe_group answers", mimeType: "application/json" },
      (uri, vars, extra) => read(uri, describeGroup, { group_id: variable(vars.group_id) }, extra, () => false),
    );
  }
}
