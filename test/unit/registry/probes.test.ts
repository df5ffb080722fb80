/** The pure parts of the write-access probes: challenges, token claims, endpoints, repositories, verdicts. */
import { describe, expect, it } from "vitest";
import { findChallenge, parseChallenges } from "../../../src/registry/probes/challenge.js";
import { mayUseUrl, registryEndpoint } from "../../../src/registry/probes/endpoint.js";
import { decodeAccessClaim, grantedActions, grantsWrite } from "../../../src/registry/probes/jwt.js";
import { isRepositoryName, probedRepositories, usernameNamespace } from "../../../src/registry/probes/repositories.js";
import { combineResults, type ProbeResult } from "../../../src/registry/probes/verdict.js";

function jwt(payload: unknown): string {
  const enc = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString("base64url");
  return `${enc({ alg: "ES256", typ: "JWT" })}.${enc(payload)}.c2lnbmF0dXJl`;
}

describe("parseChallenges", () => {
  it("reads a distribution Bearer challenge", () => {
    const [c] = parseChallenges('Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull"');
    expect(c).toEqual({ scheme: "bearer", params: { realm: "https://auth.example.com/token", service: "registry.example.com", scope: "repository:a/b:pull" } });
  });

  it("reads Basic, token values, odd spacing, escapes and case", () => {
    expect(parseChallenges('Basic realm="Registry Realm"')).toEqual([{ scheme: "basic", params: { realm: "Registry Realm" } }]);
    expect(parseChallenges('BEARER Realm = https://a/t , Service="s\\"x"')).toEqual([{ scheme: "bearer", params: { realm: "https://a/t", service: 's"x' } }]);
  });

  it("reads several challenges in one header and across headers", () => {
    const one = parseChallenges('Basic realm="r", Bearer realm="https://a/token",service="s"');
    expect(one.map((c) => c.scheme)).toEqual(["basic", "bearer"]);
    expect(findChallenge(one, "Bearer")?.params.service).toBe("s");
    const two = parseChallenges(["Negotiate", 'Bearer realm="https://a/token"']);
    expect(two.map((c) => c.scheme)).toEqual(["negotiate", "bearer"]);
  });

  it("reads a token68 and survives garbage", () => {
    expect(parseChallenges("Negotiate YWJjZA==")).toEqual([{ scheme: "negotiate", params: { token68: "YWJjZA==" } }]);
    expect(parseChallenges(undefined)).toEqual([]);
    expect(parseChallenges('"unterminated, ,, Bearer realm="x')).toEqual([{ scheme: "bearer", params: { realm: "x" } }]);
  });
});

describe("decodeAccessClaim", () => {
  it("reads the access claim of a JWT without checking its signature", () => {
    const token = jwt({ iss: "auth", access: [{ type: "repository", name: "team/app", actions: ["pull", "push"] }, { type: "registry", name: "catalog", actions: ["*"] }] });
    const claims = decodeAccessClaim(token);
    expect(claims.kind).toBe("jwt");
    if (claims.kind !== "jwt") return;
    expect(grantedActions(claims.access, "team/app")).toEqual(["pull", "push"]);
    expect(grantedActions(claims.access, "catalog")).toEqual([]);
    expect(grantedActions(claims.access, "other")).toEqual([]);
  });

  it("merges repeated entries, lower-cases, and ignores malformed entries", () => {
    const claims = decodeAccessClaim(jwt({ access: [{ type: "repository", name: "a", actions: ["PULL"] }, { type: "repository", name: "a", actions: ["pull", "delete", 7] }, "junk", { name: "a" }] }));
    expect(claims.kind === "jwt" && grantedActions(claims.access, "a")).toEqual(["delete", "pull"]);
  });

  it("an empty access claim grants nothing; no access claim, a JWE, or junk is opaque", () => {
    const empty = decodeAccessClaim(jwt({ access: [] }));
    expect(empty).toEqual({ kind: "jwt", access: [] });
    expect(decodeAccessClaim(jwt({ sub: "x" }))).toEqual({ kind: "opaque" });
    expect(decodeAccessClaim("a.b.c.d.e")).toEqual({ kind: "opaque" });
    expect(decodeAccessClaim("not-a-jwt")).toEqual({ kind: "opaque" });
    expect(decodeAccessClaim("a.!!!.c")).toEqual({ kind: "opaque" });
    expect(decodeAccessClaim(`a.${Buffer.from("[1,2]").toString("base64url")}.c`)).toEqual({ kind: "opaque" });
  });

  it("push, delete and * are writes; pull is not", () => {
    expect(grantsWrite(["pull"])).toBe(false);
    expect(grantsWrite([])).toBe(false);
    expect(grantsWrite(["pull", "push"])).toBe(true);
    expect(grantsWrite(["delete"])).toBe(true);
    expect(grantsWrite(["*"])).toBe(true);
  });
});

describe("registryEndpoint", () => {
  it("uses HTTPS, keeps a port and a path prefix", () => {
    expect(registryEndpoint("https://Harbor.example.com:8443/v2/team-a/", [])).toEqual({
      ok: true, endpoint: { registry: "harbor.example.com:8443/team-a", host: "harbor.example.com:8443", pathPrefix: ["team-a"], origin: "https://harbor.example.com:8443", plainHttp: false },
    });
  });

  it("sends Docker Hub keys to registry-1.docker.io", () => {
    for (const key of ["docker.io", "index.docker.io", "https://index.docker.io/v1/"]) {
      const r = registryEndpoint(key, []);
      expect(r.ok && r.endpoint.origin).toBe("https://registry-1.docker.io");
      expect(r.ok && r.endpoint.registry).toBe("docker.io");
    }
  });

  it("uses plain HTTP only for hosts on the allow-list, whatever the key's scheme says", () => {
    expect(registryEndpoint("http://10.0.0.1:5000", []).ok && registryEndpoint("http://10.0.0.1:5000", [])).toMatchObject({ endpoint: { origin: "https://10.0.0.1:5000", plainHttp: false } });
    expect(registryEndpoint("127.0.0.1:5000/team", ["127.0.0.1:5000"])).toMatchObject({ ok: true, endpoint: { origin: "http://127.0.0.1:5000", plainHttp: true } });
    // A different port is a different registry.
    expect(registryEndpoint("127.0.0.1:5001", ["127.0.0.1:5000"])).toMatchObject({ ok: true, endpoint: { plainHttp: false } });
  });

  it("refuses wildcards and keys that are not hosts", () => {
    expect(registryEndpoint("*.example.com", [])).toMatchObject({ ok: false, reason: expect.stringContaining("wildcard") as unknown });
    expect(registryEndpoint("not a host", [])).toMatchObject({ ok: false });
  });

  it("mayUseUrl: HTTPS always, HTTP only for allowed hosts, nothing else", () => {
    expect(mayUseUrl(new URL("https://auth.example.com/token"), [])).toBe(true);
    expect(mayUseUrl(new URL("http://auth.example.com/token"), [])).toBe(false);
    expect(mayUseUrl(new URL("http://auth.example.com:5001/token"), ["auth.example.com:5001"])).toBe(true);
    expect(mayUseUrl(new URL("ftp://auth.example.com/token"), ["auth.example.com"])).toBe(false);
  });
});

describe("probedRepositories", () => {
  it("takes spec.verification.repositories when given, dropping invalid names", () => {
    expect(probedRepositories({ username: "ci" }, [], ["team-a/app", "Bad Name", "/team-b/app/", "team-a/app"])).toEqual(["team-a/app", "team-b/app"]);
  });

  it("derives <path>/regcred-probe and <username>/regcred-probe, at most three", () => {
    expect(probedRepositories({ username: "Alice" }, ["team-a"], [])).toEqual(["team-a/regcred-probe", "alice/regcred-probe"]);
    expect(probedRepositories({ username: "alice" }, [], [])).toEqual(["alice/regcred-probe"]);
    expect(probedRepositories({ username: "robot$team-a+ci" }, [], [])).toEqual(["team-a/regcred-probe"]);
  });

  it("falls back to regcred-probe, under library/ on Docker Hub", () => {
    expect(probedRepositories({ username: "_json_key" }, [], [])).toEqual(["regcred-probe"]);
    expect(probedRepositories({}, [], [])).toEqual(["regcred-probe"]);
    expect(probedRepositories({ username: "someone@example.com" }, [], [], true)).toEqual(["library/regcred-probe"]);
    expect(probedRepositories({ username: "x" }, [], ["app"], true)).toEqual(["library/app"]);
  });

  it("usernameNamespace and isRepositoryName follow the reference grammar", () => {
    expect(usernameNamespace("robot$Proj$name")).toBe("proj");
    expect(usernameNamespace("gitlab+deploy-token-1")).toBeUndefined();
    expect(usernameNamespace(undefined)).toBeUndefined();
    expect(isRepositoryName("a/b_c/d--e.f")).toBe(true);
    expect(isRepositoryName("a//b")).toBe(false);
    expect(isRepositoryName("-a")).toBe(false);
    expect(isRepositoryName("")).toBe(false);
  });
});

describe("combineResults", () => {
  const ro = (repository: string, method: ProbeResult["method"] = "upload"): ProbeResult => ({ verdict: "ReadOnly", method, registry: "r.example.com", repository, reason: "HTTP 401" });
  const rw: ProbeResult = { verdict: "Writable", method: "token-scope", registry: "t.example.com", repository: "team/app", reason: "granted pull,push" };
  const unknown: ProbeResult = { verdict: "Unknown", method: "none", registry: "down.example.com", reason: "the connection was refused" };

  it("any Writable wins, and names registry, repository and method", () => {
    expect(combineResults([ro("a"), unknown, rw])).toEqual({ verdict: "Writable", method: "token-scope", message: "granted pull,push", registry: "t.example.com", repository: "team/app" });
  });

  it("all ReadOnly is ReadOnly", () => {
    const one = combineResults([ro("a")]);
    expect(one).toMatchObject({ verdict: "ReadOnly", method: "upload", registry: "r.example.com", repository: "a" });
    const two = combineResults([ro("a"), ro("b", "token-scope")]);
    expect(two).toMatchObject({ verdict: "ReadOnly", method: "upload+token-scope", registry: "r.example.com" });
    expect(two.repository).toBeUndefined();
    expect(two.message).toContain("r.example.com/a, r.example.com/b");
  });

  it("anything else is Unknown, saying what could not be checked", () => {
    const check = combineResults([ro("a"), unknown, { ...unknown, registry: "x" }]);
    expect(check).toMatchObject({ verdict: "Unknown", method: "none", registry: "down.example.com" });
    expect(check.message).toBe("could not check down.example.com: the connection was refused (and 1 more probe(s) could not tell)");
    expect(combineResults([])).toMatchObject({ verdict: "Unknown" });
  });
});
