/**
 * The one list of tools. Registration, the allow-list and scopes all read from it, so a tool cannot
 * be served without its annotations and schemas. v1 is read-only: no mutation tool exists;
 * query_snapshot needs its own scope ("query").
 */
import { clusterMetrics } from "./cluster-metrics.js";
import { clusterStatus } from "./cluster-status.js";
import { consumerLag } from "./consumer-lag.js";
import { describeConfigs } from "./describe-configs.js";
import { describeGroup } from "./describe-group.js";
import { describeTopics } from "./describe-topics.js";
import { fetchOffsets } from "./fetch-offsets.js";
import { listGroups } from "./list-groups.js";
import { listTopics } from "./list-topics.js";
import { querySnapshot } from "./query-snapshot.js";
import { recentChanges } from "./recent-changes.js";
import type { AnyToolDefinition, ToolScope } from "./tool.js";

export const ALL_TOOLS: readonly AnyToolDefinition[] = [
  clusterStatus,
  clusterMetrics,
  listTopics,
  describeTopics,
  listGroups,
  describeGroup,
  fetchOffsets,
  consumerLag,
  describeConfigs,
  recentChanges,
  querySnapshot,
];

export const TOOL_NAMES: readonly string[] = ALL_TOOLS.map((t) => t.name);

/** The tools a caller may use: granted scopes, narrowed by the configured allow-list (empty: all). */
export function selectTools(scopes: readonly ToolScope[], allowList: readonly string[]): AnyToolDefinition[] {
  return ALL_TOOLS.filter(
    (t) => scopes.includes(t.scope) && (allowList.length === 0 || allowList.includes(t.name)),
  );
}
