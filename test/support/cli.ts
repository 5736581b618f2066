/** The real CLI entry (src/cli.ts through tsx) as a child process, the way users run it. */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { join } from "node:path";

export const REPO_ROOT = join(import.meta.dirname, "../..");
/** Node arguments that run the CLI from source. */
export const CLI_FROM_SOURCE = ["--import", "tsx", join(REPO_ROOT, "src/cli.ts")];

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The environment without any KAFSCALE_* variable of the caller's, plus `env`. */
export function cleanEnv(env: Record<string, string> = {}): Record<string, string> {
  const base = Object.entries(process.env).filter(
    (entry): entry is [string, string] => !entry[0].startsWith("KAFSCALE_") && entry[1] !== undefined,
  );
  return { ...Object.fromEntries(base), ...env };
}

/**
 * Runs `command args` to completion with a clean KAFSCALE_* environment (default: the CLI from source).
 * The timeout only guards against a hung child: a busy machine starts one slowly.
 */
export async function runCli(
  args: string[],
  env: Record<string, string> = {},
  options: { command?: string[]; cwd?: string } = {},
): Promise<CliRun> {
  const [file = process.execPath, ...pre] = options.command ?? [process.execPath, ...CLI_FROM_SOURCE];
  const started = Date.now();
  return await new Promise((resolve) => {
    execFile(file, [...pre, ...args], { cwd: options.cwd ?? REPO_ROOT, env: cleanEnv(env), timeout: 300_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

export interface RunningDemo {
  /** Base URL, e.g. http://127.0.0.1:41234 (the MCP endpoint is `${url}/mcp`). */
  url: string;
  /** Everything the demo printed on stdout so far. */
  stdout(): string;
  /** SIGTERM, then the exit code (or the signal that ended the process). */
  stop(): Promise<number | string | null>;
}

/**
 * Starts `demo [args]` on a free loopback port and resolves once it printed its MCP URL.
 * `command` replaces the CLI from source (e.g. an installed `kafscale-mcp` bin).
 */
export async function startDemo(
  args: string[] = [],
  env: Record<string, string> = {},
  options: { command?: string[]; cwd?: string } = {},
): Promise<RunningDemo> {
  const [file = process.execPath, ...pre] = options.command ?? [process.execPath, ...CLI_FROM_SOURCE];
  const child: ChildProcessWithoutNullStreams = spawn(file, [...pre, "demo", ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: cleanEnv({ KAFSCALE_MCP_HTTP_ADDR: "127.0.0.1:0", KAFSCALE_MCP_SCRAPE_INTERVAL: "1s", KAFSCALE_MCP_AUDIT_STDOUT: "false", ...env }),
  });
  let out = "";
  let err = "";
  child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
  // The exit code, or the name of the signal that ended the process.
  const exited = new Promise<number | string | null>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const match = /MCP endpoint \(streamable HTTP\): (http:\/\/\S+)\/mcp/.exec(out);
        if (match?.[1]) resolve(match[1]);
      });
      void exited.then((code) => reject(new Error(`demo exited early (${code}): ${out}${err}`)));
      // A hang guard, not a speed check: with every core busy the demo took over 30 s to start (the test itself has 120 s).
      setTimeout(() => reject(new Error(`demo printed no URL within 100 s: ${out}${err}`)), 100_000).unref();
    });
    return {
      url,
      stdout: () => out,
      stop: async () => {
        child.kill("SIGTERM");
        return await exited;
      },
    };
  } catch (e) {
    child.kill("SIGKILL");
    throw e;
  }
}
