/**
 * The fast tool layer: the real MCP server (`createMcpServer` with every tool of ALL_TOOLS) and the
 * SDK `Client`, linked in memory (`InMemoryTransport.createLinkedPair()`), over a real SQLite store
 * in `:memory:` filled from fixture keys through the real writer. No etcd, no HTTP: a call takes
 * about a millisecond, and the SDK still validates every input and every answer against the output
 * schema. Time is an injected clock, so freshness and staleness are exact.
 */
import { loadConfig } from "../../src/config.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { afterAll, afterEach, beforeAll } from "vitest";
import type { ClusterSpec } from "../../src/demo/cluster-spec.js";
import { loadClusterSpec } from "../../src/demo/demo-cluster.js";
import { brokerMetrics, type BrokerReadings } from "../../src/demo/demo-metrics.js";
import { deriveBrokerView, deriveOperatorView } from "../../src/kafscale/broker-view.js";
import { silentLogger } from "../../src/log.js";
import { createQuerySandbox, createStore, type ScrapeTarget, type Store } from "../../src/store/index.js";
import { parsePrometheusText } from "../../src/sync/metrics/prom-text.js";
import type { CallContext } from "../../src/tools/call-context.js";
import type { ToolContext } from "../../src/tools/context.js";
import { ALL_TOOLS } from "../../src/tools/index.js";
import { createMcpServer } from "../../src/tools/server.js";
import type { ToolCallEvent } from "../../src/tools/tool.js";
import { realisticCluster } from "./cluster.js";

/** The moment the fixture cluster was synced; the clock starts here. */
export const SYNCED_AT = Date.parse("2026-11-24T09:00:00.000Z");

export const STALE_AFTER_MS = 30_000;
export const METRICS_STALE_AFTER_MS = 35_000;

/** Who calls in the fast layer (the transport is irrelevant to the tools; stdio's shape is used). */
export const TEST_CALLER: CallContext = {
  principal: { subject: "local:test", authMode: "none", scopes: ["observe"] },
  transport: "stdio",
  requestId: null,
  remoteAddr: null,
  sessionId: null,
};

export interface ToolHarnessOptions {
  /** The cluster in the store; null: an empty store whose first sync has not finished. Default: realisticCluster. */
  cluster?: ClusterSpec | null;
  /** Whether a metrics URL is "configured" (cluster_metrics answers, or says none is). Default false. */
  metricsConfigured?: boolean;
  /** A database file instead of `:memory:` (for tests that open a second connection); query_snapshot gets a sandbox on it. */
  path?: string;
}

export interface ToolHarness {
  client: Client;
  store: Store;
  /** tools/list as the client saw it, when it listed them (`validateOutputs`); else empty. */
  listed: Tool[];
  /** The injected clock every tool reads: move it with `clock.now += ms`. */
  clock: { now: number };
  /** What the server reported for each tool call (the audit trail's and the metrics' input). */
  calls: ToolCallEvent[];
  /** Records a good scrape of broker `nodeId` at the clock's time, as the poller would. */
  scrapeBroker(nodeId: number, readings?: BrokerReadings): void;
  /** Records a failed scrape of broker `nodeId` at the clock's time. */
  failBroker(nodeId: number, error: string): void;
  /** Records a good scrape of the operator's /metrics text. */
  scrapeOperator(text: string): void;
}

const brokerTarget = (nodeId: number): ScrapeTarget => ({
  target: `broker:${nodeId}`,
  url: `http://broker-${nodeId}:9093/metrics`,
  kind: "broker",
  nodeId,
});
const OPERATOR_TARGET: ScrapeTarget = { target: "operator", url: "http://operator:8080/metrics", kind: "operator", nodeId: null };

/**
 * Opens a fresh store with the cluster loaded and connects a client to a fresh server over an
 * in-memory transport pair. With `validateOutputs`, the client lists the tools first, so the SDK
 * also checks every answer against the output schema as published (the server checks it against
 * the zod schema on every call anyway).
 */
export async function openToolHarness(
  options: ToolHarnessOptions & { validateOutputs?: boolean } = {},
): Promise<ToolHarness & { close(): Promise<void> }> {
  const clock = { now: SYNCED_AT };
  const store = createStore(options.path ?? ":memory:", { now: () => clock.now });
  const cluster = options.cluster === undefined ? realisticCluster : options.cluster;
  if (cluster) {
    await loadClusterSpec(store, cluster, SYNCED_AT);
    store.syncState.setLink("connected", SYNCED_AT);
    // As a live service after its first lag evaluation (consumer_lag answers; offsets carry a status).
    store.lag.evaluator.runNow();
  }
  const ctx: ToolContext = {
    store,
    staleAfterMs: STALE_AFTER_MS,
    metricsStaleAfterMs: METRICS_STALE_AFTER_MS,
    metricsConfigured: options.metricsConfigured ?? false,
    now: () => clock.now,
    // The shipped result budget (the config's defaults).
    results: loadConfig({}).results,
  };
  // query_snapshot's sandbox process opens the snapshot itself: only with a file.
  const sandbox = options.path === undefined ? null : createQuerySandbox({ path: options.path, timeoutMs: 10_000 });
  if (sandbox) ctx.query = { sandbox, maxRows: 500 };
  const calls: ToolCallEvent[] = [];
  const server = createMcpServer({
    ctx,
    tools: ALL_TOOLS,
    logger: silentLogger,
    onToolCall: (event) => calls.push(event),
    contextOf: () => TEST_CALLER,
  });
  const client = new Client({ name: "kafscale-mcp-tool-tests", version: "1.0.0" });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  const listed = options.validateOutputs ? (await client.listTools()).tools : [];

  const targets = new Map<string, ScrapeTarget>();
  const target = (t: ScrapeTarget): ScrapeTarget => {
    targets.set(t.target, t);
    store.metrics.syncTargets([...targets.values()]);
    return t;
  };
  const scrape = (t: ScrapeTarget, text: string, derive: typeof deriveBrokerView | typeof deriveOperatorView): void => {
    const samples = parsePrometheusText(text).samples;
    store.metrics.recordScrape({ target: target(t), at: clock.now, durationMs: 3, samples, view: derive(samples) });
  };
  return {
    client,
    store,
    listed,
    clock,
    calls,
    scrapeBroker: (nodeId, readings) => scrape(brokerTarget(nodeId), brokerMetrics(readings), deriveBrokerView),
    failBroker: (nodeId, error) => {
      store.metrics.recordFailure({ target: target(brokerTarget(nodeId)), at: clock.now, durationMs: 3, error });
    },
    scrapeOperator: (text) => scrape(OPERATOR_TARGET, text, deriveOperatorView),
    close: async () => {
      await client.close();
      await server.close();
      sandbox?.close();
      store.close();
    },
  };
}

/** A harness per test, for tests that change the store or the clock; closed after each test. */
export function useToolHarness(): (options?: ToolHarnessOptions) => Promise<ToolHarness> {
  const open: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of open.splice(0).reverse()) await close();
  });
  return async (options = {}) => {
    const harness = await openToolHarness(options);
    open.push(harness.close);
    return harness;
  };
}

/**
 * One harness for a whole file of tests that only read (the fixture cluster, the clock at
 * SYNCED_AT), with output validation on: opened before the first test, closed after the last.
 */
export function sharedToolHarness(options: ToolHarnessOptions = {}): () => ToolHarness {
  let harness: (ToolHarness & { close(): Promise<void> }) | null = null;
  beforeAll(async () => {
    harness = await openToolHarness({ ...options, validateOutputs: true });
  });
  afterAll(async () => {
    await harness?.close();
  });
  return () => {
    if (!harness) throw new Error("sharedToolHarness: use it inside a test");
    return harness;
  };
}
