/**
 * Builds audit records from what the service sees — a tool call event from the MCP server, or a
 * refusal at the HTTP layer — and hands them to the sink. Request id and remote address reach tool
 * calls through the SDK's `authInfo.extra` (set in app.ts), the session through `extra.sessionId`.
 */
import type { Request } from "express";
import type { ToolCallEvent } from "../tools/tool.js";
import { argumentsJson, type AuditRecord } from "./audit-record.js";
import type { AuditSink } from "./audit-sinks.js";
import type { AuthModeName, Principal } from "./principal.js";
import { requestIdOf } from "./request-id.js";

/** Per-request facts carried to tool handlers in the SDK's `authInfo.extra`. */
export interface CallContext {
  requestId: string | null;
  remoteAddr: string | null;
}

/** A refusal at the HTTP layer (or a tool call stopped before its handler). */
export interface Denial {
  req: Request;
  reason: string;
  /** HTTP status sent; null when the request went on (a hidden tool answered "not found" by the SDK). */
  status: number | null;
  /** The caller, when known (after authentication). */
  principal?: Principal;
  /** A token that was valid but not enough (403) still names its subject. */
  subject?: string;
  clientId?: string;
  tool?: string | null;
  args?: unknown;
  outcome?: "denied" | "tool_error";
  latencyMs?: number;
}

export interface AuditTrail {
  /** A tool call that ran (from the MCP server's onToolCall hook). */
  toolCall(event: ToolCallEvent, principal: Principal): void;
  /** A refused request or tool call. */
  denied(denial: Denial): void;
  /** Writes out rows still queued for the audit_log table (tests, shutdown). */
  flush(): void;
  close(): Promise<void>;
}

/** The caller's address as the socket saw it (proxies are not trusted to say otherwise). */
export function remoteAddrOf(req: Request): string | null {
  return req.socket.remoteAddress ?? null;
}

/** Reads the session and call context out of the SDK's RequestHandlerExtra. */
function fromExtra(extra: unknown): { sessionId: string | null } & CallContext {
  const e = (extra ?? {}) as { sessionId?: unknown; authInfo?: { extra?: Partial<CallContext> } };
  return {
    sessionId: typeof e.sessionId === "string" ? e.sessionId : null,
    requestId: e.authInfo?.extra?.requestId ?? null,
    remoteAddr: e.authInfo?.extra?.remoteAddr ?? null,
  };
}

/** Creates the trail over `sink`; `authMode` labels records of callers not yet authenticated. */
export function createAuditTrail(sink: AuditSink, authMode: AuthModeName, now: () => number = Date.now): AuditTrail {
  return {
    toolCall: (event, principal) => {
      const context = fromExtra(event.extra);
      const record: AuditRecord = {
        at: new Date(now()).toISOString(),
        requestId: context.requestId,
        subject: principal.subject,
        clientId: principal.clientId ?? null,
        authMode: principal.authMode,
        tool: event.tool,
        arguments: argumentsJson(event.args),
        outcome: event.outcome,
        reason: event.error ?? null,
        status: null,
        latencyMs: Math.round(event.latencyMs * 1000) / 1000,
        revision: event.revision,
        remoteAddr: context.remoteAddr,
        sessionId: context.sessionId,
      };
      sink.write(record);
    },
    denied: (d) => {
      const record: AuditRecord = {
        at: new Date(now()).toISOString(),
        requestId: requestIdOf(d.req),
        subject: d.principal?.subject ?? d.subject ?? null,
        clientId: d.principal?.clientId ?? d.clientId ?? null,
        authMode: d.principal?.authMode ?? authMode,
        tool: d.tool ?? null,
        arguments: d.tool ? argumentsJson(d.args) : null,
        outcome: d.outcome ?? "denied",
        reason: d.reason,
        status: d.status,
        latencyMs: d.latencyMs === undefined ? null : Math.round(d.latencyMs * 1000) / 1000,
        revision: null,
        remoteAddr: remoteAddrOf(d.req),
        // Whatever the caller sent, bounded: it is not trusted, only useful when it names a real session.
        sessionId: d.req.header("mcp-session-id")?.slice(0, 128) ?? null,
      };
      sink.write(record);
    },
    flush: () => sink.flush(),
    close: () => sink.close(),
  };
}
