/**
 * Tells when a (re)opened watch has delivered etcd's history up to the present, so the link is
 * not called current while the watch still replays what happened during an outage.
 *
 * How etcd (mvcc watchableStore) behaves, which this relies on:
 *  - a watch created at a start revision at or below the current one is "unsynced"; a loop running
 *    every 100 ms sends it the missing events in batches, each response's header carrying the
 *    revision the batch was read at (ahead of its events), until it moves to the "synced" set;
 *  - a synced watcher gets each change with the header revision of that change (header equals the
 *    newest event), and progress notifications only ever go to synced watchers;
 *  - a watcher with nothing to catch up sends nothing at all.
 * So the watch is caught up when (a) it was created at or below what the store already holds, or
 * (b) a response's header equals its newest event or a progress notification arrives, or (c) no
 * catch-up batch (header ahead of events) has come for `quietMs`, many times etcd's 100 ms loop.
 */

export interface CatchUpTracker {
  /** The watch was created; `headerRevision` is etcd's revision at creation. */
  created(headerRevision: number): void;
  /** A watch response arrived; `newestEventRevision` is null for a progress notification. */
  response(headerRevision: number, newestEventRevision: number | null): void;
  caughtUp(): boolean;
}

/** A tracker for a watch opened after `storedRevision` (the revision the store holds). */
export function createCatchUpTracker(
  storedRevision: number,
  quietMs: number,
  now: () => number = () => performance.now(),
): CatchUpTracker {
  let done = false;
  let lastCatchUpAt: number | null = null;
  return {
    created: (headerRevision) => {
      if (headerRevision <= storedRevision) done = true;
      lastCatchUpAt = now();
    },
    response: (headerRevision, newestEventRevision) => {
      if (newestEventRevision === null || headerRevision <= newestEventRevision) done = true;
      else lastCatchUpAt = now();
    },
    caughtUp: () => done || (lastCatchUpAt !== null && now() - lastCatchUpAt >= quietMs),
  };
}
