/**
 * Assembles the audit trail from the configuration: the stream sink (unless
 * KAFSCALE_MCP_AUDIT_STDOUT=false), the append-only file (KAFSCALE_MCP_AUDIT_FILE), always the
 * audit_log table, and the retention prune of that table.
 */
import type { AuditConfig } from "../config.js";
import type { Logger } from "../log.js";
import type { AuditStore } from "../store/index.js";
import { fanOut, fileSink, startAuditRetention, storeSink, streamSink, type AuditSink } from "./audit-sinks.js";
import { createAuditTrail, type AuditTrail } from "./audit-trail.js";
import type { AuthModeName } from "../tools/call-context.js";

export interface ServiceAuditOptions {
  config: AuditConfig;
  /** The audit_log table; null when this process cannot write the snapshot (a read-only follower). */
  store: AuditStore | null;
  logger: Logger;
  /** stdout for HTTP modes; stderr in stdio mode, where stdout is the MCP protocol. */
  stream: NodeJS.WritableStream;
  authMode: AuthModeName;
}

/** Creates the trail; its close() stops the retention timer and flushes the file. */
export function createServiceAudit(options: ServiceAuditOptions): AuditTrail {
  const { config, logger } = options;
  const { store } = options;
  const sinks: AuditSink[] = store ? [storeSink(store, logger)] : [];
  if (config.stdout) sinks.push(streamSink(options.stream));
  if (config.file !== undefined) sinks.push(fileSink(config.file, logger));
  const stopRetention = store ? startAuditRetention(store, config.retentionMs, logger) : () => undefined;
  const trail = createAuditTrail(fanOut(sinks, logger), options.authMode);
  logger.info("audit trail", {
    sinks: [...(store ? ["sqlite:audit_log"] : []), ...(config.stdout ? ["stream"] : []), ...(config.file ? [`file:${config.file}`] : [])],
    retention_ms: config.retentionMs,
  });
  return {
    ...trail,
    close: async () => {
      stopRetention();
      await trail.close();
    },
  };
}
