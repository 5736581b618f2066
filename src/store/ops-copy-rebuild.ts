/**
 * Rebuilds a copy of the snapshot without some tables' rows (the ops copy without the audit log,
 * ops-copy.ts): the schema and every other row go into a fresh file, chunk by chunk, so nothing of
 * the left-out rows remains in it (not even in free pages) and the event loop is never held for long.
 */
import { Database, type Statement } from "./sqlite-driver.js";
import type { Db } from "./database.js";

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

interface TableListRow {
  name: string;
  type: string;
  wr: number;
}

interface ColumnInfo {
  name: string;
  pk: number;
}

/**
 * Copies the schema and every row of `source` into the empty file `target`, except the rows of
 * `excluded` tables (their tables stay, empty). Each chunk is one statement inside SQLite
 * (INSERT … SELECT over a key range); `step` yields to the event loop between chunks.
 */
export async function rebuildWithout(
  source: string,
  target: string,
  excluded: readonly string[],
  rowsPerStep: number,
  step: () => Promise<void>,
): Promise<void> {
  const db = new Database(target);
  try {
    // A private work file: no journal on disk and no fsync per chunk; it is flushed once before the rename.
    db.pragma("journal_mode = MEMORY");
    db.pragma("synchronous = OFF");
    db.prepare("ATTACH DATABASE ? AS src").run(source);
    db.pragma(`main.page_size = ${db.pragma("src.page_size", { simple: true }) as number}`);
    db.pragma(`main.user_version = ${db.pragma("src.user_version", { simple: true }) as number}`);
    const schema = db
      .prepare<[], { type: string; sql: string }>(
        "SELECT type, sql FROM src.sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid",
      )
      .all();
    // Tables, indexes and views first (indexes are filled chunk by chunk, never built in one go);
    // triggers last, so that copying the rows does not fire them.
    db.transaction(() => {
      for (const object of schema) if (object.type !== "trigger") db.exec(object.sql);
    })();
    const tables = (db.pragma("src.table_list") as TableListRow[]).filter(
      (t) => t.type === "table" && !t.name.startsWith("sqlite_") && !excluded.includes(t.name),
    );
    for (const table of tables) await copyTable(db, table, rowsPerStep, step);
    const hasSequence = db
      .prepare("SELECT 1 FROM src.sqlite_schema WHERE name = 'sqlite_sequence'")
      .get();
    if (hasSequence) {
      db.exec("DELETE FROM main.sqlite_sequence");
      db.prepare(
        `INSERT INTO main.sqlite_sequence (name, seq) SELECT name, seq FROM src.sqlite_sequence
         WHERE name NOT IN (${excluded.map(() => "?").join(", ") || "NULL"})`,
      ).run(...excluded);
    }
    for (const object of schema) if (object.type === "trigger") db.exec(object.sql);
    db.exec("DETACH DATABASE src");
  } finally {
    db.close();
  }
}

/** Copies one table in key order, `rowsPerStep` rows per statement, over keyset ranges. */
async function copyTable(db: Db, table: TableListRow, rowsPerStep: number, step: () => Promise<void>): Promise<void> {
  const name = quoteIdent(table.name);
  const keyColumns =
    table.wr === 1
      ? (db.pragma(`src.table_info(${name})`) as ColumnInfo[])
          .filter((c) => c.pk > 0)
          .sort((a, b) => a.pk - b.pk)
          .map((c) => quoteIdent(c.name))
      : ["rowid"];
  const columns = keyColumns.join(", ");
  const params = keyColumns.map(() => "?").join(", ");
  const where = (lower: boolean, upper: boolean): string =>
    [lower ? `(${columns}) > (${params})` : "", upper ? `(${columns}) <= (${params})` : ""]
      .filter((part) => part !== "")
      .join(" AND ") || "1";
  // The last key of the next chunk (none: the rest fits in one chunk), and the chunk copy itself.
  // Keys are read with safe integers and passed back as they are, so int64 keys stay exact.
  const bound = (lower: boolean): Statement =>
    db
      .prepare(`SELECT ${columns} FROM src.${name} WHERE ${where(lower, false)} ORDER BY ${columns} LIMIT 1 OFFSET ?`)
      .raw(true)
      .safeIntegers(true);
  const copy = (lower: boolean, upper: boolean): Statement =>
    db.prepare(`INSERT INTO main.${name} SELECT * FROM src.${name} WHERE ${where(lower, upper)} ORDER BY ${columns}`);
  const firstBound = bound(false);
  const nextBound = bound(true);
  const copyFirst = copy(false, true);
  const copyBetween = copy(true, true);
  const copyRest = copy(true, false);
  const copyAll = copy(false, false);
  let lower: unknown[] | null = null;
  for (;;) {
    await step();
    const upper = (lower === null ? firstBound.get(rowsPerStep - 1) : nextBound.get(...lower, rowsPerStep - 1)) as
      | unknown[]
      | undefined;
    if (upper === undefined) {
      if (lower === null) copyAll.run();
      else copyRest.run(...lower);
      return;
    }
    if (lower === null) copyFirst.run(...upper);
    else copyBetween.run(...lower, ...upper);
    lower = upper;
  }
}
