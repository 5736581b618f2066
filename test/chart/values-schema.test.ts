/**
 * values.schema.json, which `helm install`, `helm template` and `helm lint` validate the merged values
 * against (helm-lite does not, so this test does it with ajv, draft-07 like Helm): it accepts
 * values.yaml and every case of the render matrix, describes exactly the keys values.yaml has, and
 * refuses typos and malformed values before anything is rendered.
 */
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { defaultValues, mergeValues, valuesSchema } from "../support/chart.js";
import { BASE_VALUES, MATRIX } from "./matrix.js";

const schema = valuesSchema();
const validate = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);
const defaults = defaultValues();

function errorsOf(values: Record<string, unknown>): string[] {
  return validate(values) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? ""} ${JSON.stringify(e.params)}`);
}

/** Keys of values.yaml and of the schema's `properties`, compared level by level where both are closed objects. */
function keyDifferences(values: Record<string, unknown>, node: Record<string, any>, path = ""): string[] {
  const resolved = node.$ref ? schema.definitions[String(node.$ref).replace("#/definitions/", "")] : node;
  if (!resolved?.properties) return [];
  const out: string[] = [];
  for (const key of Object.keys(values)) if (!(key in resolved.properties)) out.push(`values.yaml has ${path}${key}, the schema does not`);
  for (const key of Object.keys(resolved.properties)) {
    if (!(key in values)) out.push(`the schema has ${path}${key}, values.yaml does not`);
    const child = values[key];
    if (typeof child === "object" && child !== null && !Array.isArray(child)) {
      out.push(...keyDifferences(child as Record<string, unknown>, resolved.properties[key], `${path}${key}.`));
    }
  }
  return out;
}

describe("values.schema.json", () => {
  it("accepts values.yaml as shipped", () => {
    expect(errorsOf(defaults)).toEqual([]);
  });

  it("describes exactly the keys of values.yaml", () => {
    expect(keyDifferences(defaults, schema)).toEqual([]);
  });

  it.each(MATRIX.map((c) => [c.name, c] as const))("accepts the matrix case %s", (_name, testCase) => {
    expect(errorsOf(mergeValues(defaults, BASE_VALUES, testCase.values))).toEqual([]);
  });

  it.each([
    ["a misspelt key", { replicas: 3 }, "must NOT have additional properties"],
    ["a misspelt nested key", { image: { tags: "1.0" } }, "must NOT have additional properties"],
    ["a duration that is not a Go duration", { staleAfter: "30 seconds" }, "must match pattern"],
    ["an unknown log level", { logLevel: "verbose" }, "must be equal to one of the allowed values"],
    ["a config name that is no KAFSCALE_MCP_ variable", { config: { stale_after: "1m" } }, "must match pattern"],
    ["a port out of range", { containerPort: 70000 }, "must be <= 65535"],
    ["a relative mount path", { persistence: { mountPath: "data" } }, "must match pattern"],
    ["a namespace name that is no DNS label", { namespace: { name: "Kafscale_MCP" } }, "must match pattern"],
  ])("refuses %s", (_name, values, message) => {
    expect(errorsOf(mergeValues(defaults, BASE_VALUES, values)).join("\n")).toContain(message);
  });
});
