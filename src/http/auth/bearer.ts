/** Reading a bearer token from the Authorization header (RFC 6750 §2.1; never from the query string). */

/**
 * The token of an `Authorization: Bearer <token>` header, or undefined. The scheme is matched
 * case-insensitively, as RFC 7235 says; the static-token checker keeps the Go service's stricter
 * case-sensitive rule on its own.
 */
export function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^bearer +(\S+)$/i.exec((authorization ?? "").trim());
  return match?.[1];
}

/** Three base64url segments: the JWS compact form (the signature may be empty, as in `alg: none`). */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}
