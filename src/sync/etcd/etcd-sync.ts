/**
 * The etcd source: one paged range read pinned to a revision, then one watch from revision+1,
 * applied to the store in ordered batches. Explicit phases (idle → loading → watching, with
 * reconnecting and resyncing), a persisted revision, and a short list of recoverable errors:
 *  - link failures (etcd down, stream broken, member without leader, a failed link probe): fail
 *    over to the next member, back off with jitter, resume from the stored revision;
 *  - a cancelled watch (compaction, or etcd cancelling it): full resync, swapped in atomically;
 *  - storage failures (disk full, read-only, I/O): nothing was committed; back off and retry from the
 *    stored revision, leaving the link state alone (etcd is fine) — the store's health says why;
 *  - a corrupt database file: rebuilt from etcd (src/store/corruption.ts), then loaded afresh.
 * We always resume from what the store committed, never from a response header, which can skip
 * events after a reconnect mid catch-up.
 *
 * The link is `connected` only while currency is proven: a linearizable probe on the watch's own
 * member succeeds (link-probe.ts) and the watch has caught up (watch-catch-up.ts). A probe runs on
 * a timer (never per tool call) with its own short deadline; one failure tears the watch down.
 */
import { EventEmitter } from "node:events";
import type { IKeyValue } from "etcd3";
import { isCorruption, isStorageError, StorageBusyError, type Store } from "../../store/index.js";
import { rebuildCorruptSnapshot } from "../../store/corruption.js";
import { backoffDelay } from "../../backoff.js";
import type { EtcdKeyspace } from "./etcd-client.js";
import { describeEtcdError, LinkProbeFailed } from "./etcd-errors.js";
import { probeCurrency } from "./link-probe.js";
import { connectorOf, type EtcdConnection, type EtcdSource } from "./member-connector.js";
import { createCatchUpTracker } from "./watch-catch-up.js";
import { KAFSCALE_PREFIX } from "../../kafscale/keys.js";
import type { KvChange } from "../../kafscale/records.js";
import type { Logger } from "../../log.js";
import { createDecodeLog } from "../decode-log.js";
import { ApplyFailed, createWatchApplier } from "./watch-apply.js";
import { openWatchStream, prefixEnd, type WatchStream } from "./watch-stream.js";
import { keyText } from "./watch-wire.js";

export { keyText } from "./watch-wire.js";

export interface EtcdSyncSettings {
  store: Store;
  logger: Logger;
  pageSize?: number;
  /** How often a live link is probed (and the snapshot confirmed current). */
  probeIntervalMs?: number;
  /** Deadline of one link probe: a member that cannot prove currency within it is given up. */
  probeTimeoutMs?: number;
  /** How long a watch may take to be established before the member is given up. */
  connectTimeoutMs?: number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Deadline for each range page. */
  requestTimeoutMs?: number;
}

/**
 * Either a connector (one member at a time, failover; member-connector.ts), which the sync closes
 * when it stops, or a client and keyspace owned by the caller (tests).
 */
export type EtcdSyncOptions = EtcdSyncSettings & EtcdSource;

export interface EtcdSync {
  /** Starts the loop in the background. */
  start(): void;
  /** Resolves once the first full sync has been applied (or was already done in a reused database). */
  ready(): Promise<void>;
  /**
   * Runs one full range read into the store and returns its revision (for `snapshot` and `verify`),
   * trying each member once before it gives up. `atRevision` pins the read to a past revision
   * (fails if etcd compacted it).
   */
  syncOnce(atRevision?: number): Promise<number>;
  /** Resolves when the store has applied `revision` (tests, benchmarks). */
  waitForRevision(revision: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
  /**
   * "applied" (revision, delayMs?) after each commit; `delayMs` (watch batches only) is the time from
   * the arrival of the batch's first event to its commit, for the service's /metrics.
   */
  readonly events: EventEmitter;
}

class WatchCancelled extends Error {}

/** The store's own error behind a sync failure (an apply failure wraps it). */
function rootCause(err: unknown): unknown {
  return err instanceof ApplyFailed ? err.cause : err;
}

/**
 * Keys per range page (KAFSCALE_MCP_ETCD_PAGE_SIZE). A page is decoded in one go by the etcd client,
 * and its merge begins with synchronous checks over the whole page: 10,000 keys took ~0.2 s of CPU
 * in one event-loop turn. Smaller pages would shorten that, but etcd 3.4 walks the rest of the range
 * for every page: reading 320k keys took 17–19 s in pages of 10,000 and 65–73 s in pages of 2,000
 * (docs/BENCHMARKS.md), which would break the cold-sync target at size L.
 */
export const DEFAULT_PAGE_SIZE = 10_000;

/** Quiet time after which a reopened watch counts as caught up (etcd's catch-up loop runs every 100 ms). */
const CATCH_UP_QUIET_MS = 1000;
/** Probe cadence while a reopened watch is not yet confirmed current (bounded by the probe interval). */
const UNCONFIRMED_PROBE_MS = 250;

/** Builds the sync loop; nothing runs until start() or syncOnce(). */
export function createEtcdSync(options: EtcdSyncOptions): EtcdSync {
  const { store, logger } = options;
  const connector = connectorOf(options);
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const probeIntervalMs = options.probeIntervalMs ?? 5000;
  const probeTimeoutMs = options.probeTimeoutMs ?? 3000;
  const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const backoff = { baseMs: options.backoffBaseMs ?? 200, capMs: options.backoffCapMs ?? 15_000 };
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const decodeLog = createDecodeLog(logger);

  let stopped = false;
  let running: Promise<void> | null = null;
  let watch: WatchStream | null = null;
  let wake: (() => void) | null = null;
  let failures = 0;
  let storageFailures = 0;
  let readyResolve: () => void = () => undefined;
  const readyPromise = new Promise<void>((resolve) => (readyResolve = resolve));
  if (store.syncState.get().initialSyncDone) readyResolve();

  const deadline = (): { deadline: Date } => ({ deadline: new Date(Date.now() + requestTimeoutMs) });

  const recordFailure = (err: unknown): void => {
    failures++;
    const message = describeEtcdError(err);
    // "down" once retries keep failing; "reconnecting" for the first attempts.
    store.syncState.setLink(failures >= 5 ? "down" : "reconnecting", Date.now(), message);
    store.syncState.setPhase("reconnecting");
    logger.warn("etcd sync: link failure", {
      error: message,
      detail: err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err),
      attempt: failures,
    });
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
  const fullSync = async (keyspace: EtcdKeyspace, atRevision?: number): Promise<number> => {
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

  /**
   * Watches from the stored revision + 1 on `conn` until the watch fails; rejects with the reason.
   * The watch is opened with etcd's require-leader metadata (etcd-client.ts), so a member that loses
   * its leader cancels it; the probe runs on the same member on a timer. Responses are applied by
   * watch-apply.ts (coalesced; a huge revision as one long write with the stream paused).
   */
  const watchLoop = async (conn: EtcdConnection): Promise<void> => {
    const storedRevision = store.syncState.get().revision;
    const startRevision = storedRevision + 1;
    const w = openWatchStream(conn.keyspace, KAFSCALE_PREFIX, startRevision);
    watch = w;
    const catchUp = createCatchUpTracker(storedRevision, CATCH_UP_QUIET_MS);
    let probeTimer: NodeJS.Timeout | null = null;
    let connectTimer: NodeJS.Timeout | null = null;
    let ended = false;
    let confirmed = false;
    let probing = false;

    try {
      await new Promise<void>((resolve, reject) => {
        const fail = (err: Error): void => {
          ended = true;
          reject(err);
        };
        const confirm = (at: number): void => {
          if (!confirmed) {
            confirmed = true;
            failures = 0;
            store.syncState.setLink("connected");
            store.syncState.setPhase("watching");
            logger.info("etcd sync: watching", { fromRevision: startRevision, member: conn.label });
          }
          store.syncState.markSynced(at);
        };
        /** One probe; on success the snapshot is current as of the probe's start (if caught up). */
        const probe = async (): Promise<void> => {
          const startedAt = Date.now();
          try {
            await probeCurrency(conn.keyspace, probeTimeoutMs);
          } catch (err) {
            if (!ended) fail(new LinkProbeFailed(err));
            return;
          }
          if (ended) return;
          if (catchUp.caughtUp()) confirm(startedAt);
          probeTimer = setTimeout(() => void probe(), confirmed ? probeIntervalMs : Math.min(probeIntervalMs, UNCONFIRMED_PROBE_MS));
        };
        const applier = createWatchApplier({
          store,
          pause: () => w.pause(),
          resume: () => w.resume(),
          onApplied: (revision, delayMs) => events.emit("applied", revision, delayMs),
          onDecodeReport: (report) => decodeLog.report(report),
          onError: (err) => fail(err),
        });
        connectTimer = setTimeout(
          () => fail(new Error(`watch not established within ${connectTimeoutMs} ms`)),
          connectTimeoutMs,
        );
        w.on("connected", (headerRevision) => {
          if (connectTimer) clearTimeout(connectTimer);
          catchUp.created(headerRevision);
          // One probe chain per watch.
          if (!probing) void probe();
          probing = true;
        });
        w.on("frame", (frame) => {
          // A watch given up on may still deliver; the next watch resumes from the store instead.
          if (ended) return;
          catchUp.response(frame.headerRevision, frame.newestRevision);
          applier.push(frame);
        });
        w.on("canceled", (reason) => fail(new WatchCancelled(reason)));
        w.on("failed", (err) => fail(err));
        wake = () => fail(new Error("stopped"));
        // stop() may have come while the member was being probed or loaded (nothing to wake then).
        if (stopped) fail(new Error("stopped"));
      });
    } finally {
      ended = true;
      if (probeTimer) clearTimeout(probeTimer);
      if (connectTimer) clearTimeout(connectTimer);
      watch = null;
      wake = null;
      // Never waits: a stalled member never confirms a cancel, and the failure must be recorded now.
      w.cancel();
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
        const conn = connector.current();
        // Nothing is read from a member before it proves it serves the present: a range read on
        // an isolated member would wait out its whole deadline, and a watch would replay its past.
        await probeCurrency(conn.keyspace, probeTimeoutMs).catch((err: unknown) => {
          throw new LinkProbeFailed(err);
        });
        if (needResync || !store.syncState.get().initialSyncDone) {
          await fullSync(conn.keyspace);
          needResync = false;
          readyResolve();
        }
        storageFailures = 0;
        await watchLoop(conn);
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
          // takes writes again (same member). The store's health (freshness, /readyz, one log line) says why.
          storageFailures++;
          logger.debug("etcd sync: storage refused the write; retrying", { error: (cause as Error).message });
          await sleep(backoffDelay(storageFailures - 1, backoff));
          continue;
        }
        recordFailure(err);
        connector.failover();
        await sleep(backoffDelay(failures - 1, backoff));
      }
    }
  };

  return {
    events,
    start: () => {
      // Until this run proves currency, a link state left by an earlier run (or a crash) is not news.
      if (running === null) store.syncState.setLink("reconnecting");
      running ??= loop();
    },
    ready: () => readyPromise,
    syncOnce: async (atRevision) => {
      for (let attempt = 1; ; attempt++) {
        try {
          const revision = await fullSync(connector.current().keyspace, atRevision);
          readyResolve();
          return revision;
        } catch (err) {
          if (attempt >= connector.members) throw err;
          logger.warn("etcd sync: read failed, trying the next member", { error: describeEtcdError(err) });
          connector.failover();
        }
      }
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
      connector.close();
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
