/**
 * MCP resources: `kafscale://schema` (every public table, view and column with its meaning, for
 * writing query_snapshot queries) and the templates `kafscale://topics/{name}` and
 * `kafscale://groups/{group_id}`, which answer with exactly what describe_topics and describe_group
 * answer (freshness included). A template is offered only to callers who may call its tool, and a
 * read is run, audited and counted as a call of that tool; the schema only to callers of query_snapshot.
 *
 * Served by request handlers of their own rather than McpServer.registerResource, which builds URI
 * templates and closures per resource for every session's server (~3.2 KB of heap per session,
 * measured); the listings here are shared constants and a session costs one closure for reads.
 */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import {
  ErrorCode,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type ListResourcesResult,
  type ListResourceTemplatesResult,
  type ReadResourceResult,
} from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { RelationSchema } from "../store/index.js";
import type { ToolContext } from "./context.js";
import { describeGroup } from "./describe-group.js";
import { describeTopics } from "./describe-topics.js";
import { querySnapshot } from "./query-snapshot.js";
import { runReported, type AnyToolDefinition, type McpRequestExtra, type RegisterOptions } from "./tool.js";

export const SCHEMA_URI = "kafscale://schema";
const TOPIC_PREFIX = "kafscale://topics/";
const GROUP_PREFIX = "kafscale://groups/";

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

const SCHEMA_RESOURCE = {
  uri: SCHEMA_URI,
  name: "schema",
  title: "Snapshot schema",
  description: "Every table, view and column query_snapshot can read, with what it means",
  mimeType: "text/markdown",
};
/** A resource template answering JSON for one named thing under `prefix`. */
const jsonTemplate = (prefix: string, parameter: string, name: string, title: string, description: string) => ({
  uriTemplate: `${prefix}{${parameter}}`,
  name,
  title,
  description,
  mimeType: "application/json",
});
const TOPIC_TEMPLATE = jsonTemplate(TOPIC_PREFIX, "name", "topic", "Topic", "One topic and its partitions, as describe_topics answers");
const GROUP_TEMPLATE = jsonTemplate(GROUP_PREFIX, "group_id", "group", "Consumer group", "One consumer group, as describe_group answers");

/** The listings for each combination of permitted resources, made once. */
const listings = new Map<string, { resources: ListResourcesResult; templates: ListResourceTemplatesResult }>();
function listingFor(schema: boolean, topics: boolean, groups: boolean): { resources: ListResourcesResult; templates: ListResourceTemplatesResult } {
  const key = `${+schema}${+topics}${+groups}`;
  let listing = listings.get(key);
  if (listing === undefined) {
    listing = {
      resources: { resources: schema ? [SCHEMA_RESOURCE] : [] },
      templates: { resourceTemplates: [...(topics ? [TOPIC_TEMPLATE] : []), ...(groups ? [GROUP_TEMPLATE] : [])] },
    };
    listings.set(key, listing);
  }
  return listing;
}

const notFound = (uri: string): McpError => new McpError(RESOURCE_NOT_FOUND, `Resource not found: ${uri}`);

/** The rest of a URI after `prefix`, decoded (a topic or group name), or null when it does not start with it. */
function nameAfter(uri: string, prefix: string): string | null {
  if (!uri.startsWith(prefix) || uri.length === prefix.length) return null;
  try {
    return decodeURIComponent(uri.slice(prefix.length));
  } catch {
    throw new McpError(ErrorCode.InvalidParams, `Invalid resource URI ${uri}: not valid percent-encoding`);
  }
}

export interface ResourceOptions extends RegisterOptions {
  ctx: ToolContext;
  /** The tools this caller may call (already filtered by scope and allow-list). */
  tools: readonly AnyToolDefinition[];
}

/** Runs `def` for a resource read; its answer's JSON is the resource, an error or a miss is thrown. */
async function readThroughTool(
  options: ResourceOptions,
  uri: string,
  def: AnyToolDefinition,
  args: Record<string, unknown>,
  extra: McpRequestExtra,
): Promise<ReadResourceResult> {
  // Resource reads skip the SDK's tool-argument validation: the tool's own input schema applies.
  const parsed = z.object(def.input).strict().safeParse(args);
  if (!parsed.success) throw new McpError(ErrorCode.InvalidParams, `Invalid resource URI ${uri}: ${parsed.error.issues[0]?.message}`);
  const run = await runReported(def, options.ctx, parsed.data, {
    context: options.contextOf(extra),
    rpcId: extra.requestId,
    logger: options.logger,
    onToolCall: options.onToolCall,
  });
  const text = (run.result.content[0] as { text?: string } | undefined)?.text ?? "";
  if (run.result.isError) throw new McpError(run.status === 404 ? RESOURCE_NOT_FOUND : ErrorCode.InternalError, text);
  // describe_topics answers an unknown name with Kafka's UNKNOWN_TOPIC_OR_PARTITION (3).
  const topics = (run.result.structuredContent as { topics?: { error_code: number }[] }).topics;
  if (def === describeTopics && topics?.[0]?.error_code === 3) throw notFound(uri);
  return { contents: [{ uri, mimeType: "application/json", text }] };
}

/** Serves the resources the caller's tools allow on `server` (its capabilities must include resources). */
export function registerResources(server: McpServer, options: ResourceOptions): void {
  const schema = options.tools.includes(querySnapshot);
  const topics = options.tools.includes(describeTopics);
  const groups = options.tools.includes(describeGroup);
  const listing = listingFor(schema, topics, groups);
  server.server.setRequestHandler(ListResourcesRequestSchema, () => listing.resources);
  server.server.setRequestHandler(ListResourceTemplatesRequestSchema, () => listing.templates);
  server.server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => {
    const { uri } = request.params;
    if (uri === SCHEMA_URI && schema) {
      return { contents: [{ uri, mimeType: "text/markdown", text: schemaText(options.ctx.store.schema()) }] };
    }
    const topic = topics ? nameAfter(uri, TOPIC_PREFIX) : null;
    if (topic !== null) return readThroughTool(options, uri, describeTopics, { names: [topic] }, extra);
    const group = groups ? nameAfter(uri, GROUP_PREFIX) : null;
    if (group !== null) return readThroughTool(options, uri, describeGroup, { group_id: group }, extra);
    throw notFound(uri);
  });
}
