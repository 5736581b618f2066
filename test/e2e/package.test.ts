/**
 * The package as a user gets it: `npm pack` (prepare builds dist/, the lockfile ships as
 * npm-shrinkwrap.json), installed from the tarball into an empty directory, and its `kafscale-mcp`
 * bin run from elsewhere; and the README's stdio snippet, spawned from an unrelated directory.
 *
 * The pack runs in a copy of the working tree (so the checkout's own dist/ is never rebuilt under a
 * running test). The install asks the npm registry only for what its cache lacks
 * (--prefer-offline); better-sqlite3's native addon comes from prebuild-install's documented local
 * prebuild directory, filled with the addon `npm ci` compiled for this very Node (same version,
 * pinned by the shrinkwrap), instead of a third compile of SQLite. Should the versions ever differ,
 * the name does not match and npm compiles it, which is slower but just as valid.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { REPO_ROOT, cleanEnv, runCli, startDemo } from "../support/cli.js";
import { realisticCluster, testEtcd, writeCluster } from "../support/fixtures.js";
import { callTool, callToolWhenReady, connectClient } from "../support/service.js";

const manifest = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { name: string; version: string };
const work = mkdtempSync(join(tmpdir(), "kafscale-mcp-package-"));
const tree = join(work, "kafscale-mcp");
const app = join(work, "app");
const elsewhere = join(work, "elsewhere");
const tarball = join(work, `${manifest.name}-${manifest.version}.tgz`);
const bin = join(app, "node_modules", ".bin", "kafscale-mcp");

function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}): string {
  const res = spawnSync(command, args, { cwd, env: cleanEnv(env), encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (res.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (${res.status}):\n${res.stdout}\n${res.stderr}`);
  return res.stdout;
}

/** The working tree as git sees it (tracked and new files, nothing ignored), with the checkout's node_modules. */
function copyWorkingTree(): void {
  const files = run("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], REPO_ROOT).split("\0");
  for (const file of files) {
    // node_modules may be a symlink (shared installs), which git lists as an untracked file.
    if (file === "" || file === "node_modules" || !existsSync(join(REPO_ROOT, file))) continue;
    mkdirSync(dirname(join(tree, file)), { recursive: true });
    cpSync(join(REPO_ROOT, file), join(tree, file));
  }
  symlinkSync(join(REPO_ROOT, "node_modules"), join(tree, "node_modules"));
}

/** A prebuild-install archive of the checkout's compiled better-sqlite3, named as prebuild-install looks for it. */
function localPrebuilds(): string {
  const pkgJson = createRequire(join(REPO_ROOT, "package.json")).resolve("better-sqlite3/package.json");
  const { version } = JSON.parse(readFileSync(pkgJson, "utf8")) as { version: string };
  const dir = join(work, "prebuilds");
  mkdirSync(dir);
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  run("tar", ["-czf", join(dir, name), "build/Release/better_sqlite3.node"], dirname(pkgJson));
  return dir;
}

beforeAll(() => {
  copyWorkingTree();
  run("npm", ["pack", "--pack-destination", work], tree);
  mkdirSync(app);
  mkdirSync(elsewhere);
  run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--prefix", app, tarball], elsewhere, {
    npm_config_better_sqlite3_local_prebuilds: localPrebuilds(),
  });
}, 600_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("npm pack", () => {
  it("ships dist/, the pinned dependency versions and the docs, but no sources, tests or source maps", () => {
    const entries = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).trim().split("\n");
    expect(entries).toEqual(expect.arrayContaining(["package/package.json", "package/dist/cli.js", "package/npm-shrinkwrap.json", "package/README.md"]));
    expect(entries.filter((e) => /^package\/(src|test|bench|charts|\.ci)\/|\.map$|\.ts$/.test(e))).toEqual([]);
    // The shrinkwrap exists only while packing; nothing is left behind in the tree.
    expect(existsSync(join(tree, "npm-shrinkwrap.json"))).toBe(false);
  });

  it("installs from the tarball; its bin prints the version and runs the demo from another directory", { timeout: 120_000 }, async () => {
    const version = await runCli(["--version"], {}, { command: [bin], cwd: elsewhere });
    expect(version).toMatchObject({ code: 0, stdout: `${manifest.version}\n` });
    const demo = await startDemo([], {}, { command: [bin], cwd: elsewhere });
    try {
      // The stdio hint names the installed package's own absolute path.
      expect(demo.stdout()).toContain(`Or over stdio: node ${join(app, "node_modules", manifest.name, "dist", "cli.js")} stdio --demo`);
      const client = await connectClient(demo.url);
      expect(await callTool(client, "cluster_status")).toMatchObject({ cluster_name: "kafscale-demo", freshness: { source: "demo" } });
      await client.close();
    } finally {
      expect(await demo.stop()).toBe(0);
    }
    expect(readdirSync(elsewhere)).toEqual([]);
  });
});

describe("README: the stdio client snippet", () => {
  const etcd = testEtcd();
  afterAll(() => etcd.client.close());

  it("works as written (with the checkout's path) when the client starts it from an unrelated directory", { timeout: 120_000 }, async () => {
    const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
    const block = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1] ?? "").find((text) => text.includes('"stdio"'));
    expect(block, "README has a JSON snippet with a stdio command").toBeDefined();
    // `tree` is a checkout after `npm ci` (npm pack ran its prepare step: dist/ is built there).
    const config = JSON.parse((block ?? "").replaceAll("/path/to/kafscale-mcp", tree)) as {
      mcpServers: Record<string, { command: string; args: string[]; env: Record<string, string> }>;
    };
    const server = Object.values(config.mcpServers)[0];
    if (!server) throw new Error("no server in the README's stdio snippet");
    expect(server.args[0]?.startsWith("/")).toBe(true);
    expect(server.env.KAFSCALE_MCP_DB_PATH?.startsWith("/")).toBe(true);

    await writeCluster(etcd.keyspace, realisticCluster);
    const client = new Client({ name: "readme-snippet", version: "1.0.0" });
    await client.connect(
      new StdioClientTransport({
        command: server.command,
        args: server.args,
        cwd: elsewhere,
        // The snippet's variables, pointed at the suite's etcd (its endpoint and a fresh namespace).
        env: cleanEnv({ ...server.env, KAFSCALE_MCP_ETCD_ENDPOINTS: etcd.endpoint, KAFSCALE_MCP_ETCD_NAMESPACE: etcd.namespace, KAFSCALE_MCP_LOG_LEVEL: "error" }),
        stderr: "pipe",
      }),
    );
    try {
      expect((await client.listTools()).tools.length).toBeGreaterThan(0);
      const groups = await callToolWhenReady<{ groups: { group_id: string }[] }>(client, "list_groups");
      expect(groups.groups.map((g) => g.group_id)).toEqual(["billing", "nightly-report", "rebalancing"]);
    } finally {
      await client.close();
    }
    expect(existsSync(server.env.KAFSCALE_MCP_DB_PATH ?? "")).toBe(true);
    expect(readdirSync(elsewhere)).toEqual([]);
  });
});
