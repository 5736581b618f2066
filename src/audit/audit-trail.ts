/**
 * Builds audit records from what the service sees — a tool call event, or a refusal at the HTTP
 * layer — and hands them to the sink. Both carry typed facts (src/tools/call-context.ts); this module
 * knows nothing of HTTP, so stdio and REST calls are audited by the same code.
 */
import type { AuthModeName, CallContext, Principal } from "../tools/call-context.js";
import type { ToolCallEvent } from "../tools/tool.js";
import { argumentsJson, type AuditRecord } from "./audit-record.js";
import type { AuditSink } from "./audit-sinks.js";

/** What the HTTP layer knows of a request it refused (or of a tool call stopped before its handler). */
export interface Denial {
  reason: string;
  /** HTTP status sent; null when the request went on (a hidden tool answered "not found" by the SDK). */
  status: number | null;
  requestId: string | null;
  remoteAddr: string | null;
  /** The Mcp-Session-Id the caller sent, bounded; not trusted, only useful when it names a real session. */
  claimedSessionId: string | null;
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
  /** A tool call that ran. */
  toolCall(event: ToolCallEvent): void;
  /** A refused request or tool call. */
  denied(denial: Denial): void;
  /** Writes out rows still queued for the audit_log table (tests, shutdown). */
  flush(): void;
  close(): Promise<void>;
}

const roundMs = (ms: number): number => Math.round(ms * 1000) / 1000;

/** Creates the trail over `sink`; `authMode` labels records of callers not yet authenticated. */
export function createAuditTrail(sink: AuditSink, authMode: AuthModeName, now: () => number = Date.now): AuditTrail {
  return {
    toolCall: (event) => {
      const context: CallContext = event.context;
      const record: AuditRecord = {
        at: new Date(now()).toISOString(),
        requestId: context.requestId,
        subject: context.principal.subject,
        clientId: context.principal.clientId ?? null,
        authMode: context.principal.authMode,
        tool: event.tool,
        arguments: argumentsJson(event.args),
        outcome: event.outcome,
        reason: event.error ?? null,
        status: null,
        latencyMs: roundMs(event.latencyMs),
        revision: event.revision,
        remoteAddr: context.remoteAddr,
        sessionId: context.sessionId,
      };
      sink.write(record);
    },
    denied: (d) => {
      const record: AuditRecord = {
        at: new Date(now()).toISOString(),
        requestId: d.requestId,
        subject: d.principal?.subject ?? d.subject ?? null,
        clientId: d.principal?.clientId ?? d.clientId ?? null,
        authMode: d.principal?.authMode ?? authMode,
        tool: d.tool ?? null,
        arguments: d.tool ? argumentsJson(d.args) : null,
        outcome: d.outcome ?? "denied",
        reason: d.reason,
        status: d.status,
        latencyMs: d.latencyMs === undefined ? null : roundMs(d.latencyMs),
        revision: null,
        remoteAddr: d.remoteAddr,
        sessionId: d.claimedSessionId,
      };
      sink.write(record);
    },
    flush: () => sink.flush(),
    close: () => sink.close(),
  };
}
