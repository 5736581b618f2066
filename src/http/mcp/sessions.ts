/**
 * Stateful MCP sessions over streamable HTTP: one transport and server per session, an idle timeout
 * (KAFSCALE_MCP_SESSION_TIMEOUT; 0 = never), 404 for unknown or expired session IDs as the spec
 * says, and each session bound to the principal that opened it.
 */
import { randomUUID } from "node:crypto";
import type { Request, Response } from "express";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import type { Logger } from "../../log.js";
import type { Principal } from "../../tools/call-context.js";
import { writeJsonRpcError } from "./jsonrpc.js";

interface Session {
  transport: StreamableHTTPServerTransport;
  server: McpServer;
  subject: string;
  lastSeen: number;
}

export interface SessionManagerOptions {
  idleTimeoutMs: number;
  newServer(principal: Principal): McpServer;
  logger: Logger;
  now?: () => number;
  /** Called before each refusal (audit, metrics) with the reason and the status sent. */
  onDenied?: (req: Request, reason: string, status: number) => void;
}

export interface SessionManager {
  handle(req: Request, res: Response, principal: Principal): Promise<void>;
  count(): number;
  closeAll(): Promise<void>;
}

/** Creates the session table and its idle sweeper. */
export function createSessionManager(options: SessionManagerOptions): SessionManager {
  const now = options.now ?? Date.now;
  const sessions = new Map<string, Session>();
  const close = async (id: string, why: string): Promise<void> => {
    const session = sessions.get(id);
    if (!session) return;
    sessions.delete(id);
    options.logger.info("mcp session closed", { session: id, why });
    await session.transport.close().catch(() => undefined);
    await session.server.close().catch(() => undefined);
  };
  const sweep = (): void => {
    if (options.idleTimeoutMs <= 0) return;
    const cutoff = now() - options.idleTimeoutMs;
    for (const [id, session] of sessions) if (session.lastSeen < cutoff) void close(id, "idle timeout");
  };
  const sweeper =
    options.idleTimeoutMs > 0 ? setInterval(sweep, Math.min(30_000, Math.max(100, options.idleTimeoutMs / 4))) : null;
  sweeper?.unref();

  const open = async (req: Request, res: Response, principal: Principal): Promise<void> => {
    const server = options.newServer(principal);
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, server, subject: principal.subject, lastSeen: now() });
        options.logger.info("mcp session opened", { session: id, subject: principal.subject });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  };

  return {
    handle: async (req, res, principal) => {
      const id = req.header("mcp-session-id");
      if (id === undefined) {
        if (req.method === "POST" && isInitializeRequest(req.body)) return open(req, res, principal);
        return writeJsonRpcError(res, 400, -32000, "Bad Request: no valid session ID; send initialize first");
      }
      const session = sessions.get(id);
      if (!session) return writeJsonRpcError(res, 404, -32001, "Session not found");
      if (session.subject !== principal.subject) {
        options.onDenied?.(req, "session belongs to another principal", 403);
        return writeJsonRpcError(res, 403, -32000, "Forbidden: session belongs to another principal");
      }
      session.lastSeen = now();
      await session.transport.handleRequest(req, res, req.body);
    },
    count: () => sessions.size,
    closeAll: async () => {
      if (sweeper) clearInterval(sweeper);
      await Promise.all([...sessions.keys()].map((id) => close(id, "shutdown")));
    },
  };
}

/** Stateless mode: a throwaway server and transport per request, for replicas behind a load balancer. */
export async function handleStateless(
  req: Request,
  res: Response,
  server: McpServer,
): Promise<void> {
  if (req.method !== "POST") return writeJsonRpcError(res, 405, -32000, "Method not allowed in stateless mode");
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  res.on("close", () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
}
