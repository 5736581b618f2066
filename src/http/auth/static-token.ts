/**
 * Kafscale's static bearer token (KAFSCALE_MCP_AUTH_TOKEN), compared in constant time. Both sides are
 * hashed first so the comparison takes the same time whatever the lengths.
 */
import { createHash, timingSafeEqual } from "node:crypto";

const digest = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest();

/** Returns a checker for `Authorization` header values against the configured token. */
export function staticTokenChecker(token: string): (authorization: string | undefined) => boolean {
  const expected = digest(token);
  return (authorization) => {
    const match = /^Bearer (.+)$/.exec((authorization ?? "").trim());
    const presented = digest(match?.[1] ?? "");
    // Always compare, even without a header, so timing does not tell "missing" from "wrong".
    return timingSafeEqual(presented, expected) && match !== null;
  };
}
