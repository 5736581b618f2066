/**
 * Where the issuer's signing keys come from: OIDC discovery (`<issuer>/.well-known/openid-configuration`
 * → `jwks_uri`) or KAFSCALE_MCP_OIDC_JWKS_URL, then jose's remote JWK set, which caches the keys and
 * refetches on an unknown `kid` (key rotation) at most once per cooldown.
 *
 * Discovery is tried once at start; if the issuer is unreachable the service still starts (tools must
 * not wait on an identity provider forever) and keeps retrying in the background with backoff, while
 * token requests are answered 503 "identity provider discovery pending".
 */
import { createRemoteJWKSet, type JWTVerifyGetKey } from "jose";
import type { Logger } from "../../log.js";
import { backoffDelay } from "../../backoff.js";

export interface JwksSourceOptions {
  issuer: string;
  /** Skips discovery. */
  jwksUrl?: string;
  /** Minimum time between refetches caused by an unknown `kid`. */
  cooldownMs: number;
  logger: Logger;
  /** Per-request timeout for discovery and JWKS fetches. */
  timeoutMs?: number;
  /** Retry backoff for discovery (defaults: 1 s doubling to 60 s, with jitter). */
  retryBaseMs?: number;
  retryCapMs?: number;
}

export interface JwksSource {
  /** The key resolver, or null while discovery has not succeeded yet. */
  keys(): JWTVerifyGetKey | null;
  /** Settles after the first discovery attempt, whatever its result. */
  readonly firstAttempt: Promise<void>;
  /** Stops background retries. */
  stop(): void;
}

/** Keys stay cached this long before a routine refetch (jose's default, stated for clarity). */
const CACHE_MAX_AGE_MS = 10 * 60_000;

/** The discovery document URL for an issuer (OIDC Discovery §4: append to the issuer, minus a trailing "/"). */
export function discoveryUrlFor(issuer: string): string {
  return `${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
}

/** Fetches the discovery document and returns its `jwks_uri`, checking the issuer it names. */
export async function discoverJwksUri(issuer: string, timeoutMs: number): Promise<string> {
  const url = discoveryUrlFor(issuer);
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: "application/json" } });
  if (!res.ok) throw new Error(`discovery at ${url} answered HTTP ${res.status}`);
  const doc = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
  // OIDC Discovery §4.3: the document's issuer must be the one we asked, or tokens would be checked
  // against keys of a different issuer.
  if (doc.issuer !== issuer) {
    throw new Error(`discovery at ${url} names issuer ${JSON.stringify(doc.issuer)}, expected ${JSON.stringify(issuer)}`);
  }
  if (typeof doc.jwks_uri !== "string" || !/^https?:\/\//.test(doc.jwks_uri)) {
    throw new Error(`discovery at ${url} has no usable jwks_uri`);
  }
  return doc.jwks_uri;
}

/** Creates the source and starts discovery (unless a JWKS URL is configured). */
export function createJwksSource(options: JwksSourceOptions): JwksSource {
  const timeoutMs = options.timeoutMs ?? 5000;
  const remote = (uri: string): JWTVerifyGetKey =>
    createRemoteJWKSet(new URL(uri), {
      cooldownDuration: options.cooldownMs,
      cacheMaxAge: CACHE_MAX_AGE_MS,
      timeoutDuration: timeoutMs,
    });
  let keys: JWTVerifyGetKey | null = null;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  if (options.jwksUrl !== undefined) {
    keys = remote(options.jwksUrl);
    return { keys: () => keys, firstAttempt: Promise.resolve(), stop: () => undefined };
  }

  const attempt = async (n: number): Promise<void> => {
    try {
      const uri = await discoverJwksUri(options.issuer, timeoutMs);
      if (stopped) return;
      keys = remote(uri);
      options.logger.info("oidc discovery done", { issuer: options.issuer, jwks_uri: uri });
    } catch (err) {
      if (stopped) return;
      const delay = backoffDelay(n, { baseMs: options.retryBaseMs ?? 1000, capMs: options.retryCapMs ?? 60_000 });
      options.logger.warn("oidc discovery failed; tokens are refused with 503 until it succeeds", {
        issuer: options.issuer,
        error: err instanceof Error ? err.message : String(err),
        retry_in_ms: delay,
      });
      timer = setTimeout(() => void attempt(n + 1), delay);
      timer.unref();
    }
  };
  const firstAttempt = attempt(0);
  return {
    keys: () => keys,
    firstAttempt,
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
