/**
 * A real, minimal OIDC issuer for tests: a node:http server on a free loopback port serving the
 * discovery document and a JWKS of keys generated with jose, and signing access tokens with them.
 * Keys can be rotated (the JWKS then serves only the new key) and discovery can be made to fail.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from "jose";

export interface SigningKey {
  kid: string;
  alg: "RS256" | "ES256";
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

export interface SignOptions {
  /** Sign with this key instead of the current one (e.g. a key the JWKS does not publish). */
  key?: SigningKey;
  /** Override the protected header's kid. */
  kid?: string;
  /** Seconds from now; negative for the past. Default 300. */
  expiresIn?: number | null;
  notBefore?: number;
  /** Default "kafscale:observe". null omits the scope claim. */
  scope?: string | null;
  audience?: string;
  issuer?: string;
  subject?: string;
}

export interface TestIssuer {
  /** The issuer identifier (also its base URL). */
  readonly url: string;
  readonly jwksUrl: string;
  /** The key tokens are signed with by default. */
  readonly current: SigningKey;
  /** How many times the JWKS was fetched. */
  readonly jwksFetches: number;
  sign(claims?: JWTPayload, options?: SignOptions): Promise<string>;
  /** Generates a new key; the JWKS publishes only it from now on. */
  rotate(): Promise<SigningKey>;
  /** Makes discovery answer 500 (true) or work again (false). */
  failDiscovery(fail: boolean): void;
  close(): Promise<void>;
}

let kidCounter = 0;

/** A fresh key pair with its public JWK. */
export async function newSigningKey(alg: "RS256" | "ES256" = "RS256"): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const kid = `key-${++kidCounter}-${alg.toLowerCase()}`;
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  return { kid, alg, privateKey, publicKey, publicJwk };
}

/** The PEM text of a key's public half (what an attacker has: used for the HS256 confusion attack). */
export async function publicPem(key: SigningKey): Promise<string> {
  return exportSPKI(key.publicKey);
}

export const AUDIENCE = "https://mcp.kafscale.test/mcp";

/** Starts the issuer on 127.0.0.1 with one RS256 key. */
export async function startTestIssuer(): Promise<TestIssuer> {
  let current = await newSigningKey("RS256");
  let jwksFetches = 0;
  let discoveryFails = false;
  let url = "";
  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.url === "/.well-known/openid-configuration") {
      if (discoveryFails) return send(500, { error: "down for maintenance" });
      return send(200, {
        issuer: url,
        jwks_uri: `${url}/jwks`,
        authorization_endpoint: `${url}/authorize`,
        token_endpoint: `${url}/token`,
        id_token_signing_alg_values_supported: ["RS256", "ES256"],
        scopes_supported: ["openid", "kafscale:observe"],
      });
    }
    if (req.url === "/jwks") {
      jwksFetches++;
      return send(200, { keys: [current.publicJwk] });
    }
    send(404, { error: "not found" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    jwksUrl: `${url}/jwks`,
    get current() {
      return current;
    },
    get jwksFetches() {
      return jwksFetches;
    },
    sign: async (claims = {}, options = {}) => {
      const key = options.key ?? current;
      const now = Math.floor(Date.now() / 1000);
      const scope = options.scope === undefined ? "kafscale:observe" : options.scope;
      const jwt = new SignJWT({ ...(scope === null ? {} : { scope }), azp: "kafscale-agent", ...claims })
        .setProtectedHeader({ alg: key.alg, kid: options.kid ?? key.kid, typ: "at+jwt" })
        .setIssuer(options.issuer ?? url)
        .setAudience(options.audience ?? AUDIENCE)
        .setSubject(options.subject ?? "alice")
        .setIssuedAt(now)
        .setJti(`jti-${Math.random().toString(36).slice(2)}`);
      if (options.expiresIn !== null) jwt.setExpirationTime(now + (options.expiresIn ?? 300));
      if (options.notBefore !== undefined) jwt.setNotBefore(now + options.notBefore);
      return jwt.sign(key.privateKey);
    },
    rotate: async () => {
      current = await newSigningKey("RS256");
      return current;
    },
    failDiscovery: (fail) => {
      discoveryFails = fail;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
