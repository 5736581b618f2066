/** `kafscale-mcp serve`: the service against a live etcd. */
import { loadConfig } from "../config.js";
import { createLogger } from "../log.js";
import { closeOnSignals, startService } from "../service.js";

export async function serve(args: string[]): Promise<number> {
  if (args.length > 0) {
    console.error(`serve takes no arguments (got ${args.join(" ")}); configure it with KAFSCALE_MCP_* variables`);
    return 2;
  }
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  if (config.env === "prod") logger.info("KAFSCALE_ENV=prod");
  const service = await startService({ config, logger });
  await closeOnSignals(service, logger);
  return 0;
}
