/**
 * The one typed configuration. Every KAFSCALE_MCP_* variable is parsed here, once, at start;
 * nothing else reads process.env. Errors name the variable and the expected form.
 */
import { resolve } from "node:path";
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

/** A regular expression a whole group id must match (absent: no filter). */
const groupPattern = z
  .string()
  .optional()
  .transform((text, ctx) => {
    if (text === undefined || text.trim() === "") return undefined;
    try {
      return new RegExp(`^(?:${text})$`, "u");
    } catch (err) {
      ctx.addIssue({ code: "custom", message: `not a regular expression: ${(err as Error).message}` });
      return z.NEVER;
    }
  });

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

/** An integer of at least `min`, with its default; `expected` words the bound in the error. */
const intAtLeast = (min: number, fallback: number, expected: string) =>
  z
    .string()
    .default(String(fallback))
    .transform((text, ctx) => {
      const value = Number(text.trim());
      if (Number.isInteger(value) && value >= min) return value;
      ctx.addIssue({ code: "custom", message: `expected ${expected}, got "${text}"` });
      return z.NEVER;
    });

const positiveInt = (fallback: number) => intAtLeast(1, fallback, "a positive integer");
const nonNegativeInt = (fallback: number) => intAtLeast(0, fallback, "a non-negative integer");

const MIN_RESULT_BYTES = 4096;

/** A result budget in bytes: at least 4 KiB, room for an error text, the freshness block and one item. */
const resultBytes = (fallback: number) =>
  intAtLeast(MIN_RESULT_BYTES, fallback, `an integer of at least ${MIN_RESULT_BYTES} (bytes)`);

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === "https:" || url.protocol === "http:";
  } catch {
    return false;
  }
}

/**
 * An optional absolute http(s) URL, kept exactly as written (trimmed): an issuer must match `iss`
 * byte for byte, and URL.href would add a trailing "/".
 */
const optionalUrl = z
  .string()
  .optional()
  .transform((text, ctx) => {
    if (text === undefined || text.trim() === "") return undefined;
    const value = text.trim();
    if (isHttpUrl(value)) return value;
    ctx.addIssue({ code: "custom", message: `expected an absolute http(s) URL, got "${text}"` });
    return z.NEVER;
  });

const scopeName = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const value = text.trim();
      if (/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(value)) return value;
      ctx.addIssue({ code: "custom", message: `expected one OAuth scope name (no spaces or quotes), got "${text}"` });
      return z.NEVER;
    });

/**
 * Asymmetric JWS algorithms only. `none` and HS* are refused whatever the configuration says: a
 * shared-secret algorithm would let anyone holding the (public) verification key mint tokens.
 */
export const ASYMMETRIC_ALGORITHMS: readonly string[] = [
  "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519",
];

const algorithms = csv.transform((names, ctx) => {
  const list = names.length > 0 ? names : ["RS256", "ES256", "PS256", "EdDSA"];
  const bad = list.filter((name) => !ASYMMETRIC_ALGORITHMS.includes(name));
  if (bad.length > 0) {
    ctx.addIssue({
      code: "custom",
      message:
        `not allowed: ${bad.join(", ")} (only asymmetric algorithms; "none" and HS* are never accepted); ` +
        `choose from ${ASYMMETRIC_ALGORITHMS.join(", ")}`,
    });
    return z.NEVER;
  }
  return list;
});

/** A variable that `parse` turns into a value (undefined: invalid, reported as "expected <expected>"). */
const parsedText = <T>(fallback: string, parse: (value: string) => T | undefined, expected: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const value = parse(text.trim());
      if (value !== undefined) return value;
      ctx.addIssue({ code: "custom", message: `expected ${expected}, got "${text}"` });
      return z.NEVER;
    });

const BYTE_UNITS: Record<string, number> = { "": 1, k: 1e3, M: 1e6, G: 1e9, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 };

/** A size in bytes: plain bytes, or Kubernetes-style "512Mi", "1Gi" (binary) and "500M" (decimal). */
const byteSize = (fallback: string) =>
  parsedText(
    fallback,
    (value) => {
      const match = /^(\d+)(k|M|G|Ki|Mi|Gi)?$/.exec(value);
      return match ? Number(match[1]) * (BYTE_UNITS[match[2] ?? ""] as number) : undefined;
    },
    'a size such as "16Mi", "1Gi" or bytes',
  );

/** A Unix file mode in octal, e.g. "0640". */
const fileMode = (fallback: string) =>
  parsedText(fallback, (value) => (/^0?[0-7]{3}$/.test(value) ? parseInt(value, 8) : undefined), 'an octal file mode such as "0640"');

const optionalText = z
  .string()
  .optional()
  .transform((text) => (text === undefined || text.trim() === "" ? undefined : text.trim()));

const httpAddr = z
  .string()
  .optional()
  .transform((text, ctx) => {
    if (text === undefined) return { host: undefined, port: 8090, set: false };
    const match = /^(.*):(\d{1,5})$/.exec(text.trim());
    const port = match ? Number(match[2]) : NaN;
    if (!match || port > 65535) {
      ctx.addIssue({ code: "custom", message: `expected [host]:port such as ":8090" or "127.0.0.1:8090", got "${text}"` });
      return z.NEVER;
    }
    const host = (match[1] ?? "").replace(/^\[(.*)\]$/, "$1");
    return { host: host === "" ? undefined : host, port, set: true };
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
  KAFSCALE_MCP_ETCD_PAGE_SIZE: positiveInt(10_000),
  KAFSCALE_MCP_ETCD_BACKOFF_MAX: duration("15s"),
  KAFSCALE_MCP_DB_PATH: z.string().default("kafscale-mcp.db"),
  KAFSCALE_MCP_CHANGE_LOG_LIMIT: positiveInt(10_000),
  KAFSCALE_MCP_EVENTS_RETENTION: duration("168h"),
  KAFSCALE_MCP_EVENTS_LIMIT: positiveInt(100_000),
  KAFSCALE_MCP_ENABLE_QUERY: bool(false),
  KAFSCALE_MCP_QUERY_TIMEOUT: duration("2s"),
  KAFSCALE_MCP_QUERY_MAX_ROWS: positiveInt(500),
  KAFSCALE_MCP_OPS_COPY: optionalText,
  KAFSCALE_MCP_OPS_COPY_INTERVAL: duration("60s"),
  KAFSCALE_MCP_OPS_COPY_MODE: fileMode("0640"),
  KAFSCALE_MCP_OPS_COPY_AUDIT: bool(false),
  KAFSCALE_MCP_WAL_SIZE_LIMIT: byteSize("16Mi"),
  KAFSCALE_MCP_WAL_STARVED_AFTER: duration("1m"),
  KAFSCALE_MCP_WAL_BUDGET: byteSize("1Gi"),
  KAFSCALE_MCP_STALE_AFTER: duration("30s"),
  KAFSCALE_MCP_LINK_PROBE_INTERVAL: duration("5s"),
  KAFSCALE_MCP_LINK_PROBE_TIMEOUT: duration("3s"),
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
  KAFSCALE_MCP_MAX_SESSIONS: positiveInt(1000),
  KAFSCALE_MCP_MAX_SESSIONS_PER_PRINCIPAL: positiveInt(200),
  KAFSCALE_MCP_MAX_RESULT_BYTES: resultBytes(60_000),
  KAFSCALE_MCP_REST_MAX_RESULT_BYTES: resultBytes(8_000_000),
  KAFSCALE_MCP_SHUTDOWN_GRACE: duration("5s"),
  KAFSCALE_MCP_ALLOW_STATIC_TOKEN_IN_PROD: bool(false),
  KAFSCALE_MCP_OIDC_ISSUER: optionalUrl,
  KAFSCALE_MCP_OIDC_AUDIENCE: csv,
  KAFSCALE_MCP_OIDC_JWKS_URL: optionalUrl,
  KAFSCALE_MCP_OIDC_ALGORITHMS: algorithms,
  KAFSCALE_MCP_OIDC_CLOCK_TOLERANCE: duration("30s"),
  KAFSCALE_MCP_OIDC_OBSERVE_SCOPE: scopeName("kafscale:observe"),
  KAFSCALE_MCP_OIDC_QUERY_SCOPE: scopeName("kafscale:query"),
  KAFSCALE_MCP_OIDC_REQUIRED_SCOPES: csv,
  KAFSCALE_MCP_OIDC_JWKS_COOLDOWN: duration("30s"),
  KAFSCALE_MCP_RESOURCE_URL: optionalUrl,
  KAFSCALE_MCP_ENABLED_TOOLS: csv,
  KAFSCALE_MCP_AUDIT_FILE: optionalText,
  KAFSCALE_MCP_AUDIT_STDOUT: bool(true),
  KAFSCALE_MCP_AUDIT_RETENTION: duration("168h"),
  KAFSCALE_MCP_RATE_LIMIT: nonNegativeInt(600),
  KAFSCALE_MCP_RATE_BURST: positiveInt(60),
  KAFSCALE_MCP_LAG_SAMPLE_INTERVAL: duration("5s").refine((ms) => ms > 0, "must be longer than 0"),
  KAFSCALE_MCP_LAG_WINDOW: positiveInt(30).refine(
    (n) => n >= 3 && n <= 1000,
    "expected between 3 and 1000 points (the rules need at least three)",
  ),
  KAFSCALE_MCP_LAG_METRICS_PARTITIONS: bool(false),
  KAFSCALE_MCP_LAG_METRICS_GROUP_ALLOW: groupPattern,
  KAFSCALE_MCP_LAG_METRICS_GROUP_DENY: groupPattern,
  KAFSCALE_MCP_LAG_METRICS_AUTH: z.enum(["none", "bearer"]).default("none"),
  KAFSCALE_MCP_LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
});

/**
 * Every environment variable the service reads, straight from the schema above (the Helm chart's
 * tests check that each one can be set from values).
 */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

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
  /** Longest wait between two reconnect attempts (exponential backoff with full jitter up to it). */
  backoffMaxMs: number;
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
  /** Absent: every interface (except for `demo`, see `addrSet`). */
  host?: string;
  port: number;
  /** Whether KAFSCALE_MCP_HTTP_ADDR was set at all: `demo` binds 127.0.0.1 unless it was. */
  addrSet: boolean;
  sessionTimeoutMs: number;
  /** Open MCP sessions kept at most (the least recently used idle one makes room). */
  maxSessions: number;
  /** Open MCP sessions one principal may hold (the rate-limit key: per address with auth mode none). */
  maxSessionsPerPrincipal: number;
  stateless: boolean;
  authToken?: string;
  allowedOrigins: string[];
  allowedHosts: string[];
  maxBodyBytes: number;
  /** How long in-flight requests may finish on shutdown before connections are cut. */
  shutdownGraceMs: number;
}

/** OIDC / JWT access-token validation (KAFSCALE_MCP_OIDC_*); absent when no issuer is configured. */
export interface OidcConfig {
  /** Expected `iss`, exactly as configured; discovery reads `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  /** Accepted `aud` values (one is enough). */
  audiences: string[];
  /** Skips discovery when set. */
  jwksUrl?: string;
  algorithms: string[];
  clockToleranceMs: number;
  /** The OAuth scope that grants the observe tool set. */
  observeScope: string;
  /** The OAuth scope that grants query_snapshot (not implied by the observe scope). */
  queryScope: string;
  /** Scopes every token must carry in addition to the observe scope. */
  requiredScopes: string[];
  /** Minimum time between two JWKS refetches triggered by an unknown `kid`. */
  jwksCooldownMs: number;
}

export interface AuthConfig {
  oidc?: OidcConfig;
  /** Canonical URI of /mcp for RFC 9728 metadata; derived from each request's Host when unset. */
  resourceUrl?: string;
  /** The break-glass override that lets a static token alone guard /mcp with KAFSCALE_ENV=prod. */
  allowStaticTokenInProd: boolean;
}

export interface AuditConfig {
  /** Append-only JSON Lines file (created with mode 0600). */
  file?: string;
  /** One JSON line per record on stdout (stderr in stdio mode, where stdout is the protocol). */
  stdout: boolean;
  /** How long rows stay in the audit_log table. */
  retentionMs: number;
}

/** The copy of the snapshot published for readers (KAFSCALE_MCP_OPS_COPY_*); absent when off. */
export interface OpsCopyConfig {
  /** Where the copy is published (renamed into place). */
  path: string;
  intervalMs: number;
  /** File mode of the published copy. */
  mode: number;
  /** Whether the copy keeps the audit_log rows (left out by default). */
  includeAudit: boolean;
}

/** How the live file's write-ahead log is bounded and watched (KAFSCALE_MCP_WAL_*). */
export interface WalConfig {
  /** journal_size_limit: the WAL is cut back to this after a complete checkpoint. */
  sizeLimitBytes: number;
  /** A WAL above the size limit with no complete checkpoint for this long is reported as starved. */
  starvedAfterMs: number;
  /** A WAL this large makes /readyz fail. */
  budgetBytes: number;
}

/** The semantic change feed (events table). */
export interface EventsConfig {
  /** How long events are kept; 0 keeps them until the row cap. */
  retentionMs: number;
  /** At most this many events are kept. */
  maxEvents: number;
}

/** query_snapshot: read-only SQL over the snapshot in a sandbox process. */
export interface QueryConfig {
  /** Grants the tool to principals without OAuth scopes (static token, auth none, stdio). */
  enabled: boolean;
  /** A query still running after this long is stopped (its process killed). */
  timeoutMs: number;
  /** At most this many rows per answer. */
  maxRows: number;
}

/** Byte budgets of one tool result (src/tools/budget.ts). */
export interface ResultBudgetConfig {
  /** MCP: the whole CallToolResult, text copy and structuredContent together (KAFSCALE_MCP_MAX_RESULT_BYTES). */
  mcpMaxBytes: number;
  /** REST /api/v1: the one JSON body (KAFSCALE_MCP_REST_MAX_RESULT_BYTES); dashboards get larger pages. */
  restMaxBytes: number;
}

export interface RateLimitConfig {
  /** Tool calls per minute per principal; 0 disables the limit. */
  perMinute: number;
  burst: number;
}

/** Consumer lag history (docs/LAG.md). */
/** /metrics/lag: kafka-lag-exporter's series (src/http/lag-metrics.ts). */
export interface LagMetricsConfig {
  /** Per-partition series too (cardinality: one series per committed partition and metric). */
  partitions: boolean;
  /** Only groups whose whole id matches (absent: every group). */
  groupAllow?: RegExp;
  /** Never groups whose whole id matches; wins over groupAllow. */
  groupDeny?: RegExp;
  /** "none": open like /metrics; "bearer": the same authentication as /api/v1. */
  auth: "none" | "bearer";
}

export interface LagConfig {
  /** A point is kept when the value changed and at least this long passed since the previous one. */
  intervalMs: number;
  /** Points kept per series (the window). */
  windowPoints: number;
}

export interface Config {
  env: string;
  auth: AuthConfig;
  audit: AuditConfig;
  rateLimit: RateLimitConfig;
  results: ResultBudgetConfig;
  /** Tool allow-list; empty means every tool the caller's scopes allow. */
  enabledTools: string[];
  etcd: EtcdConfig;
  dbPath: string;
  changeLogLimit: number;
  events: EventsConfig;
  query: QueryConfig;
  opsCopy?: OpsCopyConfig;
  wal: WalConfig;
  staleAfterMs: number;
  linkProbeIntervalMs: number;
  /** Deadline of one link probe (a linearizable read); past it the member is given up. */
  linkProbeTimeoutMs: number;
  metrics: MetricsConfig;
  http: HttpConfig;
  lag: LagConfig;
  lagMetrics: LagMetricsConfig;
  logLevel: "debug" | "info" | "warn" | "error";
}

/** Thrown for invalid configuration; the message lists every bad variable. */
export class ConfigError extends Error {}

/**
 * Checks KAFSCALE_MCP_ENABLED_TOOLS against the tools this build has. The tool registry is passed in
 * (config sits below every layer and imports none of them); the service calls this at start.
 */
export function assertKnownTools(enabled: readonly string[], known: readonly string[]): void {
  const unknown = enabled.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new ConfigError(
      `invalid configuration:\n  KAFSCALE_MCP_ENABLED_TOOLS: unknown tool ${unknown.join(", ")}; valid tools: ${known.join(", ")}`,
    );
  }
}

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
  if (e.KAFSCALE_MCP_OIDC_ISSUER !== undefined && e.KAFSCALE_MCP_OIDC_AUDIENCE.length === 0) {
    throw new ConfigError(
      "invalid configuration:\n  KAFSCALE_MCP_OIDC_AUDIENCE is required with KAFSCALE_MCP_OIDC_ISSUER " +
        "(the `aud` your issuer puts in tokens for this service)",
    );
  }
  if (e.KAFSCALE_MCP_OIDC_ISSUER === undefined && e.KAFSCALE_MCP_OIDC_JWKS_URL !== undefined) {
    throw new ConfigError(
      "invalid configuration:\n  KAFSCALE_MCP_OIDC_JWKS_URL needs KAFSCALE_MCP_OIDC_ISSUER " +
        "(tokens are always checked against an issuer)",
    );
  }
  if (e.KAFSCALE_MCP_OPS_COPY !== undefined && resolve(e.KAFSCALE_MCP_OPS_COPY) === resolve(e.KAFSCALE_MCP_DB_PATH)) {
    throw new ConfigError(
      "invalid configuration:\n  KAFSCALE_MCP_OPS_COPY must not be the live database (KAFSCALE_MCP_DB_PATH); choose another file",
    );
  }
  if (e.KAFSCALE_MCP_QUERY_TIMEOUT <= 0) {
    throw new ConfigError("invalid configuration:\n  KAFSCALE_MCP_QUERY_TIMEOUT: must be greater than 0");
  }
  if (e.KAFSCALE_MCP_OPS_COPY_INTERVAL <= 0) {
    throw new ConfigError("invalid configuration:\n  KAFSCALE_MCP_OPS_COPY_INTERVAL: must be greater than 0");
  }
  if (e.KAFSCALE_MCP_WAL_SIZE_LIMIT < 2 ** 20) {
    throw new ConfigError("invalid configuration:\n  KAFSCALE_MCP_WAL_SIZE_LIMIT: must be at least 1Mi");
  }
  if (e.KAFSCALE_MCP_WAL_BUDGET <= e.KAFSCALE_MCP_WAL_SIZE_LIMIT) {
    throw new ConfigError(
      "invalid configuration:\n  KAFSCALE_MCP_WAL_BUDGET must be larger than KAFSCALE_MCP_WAL_SIZE_LIMIT",
    );
  }
  const oidc: OidcConfig | undefined =
    e.KAFSCALE_MCP_OIDC_ISSUER === undefined
      ? undefined
      : {
          issuer: e.KAFSCALE_MCP_OIDC_ISSUER,
          audiences: e.KAFSCALE_MCP_OIDC_AUDIENCE,
          jwksUrl: e.KAFSCALE_MCP_OIDC_JWKS_URL,
          algorithms: e.KAFSCALE_MCP_OIDC_ALGORITHMS,
          clockToleranceMs: e.KAFSCALE_MCP_OIDC_CLOCK_TOLERANCE,
          observeScope: e.KAFSCALE_MCP_OIDC_OBSERVE_SCOPE,
          queryScope: e.KAFSCALE_MCP_OIDC_QUERY_SCOPE,
          requiredScopes: e.KAFSCALE_MCP_OIDC_REQUIRED_SCOPES,
          jwksCooldownMs: e.KAFSCALE_MCP_OIDC_JWKS_COOLDOWN,
        };
  return {
    env: e.KAFSCALE_ENV,
    auth: {
      oidc,
      resourceUrl: e.KAFSCALE_MCP_RESOURCE_URL,
      allowStaticTokenInProd: e.KAFSCALE_MCP_ALLOW_STATIC_TOKEN_IN_PROD,
    },
    audit: {
      file: e.KAFSCALE_MCP_AUDIT_FILE,
      stdout: e.KAFSCALE_MCP_AUDIT_STDOUT,
      retentionMs: e.KAFSCALE_MCP_AUDIT_RETENTION,
    },
    rateLimit: { perMinute: e.KAFSCALE_MCP_RATE_LIMIT, burst: e.KAFSCALE_MCP_RATE_BURST },
    results: { mcpMaxBytes: e.KAFSCALE_MCP_MAX_RESULT_BYTES, restMaxBytes: e.KAFSCALE_MCP_REST_MAX_RESULT_BYTES },
    enabledTools: e.KAFSCALE_MCP_ENABLED_TOOLS,
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
      backoffMaxMs: e.KAFSCALE_MCP_ETCD_BACKOFF_MAX,
    },
    dbPath: e.KAFSCALE_MCP_DB_PATH,
    changeLogLimit: e.KAFSCALE_MCP_CHANGE_LOG_LIMIT,
    events: { retentionMs: e.KAFSCALE_MCP_EVENTS_RETENTION, maxEvents: e.KAFSCALE_MCP_EVENTS_LIMIT },
    query: {
      enabled: e.KAFSCALE_MCP_ENABLE_QUERY,
      timeoutMs: e.KAFSCALE_MCP_QUERY_TIMEOUT,
      maxRows: e.KAFSCALE_MCP_QUERY_MAX_ROWS,
    },
    opsCopy:
      e.KAFSCALE_MCP_OPS_COPY === undefined
        ? undefined
        : {
            path: e.KAFSCALE_MCP_OPS_COPY,
            intervalMs: e.KAFSCALE_MCP_OPS_COPY_INTERVAL,
            mode: e.KAFSCALE_MCP_OPS_COPY_MODE,
            includeAudit: e.KAFSCALE_MCP_OPS_COPY_AUDIT,
          },
    wal: {
      sizeLimitBytes: e.KAFSCALE_MCP_WAL_SIZE_LIMIT,
      starvedAfterMs: e.KAFSCALE_MCP_WAL_STARVED_AFTER,
      budgetBytes: e.KAFSCALE_MCP_WAL_BUDGET,
    },
    staleAfterMs: e.KAFSCALE_MCP_STALE_AFTER,
    linkProbeIntervalMs: e.KAFSCALE_MCP_LINK_PROBE_INTERVAL,
    linkProbeTimeoutMs: e.KAFSCALE_MCP_LINK_PROBE_TIMEOUT,
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
      addrSet: e.KAFSCALE_MCP_HTTP_ADDR.set,
      sessionTimeoutMs: e.KAFSCALE_MCP_SESSION_TIMEOUT,
      maxSessions: e.KAFSCALE_MCP_MAX_SESSIONS,
      maxSessionsPerPrincipal: e.KAFSCALE_MCP_MAX_SESSIONS_PER_PRINCIPAL,
      stateless: e.KAFSCALE_MCP_STATELESS,
      authToken: e.KAFSCALE_MCP_AUTH_TOKEN,
      allowedOrigins: e.KAFSCALE_MCP_ALLOWED_ORIGINS,
      allowedHosts: e.KAFSCALE_MCP_ALLOWED_HOSTS,
      maxBodyBytes: e.KAFSCALE_MCP_MAX_BODY_BYTES,
      shutdownGraceMs: e.KAFSCALE_MCP_SHUTDOWN_GRACE,
    },
    lag: { intervalMs: e.KAFSCALE_MCP_LAG_SAMPLE_INTERVAL, windowPoints: e.KAFSCALE_MCP_LAG_WINDOW },
    lagMetrics: {
      partitions: e.KAFSCALE_MCP_LAG_METRICS_PARTITIONS,
      groupAllow: e.KAFSCALE_MCP_LAG_METRICS_GROUP_ALLOW,
      groupDeny: e.KAFSCALE_MCP_LAG_METRICS_GROUP_DENY,
      auth: e.KAFSCALE_MCP_LAG_METRICS_AUTH,
    },
    logLevel: e.KAFSCALE_MCP_LOG_LEVEL,
  };
}
