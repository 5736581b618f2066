/**
 * The SQLite file as seen by ops: the live file's WAL (size, checkpoint starvation, disk budget) and
 * the ops copy (age, revision, failures), as Prometheus lines for /metrics and a reason for /readyz.
 * The service passes in where to read them; this module only formats.
 */
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

const gauge = (name: string, help: string, value: number, type = "gauge"): string[] => [
  `# HELP ${name} ${help}`,
  `# TYPE ${name} ${type}`,
  `${name} ${value}`,
];

/** Prometheus exposition lines for the WAL and the ops copy (none for a part that is off). */
export function storageMetricLines(storage: StorageHealth | undefined, now: number): string[] {
  const lines: string[] = [];
  const wal = storage?.wal() ?? null;
  if (wal !== null) {
    lines.push(
      ...gauge("kafscale_mcp_sqlite_wal_bytes", "Size of the live database's write-ahead log file.", wal.walBytes),
      ...gauge(
        "kafscale_mcp_sqlite_wal_size_limit_bytes",
        "Size the WAL is cut back to after a complete checkpoint (KAFSCALE_MCP_WAL_SIZE_LIMIT).",
        wal.sizeLimitBytes,
      ),
      ...gauge(
        "kafscale_mcp_sqlite_wal_budget_bytes",
        "WAL size at which /readyz fails (KAFSCALE_MCP_WAL_BUDGET).",
        wal.budgetBytes,
      ),
      ...gauge(
        "kafscale_mcp_sqlite_checkpoint_age_seconds",
        "Seconds since a checkpoint last copied the whole WAL into the database file.",
        Math.max(0, now - wal.lastCompleteCheckpointAt) / 1000,
      ),
      ...gauge(
        "kafscale_mcp_sqlite_checkpoint_starved",
        "1 while a reader's open transaction keeps checkpoints from completing and the WAL is above its limit.",
        wal.starved ? 1 : 0,
      ),
    );
  }
  const copy = storage?.opsCopy() ?? null;
  if (copy !== null) {
    lines.push(
      ...gauge(
        "kafscale_mcp_ops_copy_age_seconds",
        "Seconds since the ops copy was last published (-1: never).",
        copy.lastSuccessAt === null ? -1 : Math.max(0, now - copy.lastSuccessAt) / 1000,
      ),
      ...gauge("kafscale_mcp_ops_copy_revision", "etcd revision held by the published ops copy (0: none).", copy.revision ?? 0),
      ...gauge("kafscale_mcp_ops_copy_bytes", "Size of the published ops copy.", copy.bytes ?? 0),
      ...gauge(
        "kafscale_mcp_ops_copy_duration_seconds",
        "Time the last published ops copy took to make.",
        (copy.durationMs ?? 0) / 1000,
      ),
      ...gauge("kafscale_mcp_ops_copy_failing", "1 while the last attempt to publish the ops copy failed.", copy.state === "failing" ? 1 : 0),
      ...gauge("kafscale_mcp_ops_copy_failures_total", "Failed attempts to publish the ops copy.", copy.failuresTotal, "counter"),
    );
  }
  return lines;
}
