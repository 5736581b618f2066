/**
 * Whether the snapshot's storage can be written, kept in memory: when the disk is full or the file
 * is read-only, the database is exactly the place this cannot be recorded. Every write path reports
 * its outcome here; freshness (`stale_reasons`) and /readyz read it, and the service logs each change
 * once (not once per failed write).
 */
import type { StorageError, StorageErrorKind } from "./storage-errors.js";

/** The independent writers of the snapshot. */
export type WritePath = "sync" | "metrics" | "audit";

export interface StorageProblem {
  /** One line for agents, operators and /readyz, e.g. "snapshot storage: disk full (SQLITE_FULL) since …". */
  reason: string;
  kind: StorageErrorKind;
  code: string;
  /** When the first of the current failures began (Unix ms). */
  since: number;
  /** The write paths failing now. */
  paths: WritePath[];
}

export interface StorageHealth {
  /** Null while every write path works. */
  problem(): StorageProblem | null;
  failed(path: WritePath, error: StorageError, now?: number): void;
  succeeded(path: WritePath): void;
  /** Called with the new problem (or null) whenever the reason changes. Returns an unsubscribe. */
  onChange(listener: (problem: StorageProblem | null) => void): () => void;
}

// Worst first: the reason names the most serious failure when several paths fail differently.
const SEVERITY: readonly StorageErrorKind[] = ["corrupt", "readonly", "full", "io"];

interface Failure {
  error: StorageError;
  since: number;
}

/** Creates the in-memory health record (all paths healthy). */
export function createStorageHealth(): StorageHealth {
  const failures = new Map<WritePath, Failure>();
  const listeners = new Set<(problem: StorageProblem | null) => void>();
  let current: StorageProblem | null = null;

  const compute = (): StorageProblem | null => {
    if (failures.size === 0) return null;
    const all = [...failures.values()];
    const worst = all.reduce((a, b) => (SEVERITY.indexOf(b.error.kind) < SEVERITY.indexOf(a.error.kind) ? b : a));
    const since = Math.min(...all.map((f) => f.since));
    const at = new Date(since).toISOString();
    const reason =
      worst.error.kind === "corrupt"
        ? `snapshot storage: ${worst.error.description} (${worst.error.code}) since ${at}; rebuilding it from etcd`
        : `snapshot storage: ${worst.error.description} (${worst.error.code}), writes failing since ${at}; serving the last committed snapshot`;
    return {
      reason,
      kind: worst.error.kind,
      code: worst.error.code,
      since,
      paths: [...failures.keys()].sort(),
    };
  };

  const update = (): void => {
    const next = compute();
    const changed = next?.reason !== current?.reason || next?.paths.join() !== current?.paths.join();
    current = next;
    if (changed) for (const listener of listeners) listener(current);
  };

  return {
    problem: () => current,
    failed: (path, error, now = Date.now()) => {
      const previous = failures.get(path);
      // A path keeps its "since" while it keeps failing, even if the error code changes.
      failures.set(path, { error, since: previous?.since ?? now });
      update();
    },
    succeeded: (path) => {
      if (!failures.delete(path)) return;
      update();
    },
    onChange: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
