/**
 * `WWW-Authenticate: Bearer …` challenges (RFC 6750 §3) with the parameters the MCP authorization
 * spec asks for: `resource_metadata` (RFC 9728 §5.1) so a client can find the authorization server,
 * and `scope` so it knows what to ask for.
 */

export interface BearerChallenge {
  /** URL of this resource's RFC 9728 metadata document. */
  resourceMetadata?: string;
  /** Space-separated scopes needed. */
  scope?: string;
  /** Only when a token was presented (RFC 6750 §3.1): a request without one gets no error code. */
  error?: "invalid_token" | "insufficient_scope" | "invalid_request";
  /** A short, generic reason ("token expired"); never the validator's internal message. */
  description?: string;
}

const REALM = "kafscale-mcp";

/** Quoted-string per RFC 7230: backslash-escape `\` and `"`, drop control characters. */
function quote(value: string): string {
  return `"${value.replace(/[\u0000-\u001f\u007f]/g, "").replace(/["\\]/g, "\\$&")}"`;
}

/** Formats the header value; parameters in a fixed order, realm first. */
export function bearerChallenge(challenge: BearerChallenge): string {
  const params: [string, string | undefined][] = [
    ["realm", REALM],
    ["resource_metadata", challenge.resourceMetadata],
    ["scope", challenge.scope],
    ["error", challenge.error],
    ["error_description", challenge.description],
  ];
  const parts = params.filter((p): p is [string, string] => p[1] !== undefined).map(([k, v]) => `${k}=${quote(v)}`);
  return `Bearer ${parts.join(", ")}`;
}
