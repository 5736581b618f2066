/**
 * A corrupt snapshot file (SQLITE_CORRUPT, SQLITE_NOTADB, or a failed integrity check after an
 * unclean stop) is never repaired in place: the snapshot is a cache and etcd is the truth. The file
 * is moved aside to `<path>.corrupt` (with its -wal/-shm, for forensics; one copy, replaced by the
 * next), a fresh database takes its place and the sync loads it from etcd.
 *
 * What etcd cannot give back — the audit log, metrics scrapes, change and decode-error history — is
 * copied from the corrupt copy afterwards, row by row as far as its pages can still be read; rows
 * on broken pages are lost, and the report (and the log) says how many were carried and where a
 * table stopped. Copied rows keep their ids, and the fresh file continues each AUTOINCREMENT
 * counter where the old one was, so rows written meanwhile never collide with them.
 */
import { Database } from "./sqlite-driver.js";
import { existsSync, renameSync, rmSync } from "node:fs";
import { openDatabase, type Db } from "./database.js";
import type { Store } from "./index.js";
import { NOT_READ_MODEL } from "./table-dump.js";

const COMPANIONS = ["", "-wal", "-shm"];

/** Where the last corrupt file of `path` is kept. */
export function corruptCopyOf(path: string): string {
  return `${path}.corrupt`;
}

/**
 * Moves the corrupt database at `path` aside and creates a fresh, migrated one in its place that
 * continues the old AUTOINCREMENT counters (as far as they can be read). Nothing may have it open.
 */
export function moveCorruptFileAside(path: string): string {
  const aside = corruptCopyOf(path);
  for (const suffix of COMPANIONS) rmSync(aside + suffix, { force: true });
  for (const suffix of COMPANIONS) if (existsSync(path + suffix)) renameSync(path + suffix, aside + suffix);
  const fresh = openDatabase(path);
  try {
    continueCounters(aside, fresh);
  } finally {
    fresh.close();
  }
  return aside;
}

/**
 * Reopens a running store on a fresh file, the corrupt one kept aside, and starts carrying its
 * local tables over (see carryOverLocalTables; `carriedOver` never rejects).
 */
export function rebuildCorruptSnapshot(store: Store): { corruptCopy: string; carriedOver: Promise<CarryOverReport> } {
  let corruptCopy = "";
  let livePath = "";
  store.reopen((path) => {
    livePath = path;
    corruptCopy = moveCorruptFileAside(path);
  });
  return { corruptCopy, carriedOver: carryOverLocalTables(corruptCopy, livePath) };
}

function continueCounters(aside: string, fresh: Db): void {
  let old: Db | null = null;
  try {
    old = new Database(aside, { readonly: true, fileMustExist: true });
    const counters = old.prepare<[], { name: string; seq: number }>("SELECT name, seq FROM sqlite_sequence").all();
    const set = fresh.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)");
    fresh.transaction(() => {
      for (const { name, seq } of counters) set.run(name, seq);
    })();
  } catch {
    // Unreadable counters: carried rows that collide with new ones are skipped (INSERT OR IGNORE).
  } finally {
    old?.close();
  }
}

export interface CarryOverReport {
  /** Rows copied per table. */
  carried: Record<string, number>;
  /** Tables that could not be copied to the end, with the error that stopped them. */
  incomplete: Record<string, string>;
}

/** Rows copied per transaction; between two, the event loop runs and the service writes as usual. */
const CHUNK = 1000;

/**
 * Copies every table that is not rebuilt from etcd (the read model and sync_state are) from the
 * corrupt copy into the live database at `livePath`, in chunks; rows already present win.
 */
export async function carryOverLocalTables(corruptCopy: string, livePath: string): Promise<CarryOverReport> {
  const report: CarryOverReport = { carried: {}, incomplete: {} };
  let old: Db;
  try {
    old = new Database(corruptCopy, { readonly: true, fileMustExist: true });
  } catch (err) {
    report.incomplete["*"] = (err as Error).message;
    return report;
  }
  const live = new Database(livePath, { fileMustExist: true });
  // Never wait inside SQLite (that would block the event loop): a busy database is retried later.
  live.pragma("busy_timeout = 0");
  try {
    for (const table of localTables(old, live)) {
      try {
        report.carried[table.name] = await copyTable(old, live, table);
      } catch (err) {
        report.carried[table.name] ??= 0;
        report.incomplete[table.name] = (err as Error).message;
      }
    }
  } finally {
    old.close();
    live.close();
  }
  return report;
}

interface LocalTable {
  name: string;
  columns: string[];
  withoutRowid: boolean;
}

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;
/** What etcd cannot give back: the tables `verify` leaves out, but for this mirror's own bookkeeping. */
const isLocal = (name: string): boolean => Object.hasOwn(NOT_READ_MODEL, name) && name !== "sync_state";

function localTables(old: Db, live: Db): LocalTable[] {
  let names: { name: string; wr: number }[];
  try {
    names = old.prepare<[], { name: string; wr: number }>(
      "SELECT name, wr FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite_%'",
    ).all();
  } catch {
    return [];
  }
  return names
    .filter(({ name }) => isLocal(name))
    .map(({ name, wr }) => ({
      name,
      withoutRowid: wr === 1,
      columns: (live.pragma(`table_info(${quote(name)})`) as { name: string }[]).map((c) => c.name),
    }))
    .filter((t) => t.columns.length > 0);
}

async function copyTable(old: Db, live: Db, table: LocalTable): Promise<number> {
  const columns = table.columns.map(quote).join(", ");
  const insert = live.prepare(
    `INSERT OR IGNORE INTO ${quote(table.name)} (${columns}) VALUES (${table.columns.map(() => "?").join(", ")})`,
  );
  const insertAll = live.transaction((rows: unknown[][]) => {
    for (const row of rows) insert.run(...row);
  });
  let copied = 0;
  const write = async (rows: unknown[][]): Promise<void> => {
    for (;;) {
      try {
        insertAll(rows);
        copied += rows.length;
        return;
      } catch (err) {
        if ((err as { code?: string }).code !== "SQLITE_BUSY") throw err;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  };
  if (table.withoutRowid) {
    // Small tables (scrape targets, last views): read whole.
    await write(old.prepare(`SELECT ${columns} FROM ${quote(table.name)}`).raw(true).all() as unknown[][]);
    return copied;
  }
  const page = old
    .prepare(`SELECT rowid, ${columns} FROM ${quote(table.name)} WHERE rowid > ? ORDER BY rowid LIMIT ${CHUNK}`)
    .raw(true);
  let after = -Infinity;
  for (;;) {
    const rows = page.all(after) as unknown[][];
    if (rows.length === 0) return copied;
    after = rows.at(-1)?.[0] as number;
    await write(rows.map((row) => row.slice(1)));
    await new Promise((resolve) => setImmediate(resolve));
  }
}
