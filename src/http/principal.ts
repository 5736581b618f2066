/** Who is calling: the result of authentication, attached to each /mcp request. */
import type { Request } from "express";
import type { ToolScope } from "../tools/tool.js";

export type AuthMode = "none" | "static" | "oidc";

export interface Principal {
  /** Stable identity: the token subject, "static-token" or "anonymous". */
  subject: string;
  authMode: AuthMode;
  clientId?: string;
  scopes: ToolScope[];
}

const PRINCIPAL = Symbol("principal");

export function setPrincipal(req: Request, principal: Principal): void {
  (req as unknown as Record<symbol, Principal>)[PRINCIPAL] = principal;
}

export function principalOf(req: Request): Principal | undefined {
  return (req as unknown as Record<symbol, Principal | undefined>)[PRINCIPAL];
}
