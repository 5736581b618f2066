import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";
import { formatDuration, parseGoDuration } from "../../src/duration.js";

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

  it("formats for logs", () => {
    expect(formatDuration(5_400_000)).toBe("1h30m");
    expect(formatDuration(250)).toBe("250ms");
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
    expect(config.lag).toEqual({ intervalMs: 5000, windowPoints: 30 });
  });

  it("reads the lag history settings", () => {
    expect(loadConfig({ KAFSCALE_MCP_LAG_SAMPLE_INTERVAL: "500ms", KAFSCALE_MCP_LAG_WINDOW: "3" }).lag).toEqual({
      intervalMs: 500,
      windowPoints: 3,
    });
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
    [{ KAFSCALE_MCP_LOG_LEVEL: "loud" }, "KAFSCALE_MCP_LOG_LEVEL"],
    [{ KAFSCALE_MCP_LAG_SAMPLE_INTERVAL: "0s" }, "KAFSCALE_MCP_LAG_SAMPLE_INTERVAL"],
    [{ KAFSCALE_MCP_LAG_WINDOW: "2" }, "KAFSCALE_MCP_LAG_WINDOW"],
    [{ KAFSCALE_MCP_LAG_WINDOW: "1001" }, "KAFSCALE_MCP_LAG_WINDOW"],
    [{ KAFSCALE_MCP_ETCD_CERT_FILE: "/c.pem" }, "KAFSCALE_MCP_ETCD_KEY_FILE"],
  ])("names the bad variable: %j", (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(variable);
  });
});
