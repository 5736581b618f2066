/**
 * Authentication for /mcp. Modes: none (open; logged as a warning), static (Kafscale's shared bearer
 * token). A failure answers 401 with a WWW-Authenticate header, as the MCP authorization spec asks.
 */
import type { Request } from "express";
import type { Principal, AuthMode } from "./principal.js";
import { staticTokenChecker } from "./static-token.js";

export type AuthResult =
  | { ok: true; principal: Principal }
  | { ok: false; status: 401 | 403; wwwAuthenticate: string; reason: string };

export interface Authenticator {
  mode: AuthMode;
  authenticate(req: Request): Promise<AuthResult>;
}

const REALM = 'Bearer realm="kafscale-mcp"';

/** No authentication: every caller is "anonymous" with the observe scope. */
export function openAuthenticator(): Authenticator {
  return {
    mode: "none",
    authenticate: async () => ({ ok: true, principal: { subject: "anonymous", authMode: "none", scopes: ["observe"] } }),
  };
}

/** The static bearer token (KAFSCALE_MCP_AUTH_TOKEN). */
export function staticTokenAuthenticator(token: string): Authenticator {
  const check = staticTokenChecker(token);
  return {
    mode: "static",
    authenticate: async (req) => {
      const header = req.headers.authorization;
      if (check(header)) {
        return { ok: true, principal: { subject: "static-token", authMode: "static", scopes: ["observe"] } };
      }
      const reason = header ? "invalid token" : "missing bearer token";
      const error = header ? `, error="invalid_token"` : "";
      return { ok: false, status: 401, wwwAuthenticate: `${REALM}${error}`, reason };
    },
  };
}
