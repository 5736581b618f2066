/**
 * `kafscale-mcp snapshot --out FILE [--force]`: one full range read of etcd into a SQLite file, then
 * exit. The read goes into a hidden temporary file next to FILE that is renamed over FILE only once
 * it is complete, so FILE is never a half-written database (offline reporting, incident capture).
 *
 * Exit codes: 0 written; 1 etcd unreachable or the write failed; 2 usage or configuration error.
 */
import { existsSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { loadConfig, type Config } from "../config.js";
import { createStore, type Store } from "../store/index.js";
import { currentWriter, describeHolder } from "../store/writer-lock.js";
import { createEtcdSync } from "../sync/etcd/etcd-sync.js";
import { cliLogger, commandConnector, ETCD_HINT, etcdRequestTimeoutMs, parseCommandOptions, usageError as commandUsageError } from "./command-line.js";

const USAGE = `usage: kafscale-mcp snapshot --out FILE [--force]

Reads every key under /kafscale/ from etcd (one range read pinned to one revision) into the SQLite
file FILE and exits. FILE is written atomically; an existing FILE is kept unless --force is given.
etcd is configured with the KAFSCALE_MCP_ETCD_* variables (see README.md).`;

/** Runs the command; returns the process exit code. */
export async function snapshot(args: string[]): Promise<number> {
  const options = parseCommandOptions("snapshot", USAGE, args, {
    out: { type: "string", short: "o" },
    force: { type: "boolean" },
  });
  if (typeof options === "number") return options;
  if (options.out === undefined || options.out.trim() === "") return usageError("--out FILE is required");
  const target = resolve(options.out);
  if (!isDirectory(dirname(target))) return usageError(`directory ${dirname(target)} does not exist`);
  if (existsSync(target)) {
    if (!statSync(target).isFile()) return usageError(`${target} exists and is not a file`);
    if (!options.force) return usageError(`${target} already exists; pass --force to replace it`);
    // Renaming a file over a database another process has open corrupts what that process sees.
    const writer = currentWriter(target);
    if (writer !== null) {
      return usageError(`${target} is the live snapshot of a running kafscale-mcp (${describeHolder(writer)}); choose another --out`);
    }
  }

  const config = loadConfig();
  const logger = cliLogger(config);
  const started = Date.now();
  // Only configuration can fail here; nothing was written yet.
  const connector = commandConnector("snapshot", config);
  if (typeof connector === "number") return connector;
  // Same directory, so the final rename is atomic (same filesystem).
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  removeDatabaseFiles(temp);
  const store = createStore(temp, { historyLimit: config.changeLogLimit, lag: config.lag });
  let summary: Summary;
  try {
    const sync = createEtcdSync({
      store,
      connector,
      logger,
      pageSize: config.etcd.pageSize,
      requestTimeoutMs: etcdRequestTimeoutMs(config),
    });
    let revision: number;
    try {
      revision = await sync.syncOnce();
    } catch (err) {
      throw new EtcdReadError(config, err);
    }
    // An offline file: the link state must not claim a live etcd connection.
    await sync.stop();
    // Lag verdicts from the one point each series has: nothing is judged after the file is written.
    store.lag.evaluator.runNow();
    summary = summarise(store, revision);
  } catch (err) {
    store.close();
    removeDatabaseFiles(temp);
    console.error(`snapshot: ${(err as Error).message}`);
    return 1;
  } finally {
    connector.close();
  }

  // The load's WAL is folded back into the file in the background: let that finish first.
  await store.idle();
  store.close();
  // Closing the last connection checkpoints the WAL into the file; if it did not, the file alone
  // would be incomplete, so never rename it into place.
  if (existsSync(`${temp}-wal`)) {
    removeDatabaseFiles(temp);
    console.error(`snapshot: could not checkpoint ${temp}; nothing written`);
    return 1;
  }
  try {
    // A -wal/-shm left beside the old FILE would be replayed into the new one when it is opened.
    removeDatabaseFiles(target, { keepMain: true });
    renameSync(temp, target);
  } catch (err) {
    removeDatabaseFiles(temp);
    console.error(`snapshot: cannot move the snapshot into ${target}: ${(err as Error).message}`);
    return 1;
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `snapshot: wrote ${target} (revision ${summary.revision}, ${summary.keys} keys, ${summary.topics} topics, ` +
      `${summary.groups} groups, ${seconds}s)`,
  );
  return 0;
}

interface Summary {
  revision: number;
  keys: number;
  topics: number;
  groups: number;
}

function summarise(store: Store, revision: number): Summary {
  let groups = 0;
  let after: string | null = null;
  // Groups include those known only from committed offsets, so count through the read API.
  do {
    const page = store.reads.listGroups(after, 1000);
    groups += page.items.length;
    after = page.next;
  } while (after !== null);
  return { revision, keys: store.mirror.count(), topics: store.reads.clusterOverview().topic_count, groups };
}

/** An etcd failure, worded for an operator: which endpoints, and what to check. */
class EtcdReadError extends Error {
  constructor(config: Config, cause: unknown) {
    super(`cannot read etcd at ${config.etcd.endpoints.join(",")}: ${cause instanceof Error ? cause.message : String(cause)} ${ETCD_HINT}`);
  }
}

function usageError(message: string): number {
  return commandUsageError("snapshot", USAGE, message);
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Removes a database file and its WAL companions (missing files are fine). */
function removeDatabaseFiles(path: string, opts: { keepMain?: boolean } = {}): void {
  if (!opts.keepMain) rmSync(path, { force: true });
  rmSync(`${path}-wal`, { force: true });
  rmSync(`${path}-shm`, { force: true });
}
