/**
 * A snapshot file read into memory, for a file that can be read but not opened as a WAL database
 * here: on a read-only filesystem SQLite cannot create the -shm file a WAL reader needs. Used by the
 * degraded store (src/store/generation.ts) and by query_snapshot's sandbox (query-child.ts). Costs
 * the file's size in memory, and is refused when an unfinished -wal would be left out.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import type { Db } from "./database.js";
import { Database } from "./sqlite-driver.js";

/** Opens an in-memory copy of `file`; throws when its -wal holds changes the copy would miss. */
export function inMemoryCopy(file: string): Db {
  const wal = `${file}-wal`;
  if (existsSync(wal) && statSync(wal).size > 0) {
    throw new Error(`${file} cannot be read without its write-ahead log, which cannot be opened here`);
  }
  const image = readFileSync(file);
  // Bytes 18–19 say "WAL"; an in-memory database cannot be one, and without a -wal the file is whole.
  image[18] = 1;
  image[19] = 1;
  return new Database(image);
}
