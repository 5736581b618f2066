/**
 * Counts the HTTP requests being answered, for background work that should not take the event loop
 * in the middle of an answer (the lag evaluator's slices, src/store/lag-evaluator.ts yieldTo). A
 * request counts from its arrival until its response finished or its connection closed. The MCP
 * GET stream (server-sent events, open for a session's life) is not an answer in progress and is
 * never counted: with it, every open session would look busy forever.
 */
import type { NextFunction, Request, Response } from "express";

export interface RequestsInFlight {
  /** Express middleware, mounted before every route. */
  middleware(req: Request, res: Response, next: NextFunction): void;
  /** Whether any counted request is still being answered. */
  busy(): boolean;
  count(): number;
}

/**
 * `mcpPaths`: the app's MCP routes, whose GET is the event stream. Matched without regard to case, as
 * express routes them (GET /MCP opens the same stream).
 */
export function createRequestsInFlight(mcpPaths: readonly string[]): RequestsInFlight {
  const streamPaths = new Set(mcpPaths.map((path) => path.toLowerCase()));
  const isEventStream = (req: Request): boolean => req.method === "GET" && streamPaths.has(req.path.toLowerCase());
  let inFlight = 0;
  return {
    middleware: (req, res, next) => {
      if (!isEventStream(req)) {
        inFlight++;
        let counted = true;
        const done = (): void => {
          if (!counted) return;
          counted = false;
          inFlight--;
        };
        res.once("finish", done);
        res.once("close", done);
      }
      next();
    },
    busy: () => inFlight > 0,
    count: () => inFlight,
  };
}
