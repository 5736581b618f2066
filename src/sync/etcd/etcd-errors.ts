/**
 * etcd failures in words an operator (and, sanitised, an agent) can act on. grpc-js and etcd3 say
 * "14 UNAVAILABLE: No connection established. Last error: …" for a refused connection and an
 * untrusted certificate alike; the link state should say which one it is and what to check.
 */

/** A link probe that failed: the member could not prove it serves the cluster's present. */
export class LinkProbeFailed extends Error {
  constructor(cause: unknown) {
    super(`link probe failed: ${describeEtcdError(cause)}`, { cause });
    this.name = "LinkProbeFailed";
  }
}

/** What to call a failure, by the text etcd, grpc-js or Node put in it; first match wins. */
const KNOWN: readonly (readonly [RegExp, string])[] = [
  [/etcdserver: no leader/i, "etcd member has no leader (cut off from its peers, or the cluster lost quorum)"],
  [/authentication failed|invalid user ID or password/i, "etcd authentication failed: check KAFSCALE_MCP_ETCD_USERNAME and KAFSCALE_MCP_ETCD_PASSWORD"],
  [/permission denied/i, "etcd permission denied: the etcd user needs read access to the /kafscale/ prefix (under KAFSCALE_MCP_ETCD_NAMESPACE)"],
  [/invalid auth token/i, "etcd auth token rejected (etcd restarted?); signing in again"],
  [
    /certificate|self[- ]signed|unable to (?:get|verify)|CERT_|SSL|TLS|handshake|alert/i,
    "TLS handshake with etcd failed: check KAFSCALE_MCP_ETCD_CA_FILE (the CA that signed etcd's certificate) and, for mutual TLS, KAFSCALE_MCP_ETCD_CERT_FILE/KEY_FILE",
  ],
  [/ECONNREFUSED/, "etcd refused the connection (not running, or wrong KAFSCALE_MCP_ETCD_ENDPOINTS)"],
  [/ENOTFOUND|EAI_AGAIN|getaddrinfo/i, "etcd host name does not resolve (check KAFSCALE_MCP_ETCD_ENDPOINTS)"],
  [/EHOSTUNREACH|ENETUNREACH/i, "etcd host unreachable"],
  [/ECONNRESET|EPIPE/i, "connection to etcd reset"],
  [/deadline exceeded|request timed out|timed out/i, "etcd did not answer in time"],
];

/**
 * A clear one-line description of an etcd failure: the known cause and what to check, else the
 * original text (whose endpoints are stripped before an agent sees it: sanitizeError in src/tools).
 * The sync logs the original text next to it for operators.
 */
export function describeEtcdError(err: unknown): string {
  if (err instanceof LinkProbeFailed) return err.message;
  const text = err instanceof Error ? err.message : String(err);
  return KNOWN.find(([pattern]) => pattern.test(text))?.[1] ?? text;
}
