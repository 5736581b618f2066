/**
 * The one typed configuration. Every KAFSCALE_MCP_* variable is parsed here, once, at start;
 * nothing else reads process.env. Errors name the variable and the expected form.
 */
import { z } from "zod";
import { parseGoDuration } from "./duration.js";

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      try {
        return parseGoDuration(text);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: (err as Error).message });
        return z.NEVER;
      }
    });

const csv = z
  .string()
  .default("")
  .transform((text) =>
    text
      .split(",")
      .map((part) => part.trim())
      .filter((part) => part.length > 0),
  );

const bool = (fallback: boolean) =>
  z
    .string()
    .default(String(fallback))
    .transform((text, ctx) => {
      const value = text.trim().toLowerCase();
      if (["1", "true", "yes", "on"].includes(value)) return true;
      if (["0", "false", "no", "off", ""].includes(value)) return false;
      ctx.addIssue({ code: "custom", message: `expected true or false, got "${text}"` });
      return z.NEVER;
    });

const positiveInt = (fallback: number) =>
  z
    .string()
    .default(String(fallback))
    .transform((text, ctx) => {
      const value = Number(text.trim());
      if (Number.isInteger(value) && value > 0) return value;
      ctx.addIssue({ code: "custom", message: `expected a positive integer, got "${text}"` });
      return z.NEVER;
    });

const optionalText = z
  .string()
  .optional()
  .transform((text) => (text === undefined || text.trim() === "" ? undefined : text.trim()));

const httpAddr = z
  .string()
  .default(":8090")
  .transform((text, ctx) => {
    const match = /^(.*):(\d{1,5})$/.exec(text.trim());
    const port = match ? Number(match[2]) : NaN;
    if (!match || port > 65535) {
      ctx.addIssue({ code: "custom", message: `expected [host]:port such as ":8090" or "127.0.0.1:8090", got "${text}"` });
      return z.NEVER;
    }
    const host = (match[1] ?? "").replace(/^\[(.*)\]$/, "$1");
    return { host: host === "" ? undefined : host, port };
  });

const envSchema = z.object({
  KAFSCALE_ENV: z.string().default("").transform((v) => v.trim().toLowerCase()),
  KAFSCALE_MCP_HTTP_ADDR: httpAddr,
  KAFSCALE_MCP_ETCD_ENDPOINTS: csv,
  KAFSCALE_MCP_ETCD_USERNAME: optionalText,
  KAFSCALE_MCP_ETCD_PASSWORD: z.string().optional(),
  KAFSCALE_MCP_ETCD_CA_FILE: optionalText,
  KAFSCALE_MCP_ETCD_CERT_FILE: optionalText,
  KAFSCALE_MCP_ETCD_KEY_FILE: optionalText,
  KAFSCALE_MCP_ETCD_NAMESPACE: z.string().default(""),
  KAFSCALE_MCP_ETCD_DIAL_TIMEOUT: duration("5s"),
  KAFSCALE_MCP_ETCD_PAGE_SIZE: positiveInt(2000),
  KAFSCALE_MCP_DB_PATH: z.string().default("kafscale-mcp.db"),
  KAFSCALE_MCP_CHANGE_LOG_LIMIT: positiveInt(10_000),
  KAFSCALE_MCP_STALE_AFTER: duration("30s"),
  KAFSCALE_MCP_LINK_PROBE_INTERVAL: duration("5s"),
  KAFSCALE_MCP_BROKER_METRICS_URL: optionalText,
  KAFSCALE_MCP_BROKER_METRICS_URL_TEMPLATE: optionalText,
  KAFSCALE_MCP_OPERATOR_METRICS_URL: optionalText,
  KAFSCALE_MCP_SCRAPE_INTERVAL: duration("15s"),
  KAFSCALE_MCP_SCRAPE_TIMEOUT: duration("5s"),
  KAFSCALE_MCP_METRICS_RETENTION: duration("1h"),
  KAFSCALE_MCP_SESSION_TIMEOUT: duration("30m"),
  KAFSCALE_MCP_STATELESS: bool(false),
  KAFSCALE_MCP_AUTH_TOKEN: optionalText,
  KAFSCALE_MCP_ALLOWED_ORIGINS: csv,
  KAFSCALE_MCP_ALLOWED_HOSTS: csv,
  KAFSCALE_MCP_MAX_BODY_BYTES: positiveInt(1_048_576),
  KAFSCALE_MCP_SHUTDOWN_GRACE: duration("5s"),
  KAFSCALE_MCP_LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
});

export interface EtcdConfig {
  endpoints: string[];
  username?: string;
  password?: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** Key prefix prepended to every key (for an etcd shared by several clusters); "" in Kafscale's default layout. */
  namespace: string;
  dialTimeoutMs: number;
  pageSize: number;
}

export interface MetricsConfig {
  brokerUrl?: string;
  brokerUrlTemplate?: string;
  operatorUrl?: string;
  intervalMs: number;
  timeoutMs: number;
  retentionMs: number;
}

export interface HttpConfig {
  host?: string;
  port: number;
  sessionTimeoutMs: number;
  stateless: boolean;
  authToken?: string;
  allowedOrigins: string[];
  allowedHosts: string[];
  maxBodyBytes: number;
  /** How long in-flight requests may finish on shutdown before connections are cut. */
  shutdownGraceMs: number;
}

export interface Config {
  env: string;
  etcd: EtcdConfig;
  dbPath: string;
  changeLogLimit: number;
  staleAfterMs: number;
  linkProbeIntervalMs: number;
  metrics: MetricsConfig;
  http: HttpConfig;
  logLevel: "debug" | "info" | "warn" | "error";
}

/** Thrown for invalid configuration; the message lists every bad variable. */
export class ConfigError extends Error {}

/** Parses the environment (process.env by default) into a Config, or throws ConfigError. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join("\n  ")}`);
  }
  const e = parsed.data;
  if ((e.KAFSCALE_MCP_ETCD_CERT_FILE === undefined) !== (e.KAFSCALE_MCP_ETCD_KEY_FILE === undefined)) {
    throw new ConfigError(
      "invalid configuration:\n  KAFSCALE_MCP_ETCD_CERT_FILE and KAFSCALE_MCP_ETCD_KEY_FILE must be set together",
    );
  }
  return {
    env: e.KAFSCALE_ENV,
    etcd: {
      endpoints: e.KAFSCALE_MCP_ETCD_ENDPOINTS,
      username: e.KAFSCALE_MCP_ETCD_USERNAME,
      password: e.KAFSCALE_MCP_ETCD_PASSWORD,
      caFile: e.KAFSCALE_MCP_ETCD_CA_FILE,
      certFile: e.KAFSCALE_MCP_ETCD_CERT_FILE,
      keyFile: e.KAFSCALE_MCP_ETCD_KEY_FILE,
      namespace: e.KAFSCALE_MCP_ETCD_NAMESPACE,
      dialTimeoutMs: e.KAFSCALE_MCP_ETCD_DIAL_TIMEOUT,
      pageSize: e.KAFSCALE_MCP_ETCD_PAGE_SIZE,
    },
    dbPath: e.KAFSCALE_MCP_DB_PATH,
    changeLogLimit: e.KAFSCALE_MCP_CHANGE_LOG_LIMIT,
    staleAfterMs: e.KAFSCALE_MCP_STALE_AFTER,
    linkProbeIntervalMs: e.KAFSCALE_MCP_LINK_PROBE_INTERVAL,
    metrics: {
      brokerUrl: e.KAFSCALE_MCP_BROKER_METRICS_URL,
      brokerUrlTemplate: e.KAFSCALE_MCP_BROKER_METRICS_URL_TEMPLATE,
      operatorUrl: e.KAFSCALE_MCP_OPERATOR_METRICS_URL,
      intervalMs: e.KAFSCALE_MCP_SCRAPE_INTERVAL,
      timeoutMs: e.KAFSCALE_MCP_SCRAPE_TIMEOUT,
      retentionMs: e.KAFSCALE_MCP_METRICS_RETENTION,
    },
    http: {
      host: e.KAFSCALE_MCP_HTTP_ADDR.host,
      port: e.KAFSCALE_MCP_HTTP_ADDR.port,
      sessionTimeoutMs: e.KAFSCALE_MCP_SESSION_TIMEOUT,
      stateless: e.KAFSCALE_MCP_STATELESS,
      authToken: e.KAFSCALE_MCP_AUTH_TOKEN,
      allowedOrigins: e.KAFSCALE_MCP_ALLOWED_ORIGINS,
      allowedHosts: e.KAFSCALE_MCP_ALLOWED_HOSTS,
      maxBodyBytes: e.KAFSCALE_MCP_MAX_BODY_BYTES,
      shutdownGraceMs: e.KAFSCALE_MCP_SHUTDOWN_GRACE,
    },
    logLevel: e.KAFSCALE_MCP_LOG_LEVEL,
  };
}
