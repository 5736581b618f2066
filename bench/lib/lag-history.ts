/**
 * The consumer-lag part of a run (issue 14): how long the first evaluation took after the cold sync,
 * and how much the lag history and verdicts add to the database, table by table, read from
 * SQLite's own page accounting (the dbstat virtual table) once the service has stopped.
 */
import { decodeSeries } from "../../src/store/lag-history-codec.js";
import { Database } from "../../src/store/sqlite-driver.js";
import { call, closeAll, connect } from "./mcp.js";

export interface LagTableSize {
  name: string;
  rows: number | null;
  bytes: number;
}

export interface LagHistorySize {
  /** The lag tables and their indexes, bytes (pages they use). */
  tables: LagTableSize[];
  lagBytes: number;
  /** Everything else in the database file, bytes. */
  restBytes: number;
  /** lagBytes / restBytes: what the lag tables (history and verdicts) add to the database. */
  share: number;
  /** The history tables alone (lag_end_offset_series, lag_commit_series), bytes, and their share of the rest. */
  historyBytes: number;
  historyShare: number;
  windowPoints: number;
  /** Commit and end-offset series, and the points they hold now. */
  series: number;
  points: number;
  /** History bytes per kept point now (series keys included). */
  bytesPerPoint: number;
}

const LAG_OBJECTS = /^(lag_|sqlite_autoindex_lag_)/;

/**
 * Waits until consumer_lag answers (the first evaluation after the cold sync is done); returns ms
 * waited, or null at once when the service offers no consumer_lag (a `--ref` from before the lag
 * history: the harness measures it too, so the history's own cost shows against the same machine).
 */
export async function waitForLagEvaluation(baseUrl: string, timeoutMs: number): Promise<number | null> {
  const started = performance.now();
  const client = await connect(baseUrl);
  try {
    const { tools } = await client.listTools();
    if (!tools.some((tool) => tool.name === "consumer_lag")) return null;
    for (;;) {
      const outcome = await call(client, "consumer_lag", { limit: 1 });
      if (outcome.ok) return Math.round(performance.now() - started);
      if (performance.now() - started > timeoutMs) throw new Error(`consumer_lag not evaluated within ${timeoutMs} ms: ${outcome.error}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await closeAll([client]);
  }
}

/** Reads the lag tables' share of the database at `dbPath` (the service must have stopped). */
export function lagHistorySize(dbPath: string): LagHistorySize {
  const db = new Database(dbPath, { readonly: true });
  try {
    const pages = db.prepare("SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name").all() as { name: string; bytes: number }[];
    const isTable = new Set(
      (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name),
    );
    const count = (table: string): number => (db.prepare(`SELECT count(*) AS n FROM "${table}"`).get() as { n: number }).n;
    const tables = pages
      .filter((p) => LAG_OBJECTS.test(p.name))
      .map((p) => ({ name: p.name, rows: isTable.has(p.name) ? count(p.name) : null, bytes: p.bytes }))
      .sort((a, b) => b.bytes - a.bytes);
    const lagBytes = tables.reduce((sum, t) => sum + t.bytes, 0);
    const restBytes = pages.filter((p) => !LAG_OBJECTS.test(p.name)).reduce((sum, p) => sum + p.bytes, 0);
    const windowPoints = (db.prepare("SELECT window_points AS w FROM lag_evaluation").get() as { w: number | null }).w ?? 30;
    // The history tables (migration 8: one row per series, the window in a BLOB); points counted by
    // decoding each series, as the service does (the SQL views decode too, but far more slowly).
    const pointTables = tables.filter((t) => t.name === "lag_commit_series" || t.name === "lag_end_offset_series");
    const series = pointTables.reduce((sum, t) => sum + (t.rows ?? 0), 0);
    let points = 0;
    for (const table of ["lag_commit_series", "lag_end_offset_series"]) {
      for (const row of db.prepare(`SELECT points FROM ${table}`).iterate() as Iterable<{ points: Buffer }>) {
        points += decodeSeries(row.points).length;
      }
    }
    const pointBytes = pointTables.reduce((sum, t) => sum + t.bytes, 0);
    const bytesPerPoint = points > 0 ? pointBytes / points : 0;
    return {
      tables,
      lagBytes,
      restBytes,
      share: restBytes > 0 ? lagBytes / restBytes : 0,
      historyBytes: pointBytes,
      historyShare: restBytes > 0 ? pointBytes / restBytes : 0,
      windowPoints,
      series,
      points,
      bytesPerPoint: Math.round(bytesPerPoint * 10) / 10,
    };
  } finally {
    db.close();
  }
}
