/**
 * etcd auth and TLS for real: a least-privilege etcd user (read on the prefix only), etcd restarted
 * while auth is on (its simple tokens die with it), server TLS with a CA made by openssl, mutual
 * TLS with a client certificate, and a wrong CA refused with a clear, sanitised reason.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it, vi } from "vitest";
import { Etcd3, Range } from "etcd3";
import { startEtcd, type EtcdProcess } from "../../bench/lib/etcd-process.js";
import {
  clusterWriter,
  connectedService as connectedClusterService,
  orders0,
  readiness,
  startClusterService,
  type Writer,
} from "../support/cluster-service.js";
import { connectClient } from "../support/service.js";
import { useCleanups } from "../support/harness.js";
import { makeCa, makeCert, type KeyPair } from "../support/tls.js";

const { defer, tempDir, tempDbPath } = useCleanups();

const ROOT = { username: "root", password: "root-secret" };
const READER = { username: "kafscale-mcp", password: "reader-secret" };

const connectedService = (endpoint: string, namespace: string, env: Record<string, string>) =>
  connectedClusterService([endpoint], namespace, env, defer);

/** The reader's credentials as the service takes them. */
const AS_READER = { KAFSCALE_MCP_ETCD_USERNAME: READER.username, KAFSCALE_MCP_ETCD_PASSWORD: READER.password };

/**
 * A fresh etcd holding a realistic cluster in a fresh namespace, with auth on: a root user and a
 * user that may only read `<readable>/kafscale/` (the cluster's namespace unless told otherwise).
 */
async function etcdWithAuth(readable?: string): Promise<{ etcd: EtcdProcess; namespace: string }> {
  const etcd = await startEtcd();
  defer(() => etcd.destroy());
  const writer = await clusterWriter([etcd.endpoint]);
  writer.close();
  await enableAuth(etcd, readable ?? writer.namespace);
  return { etcd, namespace: writer.namespace };
}

/** Turns auth on with a root user and a user that may only read `<namespace>/kafscale/`. */
async function enableAuth(etcd: EtcdProcess, namespace: string): Promise<void> {
  const admin = new Etcd3({ hosts: [etcd.endpoint] });
  try {
    await admin.role("root").create();
    await (await admin.user(ROOT.username).create(ROOT.password)).addRole("root");
    const reader = await admin.role("kafscale-read").create();
    await reader.grant({ permission: "Read", range: Range.prefix(`${namespace}/kafscale/`) });
    await (await admin.user(READER.username).create(READER.password)).addRole("kafscale-read");
    await admin.auth.authEnable();
  } finally {
    admin.close();
  }
}

describe("etcd auth", () => {
  it("syncs, watches and probes as a user that may only read the prefix", async () => {
    const { etcd, namespace } = await etcdWithAuth();
    const root = await clusterWriter([etcd.endpoint], { auth: ROOT }, namespace);
    defer(() => root.close());
    const { service, client } = await connectedService(etcd.endpoint, namespace, AS_READER);

    const revision = await root.putEndOffset(555);
    await service.sync?.waitForRevision(revision);
    expect(await orders0(client)).toMatchObject({ endOffset: 555, freshness: { stale: false, etcd_link: "connected" } });

    // Least privilege for real: the same user cannot read beside the prefix.
    const reader = new Etcd3({ hosts: [etcd.endpoint], auth: READER });
    defer(() => reader.close());
    await expect(reader.get(`${namespace}/other`).string()).rejects.toThrow(/permission denied/);
  });

  it("says 'permission denied' (sanitised) when the user may not read the prefix", async () => {
    // The reader's role covers another namespace than the one the service reads.
    const { etcd, namespace } = await etcdWithAuth("/elsewhere");
    const service = await startClusterService([etcd.endpoint], namespace, AS_READER);
    defer(() => service.close());
    const reason = await vi.waitFor(async () => {
      const ready = await readiness(service);
      expect(ready.reason).toMatch(/etcd permission denied: the etcd user needs read access to the \/kafscale\/ prefix/);
      return ready.reason as string;
    }, 10_000);
    expect(reason).not.toContain(etcd.endpoint.split("//")[1] as string);
  });

  it("reconnects after etcd restarts with auth on (its tokens are gone) and sees new commits", async () => {
    const { etcd, namespace } = await etcdWithAuth();
    const { service, client } = await connectedService(etcd.endpoint, namespace, AS_READER);

    await etcd.stop();
    await vi.waitFor(async () => expect((await orders0(client)).freshness.etcd_link).not.toBe("connected"), 10_000);
    await etcd.start();
    const root = await clusterWriter([etcd.endpoint], { auth: ROOT }, namespace);
    defer(() => root.close());
    const revision = await root.putEndOffset(999);
    await service.sync?.waitForRevision(revision, 20_000);
    await vi.waitFor(async () => {
      expect(await orders0(client)).toMatchObject({ endOffset: 999, freshness: { stale: false, etcd_link: "connected" } });
    }, 10_000);
    expect(service.store.syncState.get().resyncCount).toBe(0);
  });
});

/**
 * An etcd serving TLS with certificates made by openssl (mutual: it also demands a client
 * certificate), and a writer holding a realistic cluster in a fresh namespace.
 */
async function etcdWithTls(mutual: boolean): Promise<{ etcd: EtcdProcess; ca: KeyPair; client: KeyPair; writer: Writer }> {
  const dir = tempDir();
  const ca = makeCa(dir, "etcd-ca");
  const server = makeCert(dir, ca, "etcd-server", "server");
  const client = makeCert(dir, ca, "kafscale-mcp", "client");
  const etcd = await startEtcd({ tls: mutual ? { ...server, trustedCaFile: ca.certFile, clientCertAuth: true } : server });
  defer(() => etcd.destroy());
  const credentials = {
    rootCertificate: readFileSync(ca.certFile),
    certChain: readFileSync(client.certFile),
    privateKey: readFileSync(client.keyFile),
  };
  const writer = await clusterWriter([etcd.endpoint], { credentials });
  defer(() => writer.close());
  return { etcd, ca, client, writer };
}

describe("etcd TLS", () => {
  it("serves over TLS with a CA made by openssl", async () => {
    const { etcd, ca, writer } = await etcdWithTls(false);
    const { service, client } = await connectedService(etcd.endpoint, writer.namespace, {
      KAFSCALE_MCP_ETCD_CA_FILE: ca.certFile,
    });
    const revision = await writer.putEndOffset(321);
    await service.sync?.waitForRevision(revision);
    expect(await orders0(client)).toMatchObject({ endOffset: 321, freshness: { stale: false } });
  });

  it("serves over mutual TLS with a client certificate, and says what is wrong without one", async () => {
    const { etcd, ca, client: clientCert, writer } = await etcdWithTls(true);
    const { service, client } = await connectedService(etcd.endpoint, writer.namespace, {
      KAFSCALE_MCP_ETCD_CA_FILE: ca.certFile,
      KAFSCALE_MCP_ETCD_CERT_FILE: clientCert.certFile,
      KAFSCALE_MCP_ETCD_KEY_FILE: clientCert.keyFile,
    });
    const revision = await writer.putEndOffset(654);
    await service.sync?.waitForRevision(revision);
    expect(await orders0(client)).toMatchObject({ endOffset: 654, freshness: { stale: false } });

    const anonymous = await startClusterService([etcd.endpoint], writer.namespace, {
      KAFSCALE_MCP_ETCD_CA_FILE: ca.certFile,
    });
    defer(() => anonymous.close());
    await vi.waitFor(async () => {
      expect((await readiness(anonymous)).reason).toMatch(/etcd cannot be reached since \S+: link probe failed: TLS handshake with etcd failed/);
    }, 10_000);
  });

  it("refuses etcd's certificate under a wrong CA: answers stale from the snapshot with a clear, sanitised error", async () => {
    const { etcd, ca, writer } = await etcdWithTls(false);
    const otherCa = makeCa(tempDir(), "other-ca");
    // A snapshot taken with the right CA; then the service restarts with the wrong one.
    const path = tempDbPath();
    const first = await connectedService(etcd.endpoint, writer.namespace, {
      KAFSCALE_MCP_ETCD_CA_FILE: ca.certFile,
      KAFSCALE_MCP_DB_PATH: path,
    });
    await first.client.close();
    await first.service.close();

    const { client } = await (async () => {
      const service = await startClusterService([etcd.endpoint], writer.namespace, {
        KAFSCALE_MCP_ETCD_CA_FILE: otherCa.certFile,
        KAFSCALE_MCP_DB_PATH: path,
      });
      defer(() => service.close());
      return { client: await connectClient(service.url as string) };
    })();
    defer(() => client.close());
    const answer = await vi.waitFor(async () => {
      const a = await orders0(client);
      expect(a.freshness.etcd_last_error).toMatch(/TLS handshake with etcd failed: check KAFSCALE_MCP_ETCD_CA_FILE/);
      return a;
    }, 10_000);
    expect(answer.endOffset).toBe(100);
    expect(answer.freshness.stale).toBe(true);
    expect(answer.freshness.etcd_link).not.toBe("connected");
    expect(answer.freshness.etcd_last_error).not.toMatch(/127\.0\.0\.1|https?:\/\//);
  });
});
