/**
 * The audit trail's SQLite side: table `audit_log` (migration 3 in migrations.ts), one row per tool
 * call and per request refused at the HTTP layer. Append-only for the service: rows are only ever
 * inserted, and deleted by the retention prune (KAFSCALE_MCP_AUDIT_RETENTION).
 */
import type { Db } from "./database.js";

/** Outcome of an audited request: a tool call's result, or a refusal before (or instead of) the tool. */
export type AuditOutcome = "ok" | "tool_error" | "internal_error" | "denied";

/** One audit row, as stored and as returned by the queries. */
export interface AuditRow {
  /** ISO-8601 UTC with milliseconds; sorts as text. */
  at: string;
  requestId: string | null;
  subject: string | null;
  clientId: string | null;
  authMode: string;
  tool: string | null;
  /** JSON of the tool arguments (truncated), or null. */
  arguments: string | null;
  outcome: AuditOutcome;
  /** Why it was denied or failed; null when ok. */
  reason: string | null;
  /** HTTP status of a refusal (401, 403, 429, ...); null for tool calls answered normally. */
  status: number | null;
  latencyMs: number | null;
  /** etcd revision the answer was served from; null for refusals. */
  revision: number | null;
  remoteAddr: string | null;
  sessionId: string | null;
}

export interface AuditStore {
  record(row: AuditRow): void;
  /** Inserts several rows in one transaction (the trail batches rows off the request path). */
  recordMany(rows: readonly AuditRow[]): void;
  /** The newest rows first, at most `limit`, optionally only those of one subject. */
  recent(limit?: number, subject?: string): AuditRow[];
  /** Deletes rows older than `before` (Unix ms); returns how many went. */
  prune(before: number): number;
}

interface Row {
  at: string;
  request_id: string | null;
  subject: string | null;
  client_id: string | null;
  auth_mode: string;
  tool: string | null;
  arguments: string | null;
  outcome: AuditOutcome;
  reason: string | null;
  status: number | null;
  latency_ms: number | null;
  revision: number | null;
  remote_addr: string | null;
  session_id: string | null;
}

const toRow = (r: AuditRow): Row => ({
  at: r.at,
  request_id: r.requestId,
  subject: r.subject,
  client_id: r.clientId,
  auth_mode: r.authMode,
  tool: r.tool,
  arguments: r.arguments,
  outcome: r.outcome,
  reason: r.reason,
  status: r.status,
  latency_ms: r.latencyMs,
  revision: r.revision,
  remote_addr: r.remoteAddr,
  session_id: r.sessionId,
});

const fromRow = (r: Row): AuditRow => ({
  at: r.at,
  requestId: r.request_id,
  subject: r.subject,
  clientId: r.client_id,
  authMode: r.auth_mode,
  tool: r.tool,
  arguments: r.arguments,
  outcome: r.outcome,
  reason: r.reason,
  status: r.status,
  latencyMs: r.latency_ms,
  revision: r.revision,
  remoteAddr: r.remote_addr,
  sessionId: r.session_id,
});

const COLUMNS =
  "at, request_id, subject, client_id, auth_mode, tool, arguments, outcome, reason, status, latency_ms, revision, " +
  "remote_addr, session_id";

/** Prepares the audit statements once. */
export function createAuditStore(db: Db): AuditStore {
  const s = {
    insert: db.prepare<Row>(
      `INSERT INTO audit_log (${COLUMNS}) VALUES (@at, @request_id, @subject, @client_id, @auth_mode, @tool,
         @arguments, @outcome, @reason, @status, @latency_ms, @revision, @remote_addr, @session_id)`,
    ),
    recent: db.prepare<[number], Row>(`SELECT ${COLUMNS} FROM audit_log ORDER BY id DESC LIMIT ?`),
    recentOf: db.prepare<[string, number], Row>(
      `SELECT ${COLUMNS} FROM audit_log WHERE subject = ? ORDER BY at DESC, id DESC LIMIT ?`,
    ),
    prune: db.prepare<[string]>("DELETE FROM audit_log WHERE at < ?"),
  };
  const recordMany = db.transaction((rows: readonly AuditRow[]) => {
    for (const row of rows) s.insert.run(toRow(row));
  });
  return {
    record: (row) => {
      s.insert.run(toRow(row));
    },
    recordMany: (rows) => recordMany(rows),
    recent: (limit = 100, subject) =>
      (subject === undefined ? s.recent.all(limit) : s.recentOf.all(subject, limit)).map(fromRow),
    prune: (before) => s.prune.run(new Date(before).toISOString()).changes,
  };
}
