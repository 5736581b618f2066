/**
 * The etcd source: one paged range read pinned to a revision, then one watch from revision+1,
 * applied to the store in ordered batches. Explicit phases (idle → loading → watching, with
 * reconnecting and resyncing), a persisted revision, and a short list of recoverable errors:
 *  - link failures (etcd down, stream broken): back off with jitter, resume from the stored revision;
 *  - a cancelled watch (compaction, or etcd cancelling it): full resync, swapped in atomically.
 * etcd3's watcher can resume by itself, but it takes its resume point from response headers, which
 * can skip events after a reconnect mid catch-up; we always resume from what the store committed.
 */
import { EventEmitter } from "node:events";
import type { IKeyValue, IWatchResponse } from "etcd3";
import type { Watcher } from "etcd3";
import type { Store } from "../../store/index.js";
import { backoffDelay } from "../../backoff.js";
import type { EtcdClient, EtcdKeyspace } from "./etcd-client.js";
import { KAFSCALE_PREFIX } from "../../kafscale/keys.js";
import type { KvChange } from "../../kafscale/records.js";
import type { Logger } from "../../log.js";
import { createDecodeLog } from "../decode-log.js";

export interface EtcdSyncOptions {
  store: Store;
  client: EtcdClient;
  keyspace: EtcdKeyspace;
  logger: Logger;
  pageSize?: number;
  /** How often a live link is probed (and the snapshot confirmed current). */
  probeIntervalMs?: number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Deadline for each etcd request made by the sync (range pages, probes). */
  requestTimeoutMs?: number;
}

export interface EtcdSync {
  /** Starts the loop in the background. */
  start(): void;
  /** Resolves once the first full sync has been applied (or was already done in a reused database). */
  ready(): Promise<void>;
  /**
   * Runs one full range read into the store and returns its revision (for `snapshot` and `verify`).
   * `atRevision` pins the read to a past revision (fails if etcd compacted it).
   */
  syncOnce(atRevision?: number): Promise<number>;
  /** Resolves when the store has applied `revision` (tests, benchmarks). */
  waitForRevision(revision: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
  readonly events: EventEmitter;
}

class WatchCancelled extends Error {}

/** Least time between two watch commits: bounds commits to 250/s, adds at most this to visibility. */
const MIN_COMMIT_GAP_MS = 4;

/** Builds the sync loop; nothing runs until start() or syncOnce(). */
export function createEtcdSync(options: EtcdSyncOptions): EtcdSync {
  const { store, client, keyspace, logger } = options;
  const pageSize = options.pageSize ?? 10_000;
  const probeIntervalMs = options.probeIntervalMs ?? 5000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const backoff = { baseMs: options.backoffBaseMs ?? 200, capMs: options.backoffCapMs ?? 15_000 };
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const decodeLog = createDecodeLog(logger);

  let stopped = false;
  let running: Promise<void> | null = null;
  let watcher: Watcher | null = null;
  let wake: (() => void) | null = null;
  let failures = 0;
  let watchConnected = false;
  let readyResolve: () => void = () => undefined;
  const readyPromise = new Promise<void>((resolve) => (readyResolve = resolve));
  if (store.syncState.get().initialSyncDone) readyResolve();

  const deadline = (): { deadline: Date } => ({ deadline: new Date(Date.now() + requestTimeoutMs) });

  const recordFailure = (err: unknown): void => {
    failures++;
    const message = err instanceof Error ? err.message : String(err);
    // "down" once retries keep failing; "reconnecting" for the first attempts.
    store.syncState.setLink(failures >= 5 ? "down" : "reconnecting", Date.now(), message);
    store.syncState.setPhase("reconnecting");
    logger.warn("etcd sync: link failure", { error: message, attempt: failures });
  };

  const sleep = async (ms: number): Promise<void> => {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    wake = null;
  };

  /** Paged range read of the prefix, every page pinned to the revision of the first one. */
  const fullSync = async (atRevision?: number): Promise<number> => {
    const initial = !store.syncState.get().initialSyncDone;
    store.syncState.setPhase(initial ? "loading" : "resyncing");
    const session = store.writer.beginResync();
    try {
      let revision: number | null = atRevision ?? null;
      let start = Buffer.from(KAFSCALE_PREFIX);
      const end = prefixEnd(Buffer.from(KAFSCALE_PREFIX));
      let keys = 0;
      for (;;) {
        // No explicit sort: etcd returns a range in key order already, and asking it to sort makes it
        // read the whole rest of the range for every page (quadratic on a large cluster).
        let range = keyspace.getAll().inRange({ start, end }).limit(pageSize).options(deadline());
        if (revision !== null) range = range.revision(revision);
        const res = await range.exec();
        revision ??= Number(res.header.revision);
        session.addPage(res.kvs.map((kv) => toChange("put", kv)));
        keys += res.kvs.length;
        const last = res.kvs.at(-1);
        if (!res.more || !last) break;
        start = Buffer.concat([last.key, Buffer.from([0])]);
        if (stopped) throw new Error("stopped during sync");
      }
      const result = session.commit(revision);
      decodeLog.report(result);
      failures = 0;
      store.syncState.setLink("connected");
      const { puts, deletes, unchanged, decodeErrors, decodeWarnings } = result;
      logger.info(initial ? "etcd sync: initial load done" : "etcd sync: resync done", {
        revision,
        keys,
        puts,
        deletes,
        unchanged,
        decodeErrors,
        decodeWarnings,
      });
      events.emit("applied", revision);
      return revision;
    } catch (err) {
      session.abort();
      throw err;
    }
  };

  /** Watches from the stored revision + 1 until the watch fails; rejects with the reason. */
  const watchLoop = async (): Promise<void> => {
    const startRevision = store.syncState.get().revision + 1;
    const w = keyspace.watch().prefix(KAFSCALE_PREFIX).startRevision(String(startRevision)).watcher();
    watcher = w;
    let pending: KvChange[] = [];
    let pendingRevision = 0;
    let flushScheduled = false;
    let lastFlushAt = -Infinity;
    let probeTimer: NodeJS.Timeout | null = null;
    watchConnected = false;
    // etcd already dropped a watch it cancelled; asking to cancel it again would wait forever.
    let cancelledByEtcd = false;

    try {
      await new Promise<void>((resolve, reject) => {
        const fail = (err: Error): void => {
          if (probeTimer) clearInterval(probeTimer);
          reject(err);
        };
        const flush = (): void => {
          flushScheduled = false;
          if (pending.length === 0) return;
          lastFlushAt = performance.now();
          const batch = pending;
          const revision = pendingRevision;
          pending = [];
          try {
            decodeLog.report(store.writer.applyChanges(batch, revision));
            events.emit("applied", revision);
          } catch (err) {
            // Nothing was committed (one transaction); the retry resumes from the stored revision.
            fail(new Error(`applying changes failed: ${(err as Error).message}`));
          }
        };
        w.on("connected", () => {
          failures = 0;
          watchConnected = true;
          store.syncState.setLink("connected");
          store.syncState.setPhase("watching");
          logger.info("etcd sync: watching", { fromRevision: startRevision });
          probeTimer ??= setInterval(() => void probe(), probeIntervalMs);
        });
        w.on("data", (res: IWatchResponse) => {
          for (const event of res.events) {
            const change = toChange(event.type === "Delete" ? "delete" : "put", event.kv);
            pending.push(change);
            pendingRevision = Math.max(pendingRevision, change.modRevision);
          }
          // The header revision is a safe watermark only on a progress notification (no events): while
          // a watcher catches up, etcd sends later responses with events below an earlier header.
          if (res.events.length === 0) pendingRevision = Math.max(pendingRevision, Number(res.header.revision));
          // Coalesce the responses that arrive in one tick into one transaction, and under a write
          // storm commit at most once per MIN_COMMIT_GAP_MS: each commit has a fixed cost (WAL
          // append, checkpoints) that one-event transactions at 2,000 writes/s paid 2,000 times.
          if (!flushScheduled) {
            flushScheduled = true;
            const wait = lastFlushAt + MIN_COMMIT_GAP_MS - performance.now();
            if (wait > 0) setTimeout(flush, wait);
            else setImmediate(flush);
          }
        });
        w.on("disconnected", (err: Error) => fail(err));
        w.on("error", (err: Error) => {
          cancelledByEtcd = true;
          fail(new WatchCancelled(err.message));
        });
        w.on("end", () => fail(new Error("watch ended")));
        wake = () => fail(new Error("stopped"));
      });
    } finally {
      if (probeTimer) clearInterval(probeTimer);
      watchConnected = false;
      watcher = null;
      wake = null;
      if (!cancelledByEtcd) await cancelWatcher(w);
    }
  };

  /** A cheap status call: proves the link is alive, so the snapshot can be called current. */
  const probe = async (): Promise<void> => {
    try {
      await client.maintenance.status(deadline());
      if (!watchConnected) return;
      // A probe that succeeds again after a failed one restores the link state.
      store.syncState.setLink("connected");
      store.syncState.markSynced();
    } catch (err) {
      logger.warn("etcd sync: probe failed", { error: (err as Error).message });
      store.syncState.setLink("reconnecting", Date.now(), (err as Error).message);
    }
  };

  const loop = async (): Promise<void> => {
    let needResync = false;
    while (!stopped) {
      try {
        if (needResync || !store.syncState.get().initialSyncDone) {
          await fullSync();
          needResync = false;
          readyResolve();
        }
        await watchLoop();
      } catch (err) {
        if (stopped) break;
        if (err instanceof WatchCancelled) {
          // Compaction or a cancel by etcd: events may be gone, so re-list and re-watch.
          logger.warn("etcd sync: watch cancelled, resyncing", { reason: err.message });
          needResync = true;
          continue;
        }
        recordFailure(err);
        await sleep(backoffDelay(failures - 1, backoff));
      }
    }
  };

  return {
    events,
    start: () => {
      running ??= loop();
    },
    ready: () => readyPromise,
    syncOnce: async (atRevision) => {
      const revision = await fullSync(atRevision);
      readyResolve();
      return revision;
    },
    waitForRevision: (revision, timeoutMs = 10_000) =>
      new Promise<void>((resolve, reject) => {
        if (store.syncState.get().revision >= revision) return resolve();
        const timer = setTimeout(() => {
          events.off("applied", onApplied);
          reject(new Error(`revision ${revision} not applied within ${timeoutMs}ms`));
        }, timeoutMs);
        const onApplied = (applied: number): void => {
          if (applied < revision) return;
          clearTimeout(timer);
          events.off("applied", onApplied);
          resolve();
        };
        events.on("applied", onApplied);
      }),
    stop: async () => {
      stopped = true;
      wake?.();
      if (watcher) await cancelWatcher(watcher);
      await running;
      store.syncState.setPhase("stopped");
      store.syncState.setLink("down");
    },
  };
}

/** Cancels a watcher, bounded in time: a broken stream may never confirm the cancel. */
async function cancelWatcher(w: Watcher): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    w.cancel().catch(() => undefined),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, 2000))),
  ]);
  clearTimeout(timer);
}

/** The first key after every key that starts with `prefix` (etcd's range_end for a prefix). */
function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

function toChange(type: "put" | "delete", kv: IKeyValue): KvChange {
  return {
    type,
    key: keyText(kv.key),
    value: type === "put" ? kv.value : Buffer.alloc(0),
    modRevision: Number(kv.mod_revision),
    createRevision: Number(kv.create_revision),
    version: Number(kv.version),
    lease: String(kv.lease ?? "0"),
  };
}

/**
 * etcd keys are bytes; Kafscale's are ASCII. A key that is not valid UTF-8 is kept in an escaped,
 * lossless form (it routes as unknown), so two distinct keys never collapse into one row.
 */
export function keyText(key: Buffer): string {
  const text = key.toString("utf8");
  if (Buffer.from(text, "utf8").equals(key)) return text;
  return `${KAFSCALE_PREFIX}\u0000invalid-utf8:${key.toString("hex")}`;
}
