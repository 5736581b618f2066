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

/** Slots of the helper's shared state, and its commands (interpolated into the worker's source below). */
const COMMAND = 0;
const STOPPED = 1;
const PASSES = 2;
const LOG_FRAMES = 3;
const CHECKPOINTED_FRAMES = 4;
const FAILURES = 5;
/** 1 while the helper is in a tick that may checkpoint; set before it reads COMMAND and HOLDS. */
const IN_PASS = 6;
/** Main-thread checkpoints running now (exclusive()): the helper starts no pass meanwhile. */
const HOLDS = 7;
const SLOTS = 8;
const RUN = 0;
const PAUSE = 1;
const STOP = 2;

// The steady-state helper: one persistent worker per writable database file, running a PASSIVE
// checkpoint every `everyMs`. Its connection never writes and never waits (busy_timeout 0), so it
// takes no lock the service's writer needs. Commands and counters go through a shared Int32Array,
// so the main thread can stop it synchronously (close) without an event-loop turn.
// IN_PASS is raised before COMMAND and HOLDS are read, and the main thread raises HOLDS (or PAUSE)
// before it reads IN_PASS: with sequentially consistent Atomics one of the two always sees the
// other, so a main-thread checkpoint never meets a helper pass (SQLite would skip it silently).
const HELPER_SOURCE = `
const { workerData, parentPort } = require("node:worker_threads");
const Database = require(workerData.module);
const state = new Int32Array(workerData.state);
let db = null;
let timer = null;
const finish = () => {
  if (timer !== null) clearInterval(timer);
  timer = null;
  try { if (db !== null) db.close(); } catch {}
  db = null;
  Atomics.store(state, ${STOPPED}, 1);
  Atomics.notify(state, ${STOPPED});
  parentPort.close();
};
const tick = () => {
  Atomics.store(state, ${IN_PASS}, 1);
  try {
    const command = Atomics.load(state, ${COMMAND});
    if (command === ${STOP}) return finish();
    if (command === ${PAUSE} || Atomics.load(state, ${HOLDS}) > 0) return;
    if (db === null) {
      db = new Database(workerData.path, { fileMustExist: true });
      db.pragma("busy_timeout = 0");
    }
    const row = db.pragma("wal_checkpoint(PASSIVE)")[0];
    if (row.busy === 0) {
      Atomics.add(state, ${PASSES}, 1);
      Atomics.store(state, ${LOG_FRAMES}, row.log);
      Atomics.store(state, ${CHECKPOINTED_FRAMES}, row.checkpointed);
    }
  } catch (err) {
    Atomics.add(state, ${FAILURES}, 1);
    try { if (db !== null) db.close(); } catch {}
    db = null;
  } finally {
    Atomics.store(state, ${IN_PASS}, 0);
    Atomics.notify(state, ${IN_PASS});
  }
};
parentPort.on("message", finish);
timer = setInterval(tick, workerData.everyMs);
tick();`;

/** How long close() waits for the helper to let go of the file (a checkpoint in progress finishes first). */
const STOP_WAIT_MS = 10_000;
/**
 * How long pause() and exclusive() wait for a pass in progress (one pass copies at most the WAL's
 * limit; a disk that stalls longer than this leaves the caller's checkpoint to find it busy).
 */
const PASS_WAIT_MS = 2_000;

export interface CheckpointHelperStats {
  /** Completed checkpoint passes (a pass another checkpointer kept busy is not counted). */
  passes: number;
  /** The last completed pass: frames in the WAL, and how many of them are in the database file. */
  logFrames: number;
  checkpointedFrames: number;
  /** Passes that failed (disk full, I/O error, the file gone); the next tick tries again. */
  failures: number;
}

export interface CheckpointHelper {
  /**
   * No checkpoint passes until resume() (a long write's own background checkpoint is running);
   * returns once a pass in progress has ended.
   */
  pause(): void;
  resume(): void;
  /**
   * Runs `checkpoint` (a checkpoint on another connection) with no helper pass at the same time:
   * waits for a pass in progress to end, and none starts until it returns.
   */
  exclusive<T>(checkpoint: () => T): T;
  /** Stops the helper and waits until its connection is closed. */
  stop(): void;
  stats(): CheckpointHelperStats;
}

/**
 * Starts the helper for the database at `path` (a file in WAL mode). With it, the writer's own
 * automatic checkpoint inside COMMIT finds most frames already copied: it syncs and copies only the
 * last few, then the log restarts. At size L under 2,000 writes/s, COMMITs with SQLite's automatic
 * checkpoint inside held the event loop up to 76 ms at a time (CPU profile, docs/BENCHMARKS.md).
 * Null when no worker thread can be started: the writer's own checkpoints then do all the work.
 */
export function startCheckpointHelper(path: string, everyMs: number): CheckpointHelper | null {
  const state = new Int32Array(new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT));
  let worker: Worker;
  try {
    worker = new Worker(HELPER_SOURCE, {
      eval: true,
      workerData: { module: betterSqlite3, path, everyMs, state: state.buffer },
    });
  } catch {
    return null;
  }
  worker.unref();
  // A worker that dies (out of memory, a crash in the binding) leaves the writer's own checkpoints,
  // and nothing for close() to wait for.
  const gone = (): void => {
    Atomics.store(state, STOPPED, 1);
    Atomics.notify(state, STOPPED);
  };
  worker.on("error", gone);
  worker.on("exit", gone);
  let stopped = false;
  /** Blocks (briefly: one pass) until the helper is not in a pass; it starts none while held or paused. */
  const waitForPass = (): void => {
    const deadline = performance.now() + PASS_WAIT_MS;
    while (Atomics.load(state, IN_PASS) === 1 && Atomics.load(state, STOPPED) === 0) {
      const left = deadline - performance.now();
      if (left <= 0) return;
      Atomics.wait(state, IN_PASS, 1, left);
    }
  };
  return {
    pause: () => {
      Atomics.compareExchange(state, COMMAND, RUN, PAUSE);
      waitForPass();
    },
    resume: () => void Atomics.compareExchange(state, COMMAND, PAUSE, RUN),
    exclusive: (checkpoint) => {
      Atomics.add(state, HOLDS, 1);
      try {
        waitForPass();
        return checkpoint();
      } finally {
        Atomics.sub(state, HOLDS, 1);
      }
    },
    stop: () => {
      if (stopped) return;
      stopped = true;
      Atomics.store(state, COMMAND, STOP);
      worker.postMessage("stop");
      Atomics.wait(state, STOPPED, 0, STOP_WAIT_MS);
    },
    stats: () => ({
      passes: Atomics.load(state, PASSES),
      logFrames: Atomics.load(state, LOG_FRAMES),
      checkpointedFrames: Atomics.load(state, CHECKPOINTED_FRAMES),
      failures: Atomics.load(state, FAILURES),
    }),
  };
}
