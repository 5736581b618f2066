/**
 * `kafscale-mcp demo [--db FILE]` (`npm run demo`): the service on the bundled demo cluster, with no
 * etcd and no broker, on 127.0.0.1 unless KAFSCALE_MCP_HTTP_ADDR says otherwise. Prints the address it
 * really listens on, the MCP URL and a client configuration snippet. With --db the demo
 * snapshot is kept in FILE, so `sqlite3 FILE` and `kafscale-mcp report --db FILE` work on it.
 *
 * `kafscale-mcp demo --seed-etcd` instead writes the demo cluster into the etcd named by
 * KAFSCALE_MCP_ETCD_ENDPOINTS and exits (src/cli/demo-seed.ts).
 */
import { resolve } from "node:path";
import { loadConfig } from "../config.js";
import { createLogger } from "../log.js";
import { closeOnSignals, startService } from "../service.js";
import { parseCommandOptions, usageError } from "./command-line.js";
import { seedDemoEtcd } from "./demo-seed.js";
import { cliCommand } from "./package-info.js";

const USAGE = `usage: kafscale-mcp demo [--db FILE]
       kafscale-mcp demo --seed-etcd

  (no option)   serve the bundled demo cluster over HTTP; the snapshot lives in a temporary file
                (removed on exit; a file, so query_snapshot's sandbox can read it)
  --db FILE     the same, keeping the demo snapshot in the SQLite file FILE (for sqlite3 and report);
                an earlier demo file is replaced, a snapshot of a live cluster is refused
  --seed-etcd   write the demo cluster into the etcd of KAFSCALE_MCP_ETCD_ENDPOINTS (and
                KAFSCALE_MCP_ETCD_NAMESPACE) and exit, to try serve, snapshot and verify`;

export async function demo(args: string[]): Promise<number> {
  const options = parseCommandOptions("demo", USAGE, args, { db: { type: "string" }, "seed-etcd": { type: "boolean" } });
  if (typeof options === "number") return options;
  if (options["seed-etcd"] && options.db !== undefined) {
    return usageError("demo", USAGE, "--seed-etcd and --db do not go together");
  }
  if (options.db !== undefined && options.db.trim() === "") {
    return usageError("demo", USAGE, "--db needs a file name");
  }
  const config = loadConfig();
  if (options["seed-etcd"]) return await seedDemoEtcd(config);

  const dbPath = options.db === undefined ? undefined : resolve(options.db);
  const logger = createLogger(config.logLevel);
  const service = await startService({ config, logger, demo: true, demoDbPath: dbPath });
  const url = `${service.url}/mcp`;
  const headers = config.http.authToken ? { Authorization: "Bearer <KAFSCALE_MCP_AUTH_TOKEN>" } : undefined;
  const snippet = { mcpServers: { "kafscale-demo": { type: "http", url, ...(headers ? { headers } : {}) } } };
  // SIGTERM/SIGINT handlers go in before the URL is announced: a signal sent right after it (a
  // supervisor, a test) must drain the service, not hit Node's default action and kill the process.
  const stopped = closeOnSignals(service, logger);
  console.log(
    [
      "",
      "kafscale-mcp demo: serving the bundled DEMO cluster (not a live cluster; answers say source \"demo\").",
      `  listening on ${service.listenAddress}${/^(0\.0\.0\.0|\[::\]):/.test(service.listenAddress ?? "") ? " (every interface)" : ""}`,
      `  MCP endpoint (streamable HTTP): ${url}`,
      `  web view: ${service.url}/ui/   lag series (Prometheus): ${service.url}/metrics/lag`,
      `  health: ${service.url}/healthz   readiness: ${service.url}/readyz   metrics: ${service.url}/metrics`,
      dbPath === undefined
        ? "  snapshot: a temporary file, removed on exit (--db FILE keeps it)"
        : `  snapshot: ${dbPath}   (try: sqlite3 ${dbPath} 'select * from v_group_lag'   or   kafscale-mcp report --db ${dbPath})`,
      "",
      "Client configuration (e.g. .mcp.json / claude_desktop_config.json style):",
      JSON.stringify(snippet, null, 2),
      "",
      `Or over stdio: ${cliCommand()} stdio --demo`,
      "Press Ctrl+C to stop.",
      "",
    ].join("\n"),
  );
  await stopped;
  return 0;
}
