import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";
import { parseGoDuration } from "../../src/duration.js";

describe("Go durations", () => {
  it.each([
    ["0", 0],
    ["10m", 600_000],
    ["1h30m", 5_400_000],
    ["1.5s", 1500],
    ["250ms", 250],
    ["2h45m30.5s", 9_930_500],
    [" 30s ", 30_000],
    ["100us", 0.1],
  ])("parses %s", (text, ms) => {
    expect(parseGoDuration(text)).toBeCloseTo(ms);
  });

  it.each(["", "10", "ten minutes", "1d", "5 m", "-1s", "1h-2m", "m"])("rejects %j with the expected form", (text) => {
    expect(() => parseGoDuration(text)).toThrow(/duration/);
  });
});

describe("loadConfig", () => {
  it("has sensible defaults", () => {
    const config = loadConfig({});
    expect(config.http).toMatchObject({
      host: undefined,
      port: 8090,
      addrSet: false,
      sessionTimeoutMs: 1_800_000,
      stateless: false,
      maxSessions: 1000,
      maxSessionsPerPrincipal: 200,
    });
    expect(config.etcd.endpoints).toEqual([]);
    expect(config.metrics).toMatchObject({ intervalMs: 15_000, timeoutMs: 5000, retentionMs: 3_600_000 });
    expect(config.staleAfterMs).toBe(30_000);
    expect(config.results).toEqual({ mcpMaxBytes: 60_000, restMaxBytes: 8_000_000 });
  });

  it("publishes no ops copy unless asked; bounds and watches the WAL by default", () => {
    const config = loadConfig({});
    expect(config.opsCopy).toBeUndefined();
    expect(config.wal).toEqual({ sizeLimitBytes: 16 * 2 ** 20, starvedAfterMs: 60_000, budgetBytes: 2 ** 30 });
    expect(loadConfig({ KAFSCALE_MCP_OPS_COPY: "/ops/kafscale-mcp-ops.db" }).opsCopy).toEqual({
      path: "/ops/kafscale-mcp-ops.db",
      intervalMs: 60_000,
      mode: 0o640,
      includeAudit: false,
    });
  });

  it.each([
    ["2097152", 2_097_152],
    ["32Mi", 32 * 2 ** 20],
    ["2Gi", 2 * 2 ** 30],
    ["500M", 500_000_000],
  ])("reads the size %s", (text, bytes) => {
    expect(loadConfig({ KAFSCALE_MCP_WAL_BUDGET: text, KAFSCALE_MCP_WAL_SIZE_LIMIT: "1Mi" }).wal.budgetBytes).toBe(bytes);
  });

  it("reads the ops copy settings", () => {
    const config = loadConfig({
      KAFSCALE_MCP_OPS_COPY: "/ops/copy.db",
      KAFSCALE_MCP_OPS_COPY_INTERVAL: "5m",
      KAFSCALE_MCP_OPS_COPY_MODE: "644",
      KAFSCALE_MCP_OPS_COPY_AUDIT: "true",
    });
    expect(config.opsCopy).toEqual({ path: "/ops/copy.db", intervalMs: 300_000, mode: 0o644, includeAudit: true });
  });

  it("trims comma-separated endpoints (the Go service did not)", () => {
    const config = loadConfig({ KAFSCALE_MCP_ETCD_ENDPOINTS: " http://a:2379, http://b:2379 ,," });
    expect(config.etcd.endpoints).toEqual(["http://a:2379", "http://b:2379"]);
  });

  it.each([
    [":8090", undefined, 8090],
    ["127.0.0.1:9000", "127.0.0.1", 9000],
    ["[::1]:8080", "::1", 8080],
  ])("parses KAFSCALE_MCP_HTTP_ADDR %s", (addr, host, port) => {
    expect(loadConfig({ KAFSCALE_MCP_HTTP_ADDR: addr }).http).toMatchObject({ host, port, addrSet: true });
  });

  it.each([
    [{ KAFSCALE_MCP_SESSION_TIMEOUT: "10 minutes" }, "KAFSCALE_MCP_SESSION_TIMEOUT"],
    [{ KAFSCALE_MCP_HTTP_ADDR: "8090" }, "KAFSCALE_MCP_HTTP_ADDR"],
    [{ KAFSCALE_MCP_HTTP_ADDR: ":99999" }, "KAFSCALE_MCP_HTTP_ADDR"],
    [{ KAFSCALE_MCP_STATELESS: "maybe" }, "KAFSCALE_MCP_STATELESS"],
    [{ KAFSCALE_MCP_MAX_BODY_BYTES: "-1" }, "KAFSCALE_MCP_MAX_BODY_BYTES"],
    [{ KAFSCALE_MCP_MAX_SESSIONS: "0" }, "KAFSCALE_MCP_MAX_SESSIONS"],
    [{ KAFSCALE_MCP_MAX_SESSIONS_PER_PRINCIPAL: "lots" }, "KAFSCALE_MCP_MAX_SESSIONS_PER_PRINCIPAL"],
    [{ KAFSCALE_MCP_MAX_RESULT_BYTES: "1000" }, "KAFSCALE_MCP_MAX_RESULT_BYTES"],
    [{ KAFSCALE_MCP_REST_MAX_RESULT_BYTES: "lots" }, "KAFSCALE_MCP_REST_MAX_RESULT_BYTES"],
    [{ KAFSCALE_MCP_LOG_LEVEL: "loud" }, "KAFSCALE_MCP_LOG_LEVEL"],
    [{ KAFSCALE_MCP_ETCD_CERT_FILE: "/c.pem" }, "KAFSCALE_MCP_ETCD_KEY_FILE"],
    [{ KAFSCALE_MCP_OPS_COPY_MODE: "640x" }, "KAFSCALE_MCP_OPS_COPY_MODE"],
    [{ KAFSCALE_MCP_OPS_COPY_MODE: "0999" }, "KAFSCALE_MCP_OPS_COPY_MODE"],
    [{ KAFSCALE_MCP_OPS_COPY: "ops.db", KAFSCALE_MCP_OPS_COPY_INTERVAL: "0" }, "KAFSCALE_MCP_OPS_COPY_INTERVAL"],
    [{ KAFSCALE_MCP_OPS_COPY: "./data/live.db", KAFSCALE_MCP_DB_PATH: "data/live.db" }, "KAFSCALE_MCP_OPS_COPY"],
    [{ KAFSCALE_MCP_WAL_SIZE_LIMIT: "16 MB" }, "KAFSCALE_MCP_WAL_SIZE_LIMIT"],
    [{ KAFSCALE_MCP_WAL_SIZE_LIMIT: "512Ki" }, "KAFSCALE_MCP_WAL_SIZE_LIMIT"],
    [{ KAFSCALE_MCP_WAL_BUDGET: "8Mi" , KAFSCALE_MCP_WAL_SIZE_LIMIT: "8Mi" }, "KAFSCALE_MCP_WAL_BUDGET"],
    [{ KAFSCALE_MCP_WAL_STARVED_AFTER: "soon" }, "KAFSCALE_MCP_WAL_STARVED_AFTER"],
  ])("names the bad variable: %j", (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(variable);
  });
});
