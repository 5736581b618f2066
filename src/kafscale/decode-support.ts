/**
 * What the decoders of the key kinds (kinds.ts) are built from: the error they throw, JSON and
 * protobuf parsing that turns every failure into that error with a readable message, and the zod
 * pieces for Kafscale's integer encodings. Pure functions, no I/O.
 */
import { z } from "zod";
import { decodeMessage, toSafeInteger, type MessageName } from "./proto.js";

/** A value under a known key that does not have the shape Kafscale writes there. */
export class DecodeError extends Error {
  override readonly name = "DecodeError";
}

const MAX_REPORTED_ISSUES = 5;
const MAX_QUOTED_CHARS = 64;
const utf8 = new TextDecoder("utf-8");

/** The value as UTF-8 text. */
export function text(value: Uint8Array): string {
  return utf8.decode(value);
}

/** Quotes a value for an error message, cut short so a huge garbage value cannot flood logs. */
export function quote(value: string): string {
  return JSON.stringify(value.length > MAX_QUOTED_CHARS ? `${value.slice(0, MAX_QUOTED_CHARS)}…` : value);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** One line per issue, `path: message`, capped so a wildly wrong document stays readable. */
function describeIssues(error: z.ZodError): string {
  const lines = error.issues
    .slice(0, MAX_REPORTED_ISSUES)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "(root)"}: ${issue.message}`);
  const more = error.issues.length - MAX_REPORTED_ISSUES;
  return more > 0 ? `${lines.join("; ")}; (${more} more)` : lines.join("; ");
}

/** Validates `input` against `schema`; a mismatch is a DecodeError prefixed with `context`. */
export function parseWith<T>(schema: z.ZodType<T>, input: unknown, context: string): T {
  const result = schema.safeParse(input);
  if (!result.success) throw new DecodeError(`${context}: ${describeIssues(result.error)}`, { cause: result.error });
  return result.data;
}

/** Parses the value as JSON; invalid JSON is a DecodeError naming `context`. */
export function parseJson(value: Uint8Array, context: string): unknown {
  try {
    return JSON.parse(text(value));
  } catch (error) {
    throw new DecodeError(`${context} is not valid JSON: ${errorMessage(error)}`, { cause: error });
  }
}

/** Decodes a protobuf message of the embedded metadata.proto and validates it against `schema`. */
export function decodeProto<T>(name: MessageName, value: Uint8Array, schema: z.ZodType<T>): T {
  let decoded: Record<string, unknown>;
  try {
    decoded = decodeMessage(name, value);
  } catch (error) {
    throw new DecodeError(`invalid protobuf ${name}: ${errorMessage(error)}`, { cause: error });
  }
  return parseWith(schema, decoded, `invalid protobuf ${name}`);
}

export const int32 = z.int32();
export const partitionIndex = z.int32().min(0, { error: "partition must be a non-negative int32" });

/** protobufjs hands int64 over as a decimal string (see proto.ts); refuse unsafe ones. */
export const int64 = z.string().transform((decimal, ctx) => {
  const value = toSafeInteger(decimal);
  if (value === undefined) {
    ctx.addIssue({ code: "custom", message: `int64 ${decimal} is beyond Number.MAX_SAFE_INTEGER` });
    return z.NEVER;
  }
  return value;
});

/** Go zero-values a missing or null string, so those read as "". */
export const goString = z
  .string()
  .nullish()
  .transform((s) => s ?? "");
