/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728) for /mcp, so an MCP client that gets a 401 can
 * find the authorization server and the scopes to request. Served unauthenticated, only with OIDC.
 */
import type { Request, Response } from "express";

/** The well-known prefix of RFC 9728 §3. */
export const METADATA_PATH = "/.well-known/oauth-protected-resource";

/**
 * The canonical URI of /mcp: KAFSCALE_MCP_RESOURCE_URL when set (it is what tokens' audience should
 * name behind a proxy), otherwise this request's scheme and Host (already checked by the Host guard).
 */
export function resourceUrlFor(req: Request, configured: string | undefined): string {
  if (configured !== undefined) return configured;
  return `${req.protocol}://${req.headers.host ?? "localhost"}/mcp`;
}

/** RFC 9728 §3.1: the well-known segment goes between the origin and the resource's path. */
export function metadataUrlFor(resourceUrl: string): string {
  const url = new URL(resourceUrl);
  const path = url.pathname === "/" ? "" : url.pathname.replace(/\/$/, "");
  return `${url.origin}${METADATA_PATH}${path}`;
}

export interface ResourceMetadataOptions {
  issuer: string;
  /** The scopes this resource understands (the observe scope and any always-required ones). */
  scopes: readonly string[];
  resourceUrl: string | undefined;
}

/** The metadata document of RFC 9728 §2. */
export interface ResourceMetadata {
  resource: string;
  authorization_servers: string[];
  scopes_supported: string[];
  bearer_methods_supported: string[];
  resource_name: string;
}

/** Express handler for `/.well-known/oauth-protected-resource[/mcp]`. */
export function resourceMetadataHandler(options: ResourceMetadataOptions): (req: Request, res: Response) => void {
  return (req, res) => {
    const body: ResourceMetadata = {
      resource: resourceUrlFor(req, options.resourceUrl),
      authorization_servers: [options.issuer],
      scopes_supported: [...options.scopes],
      bearer_methods_supported: ["header"],
      resource_name: "kafscale-mcp",
    };
    res.setHeader("Cache-Control", "public, max-age=300");
    res.json(body);
  };
}
