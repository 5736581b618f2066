/**
 * The Dockerfile cannot be built here (no Docker engine on this machine or CI's), so this test holds
 * it to what is tested: the Node majors CI runs the suite on (.ci/run), package.json's engines and
 * bin, the build the package runs, and the chart's defaults that must agree with the image (user,
 * port, data directory, command, version).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import { describe, expect, it } from "vitest";
import { REPO_ROOT, runCli } from "../support/cli.js";

const read = (path: string): string => readFileSync(join(REPO_ROOT, path), "utf8");
const dockerfile = read("Dockerfile");
const pkg = JSON.parse(read("package.json")) as {
  version: string;
  engines: { node: string };
  bin: Record<string, string>;
  scripts: Record<string, string>;
};
const ciMajors = (/^NODE_MAJORS="([\d ]+)"$/m.exec(read(".ci/run"))?.[1] ?? "").split(" ").map(Number);
const values = load(read("charts/kafscale-mcp/values.yaml")) as Record<string, any>;
const chart = load(read("charts/kafscale-mcp/Chart.yaml")) as Record<string, any>;

/** The JSON array of an exec-form instruction, e.g. ENTRYPOINT ["node", "x"]. */
function execForm(instruction: string): string[] {
  const match = new RegExp(`^${instruction} (\\[.*\\])$`, "m").exec(dockerfile);
  if (!match?.[1]) throw new Error(`Dockerfile has no exec-form ${instruction}`);
  return JSON.parse(match[1]) as string[];
}

/** The instructions of one build stage (FROM … AS name up to the next FROM). */
function stage(name: string): string {
  const match = new RegExp(`^FROM \\S+ AS ${name}\\n([\\s\\S]*?)(?=^FROM |$(?![\\s\\S]))`, "m").exec(dockerfile);
  if (!match?.[1]) throw new Error(`Dockerfile has no stage ${name}`);
  return match[1];
}

describe("the image and what CI tests", () => {
  it("CI runs the suite on the oldest supported Node and on the image's Node", () => {
    const imageMajor = Number(/^ARG NODE_IMAGE=node:(\d+)-bookworm-slim$/m.exec(dockerfile)?.[1]);
    const engineMajor = Number(/^>=(\d+)$/.exec(pkg.engines.node)?.[1]);
    expect(imageMajor).toBe(22);
    expect(engineMajor).toBe(20);
    expect(ciMajors).toEqual([engineMajor, imageMajor]);
    // Every stage builds and runs on that one image (the native addon matches its ABI).
    expect([...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1])).toEqual(["${NODE_IMAGE}", "toolchain", "toolchain", "${NODE_IMAGE}"]);
  });

  it("the entry point is the package's bin, built by the package's build", () => {
    const workdir = /^WORKDIR (\S+)$/m.exec(stage("runtime"))?.[1];
    expect(execForm("ENTRYPOINT")).toEqual(["node", `${workdir}/${pkg.bin["kafscale-mcp"]}`]);
    expect(pkg.bin["kafscale-mcp"]).toBe("dist/cli.js");
    const build = JSON.parse(read("tsconfig.build.json")) as { compilerOptions: { rootDir: string; outDir: string } };
    expect(build.compilerOptions).toMatchObject({ rootDir: "src", outDir: "dist" });
    expect(pkg.scripts.build).toContain("tsc -p tsconfig.build.json");
    expect(stage("build")).toContain("RUN npm run build");
    expect(stage("runtime")).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    // dist/*.js are ES modules because of package.json's "type", and --version reads its version.
    expect(stage("runtime")).toMatch(/^COPY package\.json \.\/$/m);
  });

  it("npm ci in the image skips the package's prepare step, which needs sources and dev dependencies", () => {
    expect(pkg.scripts.prepare).toBe("npm run build");
    const installs = [...dockerfile.matchAll(/npm ci[^\n\\]*/g)].map((m) => m[0].trim());
    expect(installs).toEqual(["npm ci --ignore-scripts", "npm ci --omit=dev --ignore-scripts"]);
    expect(stage("deps")).toContain("npm rebuild better-sqlite3");
  });

  it("the default command is one the CLI has", async () => {
    expect(execForm("CMD")).toEqual(["serve"]);
    const help = await runCli(["--help"]);
    expect(help.stdout).toMatch(/^ {2}serve /m);
  });

  it("the chart's defaults agree with the image: version, command, user, port, data directory", () => {
    expect(chart.appVersion).toBe(pkg.version);
    const user = /^USER (\d+):(\d+)$/m.exec(dockerfile);
    expect(values.podSecurityContext).toMatchObject({ runAsUser: Number(user?.[1]), runAsGroup: Number(user?.[2]), fsGroup: Number(user?.[2]) });
    expect(Number(/^EXPOSE (\d+)$/m.exec(dockerfile)?.[1])).toBe(values.containerPort);
    expect(dockerfile).toContain(`KAFSCALE_MCP_HTTP_ADDR=:${values.containerPort}`);
    expect(dockerfile).toContain(`KAFSCALE_MCP_DB_PATH=${values.persistence.mountPath}/${values.persistence.dbFile}`);
    expect(read("charts/kafscale-mcp/templates/deployment.yaml")).toContain('args: ["serve"]');
  });
});
