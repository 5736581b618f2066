/**
 * The checks on `tools/call` and `initialize` requests, after authentication and body parsing:
 * malformed `tools/call` params (-32602, where the SDK would answer -32603 "Internal error" with a
 * validation dump), the per-principal rate limit on tool calls and initializations (429 with
 * Retry-After), the caller's permitted tool set (a hidden tool is audited as denied; the SDK then
 * answers "not found", exactly as for a tool that does not exist), and bookkeeping so a call the SDK
 * rejects before its handler runs (invalid arguments) still gets its audit record and is counted.
 */
import type { NextFunction, Request, Response } from "express";
import { selectTools } from "../../tools/index.js";
import type { ToolCallEvent } from "../../tools/tool.js";
import type { Principal } from "../../tools/call-context.js";
import { principalOf } from "../auth/principal.js";
import { limitKeyOf, type RateLimiter } from "../rate-limit.js";
import { remoteAddrOf, type HttpDenial } from "../request-facts.js";
import { requestIdOf } from "../request-id.js";
import { initializeCount, malformedToolCallIn, RPC, toolCallsIn, writeJsonRpcError, type ToolCallRequest } from "./jsonrpc.js";

export interface ToolGateOptions {
  limiter: RateLimiter | null;
  /** KAFSCALE_MCP_ENABLED_TOOLS (empty: all the caller's scopes allow). */
  enabledTools: readonly string[];
  /** Records a refusal (metrics, log, audit). */
  deny(denial: HttpDenial): void;
  /** Whether the request was already refused and audited (a stolen session): no second record. */
  wasRefused(req: Request): boolean;
  /**
   * A permitted call that did not run: refused by the SDK's input validation ("invalid_arguments"),
   * or its request answered with an HTTP error first ("not_run"). For the tool-call metrics.
   */
  notRun?(tool: string, outcome: "invalid_arguments" | "not_run", latencyMs: number): void;
  /** Monotonic milliseconds, for latencies. */
  now?: () => number;
}

export interface ToolGate {
  middleware(req: Request, res: Response, next: NextFunction): void;
  /** Marks a call as run (the MCP server's onToolCall hook), so it is not audited twice. */
  ran(event: ToolCallEvent): void;
}

interface Pending {
  req: Request;
  principal: Principal;
  call: ToolCallRequest;
  started: number;
}

/** A call is identified by this service's HTTP request id plus the JSON-RPC id inside that request. */
const keyOf = (httpRequestId: string | null, rpcId: string | number | null): string =>
  `${httpRequestId ?? ""}#${String(rpcId)}`;

/** Creates the gate. */
export function createToolGate(options: ToolGateOptions): ToolGate {
  const now = options.now ?? (() => performance.now());
  const pending = new Map<string, Pending>();

  const limited = (req: Request, res: Response, principal: Principal, calls: ToolCallRequest[], initializes: number): boolean => {
    const key = limitKeyOf(principal, remoteAddrOf(req));
    const decision = options.limiter?.take(key, calls.length + initializes) ?? { ok: true as const };
    if (decision.ok) return false;
    for (const call of calls) {
      options.deny({ req, reason: "rate limit exceeded", status: 429, principal, tool: call.name, args: call.arguments });
    }
    if (initializes > 0) options.deny({ req, reason: "rate limit exceeded", status: 429, principal });
    const message = `rate limit exceeded: ${options.limiter?.description}; retry after ${decision.retryAfterSeconds}s`;
    res.setHeader("Retry-After", String(decision.retryAfterSeconds));
    const single = Array.isArray(req.body) ? null : (req.body as { id?: unknown } | undefined);
    writeJsonRpcError(res, 429, RPC.serverError, message, {
      data: { retry_after_seconds: decision.retryAfterSeconds },
      id: typeof single?.id === "string" || typeof single?.id === "number" ? single.id : null,
    });
    return true;
  };

  /** -32602 for a `tools/call` whose params do not parse (no name, arguments not an object, …). */
  const malformed = (req: Request, res: Response, principal: Principal): boolean => {
    const bad = malformedToolCallIn(req.body);
    if (bad === null) return false;
    options.deny({ req, reason: "invalid params", status: 400, principal });
    writeJsonRpcError(res, 400, RPC.invalidParams, `Invalid params for tools/call: ${bad.detail}`, { id: bad.id });
    return true;
  };

  return {
    middleware: (req, res, next) => {
      const principal = principalOf(req);
      const calls = toolCallsIn(req.body);
      const initializes = initializeCount(req.body);
      if (principal === undefined || calls.length + initializes === 0) return next();
      if (malformed(req, res, principal)) return;
      if (limited(req, res, principal, calls, initializes)) return;
      const permitted = new Set(selectTools(principal.scopes, options.enabledTools).map((t) => t.name));
      const httpRequestId = requestIdOf(req);
      const keys: string[] = [];
      for (const call of calls) {
        if (!permitted.has(call.name)) {
          options.deny({ req, reason: "tool not permitted", status: null, principal, tool: call.name, args: call.arguments });
          continue;
        }
        const key = keyOf(httpRequestId, call.id);
        pending.set(key, { req, principal, call, started: now() });
        keys.push(key);
      }
      if (keys.length > 0) {
        res.on("close", () => {
          for (const key of keys) {
            const p = pending.get(key);
            if (!p) continue;
            pending.delete(key);
            if (options.wasRefused(p.req)) continue;
            const failed = res.statusCode >= 400;
            const reason = failed ? `not run: HTTP ${res.statusCode}` : "not run: rejected by the MCP layer (invalid arguments)";
            const latencyMs = now() - p.started;
            options.deny({
              req: p.req,
              reason,
              status: failed ? res.statusCode : null,
              principal: p.principal,
              tool: p.call.name,
              args: p.call.arguments,
              outcome: "tool_error",
              latencyMs,
            });
            options.notRun?.(p.call.name, failed ? "not_run" : "invalid_arguments", latencyMs);
          }
        });
      }
      next();
    },
    ran: (event) => {
      pending.delete(keyOf(event.context.requestId, event.rpcId));
    },
  };
}
