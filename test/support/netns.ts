/**
 * Network namespaces for partition tests: a private network of etcd members (each in its own
 * namespace, joined by veth pairs to a bridge in a hub namespace), built and partitioned only
 * inside namespaces this file creates. Nothing here touches the root namespace (no device, address,
 * route or iptables rule there): other engineers' tests share its loopback. The test process reaches
 * the members' client ports through Unix sockets (the filesystem is shared across namespaces).
 *
 * Needs root, `ip` (iproute2) and `iptables`, as CI has. Missing any of them is a test failure with
 * an install hint, never a skip.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";

export const NETNS_INSTALL_HINT =
  "partition tests need root plus `ip` (iproute2) and `iptables`; install them with: " +
  "sudo apt-get update && sudo apt-get install -y iproute2 iptables   (and run the tests as root, as CI does)";

/** Every namespace this helper creates starts with this, followed by the creating process's pid. */
const PREFIX = "kmcp-etcd";

function run(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${command} ${args.join(" ")} failed: ${e.stderr?.trim() || e.message}`);
  }
}

/** Throws the install hint unless we are root with `ip` and `iptables` available. */
export function assertNetnsTools(): void {
  const missing = ["ip", "iptables"].filter((tool) => spawnSync(tool, ["--version"]).error !== undefined);
  if (missing.length > 0) throw new Error(`${NETNS_INSTALL_HINT} (missing: ${missing.join(", ")})`);
  if (process.getuid?.() !== 0) throw new Error(`${NETNS_INSTALL_HINT} (not running as root)`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes namespaces left by an earlier run that crashed (their creating process is gone), after
 * killing the processes it left inside them (etcd members this helper started).
 */
export function sweepLeftovers(): void {
  const names = run("ip", ["netns", "list"])
    .split("\n")
    .map((line) => line.split(" ")[0] ?? "")
    .filter((name) => name.startsWith(`${PREFIX}-`));
  for (const name of names) {
    const owner = Number(name.split("-")[2]);
    if (!Number.isInteger(owner) || isAlive(owner)) continue;
    deleteNamespace(name);
  }
}

function deleteNamespace(name: string): void {
  const pids = spawnSync("ip", ["netns", "pids", name], { encoding: "utf8" }).stdout ?? "";
  for (const pid of pids.split("\n").map(Number).filter((p) => p > 0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  spawnSync("ip", ["netns", "del", name]);
}

export interface MemberNetwork {
  /** The namespace the member runs in. */
  namespace: string;
  /** Its address on the private network (peers talk to it here). */
  address: string;
}

export interface PrivateNetwork {
  members: MemberNetwork[];
  /** Cuts member `index` off from every other member (both directions); its Unix sockets still work. */
  isolate(index: number): void;
  /** Undoes isolate(). */
  heal(index: number): void;
  /** Deletes every namespace (and with them the veths and rules); safe to call twice. */
  destroy(): void;
}

/** Builds a bridge in a hub namespace and `size` member namespaces on 10.99.0.0/24. */
export function createPrivateNetwork(size: number): PrivateNetwork {
  assertNetnsTools();
  sweepLeftovers();
  const id = `${PREFIX}-${process.pid}-${randomBytes(3).toString("hex")}`;
  const hub = `${id}-hub`;
  const created: string[] = [];
  const members: MemberNetwork[] = [];
  const destroy = (): void => {
    for (const name of created.splice(0).reverse()) deleteNamespace(name);
  };
  try {
    run("ip", ["netns", "add", hub]);
    created.push(hub);
    run("ip", ["-n", hub, "link", "add", "br0", "type", "bridge"]);
    run("ip", ["-n", hub, "link", "set", "br0", "up"]);
    for (let i = 1; i <= size; i++) {
      const namespace = `${id}-m${i}`;
      const address = `10.99.0.${i}`;
      run("ip", ["netns", "add", namespace]);
      created.push(namespace);
      // Both ends are created inside our namespaces: the root namespace never sees the pair.
      run("ip", ["-n", namespace, "link", "add", "eth0", "type", "veth", "peer", "name", `m${i}`, "netns", hub]);
      run("ip", ["-n", hub, "link", "set", `m${i}`, "master", "br0"]);
      run("ip", ["-n", hub, "link", "set", `m${i}`, "up"]);
      run("ip", ["-n", namespace, "addr", "add", `${address}/24`, "dev", "eth0"]);
      run("ip", ["-n", namespace, "link", "set", "eth0", "up"]);
      run("ip", ["-n", namespace, "link", "set", "lo", "up"]);
      members.push({ namespace, address });
    }
  } catch (err) {
    destroy();
    throw err;
  }
  const iptables = (index: number, args: string[]): void => {
    const member = members[index];
    if (!member) throw new Error(`no member ${index}`);
    run("ip", ["netns", "exec", member.namespace, "iptables", ...args]);
  };
  return {
    members,
    isolate: (index) => {
      // Not on lo: the member still reaches its own addresses (etcd's gateway dials its own listener).
      iptables(index, ["-I", "INPUT", "!", "-i", "lo", "-s", "10.99.0.0/24", "-j", "DROP"]);
      iptables(index, ["-I", "OUTPUT", "!", "-o", "lo", "-d", "10.99.0.0/24", "-j", "DROP"]);
    },
    heal: (index) => iptables(index, ["-F"]),
    destroy,
  };
}
