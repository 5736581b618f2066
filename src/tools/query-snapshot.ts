import { z } from "zod";
import { QueryError, type QueryResult } from "../store/index.js";
import { ToolError } from "./errors.js";
import type { ListCut } from "./budget.js";
import { CuttableAnswer, defineTool } from "./tool.js";

/**
 * JSON bytes of rows the sandbox sends back at most: bounds its memory and the message it sends.
 * The result budget (budget.ts) then keeps as many of them as the answer's transport allows.
 */
export const QUERY_ROWS_MAX_BYTES = 48_000;

type Row = (string | number | null)[];

/** The rows the result budget keeps say so: shown, and cut by bytes. */
const rowsCut: ListCut<Row> = {
  field: "rows",
  after: (kept) => ({ row_count: kept.length, truncated: true, truncated_by: "bytes" }),
};

const HINTS: Record<QueryError["reason"], string> = {
  refused: "run one SELECT over the tables and views of the kafscale://schema resource; no PRAGMA, ATTACH or writes",
  timeout: "narrow it (WHERE, LIMIT, the v_* views) or aggregate; the cap is KAFSCALE_MCP_QUERY_TIMEOUT",
  failed: "check the SQL against the kafscale://schema resource",
  busy: "other queries are running; retry in a few seconds",
  unavailable: "the service is shutting down; retry on another replica",
  unreadable: "the other tools still answer from the last committed snapshot (see freshness.stale_reasons); retry once its storage recovers",
};

/**
 * A sandbox failure as an error the agent can act on. A snapshot the sandbox cannot read says why
 * when the snapshot's storage is failing (a degraded store may hold the file exclusively).
 * Exported for its unit test.
 */
export function toolErrorOf(err: QueryError, storageProblem: string | null): ToolError {
  const prefix = err.reason === "refused" ? "query refused: " : err.reason === "failed" ? "query failed: " : "";
  const status = err.reason === "busy" || err.reason === "unavailable" || err.reason === "unreadable" ? 503 : 400;
  const why = storageProblem !== null && err.reason === "unreadable" ? ` (${storageProblem})` : "";
  return new ToolError(`${prefix}${err.message}${why}`, HINTS[err.reason], status);
}

export const querySnapshot = defineTool({
  name: "query_snapshot",
  title: "Query the snapshot (SQL)",
  description:
    "Read-only SQL, one SELECT over the snapshot's tables and views (the kafscale://schema resource). Use it when no " +
    "other tool answers; at most max_rows (500) rows, as many as fit the result budget, stopped after 2 s.",
  scope: "query",
  needsSnapshot: true,
  input: {
    sql: z.string().min(1).max(10_000).describe("One SELECT (or WITH … SELECT) statement; SQLite dialect"),
    max_rows: z.number().int().min(1).max(100_000).optional().describe("Rows at most (capped by the service)"),
  },
  output: {
    columns: z.array(z.string()),
    rows: z.array(z.array(z.union([z.string(), z.number(), z.null()]))).describe("blobs as <blob N bytes>; long text cut"),
    row_count: z.number(),
    truncated: z.boolean().describe("more rows matched than shown"),
    truncated_by: z.enum(["rows", "bytes"]).nullable().describe("row cap or byte budget"),
    read_revision: z.number().describe("etcd revision read"),
    elapsed_ms: z.number(),
  },
  load: async (ctx, args) => {
    if (ctx.query === undefined) {
      throw new ToolError(
        "query_snapshot is not available: the snapshot is kept in memory",
        "set KAFSCALE_MCP_DB_PATH to a file",
        503,
      );
    }
    const maxRows = Math.min(args.max_rows ?? ctx.query.maxRows, ctx.query.maxRows);
    try {
      return await ctx.query.sandbox.run(args.sql, { maxRows, maxBytes: QUERY_ROWS_MAX_BYTES });
    } catch (err) {
      throw err instanceof QueryError ? toolErrorOf(err, ctx.store.health.problem()?.reason ?? null) : err;
    }
  },
  handler: (_ctx, _args, loaded) => {
    const result = loaded as QueryResult;
    return new CuttableAnswer(
      {
        columns: result.columns,
        rows: result.rows,
        row_count: result.rows.length,
        truncated: result.truncated !== null,
        truncated_by: result.truncated,
        read_revision: result.revision,
        elapsed_ms: Math.round(result.elapsedMs),
      },
      rowsCut,
    );
  },
});
