/**
 * Publishes the ops copy (KAFSCALE_MCP_OPS_COPY) on its interval and keeps its state for /metrics.
 * A failed copy (disk full, directory gone, permissions) never touches the service: the previous
 * copy stays in place, the next interval tries again, and the log gets one line per change of state
 * (failing with a new reason, recovered), not one per attempt.
 */
import type { OpsCopyConfig } from "../../config.js";
import type { Logger } from "../../log.js";
import { OpsCopyAborted, removeStaleOpsCopyFiles, type OpsCopyStatus, type Store } from "../../store/index.js";
import { createPeriodic, realTimer, type Timer } from "./periodic.js";

export interface OpsCopierOptions {
  store: Pick<Store, "publishOpsCopy" | "syncState">;
  config: OpsCopyConfig;
  logger: Logger;
  /** Clock for the copy's timestamps (Unix ms). */
  now?: () => number;
  timer?: Timer;
}

export interface OpsCopier {
  /** Cleans up work files of an earlier run, publishes a copy now and then every interval. */
  start(): void;
  /** One copy now (or the one in progress); resolves with the state after it. */
  runOnce(): Promise<OpsCopyStatus>;
  /** Stops the schedule and abandons a copy in progress (its work files are removed). */
  stop(): Promise<void>;
  status(): OpsCopyStatus;
}

/** Before the first full sync there is nothing worth publishing; look again this soon. */
const WAITING_RETRY_MS = 1000;

export function createOpsCopier(options: OpsCopierOptions): OpsCopier {
  const { store, config, logger } = options;
  const now = options.now ?? Date.now;
  let stopping = false;
  const status: OpsCopyStatus = {
    path: config.path,
    state: "waiting",
    lastAttemptAt: null,
    lastSuccessAt: null,
    lastError: null,
    consecutiveFailures: 0,
    failuresTotal: 0,
    revision: null,
    bytes: null,
    durationMs: null,
  };

  const copy = async (): Promise<number> => {
    const started = now();
    try {
      if (!store.syncState.get().initialSyncDone) return Math.min(config.intervalMs, WAITING_RETRY_MS);
      status.lastAttemptAt = started;
      const result = await store.publishOpsCopy({
        target: config.path,
        mode: config.mode,
        includeAudit: config.includeAudit,
        intervalMs: config.intervalMs,
        now,
        aborted: () => stopping,
      });
      if (status.state !== "ok") {
        logger.info(status.state === "failing" ? "ops copy recovered" : "ops copy published", {
          path: config.path,
          revision: result.revision,
          bytes: result.bytes,
        });
      }
      Object.assign(status, {
        state: "ok",
        lastSuccessAt: result.publishedAt,
        lastError: null,
        consecutiveFailures: 0,
        revision: result.revision,
        bytes: result.bytes,
        durationMs: now() - started,
      } satisfies Partial<OpsCopyStatus>);
    } catch (err) {
      if (err instanceof OpsCopyAborted) return config.intervalMs;
      const message = `ops copy: ${err instanceof Error ? err.message : String(err)}`;
      if (status.state !== "failing" || status.lastError !== message) {
        logger.warn("ops copy failed; the previous copy stays in place and the next interval retries", {
          path: config.path,
          error: message,
        });
      }
      status.state = "failing";
      status.lastError = message;
      status.consecutiveFailures++;
      status.failuresTotal++;
    }
    return config.intervalMs;
  };

  const periodic = createPeriodic(copy, options.timer ?? realTimer);
  return {
    start: () => {
      stopping = false;
      removeStaleOpsCopyFiles(config.path);
      periodic.start();
    },
    runOnce: async () => {
      await periodic.runNow();
      return { ...status };
    },
    stop: async () => {
      stopping = true;
      await periodic.stop();
    },
    status: () => ({ ...status }),
  };
}
