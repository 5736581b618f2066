/**
 * Who is calling and through what: one typed value per tool call, built by the transport (HTTP
 * session, REST route, stdio) and handed to the tool run, the audit trail and the metrics. Nothing
 * downstream decodes the SDK's untyped request extras.
 */
import type { ToolScope } from "./tool.js";

/** How one principal proved who it is. */
export type AuthMode = "none" | "static" | "oidc";

/** The service's configured auth mode, as logged at start and recorded in the audit trail. */
export type AuthModeName = AuthMode | "oidc+static";

export interface Principal {
  /** Stable identity: "<iss>#<sub>" for OIDC, "static-token", "anonymous", or "local:<user>" (stdio). */
  subject: string;
  authMode: AuthMode;
  /** The OAuth client the token was issued to (`azp` or `client_id`). */
  clientId?: string;
  scopes: ToolScope[];
}

/** The path a call came in by. */
export type Transport = "mcp-http" | "rest" | "stdio";

export interface CallContext {
  principal: Principal;
  transport: Transport;
  /** This service's id of the HTTP request (the X-Request-Id header); null over stdio. */
  requestId: string | null;
  /** The caller's address as the socket saw it; null over stdio. */
  remoteAddr: string | null;
  /** The MCP session, when the call came through one. */
  sessionId: string | null;
}
