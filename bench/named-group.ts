/**
 * What reading one named group's lag costs (describe_group's summary, consumer_lag's `group`):
 * the store's read (src/store/lag-reads.ts, a primary-key seek since 2026-11-26) against the shared
 * filtered statement it used before, over `--groups` rows of lag_group_status (2,000 = size L).
 * No etcd, no evaluator: the rows are written straight into a migrated snapshot file.
 *
 *   npx tsx bench/named-group.ts [--groups 2000] [--calls 20000]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { openDatabase } from "../src/store/database.js";
import { createLagReads } from "../src/store/lag-reads.js";

const { values } = parseArgs({
  options: { groups: { type: "string", default: "2000" }, calls: { type: "string", default: "20000" } },
});
const groups = Number(values.groups);
const calls = Number(values.calls);
if (!(Number.isInteger(groups) && groups > 0 && Number.isInteger(calls) && calls > 0)) {
  throw new Error("--groups and --calls take positive integers");
}

/** The statement a named group was read with before (sort "lag"): the filter every order shares. */
const BEFORE_SQL =
  "SELECT * FROM lag_group_status WHERE (@group IS NULL OR group_id = @group) AND (@status IS NULL OR status = @status) " +
  "AND total_lag >= @minLag ORDER BY total_lag DESC, group_id LIMIT @limit";

const dir = mkdtempSync(join(tmpdir(), "kafscale-mcp-named-group-"));
const db = openDatabase(join(dir, "snapshot.db"));
try {
  const insert = db.prepare(
    `INSERT INTO lag_group_status (group_id, status, severity, partitions, ok, warn, stall, stop, rewind, unknown,
       total_lag, trend, points, worst, evaluated_at)
     VALUES (?, 'OK', 0, 50, 50, 0, 0, 0, 0, 0, ?, 'steady', 1500, '[]', 0)`,
  );
  const ids = Array.from({ length: groups }, (_, i) => `group-${String(i).padStart(5, "0")}`);
  db.transaction(() => {
    ids.forEach((id, i) => insert.run(id, (i * 7919) % 100_003));
  })();
  const reads = createLagReads(db, { intervalMs: 5000, windowPoints: 30 });
  const before = db.prepare(BEFORE_SQL);
  const time = (read: (group: string) => unknown): number => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) read(ids[(i * 7) % groups] as string);
    return Number(process.hrtime.bigint() - started) / 1000 / calls;
  };
  // Alternating rounds; the first of each warms the statement and the page cache.
  const rounds: { before: number; after: number }[] = [];
  for (let round = 0; round < 4; round++) {
    rounds.push({
      before: time((group) => before.all({ group, status: null, minLag: 0, limit: 1 })),
      after: time((group) => reads.sortedGroups({ group }, "lag", 1)),
    });
  }
  const shown = rounds.slice(1);
  console.log(
    `${groups.toLocaleString("en-US")} groups, ${calls.toLocaleString("en-US")} reads of one named group a round, µs a read ` +
      `(rounds 2–4):\n  before (shared filter): ${shown.map((r) => r.before.toFixed(1)).join(", ")}\n` +
      `  now (primary-key seek): ${shown.map((r) => r.after.toFixed(1)).join(", ")}`,
  );
} finally {
  db.close();
  rmSync(dir, { recursive: true, force: true });
}
