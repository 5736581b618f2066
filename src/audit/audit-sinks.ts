/**
 * Where audit records go: a stream (stdout by default; stderr in stdio mode, where stdout carries the
 * protocol), an append-only JSON Lines file, and the SQLite audit_log table, fanned out. A failing
 * sink is logged and never fails the request: the service is read-only, so availability wins, and
 * the other sinks still get the record.
 */
import { createWriteStream } from "node:fs";
import type { Logger } from "../log.js";
import { isStorageError, StorageBusyError, type AuditStore } from "../store/index.js";
import { auditJsonLine, type AuditRecord } from "./audit-record.js";

export interface AuditSink {
  write(record: AuditRecord): void;
  /** Writes out whatever the sink still buffers. */
  flush(): void;
  close(): Promise<void>;
}

/** One JSON line per record on `stream`. */
export function streamSink(stream: NodeJS.WritableStream): AuditSink {
  return {
    write: (record) => {
      stream.write(auditJsonLine(record) + "\n");
    },
    flush: () => undefined,
    close: async () => undefined,
  };
}

/**
 * Appends JSON lines to `path`: opened with flag "a" (never truncated, every write at the end) and
 * mode 0600 when created (records name subjects and arguments; only the service account reads them).
 */
export function fileSink(path: string, logger: Logger): AuditSink {
  const stream = createWriteStream(path, { flags: "a", mode: 0o600 });
  let failed = false;
  stream.on("error", (err) => {
    if (!failed) logger.error("audit file write failed; records still go to the other sinks", { path, error: err.message });
    failed = true;
  });
  return {
    write: (record) => {
      if (!failed) stream.write(auditJsonLine(record) + "\n");
    },
    flush: () => undefined,
    close: () =>
      new Promise<void>((resolve) => {
        if (failed) return resolve();
        stream.end(() => resolve());
      }),
  };
}

/** How long a row may wait for its batch, and the batch size that is written at once. */
export const AUDIT_BATCH = { delayMs: 25, maxRows: 256 };

/**
 * While the snapshot's storage refuses writes (disk full, read-only, a large write in progress),
 * rows wait in memory, at most this many (the oldest go first, and are counted); retries back off
 * from the first to the last delay.
 */
export const AUDIT_BACKLOG = { maxRows: 10_000, retryFirstMs: 500, retryCapMs: 30_000 };

/**
 * Rows in the audit_log table, written in batches: one SQLite write transaction per call was the
 * largest single cost of a tool call after the read itself (docs/BENCHMARKS.md), so rows are queued
 * and inserted together at most `delayMs` later (or at `maxRows`), after the answer has gone out.
 * close() and flush() write the queue; a crash can lose at most the last `delayMs` of rows in the
 * table, while the stream and file sinks have them already. When storage refuses the write, rows
 * are kept (bounded, AUDIT_BACKLOG) and retried with backoff; the service logs the storage problem
 * once, and this sink logs how many rows it had to drop, once storage takes them again.
 */
export function storeSink(audit: AuditStore, logger: Logger, batch = AUDIT_BATCH, backlog = AUDIT_BACKLOG): AuditSink {
  let queue: AuditRecord[] = [];
  let timer: NodeJS.Timeout | null = null;
  let retryMs = 0;
  let dropped = 0;

  const schedule = (ms: number): void => {
    timer ??= setTimeout(flush, ms);
  };
  /** Storage refused: keep the rows (newest win beyond the bound) and try again later. */
  const keep = (rows: AuditRecord[]): void => {
    queue = [...rows, ...queue];
    if (queue.length > backlog.maxRows) {
      dropped += queue.length - backlog.maxRows;
      queue = queue.slice(queue.length - backlog.maxRows);
    }
    retryMs = Math.min(retryMs === 0 ? backlog.retryFirstMs : retryMs * 2, backlog.retryCapMs);
    schedule(retryMs);
  };
  function flush(): void {
    if (timer) clearTimeout(timer);
    timer = null;
    if (queue.length === 0) return;
    const rows = queue;
    queue = [];
    try {
      audit.recordMany(rows);
    } catch (err) {
      if (isStorageError(err) || err instanceof StorageBusyError) return keep(rows);
      // The batch rolled back as a whole: retry row by row so one bad row costs only itself.
      for (const row of rows) {
        try {
          audit.record(row);
        } catch (rowErr) {
          logger.error("audit_log insert failed", { error: rowErr instanceof Error ? rowErr.message : String(rowErr) });
        }
      }
    }
    retryMs = 0;
    if (dropped > 0) {
      logger.error("audit_log rows dropped while the snapshot's storage refused writes (the stream and file sinks have them)", { dropped });
      dropped = 0;
    }
  }
  return {
    write: (record) => {
      queue.push(record);
      if (retryMs > 0) {
        // Storage is refusing: wait for the retry instead of hammering it, within the bound.
        if (queue.length > backlog.maxRows) {
          dropped += queue.length - backlog.maxRows;
          queue = queue.slice(queue.length - backlog.maxRows);
        }
        return;
      }
      if (queue.length >= batch.maxRows) flush();
      else schedule(batch.delayMs);
    },
    flush,
    close: async () => {
      flush();
      if (timer) clearTimeout(timer);
      timer = null;
      if (queue.length > 0) {
        logger.error("audit_log rows not written at shutdown: the snapshot's storage refused them (the stream and file sinks have them)", {
          rows: queue.length,
          dropped,
        });
      }
    },
  };
}

/** Writes each record to every sink; one sink's failure does not stop the others. */
export function fanOut(sinks: readonly AuditSink[], logger: Logger): AuditSink {
  return {
    write: (record) => {
      for (const sink of sinks) {
        try {
          sink.write(record);
        } catch (err) {
          logger.error("audit sink failed", { error: err instanceof Error ? err.message : String(err) });
        }
      }
    },
    flush: () => {
      for (const sink of sinks) sink.flush();
    },
    close: async () => {
      await Promise.all(sinks.map((s) => s.close().catch(() => undefined)));
    },
  };
}

/** Deletes audit_log rows older than the retention, now and then every `intervalMs`; returns a stop function. */
export function startAuditRetention(
  audit: AuditStore,
  retentionMs: number,
  logger: Logger,
  intervalMs: number = Math.min(10 * 60_000, Math.max(1000, retentionMs / 10)),
  now: () => number = Date.now,
): () => void {
  if (retentionMs <= 0) return () => undefined;
  const prune = (): void => {
    try {
      const removed = audit.prune(now() - retentionMs);
      if (removed > 0) logger.debug("audit retention pruned rows", { removed });
    } catch (err) {
      logger.warn("audit retention prune failed", { error: err instanceof Error ? err.message : String(err) });
    }
  };
  prune();
  const timer = setInterval(prune, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
