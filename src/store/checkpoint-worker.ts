/**
 * Folds a large write-ahead log back into the database file on a worker thread. After one atomic
 * write of a huge revision or a resync the WAL holds ~the whole change (100+ MB at 400k keys);
 * copying it back is seconds of synchronous I/O, which on the main thread would stall every request
 * (/healthz included). The worker opens its own connection: a PASSIVE checkpoint never blocks the
 * service's readers or writers, then a TRUNCATE (which would wait for writers) is only attempted
 * without waiting, to give the disk space back.
 */
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { sqliteDriver } from "./sqlite-driver.js";

// An eval'd CommonJS worker: it loads better-sqlite3 by absolute path, so it runs the same way
// from dist/, under tsx and under vitest (none of which a module-file worker handles alike).
const WORKER_SOURCE = `
const { workerData, parentPort } = require("node:worker_threads");
const Database = require(workerData.module);
let db;
try {
  db = new Database(workerData.path, { fileMustExist: true });
  db.pragma("busy_timeout = 0");
  const passive = db.pragma("wal_checkpoint(PASSIVE)")[0];
  let truncated = false;
  try { truncated = db.pragma("wal_checkpoint(TRUNCATE)")[0].busy === 0; } catch {}
  parentPort.postMessage({ ok: true, frames: passive.log, checkpointed: passive.checkpointed, truncated });
} catch (err) {
  parentPort.postMessage({ ok: false, error: String(err && err.message || err) });
} finally {
  try { db && db.close(); } catch {}
}`;

// The binding this process loaded (src/store/sqlite-driver.ts): 12 on Node 20, the Node-API 13 on
// Node >= 22 (12 crashes there in collections under microtasks).
const betterSqlite3 = createRequire(import.meta.url).resolve(sqliteDriver.package);

export interface CheckpointOutcome {
  ok: boolean;
  /** WAL frames, and how many of them are now in the database file. */
  frames?: number;
  checkpointed?: number;
  truncated?: boolean;
  error?: string;
}

/** Checkpoints the WAL of the database at `path` off the main thread; resolves when done (never rejects). */
export function checkpointInBackground(path: string): Promise<CheckpointOutcome> {
  return new Promise((resolve) => {
    let outcome: CheckpointOutcome = { ok: false, error: "checkpoint worker exited without an answer" };
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module: betterSqlite3, path } });
    worker.on("message", (message: CheckpointOutcome) => (outcome = message));
    worker.on("error", (err) => (outcome = { ok: false, error: err.message }));
    worker.on("exit", () => resolve(outcome));
  });
}
