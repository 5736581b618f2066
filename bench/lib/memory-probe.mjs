// Preloaded into a service under test with `node --import <this file>` (bench --memory-trace):
// logs the process's memory breakdown as a JSON line on stderr every 250 ms, so RSS growth can
// be split into V8 heap, external memory (Buffers) and the rest (SQLite, code, stacks).
const timer = setInterval(() => {
  const m = process.memoryUsage();
  process.stderr.write(
    `${JSON.stringify({ msg: "bench memory", rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers })}\n`,
  );
}, 250);
timer.unref();
