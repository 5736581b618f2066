/**
 * `kafscale-mcp verify [--db FILE] [--json]`: compares the local snapshot (KAFSCALE_MCP_DB_PATH, or
 * --db) with a fresh range read of etcd at the snapshot's own revision, and prints the differences.
 * Safe while the service runs: the comparison reads the file inside one read transaction.
 *
 * Exit codes: 0 no differences; 1 differences found, or etcd could not be read; 2 usage or
 * configuration error (including a missing or unreadable snapshot file).
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadConfig, type Config } from "../config.js";
import { createLogger, type Logger } from "../log.js";
import { createStore, type Store } from "../store/index.js";
import { rotatingConnector, type EtcdConnector } from "../sync/etcd/member-connector.js";
import { verifySnapshot, type VerifyReport } from "../sync/etcd/verify.js";

const USAGE = `usage: kafscale-mcp verify [--db FILE] [--json] [--examples N]

Compares the local SQLite snapshot (KAFSCALE_MCP_DB_PATH, or --db FILE) with a fresh read of etcd at
the snapshot's revision, table by table. Prints the differences (--json: the full report as JSON).
Exit status: 0 no differences, 1 differences or etcd unreadable, 2 usage or configuration error.`;

interface Options {
  db?: string;
  json?: boolean;
  examples?: string;
  help?: boolean;
}

/** Runs the command; returns the process exit code. */
export async function verify(args: string[]): Promise<number> {
  let options: Options;
  try {
    options = parseArgs({
      args,
      options: {
        db: { type: "string" },
        json: { type: "boolean" },
        examples: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    return usageError((err as Error).message);
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
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
  let connector: EtcdConnector;
  try {
    connector = rotatingConnector(config.etcd);
  } catch (err) {
    // Only configuration can fail here (no endpoints, unreadable TLS files).
    console.error(`verify: ${(err as Error).message}`);
    return 2;
  }
  let store: Store;
  try {
    store = createStore(path, { historyLimit: config.changeLogLimit });
  } catch (err) {
    connector.close();
    console.error(`verify: cannot open snapshot ${path}: ${(err as Error).message}`);
    return 2;
  }

  let report: VerifyReport;
  try {
    report = await verifySnapshot({
      store,
      connector,
      logger: cliLogger(config),
      pageSize: config.etcd.pageSize,
      requestTimeoutMs: config.etcd.dialTimeoutMs + 5000,
      exampleLimit,
    });
  } catch (err) {
    console.error(
      `verify: cannot compare with etcd at ${config.etcd.endpoints.join(",")}: ${(err as Error).message} ` +
        "(check KAFSCALE_MCP_ETCD_ENDPOINTS and that etcd is running)",
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

/** CLI commands print their own report; the structured log only carries warnings (or debug). */
function cliLogger(config: Config): Logger {
  return createLogger(config.logLevel === "debug" ? "debug" : "warn");
}

function usageError(message: string): number {
  console.error(`verify: ${message}\n\n${USAGE}`);
  return 2;
}
