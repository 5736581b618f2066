/**
 * `npm run test:stress [-- vitest args]`: the whole suite (`npm test`) while busy loops occupy every
 * core, so a test that depends on timing fails here first instead of on a busy CI machine. Exits
 * with the suite's status.
 *
 * One CPU-burning child process per available core (os.availableParallelism()), started before the
 * suite and killed after it; each burner also exits by itself if this script dies (it checks its
 * parent now and then), so none outlives a cancelled run.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";

const BURNER = `
const parent = ${process.pid};
for (let i = 0; ; i++) {
  if ((i & 0xffffff) === 0 && process.ppid !== parent) process.exit(0);
}`;

function startBurners(count: number): ChildProcess[] {
  return Array.from({ length: count }, () => spawn(process.execPath, ["-e", BURNER], { stdio: "ignore" }));
}

function stopBurners(burners: ChildProcess[]): void {
  for (const burner of burners) burner.kill("SIGKILL");
}

const burners = startBurners(availableParallelism());
console.log(`test:stress: ${burners.length} busy loops running (pids ${burners.map((b) => b.pid).join(", ")})`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    stopBurners(burners);
    process.exit(130);
  });
}

const started = performance.now();
const suite = spawn("npm", ["test", "--", ...process.argv.slice(2)], { stdio: "inherit" });
const status = await new Promise<number>((resolve) => {
  suite.on("exit", (code) => resolve(code ?? 1));
  suite.on("error", () => resolve(1));
});
stopBurners(burners);
console.log(`test:stress: suite exited with ${status} after ${((performance.now() - started) / 1000).toFixed(0)} s`);
process.exitCode = status;
