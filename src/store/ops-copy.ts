/**
 * The ops copy: a consistent copy of the snapshot, published as its own file for readers (`sqlite3`,
 * report scripts, Grafana's SQLite data source, a read-only mount), so nobody needs to open the live
 * file. A reader of the copy holds locks on the copy only: it can never slow down or grow the live
 * database. How one copy is made, and why:
 *
 * 1. SQLite's online backup of the live connection into a private staging file, a few pages per turn
 *    of the event loop. Writes made through the same connection meanwhile are carried into the copy
 *    by SQLite, so the backup ends as one consistent state and never holds the writer back.
 * 2. Without the audit log (the default), the copy is rebuilt table by table into a fresh file, in
 *    chunks of rows with a turn of the event loop between them. Deleting the audit rows instead would
 *    leave their bytes in free pages and in the unused space of reused pages (inherited from the live
 *    file, too), and a VACUUM would block the event loop for the whole file. With the audit log, the
 *    staging file itself is published, switched to rollback-journal mode first.
 * 3. Either way the copy is in rollback-journal mode: a backup of a WAL database is a WAL database,
 *    and a WAL database cannot be opened from a read-only directory or mount.
 * 4. A one-row table `ops_copy` records the revision, the time of the copy and the refresh interval.
 * 5. The finished file is flushed to disk (off the event loop), gets its mode and is renamed over the
 *    published path, so a reader opens either the previous copy or the new one, never a partial file.
 *
 * Work files are created 0600 before SQLite writes into them: the audit log never sits in a file
 * anybody else can read. Nothing is left behind when a copy fails.
 */
import { chmodSync, closeSync, openSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { open, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { setImmediate as nextTurn } from "node:timers/promises";
import { Database } from "./sqlite-driver.js";
import type { Db } from "./database.js";
import { rebuildWithout } from "./ops-copy-rebuild.js";

export interface OpsCopyOptions {
  /** The published path (the copy is renamed onto it). */
  target: string;
  /** File mode of the published copy. */
  mode: number;
  /** Keep the audit_log rows (left out by default: the table is there, empty). */
  includeAudit: boolean;
  /** The refresh interval, recorded in the copy so a reader can judge its age. */
  intervalMs: number;
  now: () => number;
  /** Checked between steps: true abandons the copy (service shutdown). */
  aborted?: () => boolean;
  /** Pages per backup step (default 256: 1 MiB at SQLite's default page size). */
  pagesPerStep?: number;
  /** Rows per rebuild step (default 1000). */
  rowsPerStep?: number;
}

export interface OpsCopyResult {
  /** The etcd revision the copy holds (sync_state.revision). */
  revision: number;
  /** Unix ms when the copy's content was captured (the backup completed). */
  copiedAt: number;
  /** Unix ms when it was stamped, just before the rename. */
  publishedAt: number;
  bytes: number;
  /** Turns of the event loop the copy was spread over. */
  steps: number;
}

/** What the publisher reports about the copy, for /metrics and tests. */
export interface OpsCopyStatus {
  path: string;
  /** "waiting" until the first full sync (an empty snapshot is not published), then "ok" or "failing". */
  state: "waiting" | "ok" | "failing";
  lastAttemptAt: number | null;
  lastSuccessAt: number | null;
  /** The error of the last attempt while failing, else null. */
  lastError: string | null;
  consecutiveFailures: number;
  failuresTotal: number;
  /** Of the last published copy. */
  revision: number | null;
  bytes: number | null;
  durationMs: number | null;
}

/** Thrown when `aborted()` turned true during a copy. */
export class OpsCopyAborted extends Error {
  constructor() {
    super("ops copy abandoned: the service is stopping");
  }
}

/** Tables whose rows the copy leaves out unless the audit log is included. */
const AUDIT_TABLES: readonly string[] = ["audit_log"];

/** Makes one copy of `db` and publishes it at `options.target`. */
export async function publishOpsCopy(db: Db, options: OpsCopyOptions): Promise<OpsCopyResult> {
  const dir = dirname(options.target);
  const prefix = join(dir, `${workPrefix(options.target)}${process.pid}`);
  const staging = `${prefix}.staging`;
  const building = `${prefix}.tmp`;
  let steps = 0;
  const step = async (): Promise<void> => {
    if (options.aborted?.()) throw new OpsCopyAborted();
    steps++;
    await nextTurn();
  };
  try {
    await removeDatabaseFiles(staging);
    await removeDatabaseFiles(building);
    const flusher = await stage(`creating a work file in ${dir}`, () => {
      createPrivateFile(staging);
      return startFlusher(staging);
    });
    try {
      await stage("backing up the snapshot", () =>
        db.backup(staging, {
          progress: () => {
            if (options.aborted?.()) throw new OpsCopyAborted();
            steps++;
            flusher.kick();
            return options.pagesPerStep ?? 256;
          },
        }),
      );
    } finally {
      await flusher.close();
    }
    const copiedAt = options.now();
    let file = staging;
    if (options.includeAudit) {
      await stage("switching the copy to a rollback journal", () => useRollbackJournal(staging));
    } else {
      // The rebuilt file is a fresh rollback-journal database; the staging file is only read.
      createPrivateFile(building);
      await stage("rebuilding the copy without the audit log", () =>
        rebuildWithout(staging, building, AUDIT_TABLES, options.rowsPerStep ?? 1000, step),
      );
      await stage("removing the staging file", () => removeDatabaseFiles(staging));
      file = building;
    }
    const publishedAt = options.now();
    const revision = await stage("stamping the copy", () =>
      stampFreshness(file, { copiedAt, publishedAt, intervalMs: options.intervalMs, includeAudit: options.includeAudit }),
    );
    const bytes = statSync(file).size;
    await stage("flushing the copy to disk", () => fsyncOffLoop(file));
    await stage(`publishing ${options.target}`, async () => {
      chmodSync(file, options.mode);
      // A journal left beside the path (someone wrote to the copy and crashed) would be "rolled back"
      // into the new copy by its first reader; a -wal/-shm would be stale. The copy never has them.
      await removeCompanions(options.target);
      renameSync(file, options.target);
      await fsyncOffLoop(dir);
    });
    return { revision, copiedAt, publishedAt, bytes, steps };
  } finally {
    await removeDatabaseFiles(staging);
    await removeDatabaseFiles(building);
  }
}

/**
 * Removes work files an earlier process left next to `target` (a crash mid-copy), whatever its pid.
 * One service per copy path: a second one publishing to the same path would lose its work files.
 */
export function removeStaleOpsCopyFiles(target: string): void {
  const dir = dirname(target);
  const prefix = workPrefix(target);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return; // the directory is missing: the copy itself reports that
  }
  const work = /^\d+\.(staging|tmp)(-journal|-wal|-shm)?$/;
  for (const name of names) {
    if (name.startsWith(prefix) && work.test(name.slice(prefix.length))) rmSync(join(dir, name), { force: true });
  }
}

/** Hidden work files next to the target, on the same filesystem so the rename is atomic. */
function workPrefix(target: string): string {
  return `.${basename(target)}.`;
}

/**
 * Runs one stage in a turn of the event loop of its own (stages are synchronous file work, and
 * chained they would hold the loop for all of them); its errors name the stage
 * ("backing up the snapshot: database or disk is full").
 */
async function stage<T>(name: string, run: () => T | Promise<T>): Promise<T> {
  await nextTurn();
  try {
    return await run();
  } catch (err) {
    if (err instanceof OpsCopyAborted) throw err;
    throw new Error(`${name}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

function createPrivateFile(path: string): void {
  closeSync(openSync(path, "wx", 0o600));
}

const COMPANIONS = ["-journal", "-wal", "-shm"];

async function removeCompanions(path: string): Promise<void> {
  await Promise.all(COMPANIONS.map((suffix) => rm(`${path}${suffix}`, { force: true })));
}

/** Removes a work file and its companions, off the event loop (unlinking a large file takes a while). */
async function removeDatabaseFiles(path: string): Promise<void> {
  await Promise.all([rm(path, { force: true }), removeCompanions(path)]);
}

/** fsync in libuv's thread pool: flushing a large file must not hold the event loop. */
async function fsyncOffLoop(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Flushes the backup's destination in the background while the backup runs (one flush at a time,
 * started between steps). Without it, the backup's final commit fsyncs the whole file on the event loop.
 */
async function startFlusher(path: string): Promise<{ kick(): void; close(): Promise<void> }> {
  const handle = await open(path, "r");
  let inFlight: Promise<void> | null = null;
  return {
    kick: () => {
      inFlight ??= handle
        .datasync()
        .catch(() => undefined) // only an optimisation: the backup's commit syncs the file anyway
        .finally(() => {
          inFlight = null;
        });
    },
    close: async () => {
      await inFlight;
      await handle.close();
    },
  };
}

function useRollbackJournal(path: string): void {
  const db = new Database(path);
  try {
    db.pragma("journal_mode = DELETE");
  } finally {
    db.close();
  }
}

interface Freshness {
  copiedAt: number;
  publishedAt: number;
  intervalMs: number;
  includeAudit: boolean;
}

/** Writes the `ops_copy` row (docs/SCHEMA.md) into the copy; returns the revision the copy holds. */
function stampFreshness(path: string, freshness: Freshness): number {
  const db = new Database(path);
  try {
    db.pragma("synchronous = OFF");
    const version = db.pragma("user_version", { simple: true }) as number;
    db.exec(`DROP TABLE IF EXISTS ops_copy;
      CREATE TABLE ops_copy (
        id             INTEGER PRIMARY KEY CHECK (id = 1),
        revision       INTEGER NOT NULL,
        synced_at      INTEGER,
        copied_at      INTEGER NOT NULL,
        published_at   INTEGER NOT NULL,
        interval_ms    INTEGER NOT NULL,
        includes_audit INTEGER NOT NULL,
        schema_version INTEGER NOT NULL
      )`);
    const inserted = db
      .prepare(
        `INSERT INTO ops_copy SELECT 1, revision, synced_at, ?, ?, ?, ?, ? FROM sync_state WHERE id = 1 RETURNING revision`,
      )
      .get(freshness.copiedAt, freshness.publishedAt, freshness.intervalMs, freshness.includeAudit ? 1 : 0, version) as
      | { revision: number }
      | undefined;
    if (inserted === undefined) throw new Error("the copy has no sync_state row");
    return inserted.revision;
  } finally {
    db.close();
  }
}
