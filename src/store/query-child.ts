/**
 * The query_snapshot sandbox process (started by query-sandbox.ts; argv[2] is the snapshot's path).
 * It opens its own read-only connection with `query_only`, checks each statement (query-guard.ts),
 * runs it in one read transaction together with the revision it reads, and answers with at most
 * `maxRows` rows and `maxBytes` of JSON. A runaway statement is stopped from outside: the service
 * kills this process (SQLite cannot be interrupted from JavaScript, and a thread cannot be killed).
 * Should the service die first, a watchdog thread ends this process within half a second.
 */
import { Worker } from "node:worker_threads";
import { accessSync, constants } from "node:fs";
import { dirname } from "node:path";
import type { Statement } from "better-sqlite3";
import type { Db } from "./database.js";
import { inMemoryCopy } from "./in-memory-copy.js";
import { Database } from "./sqlite-driver.js";
import { createQueryGuard, QueryRefused } from "./query-guard.js";
import { SCHEMA_DOCS } from "./schema-docs.js";

/** A request from the service. */
export interface QueryRequest {
  id: number;
  sql: string;
  maxRows: number;
  maxBytes: number;
}

export type Cell = string | number | null;

/** The answer to one request. */
export type QueryReply =
  | { id: number; ok: true; columns: string[]; rows: Cell[][]; truncated: "rows" | "bytes" | null; revision: number }
  | { id: number; ok: false; refused: boolean; error: string };

/** Longest text cell returned; longer values are cut (use substr() in SQL to read further). */
const MAX_CELL_CHARS = 2000;

/** A cell as JSON: int64 as a number when exact (else as text), blobs by their size, long text cut. */
function cell(value: unknown): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (Buffer.isBuffer(value)) return `<blob ${value.length} bytes>`;
  const text = String(value);
  return text.length > MAX_CELL_CHARS ? `${text.slice(0, MAX_CELL_CHARS)}… [${text.length} chars]` : text;
}

/** Sent instead of `{ ready: true }` when the snapshot cannot be opened for reading. */
export interface StartFailure {
  ready: false;
  error: string;
}

interface Opened {
  db: Db;
  guard: (sql: string) => ReturnType<Db["prepare"]>;
  revision: Statement<[], { revision: number }>;
}

/** Sets up a connection for queries (closing it if that fails): pragmas, the guard, the revision query. */
function prepare(db: Db): Opened {
  try {
    db.pragma("query_only = ON");
    db.pragma("trusted_schema = OFF");
    // Sorts and temporary results in memory (bounded by the process's data limit), never in files.
    db.pragma("temp_store = MEMORY");
    db.pragma("busy_timeout = 1000");
    const guard = createQueryGuard(db, new Set(Object.keys(SCHEMA_DOCS)));
    const revision = db.prepare<[], { revision: number }>("SELECT revision FROM sync_state WHERE id = 1");
    return { db, guard, revision };
  } catch (err) {
    db.close();
    throw err;
  }
}

/** True when `dir` cannot be written (a read-only filesystem: nobody changes the file there). */
function unwritable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return false;
  } catch {
    return true;
  }
}

/**
 * The snapshot, read-only. On a read-only filesystem a WAL database cannot be read in place (SQLite
 * cannot create its -shm file): then an in-memory copy, as the degraded store reads it. Throws when
 * the file cannot be read at all (e.g. a degraded store on a full disk holds it exclusively).
 */
function open(path: string): Opened {
  try {
    return prepare(new Database(path, { readonly: true, fileMustExist: true }));
  } catch (err) {
    const { code } = err as { code?: unknown };
    if (typeof code !== "string" || !code.startsWith("SQLITE_CANTOPEN") || !unwritable(dirname(path))) throw err;
    return prepare(inMemoryCopy(path));
  }
}

function main(): void {
  const path = process.argv[2];
  if (path === undefined || typeof process.send !== "function") throw new Error("query-child: start it through query-sandbox.ts");
  const parent = process.ppid;
  const watchdog = new Worker(
    `const { workerData } = require("node:worker_threads");
     setInterval(() => { if (process.ppid !== workerData) process.kill(process.pid, "SIGKILL"); }, 500);`,
    { eval: true, workerData: parent },
  );
  watchdog.unref();

  let opened: Opened;
  try {
    opened = open(path);
  } catch (err) {
    // The file cannot be read from here (e.g. a degraded service holds it exclusively: disk full):
    // one line for the service to pass on, not a stack trace.
    const { code } = err as { code?: unknown };
    const failure: StartFailure = { ready: false, error: `${(err as Error).message}${typeof code === "string" ? ` (${code})` : ""}` };
    process.send(failure, () => process.exit(0));
    return;
  }
  const { db, guard, revision } = opened;

  const run = (req: QueryRequest): QueryReply => {
    let stmt: ReturnType<typeof guard>;
    try {
      stmt = guard(req.sql);
    } catch (err) {
      return { id: req.id, ok: false, refused: err instanceof QueryRefused, error: (err as Error).message };
    }
    db.exec("BEGIN");
    try {
      const rev = revision.get()?.revision ?? 0;
      const columns = stmt.columns().map((c) => c.name);
      const rows: Cell[][] = [];
      let bytes = JSON.stringify(columns).length;
      let truncated: "rows" | "bytes" | null = null;
      for (const raw of stmt.raw(true).safeIntegers(true).iterate() as IterableIterator<unknown[]>) {
        if (rows.length >= req.maxRows) {
          truncated = "rows";
          break;
        }
        const row = raw.map(cell);
        const size = JSON.stringify(row).length + 1;
        if (bytes + size > req.maxBytes) {
          truncated = "bytes";
          break;
        }
        bytes += size;
        rows.push(row);
      }
      return { id: req.id, ok: true, columns, rows, truncated, revision: rev };
    } catch (err) {
      return { id: req.id, ok: false, refused: false, error: (err as Error).message };
    } finally {
      db.exec("COMMIT");
    }
  };

  process.on("message", (message: QueryRequest) => {
    process.send?.(run(message));
  });
  process.on("disconnect", () => process.exit(0));
  process.send({ ready: true });
}

main();
