/**
 * Why a JWT was refused, in words a client may see. jose's messages can name claims and values;
 * these are short and generic, and the same fixed set labels the denial metrics and audit records.
 */
import { errors } from "jose";

export interface TokenRefusal {
  /** 401 for a bad token; 503 when the identity provider's keys could not be fetched. */
  status: 401 | 503;
  reason: string;
}

const CLAIM_REASONS: Record<string, string> = {
  nbf: "token not yet valid",
  aud: "audience mismatch",
  iss: "issuer mismatch",
  exp: "token has no expiry",
  sub: "token has no subject",
};

/** Maps an error thrown by `jwtVerify` (or the key resolver) to a refusal. */
export function describeTokenError(err: unknown): TokenRefusal {
  if (err instanceof errors.JWTExpired) return { status: 401, reason: "token expired" };
  if (err instanceof errors.JWTClaimValidationFailed) {
    return { status: 401, reason: CLAIM_REASONS[err.claim] ?? "token claims invalid" };
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return { status: 401, reason: "algorithm not allowed" };
  if (err instanceof errors.JWSSignatureVerificationFailed) return { status: 401, reason: "signature invalid" };
  if (err instanceof errors.JWKSNoMatchingKey) return { status: 401, reason: "signing key unknown" };
  if (err instanceof errors.JWKSMultipleMatchingKeys) return { status: 401, reason: "signing key ambiguous" };
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) {
    return { status: 503, reason: "identity provider keys unavailable" };
  }
  if (
    err instanceof errors.JWSInvalid ||
    err instanceof errors.JWTInvalid ||
    err instanceof errors.JOSENotSupported ||
    err instanceof errors.JWKInvalid
  ) {
    return { status: 401, reason: "malformed token" };
  }
  // A failed JWKS HTTP fetch surfaces as a plain JOSEError (or a fetch TypeError): the provider's
  // fault, not the caller's, so 503 and the client may retry.
  return { status: 503, reason: "identity provider keys unavailable" };
}
