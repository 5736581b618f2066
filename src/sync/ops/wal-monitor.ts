/**
 * Watches the live file's write-ahead log on a timer (src/store/wal-health.ts measures it) and logs
 * one line per change: checkpoint starved or recovered, WAL over or back under its disk budget.
 * /metrics and /readyz read `status()`.
 */
import type { WalConfig } from "../../config.js";
import type { Logger } from "../../log.js";
import { createWalHealth, type WalProbe, type WalStatus, type WalTransition } from "../../store/index.js";
import { createPeriodic, realTimer, type Timer } from "./periodic.js";

export interface WalMonitorOptions {
  probe: () => WalProbe;
  limits: WalConfig;
  logger: Logger;
  now?: () => number;
  timer?: Timer;
  /** Time between checks (default 5 s); each check is one PASSIVE checkpoint. */
  intervalMs?: number;
}

export interface WalMonitor {
  start(): void;
  /** One check now; returns the state after it. */
  check(): WalStatus;
  stop(): Promise<void>;
  /** The state of the last check; null before the first. */
  status(): WalStatus | null;
}

const DEFAULT_INTERVAL_MS = 5000;

export function createWalMonitor(options: WalMonitorOptions): WalMonitor {
  const { logger } = options;
  const health = createWalHealth(options.probe, options.limits, options.now ?? Date.now);
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;

  const log = (transition: WalTransition, status: WalStatus): void => {
    const fields = {
      wal_bytes: status.walBytes,
      wal_size_limit_bytes: status.sizeLimitBytes,
      wal_budget_bytes: status.budgetBytes,
      seconds_since_complete_checkpoint: Math.round((status.checkedAt - status.lastCompleteCheckpointAt) / 1000),
    };
    switch (transition) {
      case "starved":
        logger.warn(
          "live database checkpoint starved: a reader holds a transaction open on the live file, so the WAL " +
            "cannot be folded back and grows with every write; close it and read the ops copy instead",
          fields,
        );
        return;
      case "recovered":
        logger.info("live database checkpoint completed again; the WAL shrinks back to its limit with the next write", fields);
        return;
      case "over_budget":
        logger.error("live database WAL over its disk budget; /readyz reports not ready until it shrinks", fields);
        return;
      case "under_budget":
        logger.info("live database WAL back under its disk budget", fields);
        return;
    }
  };

  const check = (): WalStatus => {
    const { status, transitions } = health.check();
    for (const transition of transitions) log(transition, status);
    return status;
  };

  let lastFailure: string | null = null;
  const periodic = createPeriodic(async () => {
    try {
      check();
      lastFailure = null;
    } catch (err) {
      // Not expected (the probe handles SQLite's busy answers); say it once, keep checking.
      const message = err instanceof Error ? err.message : String(err);
      if (message !== lastFailure) logger.warn("live database WAL check failed", { error: message });
      lastFailure = message;
    }
    return intervalMs;
  }, options.timer ?? realTimer);
  return { start: () => periodic.start(), check, stop: () => periodic.stop(), status: () => health.status() };
}
