/**
 * The HTTP face of the service: /mcp (streamable HTTP, sessions or stateless), /api/v1 (the same
 * answers as JSON for dashboards), /healthz, /readyz, /metrics and, with OIDC, the RFC 9728 metadata.
 * Security by default on /mcp, in this order: a request id, Host/Origin checks, authentication, body
 * checks (declared length, JSON content type, the body limit, no empty batch), the gate (malformed
 * params, rate limit on tool calls and initialize, permitted tools), then the bounded session table;
 * every refusal and every tool call is audited. Time comes from `ctx.now` (tests inject a clock).
 */
import express, { type NextFunction, type Request, type Response } from "express";
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import type { AuditTrail } from "../audit/audit-trail.js";
import type { HttpConfig, LagMetricsConfig, RateLimitConfig } from "../config.js";
import type { Logger } from "../log.js";
import type { ToolContext } from "../tools/context.js";
import { selectTools } from "../tools/index.js";
import { createMcpServer } from "../tools/server.js";
import type { CallContext, Principal } from "../tools/call-context.js";
import type { McpRequestExtra, ToolCallEvent } from "../tools/tool.js";
import type { Authenticator } from "./auth/authenticator.js";
import { hostAndOriginGuard } from "./guards.js";
import { healthz, readyz } from "./health.js";
import type { StorageHealth } from "./storage-health.js";
import { principalOf, setPrincipal } from "./auth/principal.js";
import { createRateLimiter, limitKeyOf } from "./rate-limit.js";
import { assignRequestId, requestIdOf } from "./request-id.js";
import { METADATA_PATH, resourceMetadataHandler, type ResourceMetadataOptions } from "./auth/resource-metadata.js";
import { createServiceMetrics, type PollerStats, type ServiceMetrics } from "./service-metrics.js";
import { createRestApi } from "./rest/rest-api.js";
import { createWebUi } from "./web-ui.js";
import { lagMetricsHandler } from "./lag-metrics.js";
import { RPC, writeJsonRpcError } from "./mcp/jsonrpc.js";
import { bodyErrors, declaredLengthLimit, JSON_TYPES, rejectEmptyBatch, requireJsonContentType } from "./mcp/request-checks.js";
import { createSessionManager, handleStateless, type SessionEviction } from "./mcp/sessions.js";
import { remoteAddrOf, toDenial, type HttpDenial } from "./request-facts.js";
import { createRequestsInFlight } from "./requests-in-flight.js";
import { createToolGate } from "./mcp/tool-gate.js";

export interface AppOptions {
  ctx: ToolContext;
  http: HttpConfig;
  authenticator: Authenticator;
  logger: Logger;
  /** Tool allow-list (empty: every tool the caller's scopes allow). */
  enabledTools?: readonly string[];
  /** Tool calls per minute per principal (absent or 0: no limit). */
  rateLimit?: RateLimitConfig;
  /** Where tool calls and refusals are recorded. */
  audit?: AuditTrail;
  /** The live file's WAL and the ops copy, for /metrics and /readyz. */
  storage?: StorageHealth;
  /** RFC 9728 metadata for /mcp (OIDC only). */
  resourceMetadata?: ResourceMetadataOptions;
  onToolCall?: (event: ToolCallEvent) => void;
  /** /metrics/lag: partition series, group filters, auth (default: group series, every group, open). */
  lagMetrics?: LagMetricsConfig;
  /** The metrics poller's counters for /metrics (absent when no metrics URL is configured). */
  pollerStats?: () => PollerStats;
}

export interface App {
  handler: express.Express;
  /** The service metrics (the wiring feeds the watch apply delay). */
  metrics: ServiceMetrics;
  /** Closes every MCP session (graceful shutdown). */
  close(): Promise<void>;
  /** Whether a request is being answered right now (src/http/requests-in-flight.ts). */
  answering(): boolean;
}

/**
 * The call context travels from the HTTP request to the tool callback inside the SDK's
 * `authInfo.extra` (the only per-request channel the SDK offers), under this key; read back by
 * contextOfExtra below, the one place that looks inside the SDK's extras.
 */
const CALL_CONTEXT = "kafscaleCallContext";

function contextOfExtra(extra: McpRequestExtra): CallContext {
  const context = extra.authInfo?.extra?.[CALL_CONTEXT] as CallContext | undefined;
  if (context === undefined) throw new Error("tool call without a call context (request not authenticated by the app)");
  return { ...context, sessionId: extra.sessionId ?? null };
}

/** Error codes of RFC 6750 §3.1 for the JSON body of an auth refusal. */
const AUTH_ERROR: Record<number, string> = { 401: "invalid_token", 403: "insufficient_scope", 503: "temporarily_unavailable" };

/** Builds the express app; nothing listens until the caller does. */
export function createApp(options: AppOptions): App {
  const { ctx, http, logger } = options;
  const enabledTools = options.enabledTools ?? [];
  let openSessions = (): number => 0;
  const metrics = createServiceMetrics({
    ctx,
    sessions: () => openSessions(),
    pollerStats: options.pollerStats,
    storage: options.storage,
  });

  // Requests already refused with a status: the tool gate must not audit their calls a second time.
  const refused = new WeakSet<Request>();
  const deny = (denial: HttpDenial): void => {
    if (denial.status !== null) refused.add(denial.req);
    if ((denial.outcome ?? "denied") === "denied") {
      metrics.denied(denial.reason);
      const { req } = denial;
      logger.warn("request refused", {
        reason: denial.reason,
        status: denial.status,
        method: req.method,
        path: req.path,
        remote: remoteAddrOf(req),
        request_id: requestIdOf(req),
        subject: denial.principal?.subject ?? denial.subject,
        tool: denial.tool ?? undefined,
      });
    }
    options.audit?.denied(toDenial(denial));
  };
  const onDenied = (req: Request, reason: string, status: number): void =>
    deny({ req, reason, status, principal: principalOf(req) });

  const limiter = options.rateLimit ? createRateLimiter({ ...options.rateLimit, now: ctx.now }) : null;
  const gate = createToolGate({
    limiter,
    enabledTools,
    deny,
    wasRefused: (req) => refused.has(req),
    notRun: (tool, outcome, latencyMs) => metrics.toolCall(tool, outcome, latencyMs),
  });
  const recordToolCall = (event: ToolCallEvent): void => {
    metrics.toolCall(event.tool, event.outcome, event.latencyMs);
    options.audit?.toolCall(event);
    options.onToolCall?.(event);
  };
  const newServer = (principal: Principal) =>
    createMcpServer({
      ctx,
      tools: selectTools(principal.scopes, enabledTools),
      logger,
      onToolCall: (event) => {
        gate.ran(event);
        recordToolCall(event);
      },
      contextOf: contextOfExtra,
    });
  const evicted = (req: Request, eviction: SessionEviction): void => {
    metrics.sessionEvicted(eviction.limit);
    // Recorded for the evicted session's owner, with the request id of the initialize that made room
    // (the session manager logs the close).
    options.audit?.denied({
      reason: `session evicted: ${eviction.limit} session cap reached`,
      status: null,
      requestId: requestIdOf(req),
      remoteAddr: null,
      claimedSessionId: eviction.sessionId,
      principal: eviction.principal,
    });
  };
  const sessions = createSessionManager({
    idleTimeoutMs: http.sessionTimeoutMs,
    maxSessions: http.maxSessions,
    maxSessionsPerPrincipal: http.maxSessionsPerPrincipal,
    newServer,
    ownerOf: (req, principal) => limitKeyOf(principal, remoteAddrOf(req)),
    logger,
    now: ctx.now,
    onDenied,
    onRefused: (_req, limit) => metrics.sessionRefused(limit),
    onEvicted: evicted,
  });
  openSessions = () => sessions.count();

  const app = express();
  app.disable("x-powered-by");
  const mcpPaths = ["/mcp", "/mcp/"];
  const inFlight = createRequestsInFlight(mcpPaths);
  app.use(inFlight.middleware);
  app.get("/healthz", healthz);
  app.get("/readyz", readyz(ctx, options.storage));
  app.get("/metrics", async (_req, res) => {
    try {
      const { contentType, text } = await metrics.render();
      res.type(contentType).send(text);
    } catch (err) {
      logger.error("metrics rendering failed", { error: err instanceof Error ? err.message : String(err) });
      res.status(500).type("text/plain").send("metrics unavailable; the service log has details\n");
    }
  });

  const authenticate = async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const result = await options.authenticator.authenticate(req);
    if (!result.ok) {
      deny({ req, reason: result.reason, status: result.status, subject: result.subject, clientId: result.clientId });
      if (result.wwwAuthenticate !== undefined) res.setHeader("WWW-Authenticate", result.wwwAuthenticate);
      if (result.retryAfterSeconds !== undefined) res.setHeader("Retry-After", String(result.retryAfterSeconds));
      res.status(result.status).json({ error: AUTH_ERROR[result.status], error_description: result.reason });
      return;
    }
    setPrincipal(req, result.principal);
    next();
  };
  // Consumer lag for Prometheus: open like /metrics by default (scrapers carry no OIDC token), or
  // behind the same authentication as /api/v1 (KAFSCALE_MCP_LAG_METRICS_AUTH=bearer).
  const lagMetrics = options.lagMetrics ?? { partitions: false, auth: "none" as const };
  const lagSeries = lagMetricsHandler(ctx.store.lag.series, lagMetrics, ctx.now, (err) =>
    logger.error("lag metrics rendering failed", { error: err.message }),
  );
  if (lagMetrics.auth === "bearer") app.get("/metrics/lag", assignRequestId, authenticate, lagSeries);
  else app.get("/metrics/lag", lagSeries);

  const mcp = async (req: Request, res: Response): Promise<void> => {
    const principal = principalOf(req) as Principal;
    // The SDK hands `req.auth` to tool handlers as `extra.authInfo`; the call context rides in it
    // (the session id is added from the SDK's extras). The bearer token is deliberately left out
    // (""): it is never carried past authentication.
    const context: CallContext = {
      principal,
      transport: "mcp-http",
      requestId: requestIdOf(req),
      remoteAddr: remoteAddrOf(req),
      sessionId: null,
    };
    const auth: AuthInfo = {
      token: "",
      clientId: principal.clientId ?? "",
      scopes: [...principal.scopes],
      extra: { [CALL_CONTEXT]: context },
    };
    (req as Request & { auth?: AuthInfo }).auth = auth;
    try {
      if (http.stateless) await handleStateless(req, res, newServer(principal));
      else await sessions.handle(req, res, principal);
    } catch (err) {
      logger.error("mcp request failed", { error: err instanceof Error ? err.stack : String(err) });
      if (!res.headersSent) writeJsonRpcError(res, 500, RPC.internalError, "Internal server error");
    }
  };
  const guard = hostAndOriginGuard({ allowedHosts: http.allowedHosts, allowedOrigins: http.allowedOrigins, onDenied });
  const body = [
    declaredLengthLimit(http.maxBodyBytes, onDenied),
    requireJsonContentType(onDenied),
    express.json({ limit: http.maxBodyBytes, type: JSON_TYPES }),
    rejectEmptyBatch,
  ];
  app.all(mcpPaths, assignRequestId, guard, authenticate, ...body, gate.middleware, mcp);
  // Body-parser failures (too large, malformed JSON, a charset other than UTF-8) become JSON-RPC errors.
  app.use(mcpPaths, bodyErrors(http.maxBodyBytes, onDenied, logger));

  // Dashboards: the same answers as plain JSON, behind the same guard and authentication.
  app.use(
    "/api/v1",
    assignRequestId,
    guard,
    authenticate,
    createRestApi({ ctx, logger, enabledTools, limiter, onToolCall: recordToolCall, deny }),
  );

  // The web view: static page and assets without auth (no data in them); its data comes from /api/v1.
  app.use("/ui", assignRequestId, guard, createWebUi());

  if (options.resourceMetadata) {
    // Public by design (RFC 9728): a client that got a 401 reads it to find the authorization server.
    app.get([METADATA_PATH, `${METADATA_PATH}/mcp`], guard, resourceMetadataHandler(options.resourceMetadata));
  }

  // Anything else that fails: a short JSON error, never an HTML page or a stack trace.
  app.use((err: Error & { status?: number }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const status = err.status !== undefined && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) logger.error("http error", { error: err.message });
    res.status(status).json({ error: status === 500 ? "internal error" : err.message.slice(0, 200) });
  });
  return { handler: app, metrics, close: () => sessions.closeAll(), answering: inFlight.busy };
}
