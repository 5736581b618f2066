/**
 * Canonical, paged dumps of the read-model tables, for `verify`: every row of every table that is a
 * pure function of etcd's keys, in primary-key order, so two databases can be compared by a
 * streaming merge without holding either in memory (300k keys and more).
 *
 * The list of tables comes from the schema itself: every table is dumped unless it is named in
 * {@link NOT_READ_MODEL}, so a table a new migration adds is compared by `verify` from the start
 * (a forgotten exclusion shows up as a difference; a forgotten inclusion could never be noticed).
 */
import type { Db } from "./database.js";

/**
 * Tables that legitimately differ between two faithful mirrors of the same etcd revision, with the
 * reason: `verify` leaves them out. A new table that is not a function of etcd's current keys
 * (history, metrics, bookkeeping) belongs here.
 */
export const NOT_READ_MODEL: Readonly<Record<string, string>> = {
  sync_state: "this mirror's own bookkeeping (revision, link state, phase)",
  change_log: "the history of changes this mirror applied, bounded",
  decode_errors: "the history of decode failures this mirror saw, bounded",
  scrape_targets: "broker metrics, not etcd",
  scrapes: "broker metrics, not etcd",
  metric_samples: "broker metrics, not etcd",
  broker_views: "broker metrics, not etcd",
  operator_view: "operator metrics, not etcd",
  audit_log: "tool calls made to this service",
  lag_end_offset_series: "lag history: when this mirror saw each end offset",
  lag_commit_series: "lag history: when this mirror saw each commit",
  lag_partition_status: "lag verdicts judged from this mirror's history",
  lag_group_status: "lag verdicts judged from this mirror's history",
  lag_topic_status: "lag verdicts judged from this mirror's history",
  lag_evaluation: "the lag evaluator's bookkeeping",
  events: "the semantic change events this mirror derived, bounded (a fresh read has none)",
  event_feed: "from where this mirror's change events are complete",
};

/** A read-model table: any table of the schema not in {@link NOT_READ_MODEL}. */
export type ReadModelTable = string;

/** A primary-key value as read with safe integers: integers are bigint, so int64 values stay exact. */
export type KeyPart = bigint | number | string | Buffer | null;

/** One row: its primary key (for ordering) and every column as canonical text (for equality). */
export interface DumpRow {
  key: readonly KeyPart[];
  /** One entry per column of `columns(table)`, see {@link canonicalCell}. */
  cells: readonly string[];
}

export interface TableDump {
  /** The dumped tables, in schema order (the raw mirror `kv` first, then the derived rows). */
  names(): readonly ReadModelTable[];
  /** Every column of `table`, in declaration order (the order of `DumpRow.cells`). */
  columns(table: ReadModelTable): readonly string[];
  /** The primary-key columns of `table`, in key order (the order of `DumpRow.key`). */
  keyColumns(table: ReadModelTable): readonly string[];
  count(table: ReadModelTable): number;
  /** Every row of `table` in primary-key order, read in pages of `pageSize` (keyset paging). */
  rows(table: ReadModelTable, pageSize?: number): Generator<DumpRow>;
  /**
   * Runs `fn` inside one read transaction, so every read it makes (across pages and tables) sees
   * one state of the database even while another process (the running service) writes to it.
   * Needs a connection nobody else writes through meanwhile: a write on the same connection would
   * join this transaction.
   */
  withReadSnapshot<T>(fn: () => Promise<T>): Promise<T>;
  /** SQLite's quick integrity check of the whole file: [] when intact, else the first problems. */
  quickCheck(limit?: number): string[];
}

interface TableShape {
  columns: string[];
  keyColumns: string[];
  /** Positions of the key columns within `columns`. */
  keyIndexes: number[];
  first: (limit: number) => unknown[][];
  after: (key: readonly KeyPart[], limit: number) => unknown[][];
  count: () => number;
}

interface ColumnInfo {
  name: string;
  pk: number;
}

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** Prepares (lazily, once per table) the paged dump statements over an open database. */
export function createTableDump(db: Db): TableDump {
  const shapes = new Map<ReadModelTable, TableShape>();
  const tableNames = db.prepare<[], { name: string }>(
    "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid",
  );
  const names = (): ReadModelTable[] =>
    tableNames.all().flatMap(({ name }) => (Object.hasOwn(NOT_READ_MODEL, name) ? [] : [name]));

  const shape = (table: ReadModelTable): TableShape => {
    const cached = shapes.get(table);
    if (cached) return cached;
    if (!names().includes(table)) {
      throw new Error(`table dump: "${table}" is not a read-model table`);
    }
    const info = db.pragma(`table_info(${quoteIdent(table)})`) as ColumnInfo[];
    if (info.length === 0) throw new Error(`table dump: table "${table}" does not exist`);
    const columns = info.map((c) => c.name);
    const keyInfo = info.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
    if (keyInfo.length === 0) throw new Error(`table dump: table "${table}" has no primary key`);
    const keyColumns = keyInfo.map((c) => c.name);
    const select = `SELECT ${columns.map(quoteIdent).join(", ")} FROM ${quoteIdent(table)}`;
    const order = `ORDER BY ${keyColumns.map(quoteIdent).join(", ")} LIMIT ?`;
    // A row value comparison continues exactly after the last key of the previous page.
    const tuple = `(${keyColumns.map(quoteIdent).join(", ")}) > (${keyColumns.map(() => "?").join(", ")})`;
    // Safe integers: int64 columns (offsets, retention bytes) compare exactly, beyond 2^53 too.
    const first = db.prepare(`${select} ${order}`).raw(true).safeIntegers(true);
    const after = db.prepare(`${select} WHERE ${tuple} ${order}`).raw(true).safeIntegers(true);
    const count = db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM ${quoteIdent(table)}`);
    const result: TableShape = {
      columns,
      keyColumns,
      keyIndexes: keyColumns.map((name) => columns.indexOf(name)),
      first: (limit) => first.all(limit) as unknown[][],
      after: (key, limit) => after.all(...key, limit) as unknown[][],
      count: () => (count.get() as { n: number }).n,
    };
    shapes.set(table, result);
    return result;
  };

  return {
    names,
    columns: (table) => shape(table).columns,
    keyColumns: (table) => shape(table).keyColumns,
    count: (table) => shape(table).count(),
    *rows(table, pageSize = 5000) {
      const s = shape(table);
      let page = s.first(pageSize);
      while (page.length > 0) {
        let key: KeyPart[] = [];
        for (const values of page) {
          key = s.keyIndexes.map((i) => values[i] as KeyPart);
          yield { key, cells: values.map(canonicalCell) };
        }
        if (page.length < pageSize) return;
        page = s.after(key, pageSize);
      }
    },
    quickCheck: (limit = 5) => {
      const rows = db.pragma(`quick_check(${Math.max(1, Math.floor(limit))})`) as { quick_check: string }[];
      const problems = rows.map((r) => r.quick_check);
      return problems.length === 1 && problems[0] === "ok" ? [] : problems;
    },
    withReadSnapshot: async (fn) => {
      if (db.inTransaction) {
        throw new Error("table dump: a transaction is already open on this connection; use a dedicated connection");
      }
      db.exec("BEGIN");
      try {
        return await fn();
      } finally {
        if (db.inTransaction) db.exec("COMMIT");
      }
    },
  };
}

/**
 * One SQLite value as unambiguous text: NULL as `NULL`, integers in decimal, reals always with a
 * fraction or exponent (so 1.0 never equals the integer 1), text as a JSON string, BLOBs as an SQL
 * hex literal `x'0aff'`.
 */
export function canonicalCell(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") {
    const text = String(value);
    return Number.isInteger(value) && !text.includes("e") ? `${text}.0` : text;
  }
  if (typeof value === "string") return JSON.stringify(value);
  if (Buffer.isBuffer(value)) return `x'${value.toString("hex")}'`;
  throw new Error(`table dump: unexpected SQLite value of type ${typeof value}`);
}

/** SQLite's storage-class order: NULL < numbers < text < BLOB. */
function rank(part: KeyPart): number {
  if (part === null) return 0;
  if (typeof part === "bigint" || typeof part === "number") return 1;
  if (typeof part === "string") return 2;
  return 3;
}

/**
 * Compares two strings in UTF-8 byte order, which is SQLite's BINARY collation. JavaScript's `<`
 * compares UTF-16 code units, which puts characters above U+FFFF (surrogate pairs) before
 * U+E000–U+FFFF; this corrects exactly that case without encoding either string.
 */
export function compareText(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xSurrogate = x >= 0xd800 && x <= 0xdfff;
    const ySurrogate = y >= 0xd800 && y <= 0xdfff;
    if (xSurrogate && !ySurrogate && y >= 0xe000) return 1;
    if (ySurrogate && !xSurrogate && x >= 0xe000) return -1;
    return x - y;
  }
  return a.length - b.length;
}

function comparePart(a: KeyPart, b: KeyPart): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (a === null || b === null) return 0;
  if (typeof a === "string" && typeof b === "string") return compareText(a, b);
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return Buffer.compare(a, b);
  // Numbers: bigint and number compare correctly with < and > across the two types.
  const x = a as bigint | number;
  const y = b as bigint | number;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Orders two primary keys exactly as SQLite's `ORDER BY` over the key columns does. */
export function compareKeys(a: readonly KeyPart[], b: readonly KeyPart[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = comparePart(a[i] as KeyPart, b[i] as KeyPart);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}
