/**
 * Child process of test/unit/sqlite-driver.test.ts: prepares and drops many statements through
 * src/store/sqlite-driver.ts while the microtask queue is busy, so V8 collects the dropped statements
 * in garbage collections triggered from inside it (no entered context). better-sqlite3 12 on Node
 * >= 24.19 aborts there (SIGABRT, "Assertion failed: (env) != nullptr" in
 * node::RemoveEnvironmentCleanupHook from Statement::~Statement): 10 of 10 runs of this script on
 * Node 24.21.0 with the driver forced to 12. Prints one JSON line and exits 0 when it survives.
 *   node --import tsx test/support/statement-gc-child.ts [rounds] [statementsPerRound]
 */
import { Database, describeSqliteDriver } from "../../src/store/sqlite-driver.js";

const rounds = Number(process.argv[2] ?? 20);
const perRound = Number(process.argv[3] ?? 5000);

const db = new Database(":memory:");
db.exec("CREATE TABLE t (a INTEGER)");
let prepared = 0;
for (let round = 0; round < rounds; round++) {
  // Each round starts from a timer (a fresh macrotask), then interleaves a prepare with an await,
  // so young-generation collections keep landing inside the microtask queue with dead statements.
  await new Promise((resolve) => setTimeout(resolve, 1));
  for (let i = 0; i < perRound; i++) {
    db.prepare("SELECT a FROM t WHERE a = ?");
    prepared++;
    await null;
  }
}
db.close();
console.log(JSON.stringify({ driver: describeSqliteDriver(), node: process.versions.node, prepared }));
