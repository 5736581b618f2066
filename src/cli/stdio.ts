/**
 * `kafscale-mcp stdio [--demo]`: the same tools over MCP stdio, for desktop clients that spawn a
 * process. stdout carries the protocol, so logs go to stderr.
 */
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { userInfo } from "node:os";
import { loadConfig } from "../config.js";
import { scopelessGrant } from "../http/auth/authenticator.js";
import type { Principal } from "../tools/call-context.js";
import { createLogger } from "../log.js";
import { startService } from "../service.js";
import { describeSqliteDriver } from "../store/sqlite-driver.js";
import { selectTools } from "../tools/index.js";
import { createMcpServer } from "../tools/server.js";

function localUser(): string {
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
}

export async function stdio(args: string[]): Promise<number> {
  const unknown = args.filter((a) => a !== "--demo");
  if (unknown.length > 0) {
    console.error(`usage: kafscale-mcp stdio [--demo] (unknown: ${unknown.join(" ")})`);
    return 2;
  }
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  // Beside a running `serve` on the same file, serve that file read-only instead of syncing it twice.
  const service = await startService({ config, logger, demo: args.includes("--demo"), http: false, whenSnapshotInUse: "follow" });
  // A local process spawned by its user: the user is the principal, with the observe scope (and query
  // with KAFSCALE_MCP_ENABLE_QUERY=true). Its tool calls are audited like HTTP ones (stdout is the
  // protocol here, so the stream sink is stderr).
  const principal: Principal = { subject: `local:${localUser()}`, authMode: "none", scopes: scopelessGrant(config.query.enabled) };
  const server = createMcpServer({
    ctx: service.ctx,
    tools: selectTools(principal.scopes, config.enabledTools),
    logger,
    onToolCall: (event) => service.audit.toolCall(event),
    contextOf: (extra) => ({ principal, transport: "stdio", requestId: null, remoteAddr: null, sessionId: extra.sessionId ?? null }),
  });
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once("end", () => resolve());
    process.once("SIGTERM", () => resolve());
    process.once("SIGINT", () => resolve());
  });
  await server.connect(transport);
  logger.info("mcp stdio ready", { sqlite: describeSqliteDriver() });
  await closed;
  await server.close().catch(() => undefined);
  await service.close();
  return 0;
}
