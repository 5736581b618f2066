/**
 * MCP prompts: short guided workflows that name the tools to call and in which order. Pure text; the
 * tools they name do the work (and check the caller's permissions). consumer_lag is the lag history
 * tool (issue 14); fetch_offsets is the fallback where it is not offered.
 *
 * Served by two shared request handlers rather than McpServer.registerPrompt, which builds a zod object
 * and closures per prompt for every session's server (~3.8 KB of heap per session, measured); these
 * cost each session two map entries.
 */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import {
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  McpError,
  type GetPromptRequest,
  type GetPromptResult,
  type ListPromptsResult,
  type Prompt,
} from "@modelcontextprotocol/sdk/types.js";

const ask = (text: string): GetPromptResult => ({ messages: [{ role: "user", content: { type: "text", text } }] });

export function diagnoseConsumerLag(groupId: string): GetPromptResult {
  const g = JSON.stringify(groupId);
  return ask(
    [
      `Diagnose the consumer lag of group ${g} on this Kafscale cluster.`,
      `1. consumer_lag {"group_id": ${g}}: lag, status and trend per partition (if consumer_lag is not offered, fetch_offsets {"group_id": ${g}}).`,
      `2. describe_group {"group_id": ${g}}: state, generation, members and their assignments (unassigned partitions, a missing member, an emptied group).`,
      `3. recent_changes {"group": ${g}, "since": "1h"}: rebalances, members leaving, state changes; then recent_changes {"since": "1h"} for topic and broker changes (partitions added, leader moves, brokers leaving).`,
      "4. cluster_metrics: S3 health and latency, produce and fetch rates (a slow S3 slows consumers).",
      "Check freshness.stale in every answer. Conclude: is the lag growing, why (with the evidence), and what to do next.",
    ].join("\n"),
  );
}

export function clusterHealthReport(): GetPromptResult {
  return ask(
    [
      "Write a health report of this Kafscale cluster.",
      "1. cluster_status: brokers, topics, partitions, the etcd link and how fresh the snapshot is.",
      "2. cluster_metrics: S3 state, latency and error rate, produce and fetch rates, each broker's scrape state.",
      "3. consumer_lag: the groups most at risk (if it is not offered: list_groups, then fetch_offsets for the groups that matter).",
      '4. recent_changes {"since": "24h"}: what changed.',
      "Report the overall status (healthy, degraded or critical) with its evidence and the follow-ups; say if any answer was stale.",
    ].join("\n"),
  );
}

export function whatChanged(since: string | undefined): GetPromptResult {
  const s = JSON.stringify(since ?? "1h");
  return ask(
    [
      `What changed in this Kafscale cluster since ${s}?`,
      `1. recent_changes {"since": ${s}}: follow next_cursor until truncated is false. If complete is false, say that older changes are no longer kept.`,
      "2. For the topics and groups it names, their state now: describe_topics and describe_configs, describe_group and fetch_offsets.",
      "Summarize in time order: what changed, what it affects, and whether anything needs action.",
    ].join("\n"),
  );
}

interface PromptDefinition extends Prompt {
  /** Longest value each argument may have. */
  maxLength: Record<string, number>;
  render(args: Record<string, string>): GetPromptResult;
}

const PROMPTS: readonly PromptDefinition[] = [
  {
    name: "diagnose_consumer_lag",
    title: "Diagnose consumer lag",
    description: "Find out why a consumer group lags, step by step",
    arguments: [{ name: "group_id", description: "Consumer group to diagnose", required: true }],
    maxLength: { group_id: 1024 },
    render: (args) => diagnoseConsumerLag(args.group_id as string),
  },
  {
    name: "cluster_health_report",
    title: "Cluster health report",
    description: "Brokers, S3, lag and recent changes in one report",
    arguments: [],
    maxLength: {},
    render: () => clusterHealthReport(),
  },
  {
    name: "what_changed",
    title: "What changed",
    description: "The cluster's changes since a time, revision or duration",
    arguments: [
      { name: "since", description: 'An etcd revision, an RFC 3339 time or a duration such as "1h" (default 1h)', required: false },
    ],
    maxLength: { since: 64 },
    render: (args) => whatChanged(args.since),
  },
];

const LISTING: ListPromptsResult = {
  prompts: PROMPTS.map(({ name, title, description, arguments: args }) => ({ name, title, description, arguments: args })),
};

const listPrompts = (): ListPromptsResult => LISTING;

/** prompts/get: the named prompt with its arguments checked (required, no unknown ones, bounded length). */
export function getPrompt(request: GetPromptRequest): GetPromptResult {
  const { name, arguments: args = {} } = request.params;
  const prompt = PROMPTS.find((p) => p.name === name);
  if (prompt === undefined) throw new McpError(ErrorCode.InvalidParams, `Prompt ${name} not found`);
  const problems: string[] = [];
  for (const a of prompt.arguments ?? []) if (a.required && !args[a.name]) problems.push(`${a.name} is required`);
  for (const [key, value] of Object.entries(args)) {
    const max = prompt.maxLength[key];
    if (max === undefined) problems.push(`unknown argument ${key}`);
    else if (value.length > max) problems.push(`${key} is longer than ${max} characters`);
  }
  if (problems.length > 0) throw new McpError(ErrorCode.InvalidParams, `Invalid arguments for prompt ${name}: ${problems.join("; ")}`);
  return prompt.render(args);
}

/** Serves the three prompts on `server` (its capabilities must include prompts). */
export function registerPrompts(server: McpServer): void {
  server.server.setRequestHandler(ListPromptsRequestSchema, listPrompts);
  server.server.setRequestHandler(GetPromptRequestSchema, getPrompt);
}
