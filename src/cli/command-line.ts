/**
 * What the one-shot commands (snapshot, verify, demo) share: their option parsing with --help and
 * usage errors, their quiet logger, and how they reach etcd (connector, request deadline, the hint an
 * operator gets when etcd cannot be read).
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { Config } from "../config.js";
import { createLogger, type Logger } from "../log.js";
import { rotatingConnector, type EtcdConnector } from "../sync/etcd/member-connector.js";

type OptionsConfig = NonNullable<ParseArgsConfig["options"]>;
const HELP = { help: { type: "boolean", short: "h" } } as const;
type Parsed<O extends OptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O & typeof HELP; strict: true; allowPositionals: false }>
>["values"];

/** What an operator checks when etcd cannot be read or written. */
export const ETCD_HINT = "(check KAFSCALE_MCP_ETCD_ENDPOINTS and that etcd is running)";

/**
 * Parses a command's options (strict, no positionals) plus `--help`/`-h`.
 * @returns the option values, or the exit code when the command is already done: 0 after printing
 *   the usage for --help, 2 after a usage error.
 */
export function parseCommandOptions<O extends OptionsConfig>(
  command: string,
  usage: string,
  args: string[],
  options: O,
): Parsed<O> | number {
  let values: Parsed<O>;
  try {
    values = parseArgs({ args, options: { ...options, ...HELP }, strict: true, allowPositionals: false }).values as Parsed<O>;
  } catch (err) {
    return usageError(command, usage, (err as Error).message);
  }
  if ((values as { help?: boolean }).help) {
    console.log(usage);
    return 0;
  }
  return values;
}

/** Prints `command: message` and the usage to stderr; returns the usage exit code (2). */
export function usageError(command: string, usage: string, message: string): number {
  console.error(`${command}: ${message}\n\n${usage}`);
  return 2;
}

/** CLI commands print their own summary; the structured log only carries warnings (or debug). */
export function cliLogger(config: Config): Logger {
  return createLogger(config.logLevel === "debug" ? "debug" : "warn");
}

/**
 * Deadline of each etcd request: the dial timeout plus room for one page, so an unreachable etcd
 * fails within seconds instead of hanging, while a slow page of a large cluster still completes.
 */
export function etcdRequestTimeoutMs(config: Config): number {
  return config.etcd.dialTimeoutMs + 5000;
}

/**
 * The etcd connector of a command.
 * @returns the connector, or exit code 2 after printing why: only configuration can fail here (no
 *   endpoints, unreadable TLS files), before anything was read or written.
 */
export function commandConnector(command: string, config: Config): EtcdConnector | number {
  try {
    return rotatingConnector(config.etcd);
  } catch (err) {
    console.error(`${command}: ${(err as Error).message}`);
    return 2;
  }
}
