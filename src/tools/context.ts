/** What every tool handler gets: the store, the freshness settings, the result budgets and query_snapshot's sandbox. */
import type { QuerySandbox, Store } from "../store/index.js";

export interface ToolContext {
  store: Store;
  /** Past this age the etcd snapshot is marked stale (KAFSCALE_MCP_STALE_AFTER). */
  staleAfterMs: number;
  /** Past this age the last metrics scrape is marked stale (derived from the scrape interval). */
  metricsStaleAfterMs: number;
  /** Whether any metrics URL is configured (no URL: cluster_metrics says so instead of "not yet"). */
  metricsConfigured: boolean;
  /**
   * Bytes one tool result may take (src/tools/budget.ts): over MCP the whole result, text copy and
   * structuredContent together (KAFSCALE_MCP_MAX_RESULT_BYTES); over REST its one JSON body
   * (KAFSCALE_MCP_REST_MAX_RESULT_BYTES).
   */
  results: { mcpMaxBytes: number; restMaxBytes: number };
  now: () => number;
  /** query_snapshot's sandbox and row cap; absent when the snapshot is not a file (":memory:"). */
  query?: { sandbox: QuerySandbox; maxRows: number };
}
