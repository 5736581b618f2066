/**
 * The audit record: one per tool call (allowed, failed or denied) and per request refused at the
 * HTTP layer. The same record goes to every sink: a JSON line (stdout, file) and a row of the
 * audit_log table. It never holds a token or a header: who (subject, client, auth mode), what (tool,
 * arguments), when, outcome and why, latency, revision served, request id, remote address, session.
 */
import type { AuditRow } from "../store/index.js";

export type AuditRecord = AuditRow;

/** Arguments are kept up to this many characters of their JSON. */
export const MAX_ARGUMENTS_CHARS = 4096;

/** The JSON of a tool's arguments, cut to MAX_ARGUMENTS_CHARS (a cut ends in "…[truncated]"). */
export function argumentsJson(args: unknown): string | null {
  if (args === undefined) return null;
  let json: string;
  try {
    json = JSON.stringify(args) ?? "null";
  } catch {
    return '"[unserializable]"';
  }
  return json.length <= MAX_ARGUMENTS_CHARS ? json : `${json.slice(0, MAX_ARGUMENTS_CHARS)}…[truncated]`;
}

/** The JSON line of a record (snake_case, like the audit_log columns), without the newline. */
export function auditJsonLine(record: AuditRecord): string {
  return JSON.stringify({
    type: "audit",
    at: record.at,
    request_id: record.requestId,
    subject: record.subject,
    client_id: record.clientId,
    auth_mode: record.authMode,
    tool: record.tool,
    arguments: record.arguments,
    outcome: record.outcome,
    reason: record.reason,
    status: record.status,
    latency_ms: record.latencyMs,
    revision: record.revision,
    remote_addr: record.remoteAddr,
    session_id: record.sessionId,
  });
}
