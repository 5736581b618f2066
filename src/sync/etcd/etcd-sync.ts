/**
 * The etcd source: one paged range read pinned to a revision, then one watch from revision+1,
 * applied to the store in ordered batches. Explicit phases (idle → loading → watching, with
 * reconnecting and resyncing), a persisted revision, and a short list of recoverable errors:
 *  - link failures (etcd down, stream broken): back off with jitter, resume from the stored revision;
 *  - a cancelled watch (compaction, or etcd cancelling it): full resync, swapped in atomically.
 *  - storage failures (disk full, read-only, I/O): nothing was committed; back off and retry from the
 *    stored revision, leaving the link state alone (etcd is fine) — the store's health says why;
 *  - a corrupt database file: rebuilt from etcd (src/store/corruption.ts), then loaded afresh.
 * We always resume from what the store committed, never from a response header, which can skip
 * events after a reconnect mid catch-up.
 */
import { EventEmitter } from "node:events";
import type { IKeyValue } from "etcd3";
import { isCorruption, isStorageError, StorageBusyError, type Store } from "../../store/index.js";
import { rebuildCorruptSnapshot } from "../../store/corruption.js";
import { backoffDelay } from "../../backoff.js";
import type { EtcdClient, EtcdKeyspace } from "./etcd-client.js";
import { KAFSCALE_PREFIX } from "../../kafscale/keys.js";
import type { KvChange } from "../../kafscale/records.js";
import type { Logger } from "../../log.js";
import { ApplyFailed, createWatchApplier } from "./watch-apply.js";
import { openWatchStream, prefixEnd, type WatchStream } from "./watch-stream.js";
import { keyText } from "./watch-wire.js";

export { keyText } from "./watch-wire.js";

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

/** The store's own error behind a sync failure (an apply failure wraps it). */
function rootCause(err: unknown): unknown {
  return err instanceof ApplyFailed ? err.cause : err;
}

/** Builds the sync loop; nothing runs until start() or syncOnce(). */
export function createEtcdSync(options: EtcdSyncOptions): EtcdSync {
  const { store, client, keyspace, logger } = options;
  const pageSize = options.pageSize ?? 10_000;
  const probeIntervalMs = options.probeIntervalMs ?? 5000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const backoff = { baseMs: options.backoffBaseMs ?? 200, capMs: options.backoffCapMs ?? 15_000 };
  const events = new EventEmitter();
  events.setMaxListeners(0);

  let stopped = false;
  let running: Promise<void> | null = null;
  let watch: WatchStream | null = null;
  let wake: (() => void) | null = null;
  let failures = 0;
  let storageFailures = 0;
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
        await session.addPage(res.kvs.map((kv) => toChange("put", kv)), revision);
        keys += res.kvs.length;
        const last = res.kvs.at(-1);
        if (!res.more || !last) break;
        start = Buffer.concat([last.key, Buffer.from([0])]);
        if (stopped) throw new Error("stopped during sync");
      }
      const result = await session.commit(revision);
      failures = 0;
      store.syncState.setLink("connected");
      logger.info(initial ? "etcd sync: initial load done" : "etcd sync: resync done", {
        revision,
        keys,
        ...result,
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
    const w = openWatchStream(keyspace, KAFSCALE_PREFIX, startRevision);
    watch = w;
    let probeTimer: NodeJS.Timeout | null = null;
    watchConnected = false;

    try {
      await new Promise<void>((resolve, reject) => {
        const fail = (err: Error): void => {
          if (probeTimer) clearInterval(probeTimer);
          reject(err);
        };
        const applier = createWatchApplier({
          store,
          pause: () => w.pause(),
          resume: () => w.resume(),
          onApplied: (revision) => events.emit("applied", revision),
          onError: (err) => fail(err),
        });
        w.on("connected", () => {
          failures = 0;
          watchConnected = true;
          store.syncState.setLink("connected");
          store.syncState.setPhase("watching");
          logger.info("etcd sync: watching", { fromRevision: startRevision });
          probeTimer ??= setInterval(() => void probe(), probeIntervalMs);
        });
        w.on("frame", (frame) => applier.push(frame));
        w.on("canceled", (reason) => fail(new WatchCancelled(reason)));
        w.on("failed", (err) => fail(err));
        wake = () => fail(new Error("stopped"));
        // stop() may have come while this watch was being set up (it found no watch to wake).
        if (stopped) wake();
      });
    } finally {
      if (probeTimer) clearInterval(probeTimer);
      watchConnected = false;
      watch = null;
      wake = null;
      w.cancel();
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

  /** The database file is corrupt: move it aside and start a fresh one that the next pass loads. */
  const rebuild = (cause: unknown): void => {
    logger.error("snapshot database file is corrupt; rebuilding it from etcd (the snapshot is a cache, etcd is the truth)", {
      path: store.path,
      error: cause instanceof Error ? cause.message : String(cause),
    });
    const { corruptCopy, carriedOver } = rebuildCorruptSnapshot(store);
    logger.warn("snapshot database replaced by an empty one; loading it from etcd", { corruptCopy });
    void carriedOver.then((report) => logger.info("local tables carried over from the corrupt file", { ...report }));
  };

  const loop = async (): Promise<void> => {
    let needResync = false;
    while (!stopped) {
      try {
        if (store.health.problem()?.kind === "corrupt" && store.mode() === "normal") rebuild(store.health.problem()?.reason);
        if (needResync || !store.syncState.get().initialSyncDone) {
          await fullSync();
          needResync = false;
          readyResolve();
        }
        storageFailures = 0;
        await watchLoop();
      } catch (err) {
        if (stopped) break;
        if (err instanceof WatchCancelled) {
          // Compaction or a cancel by etcd: events may be gone, so re-list and re-watch.
          logger.warn("etcd sync: watch cancelled, resyncing", { reason: err.message });
          needResync = true;
          continue;
        }
        const cause = rootCause(err);
        if (isCorruption(cause)) {
          try {
            rebuild(cause);
            continue;
          } catch (rebuildErr) {
            logger.error("rebuilding the snapshot failed; retrying", { error: (rebuildErr as Error).message });
          }
        }
        if (isStorageError(cause) || cause instanceof StorageBusyError) {
          // Nothing was committed and etcd is fine: retry from the stored revision once storage
          // takes writes again. The store's health (freshness, /readyz, one log line) says why.
          storageFailures++;
          logger.debug("etcd sync: storage refused the write; retrying", { error: (cause as Error).message });
          await sleep(backoffDelay(storageFailures - 1, backoff));
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
      watch?.cancel();
      await running;
      store.syncState.setPhase("stopped");
      store.syncState.setLink("down");
    },
  };
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
