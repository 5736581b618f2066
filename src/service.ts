/**
 * Wires the service: store, etcd sync (or the demo data), metrics poller, tool context and the HTTP
 * app; and takes it all down again in reverse order. The CLI commands call this; nothing runs at import.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { assertKnownTools, type Config } from "./config.js";
import { loadDemoCluster } from "./demo/demo-cluster.js";
import { startDemoMetricsServer } from "./demo/metrics-server.js";
import { createApp, type App } from "./http/app.js";
import { createServiceAudit } from "./audit/service-audit.js";
import type { AuditTrail } from "./audit/audit-trail.js";
import { assertProdFence, authModeOf, createAuth, type AuthSetup } from "./http/auth/auth-mode.js";
import type { Logger } from "./log.js";
import { createStore, type Store } from "./store/index.js";
import { createEtcdClient, keyspaceOf, type EtcdClient } from "./sync/etcd/etcd-client.js";
import { createEtcdSync, type EtcdSync } from "./sync/etcd/etcd-sync.js";
import { createMetricsPoller, metricsEnabled, metricsStaleAfterMs, type MetricsPoller } from "./sync/metrics/metrics-poller.js";
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
}

export interface RunningService {
  store: Store;
  ctx: ToolContext;
  sync: EtcdSync | null;
  /** The metrics poller, when a metrics URL is configured. */
  poller: MetricsPoller | null;
  /** Base URL when listening (http://host:port). */
  url: string | null;
  /** The audit trail (stdio mode passes its tool calls here too). */
  audit: AuditTrail;
  close(): Promise<void>;
}

async function listen(server: Server, host: string | undefined, port: number): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `http://${host === undefined || host === "0.0.0.0" || host === "::" ? "127.0.0.1" : shownHost}:${address.port}`;
}

/** Starts everything the options ask for; the returned close() stops it all gracefully. */
export async function startService(options: ServiceOptions): Promise<RunningService> {
  const { logger } = options;
  const config = { ...options.config, metrics: { ...options.config.metrics } };
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
    const store = createStore(options.demo ? (options.demoDbPath ?? ":memory:") : config.dbPath, {
      historyLimit: config.changeLogLimit,
    });
    closers.push(() => store.close());
    const audit = createServiceAudit({
      config: config.audit,
      store: store.audit,
      logger,
      stream: withHttp ? process.stdout : process.stderr,
      authMode: withHttp ? authModeOf(config) : "none",
    });
    closers.push(() => audit.close());

    let sync: EtcdSync | null = null;
    if (options.demo) {
      const revision = loadDemoCluster(store);
      const metricsServer = await startDemoMetricsServer();
      closers.push(() => metricsServer.close());
      config.metrics.brokerUrl = undefined;
      config.metrics.brokerUrlTemplate = metricsServer.urlTemplate;
      logger.info("demo mode: serving the bundled demo cluster (not a live cluster)", { revision });
    } else {
      const client: EtcdClient = createEtcdClient(config.etcd);
      closers.push(() => client.close());
      sync = createEtcdSync({
        store,
        client,
        keyspace: keyspaceOf(client, config.etcd.namespace),
        logger,
        pageSize: config.etcd.pageSize,
        probeIntervalMs: config.linkProbeIntervalMs,
      });
      const running = sync;
      closers.push(() => running.stop());
      sync.start();
    }

    let poller: MetricsPoller | null = null;
    if (metricsEnabled(config.metrics)) {
      poller = createMetricsPoller({ store, config: config.metrics, logger });
      const p = poller;
      closers.push(() => p.stop());
      poller.start();
    }

    const ctx: ToolContext = {
      store,
      staleAfterMs: config.staleAfterMs,
      metricsStaleAfterMs: metricsStaleAfterMs(config.metrics),
      metricsConfigured: poller !== null,
      now: Date.now,
    };

    let url: string | null = null;
    if (withHttp) {
      const auth: AuthSetup = createAuth(config, logger);
      closers.push(() => auth.jwks?.stop());
      // One discovery attempt before listening (bounded by its fetch timeout); on failure the
      // service starts anyway and token requests get 503 until a background retry succeeds.
      await auth.jwks?.firstAttempt;
      const { oidc } = config.auth;
      const app: App = createApp({
        ctx,
        http: config.http,
        authenticator: auth.authenticator,
        logger,
        enabledTools: config.enabledTools,
        rateLimit: config.rateLimit,
        audit,
        resourceMetadata: oidc && {
          issuer: oidc.issuer,
          scopes: [...new Set([oidc.observeScope, ...oidc.requiredScopes])],
          resourceUrl: config.auth.resourceUrl,
        },
      });
      const server = createServer(app.handler);
      // Bound slow clients: headers and whole requests must arrive in time (slowloris).
      server.headersTimeout = 15_000;
      server.requestTimeout = 60_000;
      url = await listen(server, config.http.host, config.http.port);
      closers.push(
        () =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeIdleConnections();
            setTimeout(() => server.closeAllConnections(), config.http.shutdownGraceMs).unref();
          }),
      );
      closers.push(() => app.close());
      logger.info("listening", { url: `${url}/mcp` });
    }
    return { store, ctx, sync, poller, url, audit, close };
  } catch (err) {
    await close();
    throw err;
  }
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
