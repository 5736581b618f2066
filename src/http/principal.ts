/** Who is calling: the result of authentication, attached to each /mcp request. */
import type { Request } from "express";
import type { ToolScope } from "../tools/tool.js";

/** How one principal proved who it is. */
export type AuthMode = "none" | "static" | "oidc";

/** The service's configured auth mode, as logged at start and recorded in the audit trail. */
export type AuthModeName = AuthMode | "oidc+static";

export interface Principal {
  /** Stable identity: "<iss>#<sub>" for OIDC, "static-token" or "anonymous". */
  subject: string;
  authMode: AuthMode;
  /** The OAuth client the token was issued to (`azp` or `client_id`). */
  clientId?: string;
  scopes: ToolScope[];
}

const PRINCIPAL = Symbol("principal");

/** Attaches the authenticated principal to a request. */
export function setPrincipal(req: Request, principal: Principal): void {
  (req as unknown as Record<symbol, Principal>)[PRINCIPAL] = principal;
}

/** The principal of an authenticated request; undefined before (or without) authentication. */
export function principalOf(req: Request): Principal | undefined {
  return (req as unknown as Record<symbol, Principal | undefined>)[PRINCIPAL];
}
