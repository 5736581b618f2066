/**
 * The live file's write-ahead log under outside readers. A reader that keeps a transaction open on
 * the live database (a forgotten `sqlite3` session after `BEGIN`, a dashboard plugin) pins the WAL:
 * no checkpoint can fold frames past its snapshot back into the database, so the WAL grows with every
 * write, on the service's disk. This module measures that (a PASSIVE checkpoint, which never waits
 * for a reader, and the WAL file's size) and turns the measurements into a state with transitions,
 * so the caller logs once per change and /metrics and /readyz can show it.
 */
import { statSync } from "node:fs";
import type { Db } from "./database.js";

/** One measurement of the WAL. */
export interface WalProbe {
  /** Size of the `-wal` file in bytes (0 when there is none). */
  walBytes: number;
  /** Every frame of the log is now in the database file: no reader held the checkpoint back. */
  complete: boolean;
  /** Frames in the log, and how many of them are in the database file (-1 when the checkpoint failed). */
  logFrames: number;
  checkpointedFrames: number;
}

interface CheckpointRow {
  busy: number;
  log: number;
  checkpointed: number;
}

/**
 * Copies the whole WAL into the database file and truncates it to zero bytes, if no reader is using
 * it right now; returns false (and changes nothing) if one is. Never waits: with the busy handler,
 * a TRUNCATE checkpoint blocks the event loop for busy_timeout while any reader is open.
 */
export function truncateWalIfIdle(db: Db): boolean {
  const timeout = db.pragma("busy_timeout", { simple: true }) as number;
  db.pragma("busy_timeout = 0");
  try {
    const row = (db.pragma("wal_checkpoint(TRUNCATE)") as CheckpointRow[])[0];
    return row !== undefined && row.busy === 0;
  } catch {
    return false;
  } finally {
    db.pragma(`busy_timeout = ${timeout}`);
  }
}

/**
 * A probe over the live database at `path`: runs `PRAGMA wal_checkpoint(PASSIVE)` (it copies what it
 * can and returns at once; the busy handler is never called) and reads the WAL file's size.
 * The writer's own automatic checkpoints are counted too: once one has completed, the log restarts
 * and this checkpoint finds nothing left to copy, which is also complete. A complete checkpoint
 * with the WAL still above `sizeLimitBytes` (a reader has just let go) truncates it right away when
 * no reader is on it, instead of waiting for the next write to cut it back. Null for ":memory:".
 */
export function createWalProbe(db: Db, path: string, sizeLimitBytes: number): (() => WalProbe) | null {
  if (path === ":memory:" || path === "") return null;
  const walPath = `${path}-wal`;
  return () => {
    let row: CheckpointRow | undefined;
    try {
      row = (db.pragma("wal_checkpoint(PASSIVE)") as CheckpointRow[])[0];
    } catch {
      // SQLITE_BUSY: another connection is checkpointing right now; this one did not complete.
      row = undefined;
    }
    const complete = row !== undefined && row.busy === 0 && row.log === row.checkpointed;
    if (complete && fileSize(walPath) > sizeLimitBytes) truncateWalIfIdle(db);
    return {
      walBytes: fileSize(walPath),
      complete,
      logFrames: row?.log ?? -1,
      checkpointedFrames: row?.checkpointed ?? -1,
    };
  };
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

export interface WalLimits {
  /** journal_size_limit: the size the WAL is cut back to after a complete checkpoint. */
  sizeLimitBytes: number;
  /** No complete checkpoint for this long, with the WAL above the size limit: starved. */
  starvedAfterMs: number;
  /** A WAL at least this large threatens the disk: /readyz fails. */
  budgetBytes: number;
}

/** The WAL's state as of the last check, for /metrics, /readyz and logs. */
export interface WalStatus {
  walBytes: number;
  sizeLimitBytes: number;
  budgetBytes: number;
  /** Unix ms of the last complete checkpoint seen (the start of monitoring before the first one). */
  lastCompleteCheckpointAt: number;
  checkedAt: number;
  /** No checkpoint has completed for `starvedAfterMs` and the WAL is above its size limit. */
  starved: boolean;
  /** The WAL is at or above its disk budget. */
  overBudget: boolean;
}

export type WalTransition = "starved" | "recovered" | "over_budget" | "under_budget";

export interface WalCheck {
  status: WalStatus;
  /** What changed with this check (empty when nothing did): log one line per entry. */
  transitions: WalTransition[];
}

export interface WalHealth {
  /** Probes once and updates the state. */
  check(): WalCheck;
  /** The state of the last check; null before the first. */
  status(): WalStatus | null;
}

/** Tracks starvation and the disk budget over successive probes. `now` is the clock (Unix ms). */
export function createWalHealth(probe: () => WalProbe, limits: WalLimits, now: () => number): WalHealth {
  let lastComplete = now();
  let current: WalStatus | null = null;
  return {
    check: () => {
      const measured = probe();
      const at = now();
      if (measured.complete) lastComplete = at;
      const status: WalStatus = {
        walBytes: measured.walBytes,
        sizeLimitBytes: limits.sizeLimitBytes,
        budgetBytes: limits.budgetBytes,
        lastCompleteCheckpointAt: lastComplete,
        checkedAt: at,
        starved: at - lastComplete >= limits.starvedAfterMs && measured.walBytes > limits.sizeLimitBytes,
        overBudget: measured.walBytes >= limits.budgetBytes,
      };
      const transitions: WalTransition[] = [];
      const before = current ?? { starved: false, overBudget: false };
      if (status.starved !== before.starved) transitions.push(status.starved ? "starved" : "recovered");
      if (status.overBudget !== before.overBudget) transitions.push(status.overBudget ? "over_budget" : "under_budget");
      current = status;
      return { status, transitions };
    },
    status: () => current,
  };
}

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** The /readyz reason while the WAL threatens the disk budget, else null. */
export function walReadinessProblem(status: WalStatus | null): string | null {
  if (status === null || !status.overBudget) return null;
  const over = `live database WAL at ${mib(status.walBytes)}, over its budget of ${mib(status.budgetBytes)}`;
  if (status.lastCompleteCheckpointAt === status.checkedAt) {
    return `${over} (the last checkpoint completed; it is cut back once no reader is on it)`;
  }
  const stuck = Math.round((status.checkedAt - status.lastCompleteCheckpointAt) / 1000);
  return (
    `${over} (no complete checkpoint for ${stuck}s: a reader is holding a transaction open on the live file; ` +
    "close it and read the ops copy instead)"
  );
}
