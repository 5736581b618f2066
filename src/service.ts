/**
 * Wires the service: store, etcd sync (or the demo data), metrics poller, tool context and the HTTP
 * app; and takes it all down again in reverse order. The CLI commands call this; nothing runs at import.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertKnownTools, type Config } from "./config.js";
import { demoCluster, loadDemoCluster } from "./demo/demo-cluster.js";
import { startDemoTraffic } from "./demo/demo-traffic.js";
import { startDemoMetricsServer } from "./demo/metrics-server.js";
import { createApp, type App } from "./http/app.js";
import { createServiceAudit } from "./audit/service-audit.js";
import type { AuditTrail } from "./audit/audit-trail.js";
import { assertProdFence, authModeOf, createAuth, type AuthSetup } from "./http/auth/auth-mode.js";
import type { Logger } from "./log.js";
import { createQuerySandbox, createStore, isCorruption, StorageBusyError, type StorageProblem, type Store, type StoreOptions } from "./store/index.js";
import { carryOverLocalTables, moveCorruptFileAside } from "./store/corruption.js";
import { describeSqliteDriver } from "./store/sqlite-driver.js";
import { acquireWriterLock, describeHolder, SnapshotInUseError, type WriterLock } from "./store/writer-lock.js";
import { createEtcdSync, type EtcdSync } from "./sync/etcd/etcd-sync.js";
import { rotatingConnector } from "./sync/etcd/member-connector.js";
import { createMetricsPoller, metricsEnabled, metricsStaleAfterMs, type MetricsPoller } from "./sync/metrics/metrics-poller.js";
import { createOpsCopier, type OpsCopier } from "./sync/ops/ops-copier.js";
import { createWalMonitor, type WalMonitor } from "./sync/ops/wal-monitor.js";
import type { ToolContext } from "./tools/context.js";
import { TOOL_NAMES } from "./tools/index.js";

export interface ServiceOptions {
  config: Config;
  logger: Logger;
  /** Serve the bundled demo cluster instead of etcd (no etcd, no broker needed). */
  demo?: boolean;
  /** Demo only: keep the demo snapshot in this SQLite file (default: in memory; never KAFSCALE_MCP_DB_PATH). */
  demoDbPath?: string;
  /** Listen for HTTP (serve, demo); false for stdio. */
  http?: boolean;
  /**
   * When another live process writes the snapshot file: refuse to start (serve: SnapshotInUseError),
   * or serve that file read-only without syncing it (stdio).
   */
  whenSnapshotInUse?: "refuse" | "follow";
  /**
   * The clock (Unix ms) for freshness, readiness, rate limits and session idle time; Date.now by
   * default. Tests pass a clock they can advance instead of sleeping.
   */
  now?: () => number;
}

export interface RunningService {
  store: Store;
  ctx: ToolContext;
  sync: EtcdSync | null;
  /** The metrics poller, when a metrics URL is configured. */
  poller: MetricsPoller | null;
  /** Watches the live file's WAL (null for an in-memory database). */
  walMonitor: WalMonitor | null;
  /** Publishes the ops copy, when KAFSCALE_MCP_OPS_COPY is set. */
  opsCopier: OpsCopier | null;
  /** Base URL when listening (http://host:port; 127.0.0.1 when bound to every interface). */
  url: string | null;
  /** The address really bound when listening ("0.0.0.0:8090", "127.0.0.1:41234", "[::]:8090"). */
  listenAddress: string | null;
  /** The audit trail (stdio mode passes its tool calls here too). */
  audit: AuditTrail;
  close(): Promise<void>;
}

/** Listens; returns the address really bound and a URL a local client can use. */
async function listen(server: Server, host: string | undefined, port: number): Promise<{ address: string; url: string }> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const shownHost = bound.family === "IPv6" ? `[${bound.address}]` : bound.address;
  const everywhere = bound.address === "0.0.0.0" || bound.address === "::";
  return { address: `${shownHost}:${bound.port}`, url: `http://${everywhere ? "127.0.0.1" : shownHost}:${bound.port}` };
}

/** Starts everything the options ask for; the returned close() stops it all gracefully. */
export async function startService(options: ServiceOptions): Promise<RunningService> {
  const { logger } = options;
  const now = options.now ?? Date.now;
  const config = { ...options.config, metrics: { ...options.config.metrics }, http: { ...options.config.http } };
  // The demo is for a laptop: loopback only, unless KAFSCALE_MCP_HTTP_ADDR says otherwise.
  if (options.demo && !config.http.addrSet) config.http.host = "127.0.0.1";
  const closers: (() => Promise<void> | void)[] = [];
  const close = async (): Promise<void> => {
    for (const closer of closers.splice(0).reverse()) {
      try {
        await closer();
      } catch (err) {
        logger.warn("shutdown step failed", { error: (err as Error).message });
      }
    }
  };

  const withHttp = options.http !== false;
  assertKnownTools(config.enabledTools, TOOL_NAMES);
  // The production fence first: a refused configuration must not open the store or reach etcd.
  if (withHttp) assertProdFence(config);

  try {
    // The demo keeps its snapshot in --db's file, or else in a temporary file (removed on close): not in
    // memory, so query_snapshot's sandbox process can open it too.
    let dbPath = config.dbPath;
    if (options.demo && options.demoDbPath !== undefined) {
      dbPath = options.demoDbPath;
    } else if (options.demo) {
      const dir = mkdtempSync(join(tmpdir(), "kafscale-mcp-demo-"));
      closers.push(() => rmSync(dir, { recursive: true, force: true }));
      dbPath = join(dir, "demo.db");
    }
    const { store, follower } = openSnapshot({
      path: dbPath,
      historyLimit: config.changeLogLimit,
      walSizeLimitBytes: config.wal.sizeLimitBytes,
      lag: config.lag,
      now,
      logger,
      command: withHttp ? "serve" : "stdio",
      whenInUse: options.whenSnapshotInUse ?? "refuse",
      closers,
      eventsRetentionMs: config.events.retentionMs,
      maxEvents: config.events.maxEvents,
    });
    // Only the file's writer checkpoints it (a follower has no probe).
    const walMonitor = store.probeWal && createWalMonitor({ probe: store.probeWal, limits: config.wal, logger });
    if (walMonitor) {
      closers.push(() => walMonitor.stop());
      walMonitor.start();
    }
    // Lag verdicts are judged in the background, once per sample interval (docs/LAG.md).
    store.lag.evaluator.start(config.lag.intervalMs, (err) => {
      // Refused while a long write holds the file or while it is read-only: the storage health says why.
      if (err instanceof StorageBusyError) return;
      logger.warn("lag evaluation failed; everything is judged again next time", { error: (err as Error).message });
    });
    closers.push(() => store.lag.evaluator.stop());
    const audit = createServiceAudit({
      config: config.audit,
      // A follower cannot write the file; its records still reach the stream and file sinks.
      store: follower ? null : store.audit,
      logger,
      stream: withHttp ? process.stdout : process.stderr,
      authMode: withHttp ? authModeOf(config) : "none",
    });
    closers.push(() => audit.close());

    let sync: EtcdSync | null = null;
    if (options.demo) {
      const revision = await loadDemoCluster(store);
      // The demo's producers and consumers move, so its lag, statuses and charts change over time.
      const traffic = startDemoTraffic(store, demoCluster, { now });
      closers.push(() => traffic.stop());
      const metricsServer = await startDemoMetricsServer();
      closers.push(() => metricsServer.close());
      config.metrics.brokerUrl = undefined;
      config.metrics.brokerUrlTemplate = metricsServer.urlTemplate;
      logger.info("demo mode: serving the bundled demo cluster (not a live cluster)", { revision });
    } else if (!follower) {
      // One member at a time, failing over through the endpoints (member-connector.ts); the sync
      // closes it when it stops.
      sync = createEtcdSync({
        store,
        connector: rotatingConnector(config.etcd),
        logger,
        pageSize: config.etcd.pageSize,
        probeIntervalMs: config.linkProbeIntervalMs,
        probeTimeoutMs: config.linkProbeTimeoutMs,
        connectTimeoutMs: config.etcd.dialTimeoutMs,
        backoffCapMs: config.etcd.backoffMaxMs,
      });
      const running = sync;
      closers.push(() => running.stop());
      sync.start();
    }

    let poller: MetricsPoller | null = null;
    // A follower reads the scrapes its writer records.
    if (metricsEnabled(config.metrics) && !follower) {
      poller = createMetricsPoller({ store, config: config.metrics, logger, now });
      const p = poller;
      closers.push(() => p.stop());
      poller.start();
    }

    // Started after the sync and the demo data, so its first attempt finds a snapshot when one is ready.
    const opsCopier = config.opsCopy ? createOpsCopier({ store, config: config.opsCopy, logger }) : null;
    if (opsCopier) {
      closers.push(() => opsCopier.stop());
      opsCopier.start();
    }

    // query_snapshot's sandbox starts its process on the first query (only callers granted the query
    // scope can make one); it needs the snapshot in a file it can open on its own.
    const sandbox = dbPath === ":memory:" ? null : createQuerySandbox({ path: dbPath, timeoutMs: config.query.timeoutMs });
    if (sandbox) {
      closers.push(() => sandbox.close());
      // A corrupt snapshot rebuilt at run time is a new file: the sandbox's connection must follow.
      closers.push(store.onReopen(() => sandbox.reopen()));
    }
    const ctx: ToolContext = {
      store,
      staleAfterMs: config.staleAfterMs,
      metricsStaleAfterMs: metricsStaleAfterMs(config.metrics),
      metricsConfigured: metricsEnabled(config.metrics),
      results: config.results,
      now,
      ...(sandbox ? { query: { sandbox, maxRows: config.query.maxRows } } : {}),
    };

    let url: string | null = null;
    let listenAddress: string | null = null;
    if (withHttp) {
      const auth: AuthSetup = createAuth(config, logger);
      closers.push(() => auth.jwks?.stop());
      // One discovery attempt before listening (bounded by its fetch timeout); on failure the
      // service starts anyway and token requests get 503 until a background retry succeeds.
      await auth.jwks?.firstAttempt;
      const { oidc } = config.auth;
      const app: App = createApp({
        lagMetrics: config.lagMetrics,
        ctx,
        http: config.http,
        authenticator: auth.authenticator,
        logger,
        enabledTools: config.enabledTools,
        rateLimit: config.rateLimit,
        audit,
        pollerStats: poller === null ? undefined : () => (poller as MetricsPoller).stats(),
        storage: { wal: () => walMonitor?.status() ?? null, opsCopy: () => opsCopier?.status() ?? null },
        resourceMetadata: oidc && {
          issuer: oidc.issuer,
          scopes: [...new Set([oidc.observeScope, oidc.queryScope, ...oidc.requiredScopes])],
          resourceUrl: config.auth.resourceUrl,
        },
      });
      // The lag evaluator's slices wait for answers in progress (a slice between two turns of an
      // answer delayed it by the whole slice).
      store.lag.evaluator.yieldTo(app.answering);
      const server = createServer(app.handler);
      // Bound slow clients: headers and whole requests must arrive in time (slowloris).
      server.headersTimeout = 15_000;
      server.requestTimeout = 60_000;
      ({ url, address: listenAddress } = await listen(server, config.http.host, config.http.port));
      closers.push(
        () =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeIdleConnections();
            setTimeout(() => server.closeAllConnections(), config.http.shutdownGraceMs).unref();
          }),
      );
      closers.push(() => app.close());
      if (sync !== null) {
        // The watch reports each commit's delay (event arrival → committed) for /metrics.
        const onApplied = (_revision: number, delayMs?: number): void => {
          if (delayMs !== undefined) app.metrics.watchApplied(delayMs);
        };
        const events = sync.events;
        events.on("applied", onApplied);
        closers.push(() => void events.off("applied", onApplied));
      }
      logger.info("listening", { address: listenAddress, url: `${url}/mcp`, sqlite: describeSqliteDriver() });
    }
    return { store, ctx, sync, poller, walMonitor, opsCopier, url, listenAddress, audit, close };
  } catch (err) {
    await close();
    throw err;
  }
}

interface OpenSnapshotOptions extends Pick<StoreOptions, "lag" | "now" | "eventsRetentionMs" | "maxEvents"> {
  path: string;
  historyLimit: number;
  walSizeLimitBytes: number;
  logger: Logger;
  command: string;
  whenInUse: "refuse" | "follow";
  /** Where the closing steps go (run in reverse: the store closes before its lock is released). */
  closers: (() => Promise<void> | void)[];
}

/**
 * Opens the snapshot as its one writer (the writer lock, src/store/writer-lock.ts), or read-only
 * beside the live writer of the file. A corrupt file is moved aside and replaced by a fresh one that
 * the sync loads from etcd; the storage health is logged once per change.
 */
function openSnapshot(options: OpenSnapshotOptions): { store: Store; follower: boolean } {
  const { path, historyLimit, walSizeLimitBytes, lag, now, logger, closers, eventsRetentionMs, maxEvents } = options;
  const events = { eventsRetentionMs, maxEvents };
  let lock: WriterLock;
  try {
    lock = acquireWriterLock(path, options.command);
  } catch (err) {
    if (!(err instanceof SnapshotInUseError) || options.whenInUse === "refuse") throw err;
    logger.warn("another kafscale-mcp writes this snapshot; serving it read-only, without syncing it", {
      path,
      writer: describeHolder(err.holder),
    });
    const store = createStore(path, { historyLimit, lag, now, ...events, follower: true });
    closers.push(() => store.close());
    return { store, follower: true };
  }
  closers.push(() => lock.release());
  if (lock.unavailable !== null) {
    logger.warn("no writer lock: its file cannot be written (nor can the snapshot be, so no other process writes it)", {
      path,
      error: lock.unavailable,
    });
  }
  let store: Store;
  try {
    store = createStore(path, { historyLimit, walSizeLimitBytes, lag, now, ...events });
  } catch (err) {
    if (!isCorruption(err)) throw err;
    logger.error("snapshot database file is corrupt; moving it aside and rebuilding it from etcd (the snapshot is a cache, etcd is the truth)", {
      path,
      error: (err as Error).message,
    });
    const corruptCopy = moveCorruptFileAside(path);
    store = createStore(path, { historyLimit, walSizeLimitBytes, lag, now, ...events });
    void carryOverLocalTables(corruptCopy, path).then((report) =>
      logger.info("local tables carried over from the corrupt file", { corruptCopy, ...report }),
    );
  }
  // A background WAL checkpoint still running would leave the -wal behind (read as an unclean stop).
  closers.push(async () => {
    await store.idle();
    store.close();
  });
  const logHealth = (problem: StorageProblem | null): void => {
    if (problem) logger.error("snapshot storage failing", { reason: problem.reason, paths: problem.paths, mode: store.mode() });
    else logger.info("snapshot storage writable again");
  };
  if (store.health.problem() !== null) logHealth(store.health.problem());
  const unsubscribe = store.health.onChange(logHealth);
  closers.push(unsubscribe);
  return { store, follower: false };
}

/** Runs until SIGTERM/SIGINT, then drains: sessions, HTTP, poller, watcher, database. */
export function closeOnSignals(service: RunningService, logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    let closing = false;
    const stop = (signal: string): void => {
      if (closing) return;
      closing = true;
      logger.info("shutting down", { signal });
      void service.close().then(resolve);
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
}
