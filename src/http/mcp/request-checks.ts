/**
 * Checks on the body of a POST to /mcp, around express.json: a declared Content-Length over the limit
 * is refused from the headers alone (413 at once, instead of reading a body it will refuse); a body
 * that is not JSON is refused for its content type (415), not as a missing session; an empty batch is
 * an invalid JSON-RPC request; and the body parser's own failures become JSON-RPC errors that say
 * what was wrong, never a 500.
 */
import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { Logger } from "../../log.js";
import { RPC, writeJsonRpcError } from "./jsonrpc.js";

/** The media types the body parser accepts on /mcp. */
export const JSON_TYPES = ["application/json", "application/*+json"];

/** Records a refusal (audit, metrics, log) with the status sent. */
export type OnRefused = (req: Request, reason: string, status: number) => void;

/**
 * 413 when Content-Length already says the body is too large. The connection is closed after the
 * answer: the body is never read, so the socket cannot carry another request.
 */
export function declaredLengthLimit(maxBytes: number, onRefused: OnRefused): RequestHandler {
  return (req, res, next) => {
    const declared = Number(req.headers["content-length"] ?? NaN);
    if (!(declared > maxBytes)) return next();
    onRefused(req, "body too large", 413);
    res.setHeader("Connection", "close");
    writeJsonRpcError(res, 413, RPC.invalidRequest, `Request body exceeds ${maxBytes} bytes`);
  };
}

/** 415 for a POST whose Content-Type is not JSON (GET and DELETE carry no body). */
export function requireJsonContentType(onRefused: OnRefused): RequestHandler {
  return (req, res, next) => {
    if (req.method !== "POST" || req.is(JSON_TYPES)) return next();
    const sent = req.headers["content-type"];
    onRefused(req, "unsupported content type", 415);
    writeJsonRpcError(
      res,
      415,
      RPC.serverError,
      `Unsupported Media Type: Content-Type must be application/json${sent ? ` (got "${sent.slice(0, 100)}")` : " (none sent)"}`,
    );
  };
}

/** JSON-RPC 2.0 §6: an empty batch is an invalid request (answered with one error, not 202). */
export function rejectEmptyBatch(req: Request, res: Response, next: NextFunction): void {
  if (!Array.isArray(req.body) || req.body.length > 0) return next();
  writeJsonRpcError(res, 400, RPC.invalidRequest, "Invalid Request: empty batch");
}

type BodyParserError = Error & { status?: number; type?: string; charset?: string; encoding?: string };

/** Error handler for /mcp: the body parser's failures as JSON-RPC errors with their real status. */
export function bodyErrors(maxBytes: number, onRefused: OnRefused, logger: Logger) {
  return (err: BodyParserError, req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) return next(err);
    switch (err.type) {
      case "entity.too.large":
        onRefused(req, "body too large", 413);
        return writeJsonRpcError(res, 413, RPC.invalidRequest, `Request body exceeds ${maxBytes} bytes`);
      case "charset.unsupported":
        onRefused(req, "unsupported charset", 415);
        return writeJsonRpcError(
          res,
          415,
          RPC.serverError,
          `Unsupported Media Type: charset "${(err.charset ?? "").slice(0, 40)}" is not supported; send UTF-8 JSON`,
        );
      case "encoding.unsupported":
        onRefused(req, "unsupported content encoding", 415);
        return writeJsonRpcError(
          res,
          415,
          RPC.serverError,
          `Unsupported Media Type: content encoding "${(err.encoding ?? "").slice(0, 40)}" is not supported`,
        );
      case "entity.parse.failed":
        return writeJsonRpcError(res, 400, RPC.parseError, "Parse error: invalid JSON");
    }
    if (err.status !== undefined && err.status >= 400 && err.status < 500) {
      return writeJsonRpcError(res, err.status, RPC.invalidRequest, `Bad Request: ${err.message.slice(0, 200)}`);
    }
    logger.error("http error", { error: err.message });
    return writeJsonRpcError(res, 500, RPC.internalError, "Internal server error");
  };
}
