/**
 * A fresh id per HTTP request, returned as `X-Request-Id` and written into every audit record of
 * that request, so a client's report ("request 5f…") finds its audit rows. Never taken from the
 * client: a caller-chosen id could collide with, or impersonate, another request in the trail.
 */
import { randomUUID } from "node:crypto";
import type { NextFunction, Request, Response } from "express";

const REQUEST_ID = Symbol("requestId");

/** Middleware: assigns the id and sets the response header before anything can answer. */
export function assignRequestId(req: Request, res: Response, next: NextFunction): void {
  const id = randomUUID();
  (req as unknown as Record<symbol, string>)[REQUEST_ID] = id;
  res.setHeader("X-Request-Id", id);
  next();
}

/** The request's id, or null when the middleware did not run (routes outside /mcp). */
export function requestIdOf(req: Request): string | null {
  return (req as unknown as Record<symbol, string | undefined>)[REQUEST_ID] ?? null;
}
