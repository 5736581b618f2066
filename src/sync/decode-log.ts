/**
 * Logs decode problems (a value that does not decode, or decodes with a warning) with the key, the
 * revision and the reason, rate-limited: a cluster that writes thousands of bad values must not
 * flood the log. The decode_errors table keeps every one of them regardless (docs/SCHEMA.md).
 */
import type { Logger } from "../log.js";
import type { DecodeReport } from "../store/index.js";

export interface DecodeLogOptions {
  /** Lines logged per window; the rest are counted and summarised (default 10). */
  linesPerWindow?: number;
  /** Window length in ms (default one minute). */
  windowMs?: number;
  now?: () => number;
}

export interface DecodeLog {
  /** Logs the problems of one applied batch or full load (within the rate limit). */
  report(result: DecodeReport): void;
}

/** Creates a rate-limited decode problem log writing to `logger`. */
export function createDecodeLog(logger: Logger, options: DecodeLogOptions = {}): DecodeLog {
  const linesPerWindow = options.linesPerWindow ?? 10;
  const windowMs = options.windowMs ?? 60_000;
  const now = options.now ?? Date.now;
  let windowStart = -Infinity;
  let logged = 0;
  let suppressed = 0;

  const startWindowIfDue = (at: number): void => {
    if (at - windowStart < windowMs) return;
    if (suppressed > 0) {
      logger.warn("etcd sync: decode problems not logged one by one (rate limit); see the decode_errors table", {
        suppressed,
        windowMs,
      });
    }
    windowStart = at;
    logged = 0;
    suppressed = 0;
  };

  return {
    report: (result) => {
      const total = result.decodeErrors + result.decodeWarnings;
      if (total === 0) return;
      startWindowIfDue(now());
      let shown = 0;
      for (const problem of result.problems) {
        if (logged >= linesPerWindow) break;
        const { key, revision, reason } = problem;
        if (problem.severity === "error") {
          logger.warn("etcd sync: value does not decode; answers that depend on its key say so", { key, revision, reason });
        } else {
          logger.warn("etcd sync: value decoded with a warning; part of it is ignored", { key, revision, reason });
        }
        logged++;
        shown++;
      }
      suppressed += total - shown;
    },
  };
}
