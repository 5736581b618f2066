/** The machine and code a run happened on, recorded with every result. */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, release, totalmem } from "node:os";
import { REPO_ROOT } from "./child.js";

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryBytes: number;
  /** `free -h` as printed. */
  free: string;
  os: string;
  node: string;
  etcd: string;
}

export interface PatchInfo {
  file: string;
  sha256: string;
}

export interface CodeInfo {
  commit: string;
  /** Uncommitted changes under src/ when the run started (the service measured is the working tree). */
  srcDirty: boolean;
  /** Diffs applied to an exported copy before building (--patch). */
  patches?: PatchInfo[];
}

function run(command: string, args: string[]): string {
  const out = spawnSync(command, args, { cwd: REPO_ROOT, encoding: "utf8" });
  return out.status === 0 ? out.stdout.trim() : "";
}

export function machineInfo(etcdVersion: string): MachineInfo {
  let cpuModel = "unknown";
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim() ?? cpuModel;
  } catch {
    // not Linux
  }
  return {
    cpus: availableParallelism(),
    cpuModel,
    memoryBytes: totalmem(),
    free: run("free", ["-h"]),
    os: `${process.platform} ${release()}`,
    node: process.version,
    etcd: etcdVersion,
  };
}

export function codeInfo(): CodeInfo {
  return {
    commit: run("git", ["rev-parse", "--short", "HEAD"]) || "unknown",
    srcDirty: run("git", ["status", "--porcelain", "--", "src"]) !== "",
  };
}
