/**
 * Keeps the WAL under its size limit while a checkpoint helper (checkpoint-worker.ts) runs beside
 * the writer. The writer's automatic checkpoint inside COMMIT needs SQLite's checkpointer lock; when
 * the helper is in a pass at that moment SQLite skips the checkpoint without an error (that lock is
 * never waited for), and under back-to-back writes the log could grow past its limit. So after each
 * write the guard reads the WAL index (the -shm file's header: frames in the log, frames already in
 * the database file) and, when the log has passed the automatic checkpoint's threshold with frames
 * not yet copied back, runs that checkpoint itself with the helper held off. The next write then
 * restarts the log from its beginning, as it would have after the skipped checkpoint.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { endianness } from "node:os";
import type { CheckpointHelper } from "./checkpoint-worker.js";
import type { Db } from "./database.js";

/** What the WAL index says about the log. */
export interface WalIndexHeader {
  /** Frames in the log (mxFrame). */
  logFrames: number;
  /** How many of them a checkpoint has copied into the database file (nBackfill). */
  backfilledFrames: number;
}

// The wal-index header (https://www.sqlite.org/walformat.html, "The WAL-Index Header"), in the
// machine's byte order: two copies of the 48-byte WalIndexHdr (mxFrame at offset 16), then the
// checkpoint info (nBackfill at offset 96).
const MX_FRAME_OFFSET = 16;
const SECOND_COPY_OFFSET = 48;
const N_BACKFILL_OFFSET = 96;
const HEADER_BYTES = 100;
const LITTLE_ENDIAN = endianness() === "LE";
/** One buffer for every read: the main thread reads, and nothing keeps a header across reads. */
const headerBuffer = Buffer.alloc(HEADER_BYTES);

/**
 * Reads the WAL index header from `fd`, an open `-shm` file; null when it is too short (no WAL yet)
 * or unreadable, or the two header copies differ (a writer was updating it: the next read will do).
 * A plain read sees the same pages SQLite maps.
 */
export function readWalIndexHeader(fd: number): WalIndexHeader | null {
  const header = headerBuffer;
  try {
    if (readSync(fd, header, 0, HEADER_BYTES, 0) < HEADER_BYTES) return null;
  } catch {
    return null;
  }
  const u32 = (offset: number): number => (LITTLE_ENDIAN ? header.readUInt32LE(offset) : header.readUInt32BE(offset));
  const logFrames = u32(MX_FRAME_OFFSET);
  if (u32(SECOND_COPY_OFFSET + MX_FRAME_OFFSET) !== logFrames) return null;
  return { logFrames, backfilledFrames: u32(N_BACKFILL_OFFSET) };
}

/** Opens the `-shm` file at `path` for reading its header; null when there is none (a VFS that keeps it in memory). */
export function openWalIndex(path: string): number | null {
  try {
    return openSync(path, "r");
  } catch {
    return null;
  }
}

export interface WalGuardStats {
  /** Checkpoints the guard ran because the writer's own had been skipped. */
  checkpoints: number;
}

export interface WalGuard {
  /** Call after a write transaction: checkpoints if the writer's automatic checkpoint was skipped. */
  afterWrite(): void;
  stats(): WalGuardStats;
  /** Lets go of the -shm file (before the connections close). */
  close(): void;
}

/**
 * The guard for the write connection `db` of `file`, whose automatic checkpoint runs at
 * `thresholdFrames`. While a reader pins the log (no checkpoint can complete) it retries only after
 * another quarter of the threshold has been written, not after every write.
 */
export function createWalGuard(db: Db, file: string, thresholdFrames: number, helper: CheckpointHelper): WalGuard {
  // Kept open: the writer's connection keeps the -shm file for as long as this guard lives (a read
  // is then a few µs a write instead of ~15 µs with an open and a close around it).
  let shm: number | null = null;
  let checkpoints = 0;
  /** The log size at which to try again after a checkpoint a reader kept from completing. */
  let retryAt = 0;
  return {
    afterWrite: () => {
      shm ??= openWalIndex(`${file}-shm`);
      const index = shm === null ? null : readWalIndexHeader(shm);
      if (index === null || index.logFrames < thresholdFrames) {
        retryAt = 0;
        return;
      }
      if (index.backfilledFrames >= index.logFrames || index.logFrames < retryAt) return;
      try {
        const row = helper.exclusive(
          () => (db.pragma("wal_checkpoint(PASSIVE)") as { busy: number; log: number; checkpointed: number }[])[0],
        );
        checkpoints++;
        retryAt = row !== undefined && row.checkpointed < row.log ? row.log + Math.ceil(thresholdFrames / 4) : 0;
      } catch {
        // Disk full or an I/O error: the write itself succeeded; the storage health reports such
        // failures from the writes, and the next write tries again.
      }
    },
    stats: () => ({ checkpoints }),
    close: () => {
      if (shm !== null) closeSync(shm);
      shm = null;
    },
  };
}
