/**
 * Certificates made with `openssl` for the TLS tests: a CA, a server certificate for 127.0.0.1 and
 * a client certificate, all signed by it. EC P-256 keys, valid for a day, in a temp dir.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export const OPENSSL_INSTALL_HINT = "TLS tests need openssl: sudo apt-get install -y openssl";

export interface CertificateAuthority {
  /** PEM file of the CA certificate. */
  certFile: string;
  keyFile: string;
}

export interface KeyPair {
  certFile: string;
  keyFile: string;
}

function openssl(args: string[]): void {
  try {
    execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === "ENOENT") throw new Error(OPENSSL_INSTALL_HINT);
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString().trim() ?? e.message}`);
  }
}

const NEW_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** A self-signed CA named `name` in `dir`. */
export function makeCa(dir: string, name: string): CertificateAuthority {
  const ca = { certFile: join(dir, `${name}.pem`), keyFile: join(dir, `${name}.key`) };
  openssl(["req", "-x509", ...NEW_KEY, "-keyout", ca.keyFile, "-out", ca.certFile, "-days", "1", "-subj", `/CN=${name}`]);
  return ca;
}

/** A certificate signed by `ca`: `server` for 127.0.0.1/localhost (serverAuth), else a client (clientAuth). */
export function makeCert(dir: string, ca: CertificateAuthority, name: string, role: "server" | "client"): KeyPair {
  const pair = { certFile: join(dir, `${name}.pem`), keyFile: join(dir, `${name}.key`) };
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(
    ext,
    role === "server"
      ? "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n"
      : "extendedKeyUsage=clientAuth\n",
  );
  openssl(["req", "-new", ...NEW_KEY, "-keyout", pair.keyFile, "-out", csr, "-subj", `/CN=${name}`]);
  openssl([
    "x509", "-req", "-in", csr, "-CA", ca.certFile, "-CAkey", ca.keyFile, "-CAcreateserial",
    "-out", pair.certFile, "-days", "1", "-extfile", ext,
  ]);
  return pair;
}
