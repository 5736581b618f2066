/**
 * Facts about the installed package, read from its package.json at run time: the same file sits one
 * level above src/cli.ts (checkout, tsx) and dist/cli.js (npm ci, the packed package, the image).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

/** The package's root directory (where package.json, dist/ and src/ live). */
export function packageRoot(): string {
  // This file is <root>/src/cli/package-info.ts or <root>/dist/cli/package-info.js.
  return join(dirname(fileURLToPath(import.meta.url)), "..", "..");
}

/** The `version` of the package's package.json. */
export function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version?: unknown };
  return typeof manifest.version === "string" ? manifest.version : "unknown";
}

/** How to start this CLI from any directory: `node <root>/dist/cli.js` (built by `npm ci`'s prepare step). */
export function cliCommand(): string {
  const cli = join(packageRoot(), "dist", "cli.js");
  return `node ${/\s/.test(cli) ? JSON.stringify(cli) : cli}`;
}
