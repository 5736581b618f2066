/**
 * OIDC / JWT access tokens, validated on every request with jose: signature against the issuer's
 * JWKS, `iss`, `aud`, `exp` (required) and `nbf` with a small clock tolerance, an asymmetric-only
 * algorithm allow-list, and the required scopes. Optionally the static token too ("oidc+static"):
 * a JWT-shaped token is validated as a JWT, anything else compared with the static token.
 *
 * The token itself is never logged, stored or passed on: only the principal derived from it leaves
 * this file.
 */
import type { Request } from "express";
import { jwtVerify, type JWTPayload } from "jose";
import type { OidcConfig } from "../../config.js";
import { staticPrincipal, type AuthFailure, type AuthResult, type Authenticator } from "./authenticator.js";
import { bearerToken, looksLikeJwt } from "./bearer.js";
import type { JwksSource } from "./jwks-source.js";
import type { Principal } from "../../tools/call-context.js";
import { metadataUrlFor, resourceUrlFor } from "./resource-metadata.js";
import { missingScopes, tokenScopes, toolScopesFrom } from "./scopes.js";
import { staticTokenChecker } from "./static-token.js";
import { describeTokenError } from "./token-errors.js";
import { bearerChallenge } from "./www-authenticate.js";

export interface OidcAuthenticatorOptions {
  oidc: OidcConfig;
  jwks: JwksSource;
  /** KAFSCALE_MCP_RESOURCE_URL, for the challenge's resource_metadata. */
  resourceUrl?: string;
  /** KAFSCALE_MCP_AUTH_TOKEN, accepted alongside tokens when set. */
  staticToken?: string;
  /** KAFSCALE_MCP_ENABLE_QUERY: grants query_snapshot to the static token (tokens need the query scope). */
  staticQuery?: boolean;
}

/** How long a client should wait while the identity provider cannot be reached. */
const RETRY_AFTER_S = 5;

const unavailable = (reason: string): AuthFailure => ({ ok: false, status: 503, reason, retryAfterSeconds: RETRY_AFTER_S });

/** The principal of a verified token: subject "<iss>#<sub>", client from `azp` or `client_id`. */
export function principalFromClaims(payload: JWTPayload, observeScope: string, queryScope?: string): Principal {
  const clientId = typeof payload.azp === "string" ? payload.azp : payload.client_id;
  return {
    subject: `${payload.iss}#${payload.sub}`,
    authMode: "oidc",
    clientId: typeof clientId === "string" ? clientId : undefined,
    scopes: toolScopesFrom(tokenScopes(payload), observeScope, queryScope),
  };
}

/** Creates the OIDC authenticator (mode "oidc", or "oidc+static" with a static token). */
export function oidcAuthenticator(options: OidcAuthenticatorOptions): Authenticator {
  const { oidc } = options;
  const needed = [oidc.observeScope, ...oidc.requiredScopes.filter((s) => s !== oidc.observeScope)];
  const scope = needed.join(" ");
  const checkStatic = options.staticToken !== undefined ? staticTokenChecker(options.staticToken) : null;
  const staticCaller = staticPrincipal(options.staticQuery ?? false);

  const refuse = (req: Request, status: 401 | 403, reason: string, presented: boolean): AuthFailure => ({
    ok: false,
    status,
    reason,
    wwwAuthenticate: bearerChallenge({
      resourceMetadata: metadataUrlFor(resourceUrlFor(req, options.resourceUrl)),
      scope,
      ...(status === 403
        ? { error: "insufficient_scope", description: reason }
        : presented
          ? { error: "invalid_token", description: reason }
          : {}),
    }),
  });

  const verify = async (req: Request, token: string): Promise<AuthResult> => {
    const keys = options.jwks.keys();
    if (keys === null) return unavailable("identity provider discovery pending");
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: oidc.issuer,
        audience: oidc.audiences,
        algorithms: oidc.algorithms,
        clockTolerance: Math.round(oidc.clockToleranceMs / 1000),
        requiredClaims: ["exp", "sub"],
      }));
    } catch (err) {
      const refusal = describeTokenError(err);
      return refusal.status === 503 ? unavailable(refusal.reason) : refuse(req, 401, refusal.reason, true);
    }
    const principal = principalFromClaims(payload, oidc.observeScope, oidc.queryScope);
    const missing = missingScopes(tokenScopes(payload), needed);
    if (missing.length > 0) {
      return { ...refuse(req, 403, "insufficient scope", true), subject: principal.subject, clientId: principal.clientId };
    }
    return { ok: true, principal };
  };

  return {
    mode: checkStatic ? "oidc+static" : "oidc",
    authenticate: async (req) => {
      const header = req.headers.authorization;
      const token = bearerToken(header);
      if (token === undefined) {
        const presented = header !== undefined;
        return refuse(req, 401, presented ? "malformed authorization header" : "missing bearer token", presented);
      }
      if (checkStatic && !looksLikeJwt(token)) {
        return checkStatic(header) ? { ok: true, principal: staticCaller } : refuse(req, 401, "invalid token", true);
      }
      if (!looksLikeJwt(token)) return refuse(req, 401, "malformed token", true);
      const result = await verify(req, token);
      // A static token that happens to look like a JWT still works (constant-time compare, as always).
      if (!result.ok && checkStatic?.(header)) return { ok: true, principal: staticCaller };
      return result;
    },
  };
}
