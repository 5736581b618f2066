/** The authenticated principal, attached to each HTTP request after authentication. */
import type { Request } from "express";
import type { Principal } from "../../tools/call-context.js";

const PRINCIPAL = Symbol("principal");

/** Attaches the authenticated principal to a request. */
export function setPrincipal(req: Request, principal: Principal): void {
  (req as unknown as Record<symbol, Principal>)[PRINCIPAL] = principal;
}

/** The principal of an authenticated request; undefined before (or without) authentication. */
export function principalOf(req: Request): Principal | undefined {
  return (req as unknown as Record<symbol, Principal | undefined>)[PRINCIPAL];
}
