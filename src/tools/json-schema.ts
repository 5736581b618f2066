/**
 * The JSON Schemas `tools/list` shows, made once per tool, written portably and kept lean.
 *
 * The SDK would convert the zod schemas with zod 4's `toJSONSchema` on every `tools/list`, and zod 4
 * folds a nullable primitive (`anyOf: [{type: "string"}, {type: "null"}]`) into
 * `type: ["string", "null"]` — valid JSON Schema, but rejected by clients that map schemas to
 * OpenAPI 3.0 or to model function definitions (MCP Inspector flags it as non-portable); zod has no
 * option to keep the `anyOf`. So the server answers `tools/list` itself (server.ts) with schemas
 * converted here once: folded unions spelled out again, and output schemas leaned (below).
 */
import { z } from "zod";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Rewrites every `type: [a, b]` as `anyOf: [{type: a}, {type: b}]`. */
export function spellOutTypeUnions(node: Json): Json {
  if (Array.isArray(node)) return node.map(spellOutTypeUnions);
  if (node === null || typeof node !== "object") return node;
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "type" && Array.isArray(value)) out.anyOf = value.map((type) => ({ type }));
    else out[key] = spellOutTypeUnions(value);
  }
  return out;
}

/** The metadata key `inProse` sets; seen only by leanOutputSchema. */
const PROSE = "x-in-prose";

/**
 * Shows a nested output object or list in tools/list by its type and `description` only; the
 * description names its fields (or the server instructions do). For secondary parts of an answer,
 * where field-by-field typing costs agents more tokens than it tells them.
 */
export function inProse<T extends z.ZodType>(schema: T, description?: string): T {
  return schema.meta(description === undefined ? { [PROSE]: true } : { description, [PROSE]: true });
}

/** Keywords that only narrow an output schema or restate a default: left out of tools/list. */
function isNarrowingOnly(key: string, value: Json): boolean {
  if (key === "required" && Array.isArray(value)) return true;
  if (key === "additionalProperties") return value === false || (isObject(value) && Object.keys(value).length === 0);
  return key === "propertyNames";
}

const isObject = (node: Json): node is { [key: string]: Json } =>
  node !== null && typeof node === "object" && !Array.isArray(node);

/**
 * The lean output schema for tools/list, which every agent pays for in tokens on every connection.
 * It stays true of every answer — it only says less: no `required` lists, no `additionalProperties`
 * (answers have no other fields, but saying so costs more than it tells), and containers nested
 * inside a list item or a top-level object keep their type and description but not their shape
 * (the description names their fields), as do containers marked with `inProse`. The SDK still
 * validates each answer against the full zod schema before it is sent.
 *
 * `level`: 0 for the root object, 1 for its fields and the items of lists among them, 2 below.
 */
export function leanOutputSchema(node: Json, level = 0): Json {
  if (!isObject(node)) return node;
  const prose = node[PROSE] === true;
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(node)) {
    if (isNarrowingOnly(key, value) || key === PROSE) continue;
    if ((level >= 2 || prose) && (key === "properties" || key === "items" || key === "additionalProperties")) continue;
    if (key === "properties" && isObject(value)) {
      out.properties = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, leanOutputSchema(v, level + 1)]));
    } else if (key === "items" || key === "additionalProperties") {
      out[key] = leanOutputSchema(value, level);
    } else if (key === "anyOf" && Array.isArray(value)) {
      out.anyOf = value.map((branch) => leanOutputSchema(branch, prose ? 2 : level));
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** The JSON Schema of a zod object as tools/list shows it: portable, and lean for outputs. */
export function toolJsonSchema(schema: z.ZodObject, io: "input" | "output"): { [key: string]: Json } {
  const converted = spellOutTypeUnions(z.toJSONSchema(schema, { target: "draft-07", io }) as Json);
  const json = (io === "output" ? leanOutputSchema(converted) : converted) as { [key: string]: Json };
  // The dialect marker costs every tool 48 bytes and tells nothing: the keywords used here mean
  // the same in draft-07 and 2020-12 (MCP's default dialect).
  delete json.$schema;
  return json;
}
