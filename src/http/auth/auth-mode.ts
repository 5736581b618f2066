/**
 * Chooses the authenticator from the configuration, enforces the production fence, and says which
 * mode is active. The fence (Kafscale's "environment fences"): with KAFSCALE_ENV=prod the service
 * refuses to start with no auth at all, or with only the static shared token unless the break-glass
 * KAFSCALE_MCP_ALLOW_STATIC_TOKEN_IN_PROD=true is set.
 */
import { ConfigError, type Config } from "../../config.js";
import type { Logger } from "../../log.js";
import { openAuthenticator, staticTokenAuthenticator, type Authenticator } from "./authenticator.js";
import { createJwksSource, type JwksSource } from "./jwks-source.js";
import { oidcAuthenticator } from "./oidc-authenticator.js";
import type { AuthModeName } from "../../tools/call-context.js";

export interface AuthSetup {
  authenticator: Authenticator;
  /** The issuer's keys (OIDC only); stop() it on shutdown. */
  jwks: JwksSource | null;
}

/** The mode the configuration selects. */
export function authModeOf(config: Config): AuthModeName {
  const oidc = config.auth.oidc !== undefined;
  const token = config.http.authToken !== undefined;
  if (oidc) return token ? "oidc+static" : "oidc";
  return token ? "static" : "none";
}

/** Throws ConfigError when KAFSCALE_ENV=prod and the auth mode is not allowed there. */
export function assertProdFence(config: Config): void {
  if (config.env !== "prod") return;
  const mode = authModeOf(config);
  if (mode === "none") {
    throw new ConfigError(
      "refusing to start: KAFSCALE_ENV=prod and /mcp would be open to anyone.\n" +
        "  Set KAFSCALE_MCP_OIDC_ISSUER and KAFSCALE_MCP_OIDC_AUDIENCE (OIDC access tokens, recommended),\n" +
        "  or KAFSCALE_MCP_AUTH_TOKEN together with KAFSCALE_MCP_ALLOW_STATIC_TOKEN_IN_PROD=true.",
    );
  }
  if (mode === "static" && !config.auth.allowStaticTokenInProd) {
    throw new ConfigError(
      "refusing to start: KAFSCALE_ENV=prod with only a static shared token (KAFSCALE_MCP_AUTH_TOKEN).\n" +
        "  Configure OIDC (KAFSCALE_MCP_OIDC_ISSUER, KAFSCALE_MCP_OIDC_AUDIENCE), or, as a deliberate\n" +
        "  break-glass choice, set KAFSCALE_MCP_ALLOW_STATIC_TOKEN_IN_PROD=true.",
    );
  }
}

/** Builds the authenticator for the configured mode and logs which one is active. */
export function createAuth(config: Config, logger: Logger): AuthSetup {
  assertProdFence(config);
  const mode = authModeOf(config);
  const { oidc } = config.auth;
  const token = config.http.authToken;
  if (oidc !== undefined) {
    if (!/^https:\/\//.test(oidc.issuer) && !/^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:|\/|$)/.test(oidc.issuer)) {
      logger.warn("oidc issuer is not https; discovery and keys can be tampered with in transit", { issuer: oidc.issuer });
    }
    const jwks = createJwksSource({ issuer: oidc.issuer, jwksUrl: oidc.jwksUrl, cooldownMs: oidc.jwksCooldownMs, logger });
    logger.info(`auth mode: ${mode}`, {
      issuer: oidc.issuer,
      audience: oidc.audiences,
      algorithms: oidc.algorithms,
      observe_scope: oidc.observeScope,
      query_scope: oidc.queryScope,
      static_fallback: token !== undefined,
    });
    return {
      authenticator: oidcAuthenticator({
        oidc,
        jwks,
        resourceUrl: config.auth.resourceUrl,
        staticToken: token,
        staticQuery: config.query.enabled,
      }),
      jwks,
    };
  }
  if (token !== undefined) {
    if (config.env === "prod") logger.warn("auth mode: static (break-glass override KAFSCALE_MCP_ALLOW_STATIC_TOKEN_IN_PROD)");
    else logger.info("auth mode: static bearer token");
    return { authenticator: staticTokenAuthenticator(token, config.query.enabled), jwks: null };
  }
  logger.warn("auth mode: none — /mcp is open; set KAFSCALE_MCP_OIDC_ISSUER or KAFSCALE_MCP_AUTH_TOKEN");
  return { authenticator: openAuthenticator(config.query.enabled), jwks: null };
}
