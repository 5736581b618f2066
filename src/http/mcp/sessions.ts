/**
 * Stateful MCP sessions over streamable HTTP: one transport and server per session, each bound to the
 * principal that opened it, 404 for unknown or expired session IDs as the spec says, an idle timeout
 * (KAFSCALE_MCP_SESSION_TIMEOUT; 0 = never), and a bounded table (session-table.ts): a session opened
 * into a full table evicts the least recently used idle one, or is refused with 503 and Retry-After,
 * so no client can grow the heap without bound by never closing its sessions.
 */
import { randomUUID } from "node:crypto";
import type { Request, Response } from "express";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import type { Logger } from "../../log.js";
import type { Principal } from "../../tools/call-context.js";
import { RPC, writeJsonRpcError } from "./jsonrpc.js";
import { createSessionTable, type SessionEntry, type SessionLimit } from "./session-table.js";

interface Session {
  transport: StreamableHTTPServerTransport;
  server: McpServer;
  principal: Principal;
}

/** A session closed to make room for a new one. */
export interface SessionEviction {
  sessionId: string;
  /** Who owned it. */
  principal: Principal;
  /** Which cap made room: the opener's own (principal) or the whole table. */
  limit: SessionLimit;
}

/** How long a refused client is asked to wait: long enough for a running call to finish. */
export const SESSION_RETRY_AFTER_SECONDS = 5;

export interface SessionManagerOptions {
  idleTimeoutMs: number;
  /** KAFSCALE_MCP_MAX_SESSIONS. */
  maxSessions: number;
  /** KAFSCALE_MCP_MAX_SESSIONS_PER_PRINCIPAL. */
  maxSessionsPerPrincipal: number;
  newServer(principal: Principal): McpServer;
  /** Whose session quota a request counts against (the rate-limit key). */
  ownerOf(req: Request, principal: Principal): string;
  logger: Logger;
  now?: () => number;
  /** Called before each refusal (audit, metrics) with the reason and the status sent. */
  onDenied?: (req: Request, reason: string, status: number) => void;
  /** A new session refused because a cap is reached and no idle session can make room. */
  onRefused?: (req: Request, limit: SessionLimit) => void;
  /** A session evicted to make room for the one `req` opens. */
  onEvicted?: (req: Request, eviction: SessionEviction) => void;
}

export interface SessionManager {
  handle(req: Request, res: Response, principal: Principal): Promise<void>;
  count(): number;
  closeAll(): Promise<void>;
}

/** Creates the session table and its idle sweeper. */
export function createSessionManager(options: SessionManagerOptions): SessionManager {
  const { logger } = options;
  const table = createSessionTable<Session>({
    maxSessions: options.maxSessions,
    maxPerOwner: options.maxSessionsPerPrincipal,
    idleTimeoutMs: options.idleTimeoutMs,
    now: options.now ?? Date.now,
  });
  const close = async (entry: SessionEntry<Session>, why: string): Promise<void> => {
    logger.info("mcp session closed", { session: entry.id, why });
    await entry.value.transport.close().catch(() => undefined);
    await entry.value.server.close().catch(() => undefined);
  };
  const sweep = (): void => {
    for (const entry of table.expire()) void close(entry, "idle timeout");
  };
  const sweeper =
    options.idleTimeoutMs > 0 ? setInterval(sweep, Math.min(30_000, Math.max(100, options.idleTimeoutMs / 4))) : null;
  sweeper?.unref();

  /**
   * Marks the session used and counts a POST (a call being answered) as in flight until its response
   * closes. The standalone GET stream is not counted: SDK clients hold one open for the whole
   * session, and a session whose client only listens is idle.
   */
  const track = (entry: SessionEntry<Session>, req: Request, res: Response): void => {
    if (req.method !== "POST") return table.touch(entry);
    table.begin(entry);
    res.once("close", () => table.end(entry));
  };

  const open = async (req: Request, res: Response, principal: Principal): Promise<void> => {
    const owner = options.ownerOf(req, principal);
    const admission = table.admit(owner);
    for (const { entry, why } of admission.evicted) {
      void close(entry, why === "idle timeout" ? why : `evicted: ${why} session cap`);
      if (why !== "idle timeout") options.onEvicted?.(req, { sessionId: entry.id, principal: entry.value.principal, limit: why });
    }
    if (admission.refused !== null) {
      const { limit, cap } = admission.refused;
      options.onRefused?.(req, limit);
      options.onDenied?.(req, `session cap reached (${limit})`, 503);
      const whose = limit === "principal" ? "this principal's" : "the service's";
      res.setHeader("Retry-After", String(SESSION_RETRY_AFTER_SECONDS));
      const id = (req.body as { id?: string | number }).id ?? null;
      return writeJsonRpcError(
        res,
        503,
        RPC.serverError,
        `Service Unavailable: ${whose} ${cap} MCP sessions are all busy; close unused sessions (DELETE /mcp) ` +
          `or retry after ${SESSION_RETRY_AFTER_SECONDS}s`,
        { data: { retry_after_seconds: SESSION_RETRY_AFTER_SECONDS, session_cap: cap, limit }, id },
      );
    }

    // The id is chosen here, so the session holds its place in the table while initialize runs.
    const id = randomUUID();
    const server = options.newServer(principal);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      onsessioninitialized: () => logger.info("mcp session opened", { session: id, subject: principal.subject }),
    });
    const entry = table.add(id, owner, { transport, server, principal });
    transport.onclose = () => {
      if (table.get(id) === entry) table.remove(id);
    };
    track(entry, req, res);
    res.once("close", () => {
      // An initialize the transport refused never became a session.
      if (transport.sessionId === undefined && table.remove(id) !== undefined) void close(entry, "initialize refused");
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  };

  /** The session `id` if it is open; an expired one the sweeper has not reached yet is closed now. */
  const live = (id: string): SessionEntry<Session> | undefined => {
    const entry = table.get(id);
    if (entry === undefined || !table.expired(entry)) return entry;
    table.remove(id);
    void close(entry, "idle timeout");
    return undefined;
  };

  return {
    handle: async (req, res, principal) => {
      const id = req.header("mcp-session-id");
      if (id === undefined) {
        if (req.method === "POST" && isInitializeRequest(req.body)) return open(req, res, principal);
        return writeJsonRpcError(res, 400, RPC.serverError, "Bad Request: no valid session ID; send initialize first");
      }
      const entry = live(id);
      if (entry === undefined) return writeJsonRpcError(res, 404, -32001, "Session not found");
      if (entry.value.principal.subject !== principal.subject) {
        options.onDenied?.(req, "session belongs to another principal", 403);
        return writeJsonRpcError(res, 403, RPC.serverError, "Forbidden: session belongs to another principal");
      }
      track(entry, req, res);
      await entry.value.transport.handleRequest(req, res, req.body);
    },
    count: () => table.size,
    closeAll: async () => {
      if (sweeper) clearInterval(sweeper);
      const entries = table.entries();
      for (const entry of entries) table.remove(entry.id);
      await Promise.all(entries.map((entry) => close(entry, "shutdown")));
    },
  };
}

/** Stateless mode: a throwaway server and transport per request, for replicas behind a load balancer. */
export async function handleStateless(
  req: Request,
  res: Response,
  server: McpServer,
): Promise<void> {
  if (req.method !== "POST") return writeJsonRpcError(res, 405, RPC.serverError, "Method not allowed in stateless mode");
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  res.on("close", () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
}
