/**
 * A process that owns a query sandbox and keeps a runaway query running in it (for the test that
 * kills this owner with SIGKILL and expects the sandbox process to end by itself).
 *   node --import tsx test/support/sandbox-owner.ts <snapshot.db>
 */
import { createQuerySandbox } from "../../src/store/query-sandbox.js";

const path = process.argv[2];
if (path === undefined) throw new Error("usage: sandbox-owner.ts <snapshot.db>");
const sandbox = createQuerySandbox({ path, timeoutMs: 600_000 });
await sandbox.run("SELECT 1", { maxRows: 1, maxBytes: 1000 });
void sandbox.run("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c", { maxRows: 1, maxBytes: 1000 });
console.log("running");
