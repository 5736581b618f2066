/**
 * A small tmpfs mounted under one of the test's own temp dirs, for real "disk full" and "read-only
 * filesystem" faults. Never mounts anywhere else; the cleanup unmounts it (lazily if still busy).
 * Needs root (or CAP_SYS_ADMIN): without it the test fails and says so, it does not skip.
 */
import { spawnSync } from "node:child_process";
import { closeSync, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";

export interface Tmpfs {
  dir: string;
  /** Writes a file until the filesystem is full (closing it, so the space stays used). */
  fill(): string;
  /** Makes the filesystem read-only, or writable again. */
  remount(mode: "ro" | "rw"): void;
  unmount(): void;
}

function run(args: string[]): void {
  const res = spawnSync(args[0] as string, args.slice(1), { encoding: "utf8" });
  if (res.status !== 0) {
    throw new Error(`${args.join(" ")} failed (the disk-full tests need root or CAP_SYS_ADMIN to mount a tmpfs): ${res.stderr || res.error}`);
  }
}

/** Mounts a tmpfs of `sizeMb` on `dir` (an empty directory the test created). */
export function mountTmpfs(dir: string, sizeMb: number): Tmpfs {
  run(["mount", "-t", "tmpfs", "-o", `size=${sizeMb}m,mode=0700`, "tmpfs", dir]);
  let mounted = true;
  return {
    dir,
    fill: () => {
      const path = join(dir, "filler");
      const fd = openSync(path, "w");
      const block = Buffer.alloc(64 * 1024, 1);
      try {
        for (;;) writeSync(fd, block);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
      }
      // The last partial pages as well, so not even a small write fits.
      try {
        for (;;) writeSync(fd, block.subarray(0, 512));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
      } finally {
        closeSync(fd);
      }
      return path;
    },
    remount: (mode) => run(["mount", "-o", `remount,${mode}`, dir]),
    unmount: () => {
      if (!mounted) return;
      mounted = false;
      const res = spawnSync("umount", [dir]);
      if (res.status !== 0) spawnSync("umount", ["-l", dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
