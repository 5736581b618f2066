/**
 * The service's own Prometheus metrics (/metrics), through prom-client on a Registry of this app's
 * own (never the global one, so several apps in one process do not collide): tool-call latency by tool
 * and outcome (calls refused by input validation included), refused requests by reason, MCP sessions
 * (open, evicted, refused), the snapshot (revision, age, etcd link, decode errors, resyncs), the watch
 * apply delay, the metrics poller (ticks, and per target the last scrape's duration and failures),
 * the live file's WAL and the ops copy (storage-health.ts), and Node's default process metrics. Gauges read their sources when scraped, never on a timer.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ToolContext } from "../tools/context.js";
import type { SessionLimit } from "./mcp/session-table.js";
import { registerStorageMetrics, type StorageHealth } from "./storage-health.js";

/** The metrics poller's counters, as `MetricsPoller.stats()` gives them. */
export interface PollerStats {
  ticks: number;
  skippedTicks: number;
}

export interface ServiceMetricsOptions {
  ctx: ToolContext;
  /** Open MCP sessions now. */
  sessions(): number;
  /** The metrics poller's counters; absent when no metrics URL is configured. */
  pollerStats?: () => PollerStats;
  /** The live file's WAL and the ops copy; absent in tests that do not wire them. */
  storage?: StorageHealth;
}

export interface ServiceMetrics {
  toolCall(tool: string, outcome: string, latencyMs: number): void;
  denied(reason: string): void;
  sessionEvicted(limit: SessionLimit): void;
  sessionRefused(limit: SessionLimit): void;
  /** An etcd watch batch committed `delayMs` after its first event arrived. */
  watchApplied(delayMs: number): void;
  /** The exposition text and its content type. */
  render(): Promise<{ contentType: string; text: string }>;
}

const LINK_VALUE = { connected: 2, reconnecting: 1, down: 0 } as const;

/** Tool calls are answered from SQLite in about a millisecond; the upper buckets catch trouble. */
const TOOL_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Watch batches are committed within a few ms (MIN_COMMIT_GAP_MS); seconds mean a stall. */
const APPLY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Sets a counter to a total kept elsewhere (the store, the poller), at scrape time. */
function setTotal(counter: Counter, value: number): void {
  counter.reset();
  counter.inc(value);
}

export function createServiceMetrics(options: ServiceMetricsOptions): ServiceMetrics {
  const { ctx } = options;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const toolCalls = new Counter({
    name: "kafscale_mcp_tool_calls_total",
    help: "Tool calls by tool and outcome (ok, tool_error, internal_error, invalid_arguments, not_run).",
    labelNames: ["tool", "outcome"],
    registers,
  });
  const toolSeconds = new Counter({
    name: "kafscale_mcp_tool_call_seconds_total",
    help: "Time spent in tool calls.",
    labelNames: ["tool", "outcome"],
    registers,
  });
  const toolLatency = new Histogram({
    name: "kafscale_mcp_tool_call_duration_seconds",
    help: "Tool call latency by tool and outcome.",
    labelNames: ["tool", "outcome"],
    buckets: TOOL_BUCKETS,
    registers,
  });
  const denied = new Counter({
    name: "kafscale_mcp_http_denied_total",
    help: "Requests refused before reaching a tool, by reason.",
    labelNames: ["reason"],
    registers,
  });
  const evictions = new Counter({
    name: "kafscale_mcp_session_evictions_total",
    help: "Idle MCP sessions closed to make room for a new one, by the cap that was reached (principal, table).",
    labelNames: ["limit"],
    registers,
  });
  const refusals = new Counter({
    name: "kafscale_mcp_session_refusals_total",
    help: "New MCP sessions refused (503) because a cap was reached and no idle session could make room.",
    labelNames: ["limit"],
    registers,
  });
  const applyDelay = new Histogram({
    name: "kafscale_mcp_watch_apply_delay_seconds",
    help: "Time from an etcd watch event's arrival to the commit of its batch in the snapshot.",
    buckets: APPLY_BUCKETS,
    registers,
  });
  new Gauge({
    name: "kafscale_mcp_sessions",
    help: "Open MCP sessions.",
    registers,
    collect() {
      this.set(options.sessions());
    },
  });

  // The snapshot's state, read once per scrape (the first collect reads; the others reuse it).
  let sync: ReturnType<ToolContext["store"]["syncState"]["get"]> | null = null;
  const syncState = (): NonNullable<typeof sync> => (sync ??= ctx.store.syncState.get());
  new Gauge({
    name: "kafscale_mcp_snapshot_revision",
    help: "etcd revision of the snapshot.",
    registers,
    collect() {
      this.set(syncState().revision);
    },
  });
  new Gauge({
    name: "kafscale_mcp_snapshot_age_seconds",
    help: "Seconds since the snapshot was last confirmed current (-1: never).",
    registers,
    collect() {
      const at = syncState().syncedAt;
      this.set(at === null ? -1 : (ctx.now() - at) / 1000);
    },
  });
  new Gauge({
    name: "kafscale_mcp_etcd_link",
    help: "etcd link state: 2 connected, 1 reconnecting, 0 down.",
    registers,
    collect() {
      this.set(LINK_VALUE[syncState().linkState]);
    },
  });
  new Gauge({
    name: "kafscale_mcp_decode_errors",
    help: "Keys whose current value failed to decode.",
    registers,
    collect() {
      this.set(syncState().decodeErrorKeys);
    },
  });
  new Counter({
    name: "kafscale_mcp_resyncs_total",
    help: "Full resyncs from etcd after the initial load (compaction, a cancelled watch), over the snapshot's life.",
    registers,
    collect() {
      setTotal(this, syncState().resyncCount);
    },
  });

  // The metrics poller: its tick counters, and each target's scrape state as stored in scrape_targets.
  const pollerStats = options.pollerStats;
  if (pollerStats !== undefined) {
    new Counter({
      name: "kafscale_mcp_scrape_ticks_total",
      help: "Metrics poller ticks that ran to completion.",
      registers,
      collect() {
        setTotal(this, pollerStats().ticks);
      },
    });
    new Counter({
      name: "kafscale_mcp_scrape_skipped_ticks_total",
      help: "Metrics poller ticks skipped because the previous one still ran.",
      registers,
      collect() {
        setTotal(this, pollerStats().skippedTicks);
      },
    });
  }
  let targets: ReturnType<ToolContext["store"]["metrics"]["latest"]> | undefined;
  const scrapeTargets = (): NonNullable<typeof targets>["targets"] => {
    targets ??= ctx.store.metrics.latest();
    return targets?.targets ?? [];
  };
  new Gauge({
    name: "kafscale_mcp_scrape_duration_seconds",
    help: "Duration of the last scrape of each metrics target.",
    labelNames: ["target"],
    registers,
    collect() {
      this.reset();
      for (const t of scrapeTargets()) {
        if (t.state.lastDurationMs !== null) this.set({ target: t.target }, t.state.lastDurationMs / 1000);
      }
    },
  });
  new Gauge({
    name: "kafscale_mcp_scrape_consecutive_failures",
    help: "Failed scrapes of each metrics target since its last good one.",
    labelNames: ["target"],
    registers,
    collect() {
      this.reset();
      for (const t of scrapeTargets()) this.set({ target: t.target }, t.state.consecutiveFailures);
    },
  });
  new Gauge({
    name: "kafscale_mcp_scrape_last_success_timestamp_seconds",
    help: "Unix time of the last good scrape of each metrics target (absent: never).",
    labelNames: ["target"],
    registers,
    collect() {
      this.reset();
      for (const t of scrapeTargets()) {
        if (t.state.lastSuccessAt !== null) this.set({ target: t.target }, t.state.lastSuccessAt / 1000);
      }
    },
  });

  registerStorageMetrics(registers, options.storage, ctx.now);

  return {
    toolCall: (tool, outcome, latencyMs) => {
      toolCalls.inc({ tool, outcome });
      toolSeconds.inc({ tool, outcome }, latencyMs / 1000);
      toolLatency.observe({ tool, outcome }, latencyMs / 1000);
    },
    denied: (reason) => denied.inc({ reason }),
    sessionEvicted: (limit) => evictions.inc({ limit }),
    sessionRefused: (limit) => refusals.inc({ limit }),
    watchApplied: (delayMs) => applyDelay.observe(delayMs / 1000),
    render: async () => {
      sync = null;
      targets = undefined;
      try {
        return { contentType: registry.contentType, text: await registry.metrics() };
      } finally {
        sync = null;
        targets = undefined;
      }
    },
  };
}
