/**
 * The one place that loads SQLite's native binding: every `new Database(…)` in src/, bench/ and test/
 * comes from here (lint refuses a direct value import of better-sqlite3 anywhere else).
 *
 * Why two packages: better-sqlite3 12 wraps its statements in node::ObjectWrap (V8 API, compiled for
 * one Node ABI). Node 24.19 backported per-object environment cleanup hooks into ObjectWrap
 * (nodejs/node#65446, open): the destructor now calls node::RemoveEnvironmentCleanupHook, which
 * aborts the process (SIGABRT, "Assertion failed: (env) != nullptr") when V8 collects a statement
 * in a garbage collection that runs without an entered context (seen under gdb: V8's InContext()
 * false in a collection triggered by an allocation; reproduced every time by collections that land
 * while the microtask queue runs, i.e. `await`-heavy code; `kafscale-mcp demo` died at start). better-sqlite3 13 moved to node-addon-api (Node-API, ABI-stable, prebuilt binaries in the
 * package) and does not crash there, but it requires Node >= 22 and segfaults on Node 20, which
 * development still supports (package.json engines >=20). So:
 *   Node 20    → `better-sqlite3` (12, compiled for the running Node by `npm ci` / `npm rebuild`)
 *   Node >= 22 → `better-sqlite3-napi` (13, installed under that alias; no compile step)
 * Both have the same JavaScript API, typed by @types/better-sqlite3.
 * test/unit/sqlite-driver.test.ts holds the regression test (statements collected under microtasks).
 */
import { createRequire } from "node:module";
import type BetterSqlite3 from "better-sqlite3";

/** The installed package names of the two bindings (package.json dependencies). */
export type SqlitePackage = "better-sqlite3" | "better-sqlite3-napi";

/** The oldest Node.js major that loads better-sqlite3 13 (its engines field). */
export const NODE_API_DRIVER_MIN_MAJOR = 22;

/** Which binding a Node.js version loads ("20.20.2" or "v24.21.0"). */
export function sqlitePackageFor(nodeVersion: string): SqlitePackage {
  const major = Number(/^v?(\d+)\./.exec(nodeVersion)?.[1]);
  return major >= NODE_API_DRIVER_MIN_MAJOR ? "better-sqlite3-napi" : "better-sqlite3";
}

/** What this process loaded, for `--version` and the startup log line. */
export interface SqliteDriverInfo {
  /** The installed package name (the alias for 13). */
  package: SqlitePackage;
  /** better-sqlite3's own version, from the loaded package's package.json. */
  version: string;
  /** "node-api" (13) or "v8-abi" (12: compiled for one Node ABI). */
  binding: "node-api" | "v8-abi";
}

const requireFromHere = createRequire(import.meta.url);
const loaded = sqlitePackageFor(process.versions.node);

/** The better-sqlite3 constructor of the binding this Node.js runs (see the module comment). */
export const Database = requireFromHere(loaded) as typeof BetterSqlite3;
/** An open connection (the same API on both bindings). */
export type Database = BetterSqlite3.Database;
/** A prepared statement. */
export type Statement = BetterSqlite3.Statement;

/** The binding this process loaded. */
export const sqliteDriver: SqliteDriverInfo = {
  package: loaded,
  version: (requireFromHere(`${loaded}/package.json`) as { version: string }).version,
  binding: loaded === "better-sqlite3-napi" ? "node-api" : "v8-abi",
};

/** One line for operators: "better-sqlite3 13.2.0 (node-api, package better-sqlite3-napi)". */
export function describeSqliteDriver(info: SqliteDriverInfo = sqliteDriver): string {
  return `better-sqlite3 ${info.version} (${info.binding}, package ${info.package})`;
}
