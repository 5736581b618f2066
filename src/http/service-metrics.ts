/**
 * The service's own Prometheus metrics (/metrics): tool calls by tool and outcome, refused HTTP
 * requests by reason, and gauges for the snapshot (revision, age, etcd link, sessions), the live
 * file's WAL and the ops copy (storage-health.ts).
 */
import type { ToolContext } from "../tools/context.js";
import { storageMetricLines, type StorageHealth } from "./storage-health.js";

export interface ServiceMetrics {
  toolCall(tool: string, outcome: string, latencyMs: number): void;
  denied(reason: string): void;
  render(sessions: number): string;
}

const LINK_VALUE = { connected: 2, reconnecting: 1, down: 0 } as const;

const escapeLabel = (v: string): string => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

export function createServiceMetrics(ctx: ToolContext, storage?: StorageHealth): ServiceMetrics {
  const calls = new Map<string, { count: number; seconds: number }>();
  const denials = new Map<string, number>();
  return {
    toolCall: (tool, outcome, latencyMs) => {
      const key = `tool="${escapeLabel(tool)}",outcome="${escapeLabel(outcome)}"`;
      const entry = calls.get(key) ?? { count: 0, seconds: 0 };
      entry.count++;
      entry.seconds += latencyMs / 1000;
      calls.set(key, entry);
    },
    denied: (reason) => {
      const key = `reason="${escapeLabel(reason)}"`;
      denials.set(key, (denials.get(key) ?? 0) + 1);
    },
    render: (sessions) => {
      const sync = ctx.store.syncState.get();
      const age = sync.syncedAt === null ? -1 : (ctx.now() - sync.syncedAt) / 1000;
      const lines = [
        "# HELP kafscale_mcp_tool_calls_total Tool calls by tool and outcome.",
        "# TYPE kafscale_mcp_tool_calls_total counter",
        ...[...calls].map(([k, v]) => `kafscale_mcp_tool_calls_total{${k}} ${v.count}`),
        "# HELP kafscale_mcp_tool_call_seconds_total Time spent in tool calls.",
        "# TYPE kafscale_mcp_tool_call_seconds_total counter",
        ...[...calls].map(([k, v]) => `kafscale_mcp_tool_call_seconds_total{${k}} ${v.seconds}`),
        "# HELP kafscale_mcp_http_denied_total Requests refused before reaching a tool.",
        "# TYPE kafscale_mcp_http_denied_total counter",
        ...[...denials].map(([k, v]) => `kafscale_mcp_http_denied_total{${k}} ${v}`),
        "# HELP kafscale_mcp_snapshot_revision etcd revision of the snapshot.",
        "# TYPE kafscale_mcp_snapshot_revision gauge",
        `kafscale_mcp_snapshot_revision ${sync.revision}`,
        "# HELP kafscale_mcp_snapshot_age_seconds Seconds since the snapshot was last confirmed current (-1: never).",
        "# TYPE kafscale_mcp_snapshot_age_seconds gauge",
        `kafscale_mcp_snapshot_age_seconds ${age}`,
        "# HELP kafscale_mcp_etcd_link etcd link state: 2 connected, 1 reconnecting, 0 down.",
        "# TYPE kafscale_mcp_etcd_link gauge",
        `kafscale_mcp_etcd_link ${LINK_VALUE[sync.linkState]}`,
        "# HELP kafscale_mcp_decode_errors Keys whose current value failed to decode.",
        "# TYPE kafscale_mcp_decode_errors gauge",
        `kafscale_mcp_decode_errors ${sync.decodeErrorKeys}`,
        "# HELP kafscale_mcp_sessions Open MCP sessions.",
        "# TYPE kafscale_mcp_sessions gauge",
        `kafscale_mcp_sessions ${sessions}`,
        ...storageMetricLines(storage, ctx.now()),
      ];
      return lines.join("\n") + "\n";
    },
  };
}
