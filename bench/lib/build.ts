/**
 * The code under test. By default the working tree, built once into dist/ (`tsc -p
 * tsconfig.build.json`, the production build). With `--ref`, a committed version exported by
 * `git archive` into a temp directory and built there, so a result names exactly what it measured
 * even while src/ is being edited; with `--patch`, a proposed src/ change applied to that copy
 * (never to the repository), recorded in the result.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { REPO_ROOT } from "./child.js";
import { codeInfo, type CodeInfo, type PatchInfo } from "./machine.js";

export interface BuiltCode {
  /** Directory with dist/cli.js (and proto/, which the build reads at run time). */
  root: string;
  code: CodeInfo;
  cleanup(): void;
}

/** What `npm run build` does: tsc, then the web view's static files beside the compiled code. */
function build(cwd: string): void {
  const out = spawnSync(join(REPO_ROOT, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.build.json"], {
    cwd,
    encoding: "utf8",
  });
  if (out.status !== 0) {
    throw new Error(`build failed in ${cwd} (use --no-build to run the existing dist/, or --runtime tsx):\n${out.stdout}${out.stderr}`);
  }
  const ui = join(cwd, "src", "http", "ui");
  if (existsSync(ui)) cpSync(ui, join(cwd, "dist", "http", "ui"), { recursive: true });
}

function git(args: string[]): string {
  const out = spawnSync("git", args, { cwd: REPO_ROOT, encoding: "utf8" });
  if (out.status !== 0) throw new Error(`git ${args.join(" ")} failed: ${out.stderr}`);
  return out.stdout.trim();
}

/** Builds the working tree into <repo>/dist. */
export function buildWorkingTree(): BuiltCode {
  build(REPO_ROOT);
  return { root: REPO_ROOT, code: codeInfo(), cleanup: () => undefined };
}

// The Dockerfile comes along for the NODE_OPTIONS the image ships with (bench/lib/shipped-node-options.ts).
const TREE = ["src", "proto", "package.json", "tsconfig.json", "tsconfig.build.json", "Dockerfile"];

/** Copies `ref` (or, without one, the working tree) to a temp dir: src, proto, the build configs and the Dockerfile. */
function exportTree(ref: string | undefined): { root: string; code: CodeInfo } {
  const code: CodeInfo = ref ? { commit: git(["rev-parse", "--short", `${ref}^{commit}`]), srcDirty: false } : codeInfo();
  const root = mkdtempSync(join(tmpdir(), `kafscale-mcp-bench-${code.commit}-`));
  if (ref) {
    // Only the entries that commit has (proto/ was folded into src/ later; older refs still have it).
    const present = new Set(git(["ls-tree", "--name-only", code.commit]).split("\n"));
    const archive = spawnSync("git", ["archive", "--format=tar", code.commit, ...TREE.filter((entry) => present.has(entry))], {
      cwd: REPO_ROOT,
      maxBuffer: 256 * 1024 * 1024,
    });
    if (archive.status !== 0) throw new Error(`git archive ${code.commit} failed: ${archive.stderr.toString()}`);
    const untar = spawnSync("tar", ["-x", "-C", root], { input: archive.stdout });
    if (untar.status !== 0) throw new Error(`tar failed: ${untar.stderr.toString()}`);
  } else {
    for (const entry of TREE.filter((name) => existsSync(join(REPO_ROOT, name)))) cpSync(join(REPO_ROOT, entry), join(root, entry), { recursive: true });
  }
  // The exported tree resolves its dependencies from the repository's node_modules.
  symlinkSync(join(REPO_ROOT, "node_modules"), join(root, "node_modules"));
  return { root, code };
}

/**
 * Exports `ref` (default: the working tree), applies `patches` (unified diffs against the
 * repository root, e.g. a fix proposed for src/), and builds it. The result records each patch.
 */
export function buildExported(ref: string | undefined, patches: string[]): BuiltCode {
  const { root, code } = exportTree(ref);
  const cleanup = (): void => rmSync(root, { recursive: true, force: true });
  try {
    const applied: PatchInfo[] = [];
    for (const patch of patches) {
      const path = resolve(REPO_ROOT, patch);
      const out = spawnSync("git", ["apply", path], { cwd: root, encoding: "utf8" });
      if (out.status !== 0) throw new Error(`patch ${patch} does not apply: ${out.stderr}`);
      applied.push({ file: relative(REPO_ROOT, path), sha256: createHash("sha256").update(readFileSync(path)).digest("hex") });
    }
    build(root);
    return { root, code: applied.length > 0 ? { ...code, patches: applied } : code, cleanup };
  } catch (err) {
    cleanup();
    throw err;
  }
}
