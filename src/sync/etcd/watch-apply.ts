/**
 * Applies watch responses to the store in order, whole responses at a time (etcd never splits a
 * revision across responses, so no reader ever sees half of one):
 *  - the responses that arrive in one tick are coalesced into one transaction, and under a write
 *    storm commits are spaced at least MIN_COMMIT_GAP_MS apart (each commit has a fixed cost: WAL
 *    append, checkpoints; one-event transactions at 2,000 writes/s paid it 2,000 times);
 *  - a batch above LARGE_BATCH events (a revision deleting a topic or the whole prefix) is applied
 *    as one long write (src/store/long-apply.ts): decoded and written a slice at a time, the event
 *    loop free in between, the stream paused meanwhile so etcd waits instead of piling up responses.
 */
import type { DecodeReport, Store } from "../../store/index.js";
import type { KvChange } from "../../kafscale/records.js";
import type { WatchFrame } from "./watch-wire.js";

/** Least time between two watch commits: bounds commits to 250/s, adds at most this to visibility. */
const MIN_COMMIT_GAP_MS = 4;

/** Events above which a batch is applied as a long write rather than one synchronous transaction. */
export const LARGE_BATCH = 2000;

/** A failed apply; `cause` is the store's error (a storage error is classified from it). */
export class ApplyFailed extends Error {
  constructor(cause: unknown) {
    super(`applying changes failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "ApplyFailed";
  }
}

export interface WatchApplierOptions {
  store: Store;
  /** Pause and resume the watch stream around a long write. */
  pause(): void;
  resume(): void;
  /** After each commit, with the revision the store now holds and the time since its first response arrived. */
  onApplied(revision: number, delayMs: number): void;
  /** After each commit, with the values of the batch that did not decode or decoded with a warning (for the log). */
  onDecodeReport(report: DecodeReport): void;
  /** Once, on the first failure (nothing of the failed batch was committed); nothing is applied after. */
  onError(err: ApplyFailed): void;
}

export interface WatchApplier {
  push(frame: WatchFrame): void;
}

/** Creates the applier for one watch stream. */
export function createWatchApplier(options: WatchApplierOptions): WatchApplier {
  const { store } = options;
  let pending: WatchFrame[] = [];
  let pendingEvents = 0;
  let pendingSince = 0;
  // The revision the applied state reaches: the last event's, or a progress notification's header
  // (only there is the header a safe watermark: while a watcher catches up, etcd sends later
  // responses with events below an earlier header).
  let watermark = 0;
  let flushScheduled = false;
  let lastFlushAt = -Infinity;
  let applying = false;
  let failed = false;

  const fail = (err: unknown): void => {
    if (failed) return;
    failed = true;
    options.onError(new ApplyFailed(err));
  };

  function* tracked(changes: Iterable<KvChange>): Generator<KvChange> {
    for (const change of changes) {
      watermark = Math.max(watermark, change.modRevision);
      yield change;
    }
  }

  const applyLarge = async (frames: WatchFrame[], since: number): Promise<void> => {
    const large = store.writer.beginLargeApply();
    let result: DecodeReport;
    try {
      for (const frame of frames) await large.apply(tracked(frame.changes()));
      result = large.commit(watermark);
    } catch (err) {
      large.abort();
      throw err;
    }
    options.onApplied(watermark, performance.now() - since);
    options.onDecodeReport(result);
  };

  const flush = (): void => {
    flushScheduled = false;
    if (failed || applying || pending.length === 0) return;
    const frames = pending;
    const events = pendingEvents;
    pending = [];
    pendingEvents = 0;
    lastFlushAt = performance.now();
    if (events <= LARGE_BATCH) {
      try {
        const batch = [...tracked(frames.flatMap((frame) => [...frame.changes()]))];
        const result = store.writer.applyChanges(batch, watermark);
        options.onApplied(watermark, performance.now() - pendingSince);
        options.onDecodeReport(result);
      } catch (err) {
        fail(err);
      }
      return;
    }
    applying = true;
    options.pause();
    applyLarge(frames, pendingSince).then(
      () => {
        applying = false;
        options.resume();
        if (pending.length > 0) schedule();
      },
      (err: unknown) => {
        applying = false;
        fail(err);
      },
    );
  };

  const schedule = (): void => {
    if (flushScheduled || applying) return;
    flushScheduled = true;
    const wait = lastFlushAt + MIN_COMMIT_GAP_MS - performance.now();
    if (wait > 0) setTimeout(flush, wait);
    else setImmediate(flush);
  };

  return {
    push: (frame) => {
      if (failed) return;
      if (pending.length === 0) pendingSince = performance.now();
      pending.push(frame);
      pendingEvents += frame.eventCount;
      if (frame.eventCount === 0) watermark = Math.max(watermark, frame.headerRevision);
      schedule();
    },
  };
}
