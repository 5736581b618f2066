/**
 * Authentication for /mcp. Modes: none (open; logged as a warning), static (Kafscale's shared bearer
 * token), oidc (JWT access tokens, src/http/oidc-authenticator.ts), or oidc+static. A failure answers
 * 401/403 with a WWW-Authenticate header, as the MCP authorization spec asks, or 503 while the
 * identity provider cannot be reached.
 */
import type { Request } from "express";
import type { AuthModeName, Principal } from "../../tools/call-context.js";
import { staticTokenChecker } from "./static-token.js";
import { bearerChallenge } from "./www-authenticate.js";

/** A refusal: status, challenge and a short fixed-vocabulary reason (metrics label, audit, body). */
export interface AuthFailure {
  ok: false;
  status: 401 | 403 | 503;
  /** Absent on 503, which is not a challenge. */
  wwwAuthenticate?: string;
  reason: string;
  /** For 503: seconds the client should wait. */
  retryAfterSeconds?: number;
  /** Who it was, when the token was valid but not enough (403): for the audit record. */
  subject?: string;
  clientId?: string;
}

export type AuthResult = { ok: true; principal: Principal } | AuthFailure;

export interface Authenticator {
  mode: AuthModeName;
  authenticate(req: Request): Promise<AuthResult>;
}

/**
 * The tool sets of a principal that carries no OAuth scopes (static token, auth none, stdio): observe,
 * plus query when KAFSCALE_MCP_ENABLE_QUERY=true.
 */
export const scopelessGrant = (query: boolean): Principal["scopes"] => (query ? ["observe", "query"] : ["observe"]);

/** The principal of a caller holding the static token. */
export function staticPrincipal(query = false): Principal {
  return { subject: "static-token", authMode: "static", scopes: scopelessGrant(query) };
}

/** No authentication: every caller is "anonymous" with the observe scope (and query when enabled). */
export function openAuthenticator(query = false): Authenticator {
  const principal: Principal = { subject: "anonymous", authMode: "none", scopes: scopelessGrant(query) };
  return {
    mode: "none",
    authenticate: async () => ({ ok: true, principal }),
  };
}

/**
 * The static bearer token (KAFSCALE_MCP_AUTH_TOKEN) alone. Its challenge stays the Go service's bare
 * realm: with no authorization server there is no resource metadata to point to.
 */
export function staticTokenAuthenticator(token: string, query = false): Authenticator {
  const check = staticTokenChecker(token);
  const principal = staticPrincipal(query);
  return {
    mode: "static",
    authenticate: async (req) => {
      const header = req.headers.authorization;
      if (check(header)) return { ok: true, principal };
      const reason = header ? "invalid token" : "missing bearer token";
      return { ok: false, status: 401, wwwAuthenticate: bearerChallenge(header ? { error: "invalid_token" } : {}), reason };
    },
  };
}
