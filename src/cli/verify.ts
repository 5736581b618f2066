/**
 * `kafscale-mcp verify [--db FILE] [--json]`: compares the local snapshot (KAFSCALE_MCP_DB_PATH, or
 * --db) with a fresh range read of etcd at the snapshot's own revision, and prints the differences.
 * Safe while the service runs: the comparison reads the file inside one read transaction.
 *
 * Exit codes: 0 no differences; 1 differences found, the local file is corrupt (said so: a local
 * problem, not etcd's), or etcd could not be read; 2 usage or configuration error (including a
 * missing or unreadable snapshot file).
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { loadConfig } from "../config.js";
import { createStore, isCorruption, type Store } from "../store/index.js";
import { currentWriter } from "../store/writer-lock.js";
import { verifySnapshot, type VerifyReport } from "../sync/etcd/verify.js";
import { cliLogger, commandConnector, ETCD_HINT, etcdRequestTimeoutMs, parseCommandOptions, usageError as commandUsageError } from "./command-line.js";

const USAGE = `usage: kafscale-mcp verify [--db FILE] [--json] [--examples N]

Compares the local SQLite snapshot (KAFSCALE_MCP_DB_PATH, or --db FILE) with a fresh read of etcd at
the snapshot's revision, table by table. Prints the differences (--json: the full report as JSON).
Exit status: 0 no differences, 1 differences, a corrupt local file or etcd unreadable, 2 usage or
configuration error.`;

/** Runs the command; returns the process exit code. */
export async function verify(args: string[]): Promise<number> {
  const options = parseCommandOptions("verify", USAGE, args, {
    db: { type: "string" },
    json: { type: "boolean" },
    examples: { type: "string" },
  });
  if (typeof options === "number") return options;
  const exampleLimit = options.examples === undefined ? 10 : Number(options.examples);
  if (!Number.isInteger(exampleLimit) || exampleLimit < 0) {
    return usageError(`--examples expects a non-negative integer, got "${options.examples}"`);
  }

  const config = loadConfig();
  const path = resolve(options.db ?? config.dbPath);
  // createStore would create an empty database; a missing file is a wrong path, not a snapshot.
  if (!existsSync(path)) {
    return usageError(`no snapshot at ${path} (set KAFSCALE_MCP_DB_PATH or pass --db FILE)`);
  }
  const connector = commandConnector("verify", config);
  if (typeof connector === "number") return connector;
  let store: Store;
  try {
    // Beside a running service, read its file without writing to it.
    store = createStore(path, { historyLimit: config.changeLogLimit, follower: currentWriter(path) !== null });
  } catch (err) {
    connector.close();
    if (isCorruption(err)) return localCorruption(path, (err as Error).message);
    console.error(`verify: cannot open snapshot ${path}: ${(err as Error).message}`);
    return 2;
  }

  let report: VerifyReport;
  try {
    // Everything in the file, the audit log included: damage anywhere is found and named here.
    const damage = store.tables.quickCheck();
    if (damage.length > 0) return localCorruption(path, damage.join("; "));
    report = await verifySnapshot({
      store,
      connector,
      logger: cliLogger(config),
      pageSize: config.etcd.pageSize,
      requestTimeoutMs: etcdRequestTimeoutMs(config),
      exampleLimit,
    });
  } catch (err) {
    if (isCorruption(err)) return localCorruption(path, (err as Error).message);
    console.error(
      `verify: cannot compare with etcd at ${config.etcd.endpoints.join(",")}: ${(err as Error).message} ${ETCD_HINT}`,
    );
    return 1;
  } finally {
    connector.close();
    store.close();
  }

  console.log(options.json ? JSON.stringify({ path, ...report }, null, 2) : formatReport(path, report));
  return report.differences === 0 ? 0 : 1;
}

/** The human-readable report: header, one line per table, then the examples of differing tables. */
export function formatReport(path: string, report: VerifyReport): string {
  const lines: string[] = [];
  const pin = report.pinned ? "pinned to the snapshot's revision" : "NOT pinned";
  lines.push(
    `verify: ${path} at revision ${report.localRevision} vs etcd at revision ${report.etcdRevision} (${pin})`,
  );
  if (report.note) lines.push(`note: ${report.note}`);
  for (const problem of report.problems) lines.push(`problem: ${problem}`);
  if (report.undecodableTotal > 0) {
    lines.push(
      `held: ${report.undecodableTotal} key${report.undecodableTotal === 1 ? "" : "s"} whose value in etcd does not ` +
        "decode; the snapshot serves the last value of each that did (compared like any row; not a difference):",
    );
    for (const k of report.undecodable) {
      const served = k.lastGoodRevision === null ? "none decoded" : `serving revision ${k.lastGoodRevision}`;
      lines.push(`  ${k.key} at revision ${k.revision}: ${k.reason.length > 100 ? `${k.reason.slice(0, 99)}…` : k.reason} (${served})`);
    }
    if (report.undecodableTotal > report.undecodable.length) {
      lines.push(`  … and ${report.undecodableTotal - report.undecodable.length} more (SELECT * FROM undecodable_keys)`);
    }
  }
  lines.push("");
  const header = ["table", "local", "etcd", "missing", "extra", "changed"];
  const rows = report.tables.map((t) => [t.table, t.local, t.fresh, t.missing, t.extra, t.changed].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join("  ");
  lines.push(line(header));
  for (const row of rows) lines.push(line(row));

  const differing = report.tables.filter((t) => t.missing + t.extra + t.changed > 0);
  for (const t of differing) {
    lines.push("", `${t.table}: ${t.missing} missing, ${t.extra} extra, ${t.changed} changed`);
    for (const example of t.examples) lines.push(`  ${example}`);
    const shown = t.examples.length;
    const total = t.missing + t.extra + t.changed;
    if (total > shown) lines.push(`  … and ${total - shown} more`);
  }
  lines.push(
    "",
    report.differences === 0
      ? "result: no differences"
      : `result: ${report.differences} difference${report.differences === 1 ? "" : "s"}`,
  );
  return lines.join("\n");
}

/** A corrupt local file is a local problem: say so, and not "check etcd". */
function localCorruption(path: string, detail: string): number {
  console.error(
    `verify: the local snapshot ${path} is corrupt (${detail}). This is a problem of the local file, not an etcd problem: ` +
      "kafscale-mcp moves a corrupt snapshot aside and rebuilds it from etcd when it meets it (at start, or when a read or write fails).",
  );
  return 1;
}

function usageError(message: string): number {
  return commandUsageError("verify", USAGE, message);
}
