/**
 * Opaque cursors for paged lists. A cursor is the base64url JSON of the key of the last item sent;
 * the next page starts after it. Keyset paging keeps pages cheap at 100k partitions, and because
 * the key comes from the last item actually sent, a page the result budget ends early (budget.ts)
 * resumes exactly where it stopped: every item once.
 */
import { z } from "zod";
import type { CutFields, ListCut } from "./budget.js";
import { ToolError } from "./errors.js";

export const limitSchema = (fallback: number, max: number, what = "items") =>
  z
    .number()
    .int()
    .min(1)
    .max(max)
    .optional()
    .describe(`${what} per page (default ${fallback})`);

export const cursorSchema = z.string().max(4096).optional().describe("last page's next_cursor");

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
  truncated: z.boolean(),
  next_cursor: z.string().optional(),
  left_out: z.number().optional(),
};

// A type, not an interface: it must fit CutFields' index signature.
export type PagingFields = { truncated: boolean; next_cursor?: string; left_out?: number };

export function pagingFields(next: unknown): PagingFields {
  return next === null ? { truncated: false } : { truncated: true, next_cursor: encodeCursor(next) };
}

/** The budget cut of a keyset-paged list: the next page starts after the last item kept. */
export function keysetCut<T>(field: string, keyOf: (item: T) => unknown): ListCut<T> {
  return {
    field,
    after: (kept, leftOut): CutFields => ({
      truncated: true,
      next_cursor: encodeCursor(keyOf(kept[kept.length - 1] as T)),
      left_out: leftOut,
    }),
  };
}
