/**
 * The SQLite driver (src/store/sqlite-driver.ts): which binding each Node.js major loads, and the
 * regression test for the crash that made us load better-sqlite3 13 on Node >= 22: better-sqlite3 12
 * on Node 24.19+ aborts the process when V8 collects a prepared statement in a garbage collection
 * triggered from the microtask queue (nodejs/node#65446).
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeSqliteDriver, sqliteDriver, sqlitePackageFor } from "../../src/store/sqlite-driver.js";
import { REPO_ROOT, runCli } from "../support/cli.js";

const CHILD = join(REPO_ROOT, "test/support/statement-gc-child.ts");

describe("the SQLite driver", () => {
  it("loads better-sqlite3 12 on Node 20 and better-sqlite3 13 (Node-API) on Node 22 and newer", () => {
    expect(sqlitePackageFor("20.20.2")).toBe("better-sqlite3");
    expect(sqlitePackageFor("v20.0.0")).toBe("better-sqlite3");
    expect(sqlitePackageFor("22.0.0")).toBe("better-sqlite3-napi");
    expect(sqlitePackageFor("24.21.0")).toBe("better-sqlite3-napi");
    expect(sqlitePackageFor("v26.1.0")).toBe("better-sqlite3-napi");
    // This process loaded the one its own Node picks, and says which.
    expect(sqliteDriver.package).toBe(sqlitePackageFor(process.versions.node));
    expect(sqliteDriver.version).toMatch(sqliteDriver.package === "better-sqlite3" ? /^12\./ : /^13\./);
    expect(describeSqliteDriver()).toBe(`better-sqlite3 ${sqliteDriver.version} (${sqliteDriver.binding}, package ${sqliteDriver.package})`);
  });

  it("survives 100k statements collected while the microtask queue runs (better-sqlite3 12 on Node 24 aborts)", { timeout: 120_000 }, async () => {
    // A 1 MB young generation makes V8 scavenge every few hundred statements, so many collections
    // land inside the microtask queue: with the driver forced to 12 on Node 24.21.0 this aborted
    // in 10 of 10 runs (exit signal SIGABRT); with 13 it exits 0.
    const run = await new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ["--max-semi-space-size=1", "--import", "tsx", CHILD, "20", "5000"],
        { cwd: REPO_ROOT, timeout: 110_000 },
        (err, stdout, stderr) => {
          const failure = err as (Error & { code?: number; signal?: string }) | null;
          resolve({ code: failure ? (failure.code ?? null) : 0, signal: failure?.signal ?? null, stdout, stderr });
        },
      );
    });
    expect(run, run.stderr).toMatchObject({ code: 0, signal: null });
    expect(JSON.parse(run.stdout)).toEqual({ driver: describeSqliteDriver(), node: process.versions.node, prepared: 100_000 });
  });

  it("--version names the Node.js and the SQLite driver it runs", async () => {
    const version = await runCli(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout.split("\n")[1]).toBe(`node ${process.version}, sqlite ${describeSqliteDriver()}`);
  });
});
