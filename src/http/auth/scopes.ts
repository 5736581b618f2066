/**
 * OAuth scopes → tool sets. A token's `scope` (RFC 8693/9068: space-separated string) or `scp`
 * (array, or a string in some providers) claim is read; the configured observe scope grants the
 * "observe" tool set, the query scope (`kafscale:query`) grants "query" (query_snapshot) — each only
 * by itself, neither implies the other. Nothing grants "mutate": v1 registers no mutation tool.
 */
import type { JWTPayload } from "jose";
import type { ToolScope } from "../../tools/tool.js";

/** Every OAuth scope the token carries, from `scope` and `scp`. */
export function tokenScopes(payload: JWTPayload): string[] {
  const scopes = new Set<string>();
  for (const claim of [payload.scope, payload.scp]) {
    const values = typeof claim === "string" ? claim.split(" ") : Array.isArray(claim) ? claim : [];
    for (const value of values) if (typeof value === "string" && value.length > 0) scopes.add(value);
  }
  return [...scopes];
}

/** The tool sets granted by `granted` OAuth scopes. */
export function toolScopesFrom(granted: readonly string[], observeScope: string, queryScope?: string): ToolScope[] {
  const scopes: ToolScope[] = [];
  if (granted.includes(observeScope)) scopes.push("observe");
  if (queryScope !== undefined && granted.includes(queryScope)) scopes.push("query");
  return scopes;
}

/** The scopes of `needed` that `granted` lacks. */
export function missingScopes(granted: readonly string[], needed: readonly string[]): string[] {
  return needed.filter((scope) => !granted.includes(scope));
}
