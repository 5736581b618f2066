/**
 * query_snapshot's sandbox: ad-hoc SQL runs in a separate process (query-child.ts) with its own
 * read-only connection, never on the service's thread or connection. Why a process: SQLite offers no
 * way to interrupt a statement from JavaScript (better-sqlite3 exposes neither sqlite3_interrupt nor a
 * progress handler), and a worker thread stuck in a native `WITH RECURSIVE` loop ignores
 * `worker.terminate()` and keeps a core busy forever (measured). A process can be killed: a query
 * still running at the time cap is stopped with SIGKILL, and the next query starts a fresh process.
 *
 * Bounds: one query at a time (a few more wait, then "busy"); the time cap; a data-segment limit on
 * the process (`ulimit -d`, so a query that builds a huge value gets "out of memory" instead of
 * swelling the pod); a lower CPU priority; rows and bytes per answer. An idle process exits after a
 * minute.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { setPriority } from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { QueryReply, QueryRequest, StartFailure } from "./query-child.js";

export type { Cell } from "./query-child.js";

export interface QueryLimits {
  maxRows: number;
  /** JSON bytes of the rows at most (the answer's budget). */
  maxBytes: number;
}

export interface QueryResult {
  columns: string[];
  rows: (string | number | null)[][];
  /** Why rows are missing: the row cap or the byte budget; null when every row is there. */
  truncated: "rows" | "bytes" | null;
  /** The etcd revision the rows were read at (same read transaction). */
  revision: number;
  elapsedMs: number;
}

/**
 * Why a query did not answer: refused by the checks, stopped at the time cap, failed, busy, no
 * sandbox, or the snapshot file cannot be read from a second process now (a degraded store holds it
 * exclusively, e.g. on a full disk).
 */
export class QueryError extends Error {
  constructor(
    readonly reason: "refused" | "timeout" | "failed" | "busy" | "unavailable" | "unreadable",
    message: string,
  ) {
    super(message);
    this.name = "QueryError";
  }
}

export interface QuerySandboxOptions {
  /** The snapshot file (not ":memory:": the sandbox opens its own connection to it). */
  path: string;
  timeoutMs: number;
}

export interface QuerySandbox {
  run(sql: string, limits: QueryLimits): Promise<QueryResult>;
  /**
   * The file at `path` was replaced (a corrupt snapshot rebuilt, src/store/corruption.ts): the
   * process, whose connection still reads the old file, ends once its running query is answered,
   * and the next query starts one on the new file.
   */
  reopen(): void;
  /** Kills the sandbox process and refuses further queries. */
  close(): void;
}

/** Queries waiting for the one running; more are refused as busy. */
const MAX_WAITING = 8;
/** The sandbox process's data segment (KiB): SQLite's and V8's allocations beyond it fail. */
const DATA_LIMIT_KIB = 256 * 1024;
/**
 * V8 flags of the sandbox process. `--jitless`: from Node 22 on V8 reserves a 509 MiB writable code
 * range per isolate (the process and its watchdog thread each have one), which counts against the
 * data limit, so under 256 MiB Node 24 aborts (SIGTRAP) before its first query, and even 1 GiB was
 * not enough. Without a JIT there is no code range; the child's JavaScript only checks a statement
 * and turns at most `maxRows` rows into JSON, and the query itself runs in SQLite's native code.
 */
const V8_FLAGS = ["--jitless", "--max-old-space-size=64"];
const STARTUP_TIMEOUT_MS = 30_000;
const IDLE_EXIT_MS = 60_000;

/** How to start query-child: the compiled .js, or the .ts source through tsx (npm start, tests). */
function childCommand(dbPath: string): { command: string; args: string[] } {
  const here = import.meta.url;
  const source = here.endsWith(".ts");
  const entry = fileURLToPath(new URL(source ? "./query-child.ts" : "./query-child.js", here));
  const loader = source ? [`--import=${pathToFileURL(createRequire(here).resolve("tsx")).href}`] : [];
  const node = [...loader, ...V8_FLAGS, entry, dbPath];
  if (process.platform === "win32") return { command: process.execPath, args: node };
  // The shell sets the limit and replaces itself with node (exec), keeping the IPC channel.
  return { command: "/bin/sh", args: ["-c", `ulimit -d ${DATA_LIMIT_KIB} 2>/dev/null; exec "$0" "$@"`, process.execPath, ...node] };
}

interface Job {
  sql: string;
  limits: QueryLimits;
  resolve(result: QueryResult): void;
  reject(err: Error): void;
}

interface Sandbox {
  child: ChildProcess;
  ready: Promise<void>;
  /** The last lines it wrote to stderr, for the error when it dies. */
  stderr: string;
}

const shutDown = (): QueryError => new QueryError("unavailable", "the query sandbox is shut down");

/** Creates the sandbox; no process runs until the first query. */
export function createQuerySandbox(options: QuerySandboxOptions): QuerySandbox {
  const waiting: Job[] = [];
  let running = false;
  let closed = false;
  let current: Sandbox | null = null;
  /** A process on a replaced file, ended when its running query is answered. */
  let retiring: Sandbox | null = null;
  let idleTimer: NodeJS.Timeout | null = null;
  let nextId = 1;

  const stop = (sandbox: Sandbox): void => {
    if (current === sandbox) current = null;
    sandbox.child.kill("SIGKILL");
  };

  const start = (): Sandbox => {
    const { command, args } = childCommand(options.path);
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe", "ipc"], env });
    const sandbox: Sandbox = { child, stderr: "", ready: Promise.resolve() };
    child.stderr?.on("data", (chunk: Buffer) => {
      sandbox.stderr = (sandbox.stderr + chunk.toString("utf8")).slice(-2000);
    });
    sandbox.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        stop(sandbox);
        reject(new QueryError("failed", `the query sandbox did not start within ${STARTUP_TIMEOUT_MS} ms`));
      }, STARTUP_TIMEOUT_MS);
      const onMessage = (message: unknown): void => {
        const { ready } = message as { ready?: boolean };
        if (ready === undefined) return;
        clearTimeout(timer);
        child.off("message", onMessage);
        if (ready) return resolve();
        // The next query starts a fresh process, which may find the file readable again.
        stop(sandbox);
        reject(new QueryError("unreadable", `the query sandbox cannot read the snapshot file: ${(message as StartFailure).error}`));
      };
      child.on("message", onMessage);
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new QueryError("failed", `the query sandbox exited on start (${signal ?? code}): ${sandbox.stderr.trim().slice(-500)}`));
      });
    });
    // An unhandled rejection if nobody is waiting: the next query reports it.
    sandbox.ready.catch(() => undefined);
    child.once("exit", () => {
      if (current === sandbox) current = null;
    });
    child.on("error", () => undefined);
    try {
      if (child.pid !== undefined) setPriority(child.pid, 10);
    } catch {
      // Not permitted here: the time cap still bounds it.
    }
    return sandbox;
  };

  const execute = async (job: Job): Promise<QueryResult> => {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = null;
    const sandbox = current ?? (current = start());
    await sandbox.ready;
    const request: QueryRequest = { id: nextId++, sql: job.sql, maxRows: job.limits.maxRows, maxBytes: job.limits.maxBytes };
    const started = performance.now();
    const reply = await new Promise<QueryReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        stop(sandbox);
        reject(new QueryError("timeout", `the query ran longer than ${options.timeoutMs} ms and was stopped`));
      }, options.timeoutMs);
      const onMessage = (message: QueryReply): void => {
        if (message.id !== request.id) return;
        cleanup();
        resolve(message);
      };
      const onExit = (code: number | null, signal: string | null): void => {
        cleanup();
        reject(new QueryError("failed", `the query sandbox stopped (${signal ?? code}) while running the query`));
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        sandbox.child.off("message", onMessage);
        sandbox.child.off("exit", onExit);
      };
      sandbox.child.on("message", onMessage);
      sandbox.child.once("exit", onExit);
      sandbox.child.send(request);
    });
    const elapsedMs = performance.now() - started;
    if (!reply.ok) throw new QueryError(reply.refused ? "refused" : "failed", reply.error);
    return { columns: reply.columns, rows: reply.rows, truncated: reply.truncated, revision: reply.revision, elapsedMs };
  };

  const pump = (): void => {
    if (running) return;
    const job = waiting.shift();
    if (job === undefined) {
      if (current !== null && idleTimer === null) {
        const idle = current;
        idleTimer = setTimeout(() => {
          idleTimer = null;
          stop(idle);
        }, IDLE_EXIT_MS);
        idleTimer.unref();
      }
      return;
    }
    running = true;
    execute(job)
      // A query cut short by close() says so, not how its process ended.
      .then(job.resolve, (err: Error) => job.reject(closed ? shutDown() : err))
      .finally(() => {
        running = false;
        if (retiring !== null) stop(retiring);
        retiring = null;
        pump();
      });
  };

  return {
    run: (sql, limits) => {
      if (closed) return Promise.reject(shutDown());
      if (waiting.length >= MAX_WAITING) {
        return Promise.reject(new QueryError("busy", `${waiting.length} queries are already waiting; retry shortly`));
      }
      return new Promise<QueryResult>((resolve, reject) => {
        waiting.push({ sql, limits, resolve, reject });
        pump();
      });
    },
    reopen: () => {
      const old = current;
      current = null;
      if (old === null) return;
      if (running) retiring = old;
      else stop(old);
    },
    close: () => {
      closed = true;
      if (retiring !== null) stop(retiring);
      if (idleTimer) clearTimeout(idleTimer);
      for (const job of waiting.splice(0)) job.reject(shutDown());
      if (current) stop(current);
    },
  };
}
