/**
 * Opaque cursors for paged lists. A cursor is the base64url JSON of the last key returned; the next
 * page starts after it. Keyset paging keeps pages cheap at 100k partitions.
 */
import { z } from "zod";
import { ToolError } from "./errors.js";

export const limitSchema = (fallback: number, max: number) =>
  z
    .number()
    .int()
    .min(1)
    .max(max)
    .optional()
    .describe(`Page size (default ${fallback}, max ${max})`);

export const cursorSchema = z.string().max(2048).optional().describe("next_cursor from the previous page");

/** Encodes the key after which the next page starts. */
export function encodeCursor(key: unknown): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

/** Decodes a cursor and checks its shape; a malformed cursor is a tool error the agent can fix. */
export function decodeCursor<T>(cursor: string | undefined, shape: z.ZodType<T>): T | null {
  if (cursor === undefined || cursor === "") return null;
  try {
    return shape.parse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
  } catch {
    throw new ToolError("invalid cursor", "pass next_cursor exactly as returned by the previous page, or omit it");
  }
}

/** The paging fields every paged result carries. */
export const pagingOutput = {
  truncated: z.boolean().describe("true when more items follow; call again with next_cursor"),
  next_cursor: z.string().optional(),
};

export function pagingFields(next: unknown): { truncated: boolean; next_cursor?: string } {
  return next === null ? { truncated: false } : { truncated: true, next_cursor: encodeCursor(next) };
}
