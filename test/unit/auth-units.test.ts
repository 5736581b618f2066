/** The pure pieces of auth, scopes, rate limits and audit, table-driven. */
import { describe, expect, it } from "vitest";
import { errors } from "jose";
import { assertKnownTools, ConfigError, loadConfig } from "../../src/config.js";
import { argumentsJson, auditJsonLine, MAX_ARGUMENTS_CHARS } from "../../src/audit/audit-record.js";
import { startAuditRetention, storeSink } from "../../src/audit/audit-sinks.js";
import { assertProdFence, authModeOf } from "../../src/http/auth/auth-mode.js";
import { bearerToken, looksLikeJwt } from "../../src/http/auth/bearer.js";
import { discoverJwksUri, discoveryUrlFor } from "../../src/http/auth/jwks-source.js";
import { toolCallsIn } from "../../src/http/mcp/jsonrpc.js";
import { principalFromClaims } from "../../src/http/auth/oidc-authenticator.js";
import { openAuthenticator, staticTokenAuthenticator } from "../../src/http/auth/authenticator.js";
import { createRateLimiter } from "../../src/http/rate-limit.js";
import { metadataUrlFor } from "../../src/http/auth/resource-metadata.js";
import { missingScopes, tokenScopes, toolScopesFrom } from "../../src/http/auth/scopes.js";
import { describeTokenError } from "../../src/http/auth/token-errors.js";
import { bearerChallenge } from "../../src/http/auth/www-authenticate.js";
import { createLogger, silentLogger } from "../../src/log.js";
import { createStore } from "../../src/store/index.js";
import type { AuditRow } from "../../src/store/index.js";
import { ALL_TOOLS, selectTools, TOOL_NAMES } from "../../src/tools/index.js";
import { startTestIssuer } from "../support/oidc-issuer.js";

describe("auth configuration", () => {
  it("has the documented defaults", () => {
    const config = loadConfig({});
    expect(config.auth).toEqual({ oidc: undefined, resourceUrl: undefined, allowStaticTokenInProd: false });
    expect(config.audit).toEqual({ file: undefined, stdout: true, retentionMs: 168 * 3_600_000 });
    expect(config.rateLimit).toEqual({ perMinute: 600, burst: 60 });
    expect(config.enabledTools).toEqual([]);
  });

  it("parses the OIDC variables, keeping the issuer exactly as written", () => {
    const { oidc } = loadConfig({
      KAFSCALE_MCP_OIDC_ISSUER: " https://idp.example.com/realms/kafscale ",
      KAFSCALE_MCP_OIDC_AUDIENCE: "kafscale-mcp, https://mcp.example.com/mcp",
      KAFSCALE_MCP_OIDC_REQUIRED_SCOPES: "kafscale:prod",
      KAFSCALE_MCP_OIDC_CLOCK_TOLERANCE: "5s",
    }).auth;
    expect(oidc).toEqual({
      issuer: "https://idp.example.com/realms/kafscale",
      audiences: ["kafscale-mcp", "https://mcp.example.com/mcp"],
      jwksUrl: undefined,
      algorithms: ["RS256", "ES256", "PS256", "EdDSA"],
      clockToleranceMs: 5000,
      observeScope: "kafscale:observe",
      queryScope: "kafscale:query",
      requiredScopes: ["kafscale:prod"],
      jwksCooldownMs: 30_000,
    });
  });

  it.each([
    [{ KAFSCALE_MCP_OIDC_ISSUER: "https://idp" }, /KAFSCALE_MCP_OIDC_AUDIENCE is required/],
    [{ KAFSCALE_MCP_OIDC_JWKS_URL: "https://idp/jwks" }, /KAFSCALE_MCP_OIDC_JWKS_URL needs KAFSCALE_MCP_OIDC_ISSUER/],
    [{ KAFSCALE_MCP_OIDC_ISSUER: "idp.example.com", KAFSCALE_MCP_OIDC_AUDIENCE: "a" }, /KAFSCALE_MCP_OIDC_ISSUER: expected an absolute/],
    [{ KAFSCALE_MCP_OIDC_ALGORITHMS: "RS256,HS256" }, /KAFSCALE_MCP_OIDC_ALGORITHMS: not allowed: HS256/],
    [{ KAFSCALE_MCP_OIDC_ALGORITHMS: "none" }, /not allowed: none \(only asymmetric/],
    [{ KAFSCALE_MCP_OIDC_OBSERVE_SCOPE: "two words" }, /KAFSCALE_MCP_OIDC_OBSERVE_SCOPE/],
    [{ KAFSCALE_MCP_RATE_LIMIT: "-1" }, /KAFSCALE_MCP_RATE_LIMIT/],
    [{ KAFSCALE_MCP_RATE_BURST: "0" }, /KAFSCALE_MCP_RATE_BURST/],
    [{ KAFSCALE_MCP_AUDIT_RETENTION: "7d" }, /KAFSCALE_MCP_AUDIT_RETENTION/],
    [{ KAFSCALE_MCP_RESOURCE_URL: "/mcp" }, /KAFSCALE_MCP_RESOURCE_URL/],
  ])("refuses %j", (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it("refuses an allow-list naming a tool this build does not have", () => {
    const { enabledTools } = loadConfig({ KAFSCALE_MCP_ENABLED_TOOLS: "list_topics,create_topic" });
    expect(() => assertKnownTools(enabledTools, TOOL_NAMES)).toThrow(ConfigError);
    expect(() => assertKnownTools(enabledTools, TOOL_NAMES)).toThrow(/unknown tool create_topic; valid tools: cluster_status, /);
  });

  it("accepts a rate limit of 0 (disabled) and a valid allow-list", () => {
    const config = loadConfig({ KAFSCALE_MCP_RATE_LIMIT: "0", KAFSCALE_MCP_ENABLED_TOOLS: " list_topics , fetch_offsets" });
    expect(config.rateLimit.perMinute).toBe(0);
    expect(config.enabledTools).toEqual(["list_topics", "fetch_offsets"]);
  });
});

describe("the production fence", () => {
  const oidc = { KAFSCALE_MCP_OIDC_ISSUER: "https://idp", KAFSCALE_MCP_OIDC_AUDIENCE: "a" };
  it.each([
    [{}, "none", false],
    [{ KAFSCALE_MCP_AUTH_TOKEN: "t" }, "static", false],
    [{ KAFSCALE_MCP_AUTH_TOKEN: "t", KAFSCALE_MCP_ALLOW_STATIC_TOKEN_IN_PROD: "true" }, "static", true],
    [oidc, "oidc", true],
    [{ ...oidc, KAFSCALE_MCP_AUTH_TOKEN: "t" }, "oidc+static", true],
  ] as const)("%j is mode %s; allowed in prod: %s", (env, mode, allowed) => {
    expect(authModeOf(loadConfig(env))).toBe(mode);
    expect(() => assertProdFence(loadConfig(env))).not.toThrow();
    const prod = (): void => assertProdFence(loadConfig({ ...env, KAFSCALE_ENV: "prod" }));
    if (allowed) expect(prod).not.toThrow();
    else expect(prod).toThrow(ConfigError);
  });
});

describe("bearer tokens", () => {
  it.each([
    ["Bearer abc.def.ghi", "abc.def.ghi"],
    ["bearer abc", "abc"],
    ["  Bearer   abc  ", "abc"],
    ["Basic abc", undefined],
    ["Bearer", undefined],
    ["Bearer a b", undefined],
    [undefined, undefined],
  ])("reads %j as %j", (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });

  it.each([
    ["eyJh.eyJ.sig", true],
    ["eyJh.eyJ.", true],
    ["eyJh.eyJ", false],
    ["a.b.c.d", false],
    ["s3cret-token", false],
    ["a+b.c.d", false],
  ])("%s looks like a JWT: %s", (token, expected) => {
    expect(looksLikeJwt(token)).toBe(expected);
  });
});

describe("WWW-Authenticate and RFC 9728 URLs", () => {
  it("formats the challenge with quoted, escaped parameters in a fixed order", () => {
    expect(bearerChallenge({})).toBe('Bearer realm="kafscale-mcp"');
    expect(
      bearerChallenge({ resourceMetadata: "https://h/.well-known/oauth-protected-resource/mcp", scope: "a b", error: "invalid_token", description: 'bad "x"\n' }),
    ).toBe(
      'Bearer realm="kafscale-mcp", resource_metadata="https://h/.well-known/oauth-protected-resource/mcp", scope="a b", error="invalid_token", error_description="bad \\"x\\""',
    );
  });

  it.each([
    ["https://mcp.example.com/mcp", "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"],
    ["https://mcp.example.com/mcp/", "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"],
    ["https://example.com:8443/kafscale/mcp", "https://example.com:8443/.well-known/oauth-protected-resource/kafscale/mcp"],
    ["https://mcp.example.com/", "https://mcp.example.com/.well-known/oauth-protected-resource"],
  ])("the metadata of %s is at %s", (resource, metadata) => {
    expect(metadataUrlFor(resource)).toBe(metadata);
  });
});

describe("scopes and tool sets", () => {
  it.each([
    [{ scope: "openid kafscale:observe" }, ["openid", "kafscale:observe"]],
    [{ scp: ["kafscale:observe", "x"] }, ["kafscale:observe", "x"]],
    [{ scp: "a b" }, ["a", "b"]],
    [{ scope: "a", scp: ["a", "b"] }, ["a", "b"]],
    [{ scope: 42 }, []],
    [{}, []],
  ])("reads the scopes of %j", (payload, scopes) => {
    expect(tokenScopes(payload)).toEqual(scopes);
  });

  it("maps the observe and query scopes each to its own tool set, and never grants mutate", () => {
    expect(toolScopesFrom(["kafscale:observe"], "kafscale:observe")).toEqual(["observe"]);
    expect(toolScopesFrom(["kafscale:observe"], "kafscale:observe", "kafscale:query")).toEqual(["observe"]);
    expect(toolScopesFrom(["kafscale:query"], "kafscale:observe", "kafscale:query")).toEqual(["query"]);
    expect(toolScopesFrom(["kafscale:query", "kafscale:observe"], "kafscale:observe", "kafscale:query")).toEqual(["observe", "query"]);
    expect(toolScopesFrom(["kafscale:mutate", "admin"], "kafscale:observe")).toEqual([]);
    expect(missingScopes(["a"], ["a", "b"])).toEqual(["b"]);
  });

  it("registers no mutate tool in v1, keeps query_snapshot out of the observe set, and narrows by the allow-list", () => {
    expect(ALL_TOOLS.filter((t) => t.scope !== "observe").map((t) => [t.name, t.scope])).toEqual([["query_snapshot", "query"]]);
    expect(selectTools(["mutate"], [])).toEqual([]);
    expect(selectTools(["observe"], []).map((t) => t.name)).toEqual(TOOL_NAMES.filter((n) => n !== "query_snapshot"));
    expect(selectTools(["observe", "query"], []).map((t) => t.name)).toEqual(TOOL_NAMES);
    expect(selectTools(["query"], []).map((t) => t.name)).toEqual(["query_snapshot"]);
    expect(selectTools(["observe"], ["list_topics"]).map((t) => t.name)).toEqual(["list_topics"]);
    expect(selectTools([], ["list_topics"])).toEqual([]);
  });

  it("grants query_snapshot to scopeless principals only with KAFSCALE_MCP_ENABLE_QUERY=true", async () => {
    const req = { headers: { authorization: "Bearer t" } } as never;
    const scopesOf = async (authenticator: ReturnType<typeof openAuthenticator>): Promise<unknown> => {
      const result = await authenticator.authenticate(req);
      return result.ok ? result.principal.scopes : result;
    };
    expect(await scopesOf(openAuthenticator())).toEqual(["observe"]);
    expect(await scopesOf(openAuthenticator(true))).toEqual(["observe", "query"]);
    expect(await scopesOf(staticTokenAuthenticator("t"))).toEqual(["observe"]);
    expect(await scopesOf(staticTokenAuthenticator("t", true))).toEqual(["observe", "query"]);
    expect(loadConfig({}).query).toEqual({ enabled: false, timeoutMs: 2000, maxRows: 500 });
  });

  it("derives the principal from the claims", () => {
    expect(principalFromClaims({ iss: "https://idp", sub: "u1", azp: "agent", scope: "kafscale:observe" }, "kafscale:observe")).toEqual({
      subject: "https://idp#u1",
      authMode: "oidc",
      clientId: "agent",
      scopes: ["observe"],
    });
    expect(principalFromClaims({ iss: "https://idp", sub: "u1", client_id: "svc" }, "kafscale:observe")).toMatchObject({
      clientId: "svc",
      scopes: [],
    });
  });
});

describe("token errors", () => {
  it.each([
    [new errors.JWTExpired("x", {}, "exp", "check_failed"), 401, "token expired"],
    [new errors.JWTClaimValidationFailed("x", {}, "aud", "check_failed"), 401, "audience mismatch"],
    [new errors.JWTClaimValidationFailed("x", {}, "jti", "check_failed"), 401, "token claims invalid"],
    [new errors.JOSEAlgNotAllowed("x"), 401, "algorithm not allowed"],
    [new errors.JWKSNoMatchingKey(), 401, "signing key unknown"],
    [new errors.JWSInvalid("x"), 401, "malformed token"],
    [new errors.JWKSTimeout(), 503, "identity provider keys unavailable"],
    [new errors.JOSEError("Expected 200 OK from the JSON Web Key Set HTTP response"), 503, "identity provider keys unavailable"],
  ])("maps %s to %i %s", (err, status, reason) => {
    expect(describeTokenError(err)).toEqual({ status, reason });
  });
});

describe("OIDC discovery", () => {
  it("finds the jwks_uri and refuses a document naming another issuer", async () => {
    const idp = await startTestIssuer();
    try {
      expect(discoveryUrlFor(`${idp.url}/`)).toBe(`${idp.url}/.well-known/openid-configuration`);
      expect(await discoverJwksUri(idp.url, 2000)).toBe(idp.jwksUrl);
      await expect(discoverJwksUri(`${idp.url}/`, 2000)).rejects.toThrow(/names issuer .* expected/);
      idp.failDiscovery(true);
      await expect(discoverJwksUri(idp.url, 2000)).rejects.toThrow(/answered HTTP 500/);
    } finally {
      await idp.close();
    }
  });
});

describe("rate limiter", () => {
  it("allows a burst, then refills at the configured rate", () => {
    let now = 0;
    const limiter = createRateLimiter({ perMinute: 60, burst: 3, now: () => now });
    expect(limiter?.description).toBe("60 calls per minute per principal (tool calls and initialize)");
    for (let i = 0; i < 3; i++) expect(limiter?.take("a")).toEqual({ ok: true });
    expect(limiter?.take("a")).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(limiter?.take("b")).toEqual({ ok: true });
    now += 1000;
    expect(limiter?.take("a")).toEqual({ ok: true });
    expect(limiter?.take("a", 2)).toEqual({ ok: false, retryAfterSeconds: 2 });
    now += 60_000;
    expect(limiter?.take("a", 10)).toEqual({ ok: true }); // capped at the burst
  });

  it("is off at 0 and bounds its memory", () => {
    expect(createRateLimiter({ perMinute: 0, burst: 1 })).toBeNull();
    let now = 0;
    const limiter = createRateLimiter({ perMinute: 60, burst: 1, now: () => now, maxBuckets: 2 });
    limiter?.take("a");
    limiter?.take("b");
    now += 5000;
    limiter?.take("c"); // drops a and b, whose buckets are full again
    expect(limiter?.take("a")).toEqual({ ok: true });
  });
});

describe("JSON-RPC bodies", () => {
  it("finds the tools/call requests of a message or a batch", () => {
    expect(toolCallsIn({ jsonrpc: "2.0", id: 1, method: "tools/list" })).toEqual([]);
    expect(toolCallsIn({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "x", arguments: { a: 1 } } })).toEqual([
      { id: 2, name: "x", arguments: { a: 1 } },
    ]);
    expect(
      toolCallsIn([
        { method: "tools/call", id: "a", params: { name: "x" } },
        { method: "notifications/initialized" },
        { method: "tools/call", params: {} },
        null,
      ]),
    ).toEqual([
      { id: "a", name: "x", arguments: {} },
      { id: null, name: "", arguments: {} },
    ]);
    expect(toolCallsIn(undefined)).toEqual([]);
  });
});

describe("audit records and the audit_log table", () => {
  const row = (at: string, subject: string | null, outcome: AuditRow["outcome"] = "ok"): AuditRow => ({
    at,
    requestId: "r",
    subject,
    clientId: null,
    authMode: "oidc",
    tool: "list_topics",
    arguments: "{}",
    outcome,
    reason: null,
    status: null,
    latencyMs: 1.5,
    revision: 7,
    remoteAddr: "127.0.0.1",
    sessionId: null,
  });

  it("truncates large arguments and writes snake_case JSON lines", () => {
    expect(argumentsJson({ group_id: "g" })).toBe('{"group_id":"g"}');
    expect(argumentsJson(undefined)).toBeNull();
    const big = argumentsJson({ names: Array.from({ length: 2000 }, (_, i) => `topic-${i}`) }) as string;
    expect(big.length).toBe(MAX_ARGUMENTS_CHARS + "…[truncated]".length);
    expect(big.endsWith("…[truncated]")).toBe(true);
    expect(JSON.parse(auditJsonLine(row("2025-01-01T00:00:00.000Z", "s")))).toEqual({
      type: "audit",
      at: "2025-01-01T00:00:00.000Z",
      request_id: "r",
      subject: "s",
      client_id: null,
      auth_mode: "oidc",
      tool: "list_topics",
      arguments: "{}",
      outcome: "ok",
      reason: null,
      status: null,
      latency_ms: 1.5,
      revision: 7,
      remote_addr: "127.0.0.1",
      session_id: null,
    });
  });

  it("stores, queries newest first (optionally by subject), and prunes by retention", () => {
    const store = createStore(":memory:");
    try {
      store.audit.record(row("2025-01-01T00:00:00.000Z", "alice"));
      store.audit.record(row("2025-01-02T00:00:00.000Z", null, "denied"));
      store.audit.record(row("2025-01-03T00:00:00.000Z", "alice", "tool_error"));
      expect(store.audit.recent().map((r) => r.at)).toEqual([
        "2025-01-03T00:00:00.000Z",
        "2025-01-02T00:00:00.000Z",
        "2025-01-01T00:00:00.000Z",
      ]);
      expect(store.audit.recent(1, "alice")).toEqual([row("2025-01-03T00:00:00.000Z", "alice", "tool_error")]);
      expect(() => store.audit.record({ ...row("2025-01-04T00:00:00.000Z", "x"), outcome: "maybe" as never })).toThrow();

      const stop = startAuditRetention(store.audit, 36 * 3_600_000, silentLogger, 60_000, () => Date.parse("2025-01-03T12:00:00Z"));
      stop();
      expect(store.audit.recent().map((r) => r.at)).toEqual(["2025-01-03T00:00:00.000Z", "2025-01-02T00:00:00.000Z"]);
    } finally {
      store.close();
    }
  });

  it("batches audit_log rows off the request path, flushes on time, size and close, and survives insert failures", async () => {
    const store = createStore(":memory:");
    try {
      const sink = storeSink(store.audit, silentLogger, { delayMs: 30, maxRows: 3 });
      sink.write(row("2025-01-01T00:00:00.000Z", "a"));
      expect(store.audit.recent()).toHaveLength(0);
      await new Promise((r) => setTimeout(r, 80));
      expect(store.audit.recent()).toHaveLength(1);

      for (const at of ["2025-01-02T00:00:00.000Z", "2025-01-03T00:00:00.000Z"]) sink.write(row(at, "b"));
      expect(store.audit.recent()).toHaveLength(1);
      sink.write(row("2025-01-04T00:00:00.000Z", "b"));
      expect(store.audit.recent()).toHaveLength(4);

      sink.write(row("2025-01-05T00:00:00.000Z", "c"));
      await sink.close();
      expect(store.audit.recent().map((r) => r.subject)).toEqual(["c", "b", "b", "b", "a"]);

      const lines: string[] = [];
      const logger = createLogger("error", (line) => lines.push(line));
      const broken = storeSink(store.audit, logger, { delayMs: 30, maxRows: 2 });
      broken.write({ ...row("2025-01-06T00:00:00.000Z", "d"), outcome: "maybe" as never });
      expect(() => broken.write(row("2025-01-07T00:00:00.000Z", "d"))).not.toThrow();
      expect(lines.join("\n")).toMatch(/audit_log insert failed/);
      // The batch is one transaction; when it fails, its rows are retried one by one, so only the bad one is lost.
      expect(store.audit.recent(1)[0]).toMatchObject({ subject: "d", at: "2025-01-07T00:00:00.000Z" });
      broken.write(row("2025-01-08T00:00:00.000Z", "e"));
      broken.flush();
      expect(store.audit.recent(1)[0]?.subject).toBe("e");
    } finally {
      store.close();
    }
  });
});
