/**
 * What one MCP tool call costs, client and service together: the service on the demo cluster in this
 * process, one session over real HTTP through the freshness prober's bare client
 * (lib/bare-mcp-session.ts, which adds little of its own), `--calls` sequential `fetch_offsets` calls on
 * the demo's first group after a warm-up of 1,000; this process's CPU time and wall time a call, per
 * round. An A/B lever for the HTTP path (e.g. a --patch of src/http/mcp/sessions.ts), run alternately.
 *
 *   npx tsx bench/call-cost.ts [--calls 3000] [--rounds 3]
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../src/config.js";
import { silentLogger } from "../src/log.js";
import { startService } from "../src/service.js";
import { openBareSession } from "./lib/bare-mcp-session.js";
import { selfCpuMs } from "./lib/cpu.js";

const { values } = parseArgs({ options: { calls: { type: "string", default: "3000" }, rounds: { type: "string", default: "3" } } });
const calls = Number(values.calls);
const rounds = Number(values.rounds);
if (!(calls > 0 && rounds > 0)) throw new Error("--calls and --rounds must be positive numbers");

const config = loadConfig({ KAFSCALE_MCP_HTTP_ADDR: "127.0.0.1:0", KAFSCALE_MCP_AUDIT_STDOUT: "false", KAFSCALE_MCP_RATE_LIMIT: "0" });
const service = await startService({ config, logger: silentLogger, demo: true });
const session = await openBareSession(service.url as string);
const listed = await session.call("list_groups", {});
const group = (listed.data?.groups as { group_id: string }[] | undefined)?.[0]?.group_id;
if (group === undefined) throw new Error(`the demo cluster named no group: ${JSON.stringify(listed).slice(0, 300)}`);
const args = { group_id: group };
const first = await session.call("fetch_offsets", args);
if (!first.ok) throw new Error(`fetch_offsets failed: ${first.error}`);
for (let i = 0; i < 1000; i++) await session.call("fetch_offsets", args);
for (let round = 1; round <= rounds; round++) {
  const cpu0 = selfCpuMs();
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) await session.call("fetch_offsets", args);
  const cpuUs = ((selfCpuMs() - cpu0) / calls) * 1000;
  const wallUs = ((performance.now() - t0) / calls) * 1000;
  console.log(`round ${round}: ${calls} calls of fetch_offsets {group_id: ${group}}: CPU ${cpuUs.toFixed(0)} µs a call, wall ${wallUs.toFixed(0)} µs a call`);
}
await session.close();
await service.close();
