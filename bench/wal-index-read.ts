/**
 * The WAL guard's cost a write (src/store/wal-guard.ts): one read of the WAL index header from the
 * -shm file of a real store. `npx tsx bench/wal-index-read.ts [--reads N]`.
 */
import { closeSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createStore } from "../src/store/index.js";
import { openWalIndex, readWalIndexHeader } from "../src/store/wal-guard.js";

const readsArg = process.argv.indexOf("--reads");
const reads = readsArg > 0 ? Number(process.argv[readsArg + 1]) : 20_000;
const dir = mkdtempSync(join(tmpdir(), "kafscale-mcp-wal-index-"));
const store = createStore(join(dir, "snapshot.db"));
try {
  const fd = openWalIndex(join(dir, "snapshot.db-shm"));
  if (fd === null) throw new Error("no -shm file beside the store");
  const started = performance.now();
  for (let i = 0; i < reads; i++) readWalIndexHeader(fd);
  const micros = ((performance.now() - started) / reads) * 1000;
  console.log(`${reads} header reads: ${micros.toFixed(2)} µs a read; header now ${JSON.stringify(readWalIndexHeader(fd))}`);
  closeSync(fd);
} finally {
  store.close();
  rmSync(dir, { recursive: true, force: true });
}
