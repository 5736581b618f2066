/**
 * Every variable the service reads can be set from Helm values. The list comes from the service's
 * config schema (CONFIG_VARIABLES), so a variable added there is covered without touching this test:
 *   - a variable in the chart's mapping (the `kafscale-mcp.envValues` block of _helpers.tpl, taken
 *     from the template itself) is set through its named value, with a sample chosen from
 *     values.schema.json;
 *   - a variable the chart derives (secrets, paths, host lists: `kafscale-mcp.envDerived`) has a case
 *     below, and each derived variable must have one;
 *   - any other variable goes through `config:` by name, or, when it looks like a secret, through
 *     extraEnv with a secretKeyRef.
 * In every route the variable must appear exactly once with the expected value; the chart README
 * must name every mapped and derived variable.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import { describe, expect, it } from "vitest";
import { CONFIG_VARIABLES } from "../../src/config.js";
import { CHART_DIR, containerEnv, mergeValues as merge, render, renderChart, valuesSchema, type EnvVar } from "../support/chart.js";
import { BASE_VALUES } from "./matrix.js";

const helpers = readFileSync(join(CHART_DIR, "templates", "_helpers.tpl"), "utf8");

/** The YAML body of a `{{- define NAME -}} … {{- end -}}` block of _helpers.tpl. */
function defineBlock(name: string): Record<string, string> {
  const match = new RegExp(`\\{\\{- define "${name}" -\\}\\}\\n([\\s\\S]*?)\\{\\{- end -\\}\\}`).exec(helpers);
  if (!match?.[1]) throw new Error(`_helpers.tpl has no define "${name}"`);
  return load(match[1]) as Record<string, string>;
}

const MAPPED = defineBlock("kafscale-mcp.envValues");
const DERIVED = defineBlock("kafscale-mcp.envDerived");
const SECRET_LIKE = /TOKEN|PASSWORD|SECRET/;

/** The schema of the value at a dotted path (following $refs). */
function schemaAt(path: string): Record<string, any> {
  const schema = valuesSchema();
  const resolve = (node: Record<string, any>): Record<string, any> =>
    node.$ref ? resolve(schema.definitions[String(node.$ref).replace("#/definitions/", "")]) : node;
  let node: Record<string, any> = schema;
  for (const key of path.split(".")) {
    const next = resolve(node).properties?.[key];
    if (!next) throw new Error(`values.schema.json has no entry for ${path}`);
    node = next;
  }
  return resolve(node);
}

/** A sample value of the right type for `path`, and the text the variable must then carry. */
function sampleFor(path: string): { value: unknown; expected: string } {
  const schema = schemaAt(path);
  const variants: Record<string, any>[] = schema.oneOf ?? [schema];
  if (schema.enum) {
    const pick = schema.enum.find((v: unknown) => v !== "" && v !== "auto");
    return { value: pick, expected: String(pick) };
  }
  if (variants.some((v) => v.type === "array")) return { value: ["sample-a", "sample-b"], expected: "sample-a,sample-b" };
  if (variants.some((v) => v.type === "boolean")) return { value: true, expected: "true" };
  if (variants.some((v) => v.type === "integer")) return { value: 7, expected: "7" };
  if (String(schema.pattern ?? "").includes("ms|s|m|h")) return { value: "7s", expected: "7s" };
  if (String(schema.pattern ?? "").includes("https?")) return { value: "https://sample.example.com/x", expected: "https://sample.example.com/x" };
  return { value: "sample-value", expected: "sample-value" };
}

/** `{a: {b: v}}` for the path "a.b". */
function valuesAt(path: string, value: unknown): Record<string, unknown> {
  return path
    .split(".")
    .reverse()
    .reduce<unknown>((inner, key) => ({ [key]: inner }), value) as Record<string, unknown>;
}

function entriesNamed(env: EnvVar[], name: string): EnvVar[] {
  return env.filter((e) => e.name === name);
}

/** How each derived variable is set, and what the pod then gets. */
const DERIVED_CASES: Record<string, { values: Record<string, unknown>; expected: Partial<EnvVar> }> = {
  KAFSCALE_MCP_HTTP_ADDR: { values: { containerPort: 9000 }, expected: { value: ":9000" } },
  KAFSCALE_MCP_DB_PATH: { values: { persistence: { mountPath: "/var/lib/mcp", dbFile: "snap.db" } }, expected: { value: "/var/lib/mcp/snap.db" } },
  KAFSCALE_MCP_STATELESS: { values: { stateless: true }, expected: { value: "true" } },
  KAFSCALE_MCP_ALLOWED_HOSTS: { values: { allowedHosts: ["mcp.example.org"] }, expected: { value: expect.stringMatching(/^demo-kafscale-mcp,.*,mcp\.example\.org$/) } },
  KAFSCALE_MCP_AUTH_TOKEN: { values: { auth: { existingSecret: "mcp-auth", tokenKey: "t" } }, expected: { valueFrom: { secretKeyRef: { name: "mcp-auth", key: "t" } } } },
  KAFSCALE_MCP_ETCD_USERNAME: { values: { etcd: { username: "reader" } }, expected: { value: "reader" } },
  KAFSCALE_MCP_ETCD_PASSWORD: { values: { etcd: { password: "pw" } }, expected: { valueFrom: { secretKeyRef: { name: "demo-kafscale-mcp", key: "etcd-password" } } } },
  KAFSCALE_MCP_ETCD_CA_FILE: { values: { etcd: { tls: { enabled: true, existingSecret: "tls", caKey: "root.pem" } } }, expected: { value: "/etc/kafscale-mcp/etcd-tls/root.pem" } },
  KAFSCALE_MCP_ETCD_CERT_FILE: { values: { etcd: { tls: { enabled: true, existingSecret: "tls", certKey: "c.pem", keyKey: "k.pem" } } }, expected: { value: "/etc/kafscale-mcp/etcd-tls/c.pem" } },
  KAFSCALE_MCP_OPS_COPY: { values: { opsCopy: { mountPath: "/reports/", file: "copy.db" } }, expected: { value: "/reports/copy.db" } },
  KAFSCALE_MCP_OPS_COPY_AUDIT: { values: { opsCopy: { includeAudit: true } }, expected: { value: "true" } },
  KAFSCALE_MCP_OPS_COPY_INTERVAL: { values: { opsCopy: { interval: "5m" } }, expected: { value: "5m" } },
  KAFSCALE_MCP_OPS_COPY_MODE: { values: { opsCopy: { mode: "0600" } }, expected: { value: "0600" } },
  KAFSCALE_MCP_ETCD_KEY_FILE: { values: { etcd: { tls: { enabled: true, existingSecret: "tls", certKey: "c.pem", keyKey: "k.pem" } } }, expected: { value: "/etc/kafscale-mcp/etcd-tls/k.pem" } },
};

describe("every KAFSCALE_* variable the service reads can be set from values", () => {
  it("the config module lists the variables (the list this test covers)", () => {
    expect(CONFIG_VARIABLES).toContain("KAFSCALE_MCP_ETCD_ENDPOINTS");
    expect(CONFIG_VARIABLES.every((name) => /^KAFSCALE_(MCP_[A-Z0-9_]+|ENV)$/.test(name))).toBe(true);
  });

  it("mapped variables: through their named values (all at once)", () => {
    const mapped = CONFIG_VARIABLES.filter((name) => name in MAPPED);
    expect(mapped.length).toBeGreaterThan(20);
    const samples = Object.fromEntries(mapped.map((name) => [name, sampleFor(MAPPED[name] ?? "")]));
    const values = merge(...mapped.map((name) => valuesAt(MAPPED[name] ?? "", samples[name]?.value)));
    const env = containerEnv(render(BASE_VALUES, values));
    for (const name of mapped) {
      expect(entriesNamed(env, name), `${name} from ${MAPPED[name]}`).toEqual([{ name, value: samples[name]?.expected }]);
    }
  });

  it("the mapping names only variables the service reads (no stale entries)", () => {
    expect(Object.keys(MAPPED).filter((name) => !CONFIG_VARIABLES.includes(name))).toEqual([]);
    expect(Object.keys(DERIVED).filter((name) => !CONFIG_VARIABLES.includes(name))).toEqual([]);
  });

  it.each(Object.entries(DERIVED))("derived variable %s: from %s", (name) => {
    const testCase = DERIVED_CASES[name];
    if (!testCase) throw new Error(`${name} is derived by the chart (envDerived) but has no case in DERIVED_CASES`);
    const env = containerEnv(render(BASE_VALUES, testCase.values));
    expect(entriesNamed(env, name)).toEqual([{ name, ...testCase.expected }]);
  });

  it("every other variable: by name under config (secret-looking ones through extraEnv)", () => {
    const others = CONFIG_VARIABLES.filter((name) => !(name in MAPPED) && !(name in DERIVED));
    const plain = others.filter((name) => !SECRET_LIKE.test(name));
    const secret = others.filter((name) => SECRET_LIKE.test(name));
    const env = containerEnv(
      render(BASE_VALUES, {
        config: Object.fromEntries(plain.map((name) => [name, `sample-${name}`])),
        extraEnv: secret.map((name) => ({ name, valueFrom: { secretKeyRef: { name: "mine", key: name } } })),
      }),
    );
    for (const name of plain) expect(entriesNamed(env, name), name).toEqual([{ name, value: `sample-${name}` }]);
    for (const name of secret) expect(entriesNamed(env, name), name).toEqual([{ name, valueFrom: { secretKeyRef: { name: "mine", key: name } } }]);
  });

  it("config refuses each mapped variable, naming the value to set instead", () => {
    for (const [name, path] of Object.entries(MAPPED).filter(([n]) => n.startsWith("KAFSCALE_MCP_"))) {
      const result = renderChart(BASE_VALUES, { config: { [name]: "x" } });
      expect(result.ok, name).toBe(false);
      if (!result.ok) expect(result.error).toContain(`config.${name}: this variable is set from ${path}`);
    }
  });

  it("config values keep their text: whole numbers without exponent, booleans as true/false", () => {
    const env = containerEnv(render(BASE_VALUES, { config: { KAFSCALE_MCP_CHANGE_LOG_LIMIT: 1048576, KAFSCALE_MCP_LINK_PROBE_INTERVAL: "2s" }, maxBodyBytes: 2097152 }));
    expect(entriesNamed(env, "KAFSCALE_MCP_CHANGE_LOG_LIMIT")).toEqual([{ name: "KAFSCALE_MCP_CHANGE_LOG_LIMIT", value: "1048576" }]);
    expect(entriesNamed(env, "KAFSCALE_MCP_MAX_BODY_BYTES")).toEqual([{ name: "KAFSCALE_MCP_MAX_BODY_BYTES", value: "2097152" }]);
  });

  it("the chart README documents every mapped and derived variable", () => {
    const readme = readFileSync(join(CHART_DIR, "README.md"), "utf8");
    const missing = [...Object.keys(MAPPED), ...Object.keys(DERIVED)].filter((name) => !readme.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });
});
