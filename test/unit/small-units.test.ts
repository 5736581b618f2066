import { describe, expect, it } from "vitest";
import { backoffDelay } from "../../src/backoff.js";
import { sanitizeError } from "../../src/tools/freshness.js";
import { staticTokenChecker } from "../../src/http/auth/static-token.js";
import { hostName } from "../../src/http/guards.js";
import { redact } from "../../src/log.js";

describe("backoff with full jitter", () => {
  it("grows exponentially up to the cap, and never below a floor", () => {
    const options = { baseMs: 200, capMs: 15_000 };
    expect(backoffDelay(0, { ...options, random: () => 1 })).toBe(200);
    expect(backoffDelay(3, { ...options, random: () => 1 })).toBe(1600);
    expect(backoffDelay(30, { ...options, random: () => 1 })).toBe(15_000);
    expect(backoffDelay(5, { ...options, random: () => 0 })).toBe(20);
    expect(backoffDelay(5, { ...options, random: () => 0.5 })).toBe(3200);
  });
});

describe("sanitizeError", () => {
  it.each([
    ["14 UNAVAILABLE: connect ECONNREFUSED 10.0.3.7:2379", "14 UNAVAILABLE: connect ECONNREFUSED <endpoint>"],
    ["failed to reach http://etcd-0.etcd.svc:2379/v3", "failed to reach <endpoint>"],
    ["deadline exceeded", "deadline exceeded"],
  ])("hides endpoints in %j", (input, output) => {
    expect(sanitizeError(input)).toBe(output);
  });
});

describe("static token", () => {
  const check = staticTokenChecker("secret");
  it.each([
    ["Bearer secret", true],
    ["  Bearer secret  ", true],
    ["Bearer nope", false],
    ["bearer secret", false],
    ["Basic secret", false],
    ["secret", false],
    ["Bearer ", false],
    [undefined, false],
  ])("%j → %s", (header, ok) => {
    expect(check(header)).toBe(ok);
  });
});

describe("hostName", () => {
  it.each([
    ["localhost:8090", "localhost"],
    ["[::1]:8090", "[::1]"],
    ["MCP.Example.com", "mcp.example.com"],
  ])("%s → %s", (host, name) => {
    expect(hostName(host)).toBe(name);
  });
});

describe("log redaction", () => {
  it("never lets a secret-looking field through", () => {
    expect(redact({ authorization: "Bearer x", nested: { password: "p", ok: 1 }, token: "t" })).toEqual({
      authorization: "[redacted]",
      nested: { password: "[redacted]", ok: 1 },
      token: "[redacted]",
    });
  });
});
