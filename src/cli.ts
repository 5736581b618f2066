#!/usr/bin/env node
/**
 * kafscale-mcp command line: `serve` (default), `demo`, `stdio`, `snapshot --out FILE`, `verify`,
 * `report`; `--version` prints the package version.
 * Each command lives in src/cli/<command>.ts and returns its exit code.
 */
import { packageVersion } from "./cli/package-info.js";
import { ConfigError } from "./config.js";

type Command = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, { describe: string; load: () => Promise<Command> }> = {
  serve: { describe: "run the service (etcd watcher, metrics poller, MCP over HTTP)", load: async () => (await import("./cli/serve.js")).serve },
  demo: { describe: "run the service on bundled demo data (no etcd, no broker needed); --db FILE, --seed-etcd", load: async () => (await import("./cli/demo.js")).demo },
  stdio: { describe: "serve the same tools over MCP stdio (for desktop clients)", load: async () => (await import("./cli/stdio.js")).stdio },
  snapshot: { describe: "sync once into a SQLite file and exit: snapshot --out FILE", load: async () => (await import("./cli/snapshot.js")).snapshot },
  report: { describe: "a human-readable cluster report (topics, groups, lag, S3 health) from the snapshot", load: async () => (await import("./cli/report.js")).report },
  verify: { describe: "compare the local snapshot with a fresh etcd read; exit 1 on any difference", load: async () => (await import("./cli/verify.js")).verify },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(9)} ${c.describe}`);
  return `usage: kafscale-mcp <command> [options]   (kafscale-mcp --version)\n\ncommands:\n${lines.join("\n")}\n\nConfiguration is read from KAFSCALE_MCP_* environment variables (see README.md).`;
}

async function main(argv: string[]): Promise<number> {
  const [name = "serve", ...args] = argv;
  if (name === "-h" || name === "--help" || name === "help") {
    console.log(usage());
    return 0;
  }
  if (name === "-v" || name === "--version" || name === "version") {
    console.log(packageVersion());
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await (await command.load())(args);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 2;
    }
    console.error(`kafscale-mcp ${name}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
