/**
 * `kafscale-mcp demo` (`npm run demo`): the service on the bundled demo cluster, with no etcd and no
 * broker, on 127.0.0.1 unless KAFSCALE_MCP_HTTP_ADDR says otherwise. Prints the address it really
 * listens on, the MCP URL and a client configuration snippet.
 */
import { loadConfig } from "../config.js";
import { createLogger } from "../log.js";
import { closeOnSignals, startService } from "../service.js";

export async function demo(args: string[]): Promise<number> {
  if (args.length > 0) {
    console.error(`demo takes no arguments (got ${args.join(" ")})`);
    return 2;
  }
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const service = await startService({ config, logger, demo: true });
  const url = `${service.url}/mcp`;
  const headers = config.http.authToken ? { Authorization: "Bearer <KAFSCALE_MCP_AUTH_TOKEN>" } : undefined;
  const snippet = { mcpServers: { "kafscale-demo": { type: "http", url, ...(headers ? { headers } : {}) } } };
  console.log(
    [
      "",
      "kafscale-mcp demo: serving the bundled DEMO cluster (not a live cluster; answers say source \"demo\").",
      `  listening on ${service.listenAddress}${/^(0\.0\.0\.0|\[::\]):/.test(service.listenAddress ?? "") ? " (every interface)" : ""}`,
      `  MCP endpoint (streamable HTTP): ${url}`,
      `  health: ${service.url}/healthz   readiness: ${service.url}/readyz   metrics: ${service.url}/metrics`,
      "",
      "Client configuration (e.g. .mcp.json / claude_desktop_config.json style):",
      JSON.stringify(snippet, null, 2),
      "",
      "Or over stdio: npx tsx src/cli.ts stdio --demo",
      "Press Ctrl+C to stop.",
      "",
    ].join("\n"),
  );
  await closeOnSignals(service, logger);
  return 0;
}
