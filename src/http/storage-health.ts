/**
 * The SQLite file as seen by ops: the live file's WAL (size, checkpoint starvation, disk budget) and
 * the ops copy (age, revision, failures), as Prometheus series for /metrics (read at scrape time) and a
 * reason for /readyz. The service passes in where to read them.
 */
import { Counter, Gauge, type Registry } from "prom-client";
import type { OpsCopyStatus, WalStatus } from "../store/index.js";
import { walReadinessProblem } from "../store/index.js";

/** Where /metrics and /readyz read the file's health (each null when that part is off). */
export interface StorageHealth {
  wal(): WalStatus | null;
  opsCopy(): OpsCopyStatus | null;
}

/** Why /readyz should fail because of the live file (its WAL over the disk budget), or null. */
export function storageReadinessProblem(storage: StorageHealth | undefined): string | null {
  return walReadinessProblem(storage?.wal() ?? null);
}

/** A gauge read from the storage health at scrape time; absent while `value` is null (that part is off). */
function storageGauge(registers: Registry[], name: string, help: string, value: () => number | null): void {
  new Gauge({
    name,
    help,
    registers,
    collect() {
      this.reset();
      const v = value();
      if (v !== null) this.set(v);
    },
  });
}

/** Registers the WAL and ops-copy series (no sample for a part that is off). */
export function registerStorageMetrics(registers: Registry[], storage: StorageHealth | undefined, now: () => number): void {
  const wal = (): WalStatus | null => storage?.wal() ?? null;
  const copy = (): OpsCopyStatus | null => storage?.opsCopy() ?? null;
  const ofWal = (f: (w: WalStatus) => number) => (): number | null => {
    const w = wal();
    return w === null ? null : f(w);
  };
  const ofCopy = (f: (c: OpsCopyStatus) => number) => (): number | null => {
    const c = copy();
    return c === null ? null : f(c);
  };
  storageGauge(registers, "kafscale_mcp_sqlite_wal_bytes", "Size of the live database's write-ahead log file.", ofWal((w) => w.walBytes));
  storageGauge(
    registers,
    "kafscale_mcp_sqlite_wal_size_limit_bytes",
    "Size the WAL is cut back to after a complete checkpoint (KAFSCALE_MCP_WAL_SIZE_LIMIT).",
    ofWal((w) => w.sizeLimitBytes),
  );
  storageGauge(
    registers,
    "kafscale_mcp_sqlite_wal_budget_bytes",
    "WAL size at which /readyz fails (KAFSCALE_MCP_WAL_BUDGET).",
    ofWal((w) => w.budgetBytes),
  );
  storageGauge(
    registers,
    "kafscale_mcp_sqlite_checkpoint_age_seconds",
    "Seconds since a checkpoint last copied the whole WAL into the database file.",
    ofWal((w) => Math.max(0, now() - w.lastCompleteCheckpointAt) / 1000),
  );
  storageGauge(
    registers,
    "kafscale_mcp_sqlite_checkpoint_starved",
    "1 while a reader's open transaction keeps checkpoints from completing and the WAL is above its limit.",
    ofWal((w) => (w.starved ? 1 : 0)),
  );
  storageGauge(
    registers,
    "kafscale_mcp_ops_copy_age_seconds",
    "Seconds since the ops copy was last published (-1: never).",
    ofCopy((c) => (c.lastSuccessAt === null ? -1 : Math.max(0, now() - c.lastSuccessAt) / 1000)),
  );
  storageGauge(registers, "kafscale_mcp_ops_copy_revision", "etcd revision held by the published ops copy (0: none).", ofCopy((c) => c.revision ?? 0));
  storageGauge(registers, "kafscale_mcp_ops_copy_bytes", "Size of the published ops copy.", ofCopy((c) => c.bytes ?? 0));
  storageGauge(
    registers,
    "kafscale_mcp_ops_copy_duration_seconds",
    "Time the last published ops copy took to make.",
    ofCopy((c) => (c.durationMs ?? 0) / 1000),
  );
  storageGauge(
    registers,
    "kafscale_mcp_ops_copy_failing",
    "1 while the last attempt to publish the ops copy failed.",
    ofCopy((c) => (c.state === "failing" ? 1 : 0)),
  );
  new Counter({
    name: "kafscale_mcp_ops_copy_failures_total",
    help: "Failed attempts to publish the ops copy.",
    registers,
    collect() {
      this.reset();
      const c = copy();
      if (c !== null) this.inc(c.failuresTotal);
    },
  });
}
