/**
 * The HTTP face of the service: /mcp (streamable HTTP, sessions or stateless), /healthz, /readyz and
 * /metrics. Security by default on /mcp: Host/Origin checks, authentication, a body limit.
 */
import express, { type NextFunction, type Request, type Response } from "express";
import type { HttpConfig } from "../config.js";
import type { Logger } from "../log.js";
import type { ToolContext } from "../tools/context.js";
import { selectTools } from "../tools/index.js";
import { createMcpServer } from "../tools/server.js";
import type { ToolCallEvent } from "../tools/tool.js";
import type { Authenticator } from "./authenticator.js";
import { hostAndOriginGuard } from "./guards.js";
import { healthz, readyz } from "./health.js";
import { principalOf, setPrincipal, type Principal } from "./principal.js";
import { createServiceMetrics } from "./service-metrics.js";
import { createSessionManager, handleStateless, jsonRpcError } from "./sessions.js";

export interface AppOptions {
  ctx: ToolContext;
  http: HttpConfig;
  authenticator: Authenticator;
  logger: Logger;
  /** Tool allow-list (empty: every tool the caller's scopes allow). */
  enabledTools?: readonly string[];
  onToolCall?: (event: ToolCallEvent, principal: Principal) => void;
  /** Called for every request refused before reaching a tool (audit). */
  onDenied?: (req: Request, reason: string) => void;
}

export interface App {
  handler: express.Express;
  /** Closes every MCP session (graceful shutdown). */
  close(): Promise<void>;
}

/** Builds the express app; nothing listens until the caller does. */
export function createApp(options: AppOptions): App {
  const { ctx, http, logger } = options;
  const metrics = createServiceMetrics(ctx);
  const onDenied = (req: Request, reason: string): void => {
    metrics.denied(reason);
    logger.warn("request refused", { reason, method: req.method, path: req.path, remote: req.ip });
    options.onDenied?.(req, reason);
  };
  const newServer = (principal: Principal) =>
    createMcpServer({
      ctx,
      tools: selectTools(principal.scopes, options.enabledTools ?? []),
      logger,
      onToolCall: (event) => {
        metrics.toolCall(event.tool, event.outcome, event.latencyMs);
        options.onToolCall?.(event, principal);
      },
    });
  const sessions = createSessionManager({ idleTimeoutMs: http.sessionTimeoutMs, newServer, logger, onDenied });

  const app = express();
  app.disable("x-powered-by");
  app.get("/healthz", healthz);
  app.get("/readyz", readyz(ctx));
  app.get("/metrics", (_req, res) => {
    res.type("text/plain; version=0.0.4").send(metrics.render(sessions.count()));
  });

  const authenticate = async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const result = await options.authenticator.authenticate(req);
    if (!result.ok) {
      onDenied(req, result.reason);
      res.setHeader("WWW-Authenticate", result.wwwAuthenticate);
      res.status(result.status).json({ error: result.status === 401 ? "unauthorized" : "forbidden" });
      return;
    }
    setPrincipal(req, result.principal);
    next();
  };
  const mcp = async (req: Request, res: Response): Promise<void> => {
    const principal = principalOf(req) as Principal;
    try {
      if (http.stateless) await handleStateless(req, res, newServer(principal));
      else await sessions.handle(req, res, principal);
    } catch (err) {
      logger.error("mcp request failed", { error: err instanceof Error ? err.stack : String(err) });
      if (!res.headersSent) jsonRpcError(res, 500, -32603, "Internal server error");
    }
  };
  const guard = hostAndOriginGuard({ allowedHosts: http.allowedHosts, allowedOrigins: http.allowedOrigins, onDenied });
  const body = express.json({ limit: http.maxBodyBytes, type: ["application/json", "application/*+json"] });
  for (const path of ["/mcp", "/mcp/"]) app.all(path, guard, authenticate, body, mcp);

  // Body-parser failures (too large, malformed JSON) become JSON-RPC errors, never stack traces.
  app.use((err: Error & { status?: number; type?: string }, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    if (err.type === "entity.too.large") {
      onDenied(req, "body too large");
      return jsonRpcError(res, 413, -32600, `Request body exceeds ${http.maxBodyBytes} bytes`);
    }
    if (err.status === 400) return jsonRpcError(res, 400, -32700, "Parse error: invalid JSON");
    logger.error("http error", { error: err.message });
    return jsonRpcError(res, 500, -32603, "Internal server error");
  });
  return { handler: app, close: () => sessions.closeAll() };
}
