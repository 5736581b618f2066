/**
 * The etcd source: one paged range read pinned to a revision, then one watch from revision+1,
 * applied to the store in ordered batches. Explicit phases (idle → loading → watching, with
 * reconnecting and resyncing), a persisted revision, and a short list of recoverable errors:
 *  - link failures (etcd down, stream broken, member without leader, a failed link probe): fail
 *    over to the next member, back off with jitter, resume from the stored revision;
 *  - a cancelled watch (compaction, or etcd cancelling it): full resync, swapped in atomically.
 * etcd3's watcher can resume by itself, but it takes its resume point from response headers, which
 * can skip events after a reconnect mid catch-up; we always resume from what the store committed.
 *
 * The link is `connected` only while currency is proven: a linearizable probe on the watch's own
 * member succeeds (link-probe.ts) and the watch has caught up (watch-catch-up.ts). A probe runs on
 * a timer (never per tool call) with its own short deadline; one failure tears the watch down.
 */
import { EventEmitter } from "node:events";
import type { IKeyValue, IWatchResponse } from "etcd3";
import type { Watcher } from "etcd3";
import type { Store } from "../../store/index.js";
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

/** Least time between two watch commits: bounds commits to 250/s, adds at most this to visibility. */
const MIN_COMMIT_GAP_MS = 4;
/** Quiet time after which a reopened watch counts as caught up (etcd's catch-up loop runs every 100 ms). */
const CATCH_UP_QUIET_MS = 1000;
/** Probe cadence while a reopened watch is not yet confirmed current (bounded by the probe interval). */
const UNCONFIRMED_PROBE_MS = 250;

/** Builds the sync loop; nothing runs until start() or syncOnce(). */
export function createEtcdSync(options: EtcdSyncOptions): EtcdSync {
  const { store, logger } = options;
  const connector = connectorOf(options);
  const pageSize = options.pageSize ?? 10_000;
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
  let watcher: Watcher | null = null;
  let wake: (() => void) | null = null;
  let failures = 0;
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

  /**
   * Watches from the stored revision + 1 on `conn` until the watch fails; rejects with the reason.
   * The watch is opened with etcd's require-leader metadata (etcd-client.ts), so a member that loses
   * its leader cancels it; the probe runs on the same member on a timer.
   */
  const watchLoop = async (conn: EtcdConnection): Promise<void> => {
    const storedRevision = store.syncState.get().revision;
    const startRevision = storedRevision + 1;
    const w = conn.keyspace.watch().prefix(KAFSCALE_PREFIX).startRevision(String(startRevision)).watcher();
    watcher = w;
    const catchUp = createCatchUpTracker(storedRevision, CATCH_UP_QUIET_MS);
    let pending: KvChange[] = [];
    let pendingRevision = 0;
    let pendingSince = 0;
    let flushScheduled = false;
    let lastFlushAt = -Infinity;
    let probeTimer: NodeJS.Timeout | null = null;
    let connectTimer: NodeJS.Timeout | null = null;
    let ended = false;
    let confirmed = false;
    let probing = false;
    // etcd already dropped a watch it cancelled; asking to cancel it again would wait forever.
    let cancelledByEtcd = false;

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
        const flush = (): void => {
          flushScheduled = false;
          if (ended || pending.length === 0) return;
          lastFlushAt = performance.now();
          const batch = pending;
          const revision = pendingRevision;
          pending = [];
          try {
            decodeLog.report(store.writer.applyChanges(batch, revision));
            events.emit("applied", revision, performance.now() - pendingSince);
          } catch (err) {
            // Nothing was committed (one transaction); the retry resumes from the stored revision.
            fail(new Error(`applying changes failed: ${(err as Error).message}`));
          }
        };
        connectTimer = setTimeout(
          () => fail(new Error(`watch not established within ${connectTimeoutMs} ms`)),
          connectTimeoutMs,
        );
        w.on("connected", (res: IWatchResponse) => {
          if (connectTimer) clearTimeout(connectTimer);
          catchUp.created(Number(res.header.revision));
          // One probe chain per watch (etcd3 only reconnects a watcher after "disconnected", which ends this one).
          if (!probing) void probe();
          probing = true;
        });
        w.on("data", (res: IWatchResponse) => {
          // A watch given up on may still deliver; the next watch resumes from the store instead.
          if (ended) return;
          if (pending.length === 0) pendingSince = performance.now();
          let newest: number | null = null;
          for (const event of res.events) {
            const change = toChange(event.type === "Delete" ? "delete" : "put", event.kv);
            pending.push(change);
            pendingRevision = Math.max(pendingRevision, change.modRevision);
            newest = Math.max(newest ?? 0, change.modRevision);
          }
          catchUp.response(Number(res.header.revision), newest);
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
        // stop() may have come while the member was being probed or loaded (nothing to wake then).
        if (stopped) fail(new Error("stopped"));
      });
    } finally {
      ended = true;
      if (probeTimer) clearTimeout(probeTimer);
      if (connectTimer) clearTimeout(connectTimer);
      watcher = null;
      wake = null;
      // Not awaited: a stalled member never confirms the cancel, and the failure must be recorded
      // now (the link state) rather than after the cancel's own timeout.
      if (!cancelledByEtcd) void cancelWatcher(w);
    }
  };

  const loop = async (): Promise<void> => {
    let needResync = false;
    while (!stopped) {
      try {
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
        await watchLoop(conn);
      } catch (err) {
        if (stopped) break;
        if (err instanceof WatchCancelled) {
          // Compaction or a cancel by etcd: events may be gone, so re-list and re-watch.
          logger.warn("etcd sync: watch cancelled, resyncing", { reason: err.message });
          needResync = true;
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
      if (watcher) await cancelWatcher(watcher);
      await running;
      connector.close();
      store.syncState.setPhase("stopped");
      store.syncState.setLink("down");
    },
  };
}

/**
 * Cancels a watcher, bounded in time: a broken stream may never confirm the cancel. Never rejects
 * (callers do not always await it): etcd3 can throw synchronously on a stream that just died.
 */
async function cancelWatcher(w: Watcher): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.resolve()
      .then(() => w.cancel())
      .catch(() => undefined),
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
