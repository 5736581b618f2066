/** What every tool handler gets: the store and the freshness settings. Nothing else. */
import type { Store } from "../store/index.js";

export interface ToolContext {
  store: Store;
  /** Past this age the etcd snapshot is marked stale (KAFSCALE_MCP_STALE_AFTER). */
  staleAfterMs: number;
  /** Past this age the last metrics scrape is marked stale (derived from the scrape interval). */
  metricsStaleAfterMs: number;
  /** Whether any metrics URL is configured (no URL: cluster_metrics says so instead of "not yet"). */
  metricsConfigured: boolean;
  now: () => number;
}
