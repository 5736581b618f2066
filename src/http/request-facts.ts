/**
 * What the HTTP layer records about a request for the audit trail and the call context: its id, the
 * caller's address, and the session it claims. Refusals are described with the request attached
 * (HttpDenial) and turned into the transport-free audit Denial here.
 */
import type { Request } from "express";
import type { Denial } from "../audit/audit-trail.js";
import { requestIdOf } from "./request-id.js";

/** A refusal as the HTTP layer sees it: the audit Denial, with the request instead of its facts. */
export type HttpDenial = Omit<Denial, "requestId" | "remoteAddr" | "claimedSessionId"> & { req: Request };

/** The caller's address as the socket saw it (proxies are not trusted to say otherwise). */
export function remoteAddrOf(req: Request): string | null {
  return req.socket.remoteAddress ?? null;
}

/** The Mcp-Session-Id header as sent, bounded: a hostile client chooses it. */
export function claimedSessionIdOf(req: Request): string | null {
  return req.header("mcp-session-id")?.slice(0, 128) ?? null;
}

/** The audit Denial of an HTTP refusal. */
export function toDenial({ req, ...rest }: HttpDenial): Denial {
  return { ...rest, requestId: requestIdOf(req), remoteAddr: remoteAddrOf(req), claimedSessionId: claimedSessionIdOf(req) };
}
