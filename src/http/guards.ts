/**
 * DNS-rebinding protection for /mcp (MCP transport spec, "Security warning"): the Host header must
 * name this service, and a browser Origin, when sent, must be allowed. Defaults allow only loopback
 * names; real deployments list their hostnames in KAFSCALE_MCP_ALLOWED_HOSTS / _ORIGINS.
 */
import type { NextFunction, Request, Response } from "express";
import { writeJsonRpcError } from "./mcp/jsonrpc.js";

const LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "[::1]"];

/** Strips the port from a Host header value ("[::1]:8090" → "[::1]", "a.b:80" → "a.b"). */
export function hostName(host: string): string {
  const trimmed = host.trim().toLowerCase();
  if (trimmed.startsWith("[")) return trimmed.slice(0, trimmed.indexOf("]") + 1);
  return trimmed.replace(/:\d+$/, "");
}

export interface GuardOptions {
  allowedHosts: readonly string[];
  allowedOrigins: readonly string[];
  /** Called before each refusal (audit, metrics) with the reason and the status sent. */
  onDenied?: (req: Request, reason: string, status: number) => void;
}

function deny(res: Response, message: string): void {
  writeJsonRpcError(res, 403, -32000, message);
}

/** Builds the Host/Origin guard middleware. */
export function hostAndOriginGuard(options: GuardOptions): (req: Request, res: Response, next: NextFunction) => void {
  const hosts = new Set(
    (options.allowedHosts.length > 0 ? options.allowedHosts : LOOPBACK_HOSTS).map((h) => hostName(h)),
  );
  const origins = new Set(options.allowedOrigins.map((o) => o.trim().toLowerCase().replace(/\/$/, "")));
  const loopbackOrigin = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;
  return (req: Request, res: Response, next: NextFunction): void => {
    const host = req.headers.host;
    if (!host || !hosts.has(hostName(host))) {
      options.onDenied?.(req, "host not allowed", 403);
      return deny(res, "Forbidden: Host header not allowed (set KAFSCALE_MCP_ALLOWED_HOSTS)");
    }
    const origin = req.headers.origin;
    if (origin !== undefined) {
      const normalized = origin.trim().toLowerCase();
      const allowed = origins.size > 0 ? origins.has(normalized) : loopbackOrigin.test(normalized);
      if (!allowed) {
        options.onDenied?.(req, "origin not allowed", 403);
        return deny(res, "Forbidden: Origin not allowed (set KAFSCALE_MCP_ALLOWED_ORIGINS)");
      }
    }
    next();
  };
}
