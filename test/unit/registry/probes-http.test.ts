/**
 * The probes and the checker against small registries and token services faked on loopback (HTTPS
 * with a test CA, and plain HTTP): every answer a real registry can give, time budgets, TLS
 * failures, caching, and that no credential or token ever reaches a message or a log line.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createAuthority, issueServingCertificate } from "../../../src/certs/authority.js";
import { loadSettings } from "../../../src/config/settings.js";
import { createLogger } from "../../../src/observability/logger.js";
import type { AccessSubject } from "../../../src/registry/access.js";
import { declaredOnlyChecker } from "../../../src/registry/access.js";
import type { RegistryCredential } from "../../../src/registry/dockerConfig.js";
import { createAccessChecker, createProbeHttp, ProbeAccessChecker, type ProbeHttp } from "../../../src/registry/probes/index.js";

const PASSWORD = "pr0be-Secret-Never-Shown";
const IDENTITY_TOKEN = "identity-token-never-shown-0123";
type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}

interface Fake {
  server: HttpsServer | HttpServer;
  host: string;
  seen: Seen[];
  handler: Handler;
}

const ca = createAuthority("probe test CA");
const serving = issueServingCertificate(ca, { dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
const otherCa = createAuthority("someone else's CA");
const untrusted = issueServingCertificate(otherCa, { dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });

async function fake(kind: "https" | "http" | "untrusted"): Promise<Fake> {
  const f: Fake = { server: undefined as unknown as HttpsServer, host: "", seen: [], handler: (_req, res) => { res.writeHead(500).end(); } };
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    let body = "";
    req.on("data", (chunk: Buffer) => { body += chunk.toString(); });
    req.on("end", () => {
      f.seen.push({ method: req.method ?? "", url: req.url ?? "", authorization: req.headers.authorization, body });
      f.handler(req, res, body);
    });
  };
  f.server = kind === "http" ? createHttpServer(listener)
    : createHttpsServer(kind === "https" ? { cert: serving.cert, key: serving.key } : { cert: untrusted.cert, key: untrusted.key }, listener);
  await new Promise<void>((resolve) => f.server.listen(0, "127.0.0.1", () => { resolve(); }));
  f.host = `127.0.0.1:${(f.server.address() as AddressInfo).port}`;
  return f;
}

function jwt(access: unknown[], extra: Record<string, unknown> = {}): string {
  const enc = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString("base64url");
  return `${enc({ alg: "ES256", typ: "JWT" })}.${enc({ iss: "fake", access, ...extra })}.c2ln`;
}

let registry: Fake;
let tokens: Fake;
let plain: Fake;
let bad: Fake;
let http: ProbeHttp;
const lines: string[] = [];
const log = createLogger("debug", new Writable({ write(chunk: Buffer, _e, done) { lines.push(chunk.toString()); done(); } }));

beforeAll(async () => {
  [registry, tokens, plain, bad] = await Promise.all([fake("https"), fake("https"), fake("http"), fake("untrusted")]);
  http = createProbeHttp({ caPems: [ca.cert] });
});

afterAll(async () => {
  await http.close();
  for (const f of [registry, tokens, plain, bad]) {
    f.server.closeAllConnections();
    await new Promise<void>((resolve) => f.server.close(() => { resolve(); }));
  }
});

beforeEach(() => {
  for (const f of [registry, tokens, plain, bad]) {
    f.seen.length = 0;
  }
});

let counter = 0;
function subject(credential: Partial<RegistryCredential> & { key: string }, repositories: string[] = [], annotations: Record<string, string> = {}): AccessSubject {
  counter += 1;
  return { namespace: "creds", name: `s${counter}`, resourceVersion: "7", annotations, credentials: [{ username: "ci", password: PASSWORD, ...credential }], repositories };
}

function checker(options: Partial<ConstructorParameters<typeof ProbeAccessChecker>[0]> = {}): ProbeAccessChecker {
  return new ProbeAccessChecker({ mode: "BestEffort", plainHttpRegistries: [plain.host], log, http, ...options });
}

/** A basic-auth registry: 401 Basic on /v2/, `upload` answers POST. */
function basicRegistry(f: Fake, upload: (res: ServerResponse, req: IncomingMessage) => void): void {
  f.handler = (req, res) => {
    if (req.method === "GET" && req.url === "/v2/") {
      res.writeHead(401, { "www-authenticate": 'Basic realm="fake"' }).end();
    } else if (req.method === "POST") {
      upload(res, req);
    } else if (req.method === "DELETE") {
      res.writeHead(204).end();
    } else {
      res.writeHead(404).end();
    }
  };
}

/** A token registry: 401 Bearer on /v2/ pointing at the fake token service; `token` answers it. */
function tokenRegistry(token: (res: ServerResponse, req: IncomingMessage, body: string) => void, upload?: (res: ServerResponse, req: IncomingMessage) => void): void {
  registry.handler = (req, res) => {
    if (req.method === "GET" && req.url === "/v2/") {
      res.writeHead(401, { "www-authenticate": `Bearer realm="https://${tokens.host}/token",service="fake-registry"` }).end();
    } else if (req.method === "POST" && upload) {
      upload(res, req);
    } else if (req.method === "DELETE") {
      res.writeHead(204).end();
    } else {
      res.writeHead(401).end();
    }
  };
  tokens.handler = (req, res, body) => { token(res, req, body); };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

function expectClean(text: string): void {
  expect(text).not.toContain(PASSWORD);
  expect(text).not.toContain(Buffer.from(`ci:${PASSWORD}`).toString("base64"));
  expect(text).not.toContain(IDENTITY_TOKEN);
  expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
}

describe("upload probe (basic-auth registries)", () => {
  it("202 is Writable, and the upload is cancelled at its Location before the check answers, with the same credentials", async () => {
    basicRegistry(registry, (res) => { res.writeHead(202, { location: "/v2/ci/regcred-probe/blobs/uploads/u-1?_state=opaque", "docker-upload-uuid": "u-1" }).end(); });
    const check = await checker().check(subject({ key: registry.host }), 4_000);
    expect(check).toMatchObject({ verdict: "Writable", method: "upload", registry: registry.host, repository: "ci/regcred-probe" });
    expect(check.message).toContain("HTTP 202");
    const del = registry.seen.find((s) => s.method === "DELETE");
    expect(del?.url).toBe("/v2/ci/regcred-probe/blobs/uploads/u-1?_state=opaque");
    expect(del?.authorization).toBe(`Basic ${Buffer.from(`ci:${PASSWORD}`).toString("base64")}`);
    expect(registry.seen.find((s) => s.method === "POST")?.url).toBe("/v2/ci/regcred-probe/blobs/uploads/");
    expectClean(JSON.stringify(check));
  });

  it("cancels at an absolute Location too, and without a Location at the Docker-Upload-UUID", async () => {
    basicRegistry(registry, (res) => { res.writeHead(202, { location: `https://${registry.host}/v2/ci/regcred-probe/blobs/uploads/abs` }).end(); });
    await checker().check(subject({ key: registry.host }), 4_000);
    expect(registry.seen.filter((s) => s.method === "DELETE").map((s) => s.url)).toEqual(["/v2/ci/regcred-probe/blobs/uploads/abs"]);
    registry.seen.length = 0;
    basicRegistry(registry, (res) => { res.writeHead(202, { "docker-upload-uuid": "by-uuid" }).end(); });
    await checker().check(subject({ key: registry.host }), 4_000);
    expect(registry.seen.filter((s) => s.method === "DELETE").map((s) => s.url)).toEqual(["/v2/ci/regcred-probe/blobs/uploads/by-uuid"]);
  });

  it("never sends the credentials to a Location on another host", async () => {
    basicRegistry(registry, (res) => { res.writeHead(202, { location: `https://${tokens.host}/elsewhere` }).end(); });
    tokens.handler = (_req, res) => { res.writeHead(204).end(); };
    const check = await checker().check(subject({ key: registry.host }), 4_000);
    expect(check.verdict).toBe("Writable");
    expect(tokens.seen).toHaveLength(1);
    expect(tokens.seen[0]?.authorization).toBeUndefined();
  });

  it.each([401, 403])("%i is ReadOnly for that repository", async (status) => {
    basicRegistry(registry, (res) => { res.writeHead(status).end(); });
    const check = await checker().check(subject({ key: registry.host }, ["team/app", "team/other"]), 4_000);
    expect(check).toMatchObject({ verdict: "ReadOnly", method: "upload", registry: registry.host });
    expect(check.message).toContain(`${registry.host}/team/app, ${registry.host}/team/other`);
    expect(registry.seen.filter((s) => s.method === "DELETE")).toEqual([]);
  });

  it.each([
    [404, "not found"], [405, "method not allowed"], [429, "rate limited"], [500, "registry error"], [503, "registry error"], [200, "HTTP 200"],
  ])("%i is Unknown, with the reason", async (status, words) => {
    basicRegistry(registry, (res) => { res.writeHead(status).end(`{"echo":"${PASSWORD}"}`); });
    const check = await checker().check(subject({ key: registry.host }), 4_000);
    expect(check).toMatchObject({ verdict: "Unknown", method: "upload", registry: registry.host, repository: "ci/regcred-probe" });
    expect(check.message).toContain(`HTTP ${status}`);
    expect(check.message).toContain(words);
    expectClean(check.message);
  });

  it("any Writable repository makes the source Writable", async () => {
    basicRegistry(registry, (res, req) => { res.writeHead(req.url?.startsWith("/v2/team/app/") ? 202 : 401, { location: "/v2/x/blobs/uploads/1" }).end(); });
    const check = await checker().check(subject({ key: registry.host }, ["team/ro", "team/app"]), 4_000);
    expect(check).toMatchObject({ verdict: "Writable", repository: "team/app" });
  });
});

describe("token-scope probe (token registries)", () => {
  it("asks for repository:<repo>:pull,push with Basic credentials; push granted is Writable", async () => {
    tokenRegistry((res) => { json(res, 200, { token: jwt([{ type: "repository", name: "ci/regcred-probe", actions: ["pull", "push"] }]) }); });
    const check = await checker().check(subject({ key: registry.host }), 4_000);
    expect(check).toMatchObject({ verdict: "Writable", method: "token-scope", registry: registry.host, repository: "ci/regcred-probe" });
    expect(check.message).toContain("granted pull,push");
    const asked = new URL(tokens.seen[0]?.url ?? "", "https://x");
    expect(asked.pathname).toBe("/token");
    expect(asked.searchParams.get("scope")).toBe("repository:ci/regcred-probe:pull,push");
    expect(asked.searchParams.get("service")).toBe("fake-registry");
    expect(tokens.seen[0]?.authorization).toBe(`Basic ${Buffer.from(`ci:${PASSWORD}`).toString("base64")}`);
    // Nothing was sent to the registry but the ping.
    expect(registry.seen.map((s) => `${s.method} ${s.url}`)).toEqual(["GET /v2/"]);
    expectClean(JSON.stringify(check));
  });

  it.each([[["pull"], "granted pull"], [[], "granted nothing"]] as const)("granted %j is ReadOnly", async (actions, words) => {
    tokenRegistry((res) => { json(res, 200, { access_token: jwt([{ type: "repository", name: "team/app", actions }]) }); });
    const check = await checker().check(subject({ key: registry.host }, ["team/app"]), 4_000);
    expect(check).toMatchObject({ verdict: "ReadOnly", method: "token-scope" });
    expect(check.message).toContain(words);
  });

  it("delete and * are writes too; grants on other repositories do not count", async () => {
    tokenRegistry((res) => { json(res, 200, { token: jwt([{ type: "repository", name: "team/app", actions: ["*"] }]) }); });
    expect((await checker().check(subject({ key: registry.host }, ["team/app"]), 4_000)).verdict).toBe("Writable");
    tokenRegistry((res) => { json(res, 200, { token: jwt([{ type: "repository", name: "team/app", actions: ["delete"] }]) }); });
    expect((await checker().check(subject({ key: registry.host }, ["team/app"]), 4_000)).verdict).toBe("Writable");
    tokenRegistry((res) => { json(res, 200, { token: jwt([{ type: "repository", name: "team/other", actions: ["push"] }]) }); });
    expect((await checker().check(subject({ key: registry.host }, ["team/app"]), 4_000)).verdict).toBe("ReadOnly");
  });

  it("the token service refusing the credentials (401) means they cannot push; a 500 is Unknown", async () => {
    tokenRegistry((res) => { res.writeHead(401).end(); });
    expect(await checker().check(subject({ key: registry.host }), 4_000)).toMatchObject({ verdict: "ReadOnly", method: "token-scope" });
    tokenRegistry((res) => { res.writeHead(500).end(PASSWORD); });
    const check = await checker().check(subject({ key: registry.host }), 4_000);
    expect(check).toMatchObject({ verdict: "Unknown", method: "token-scope" });
    expect(check.message).toContain("HTTP 500");
    tokenRegistry((res) => { json(res, 200, { nothing: true }); });
    expect((await checker().check(subject({ key: registry.host }), 4_000)).message).toContain("holds no token");
  });

  it("an opaque token falls back to the upload probe, sent with that token", async () => {
    const opaque = "opaque-token-value-123456";
    tokenRegistry((res) => { json(res, 200, { token: opaque }); }, (res) => { res.writeHead(202, { location: "/v2/ci/regcred-probe/blobs/uploads/o" }).end(); });
    const check = await checker().check(subject({ key: registry.host }), 4_000);
    expect(check).toMatchObject({ verdict: "Writable", method: "token-scope+upload", repository: "ci/regcred-probe" });
    expect(registry.seen.find((s) => s.method === "POST")?.authorization).toBe(`Bearer ${opaque}`);
    expect(registry.seen.find((s) => s.method === "DELETE")?.authorization).toBe(`Bearer ${opaque}`);
    expect(check.message).not.toContain(opaque);
    tokenRegistry((res) => { json(res, 200, { token: opaque }); }, (res) => { res.writeHead(403).end(); });
    expect(await checker().check(subject({ key: registry.host }), 4_000)).toMatchObject({ verdict: "ReadOnly", method: "token-scope+upload" });
  });

  it("an identity token is exchanged with the OAuth2 refresh-token grant; a registry token is read as it is", async () => {
    tokenRegistry((res) => { json(res, 200, { access_token: jwt([{ type: "repository", name: "team/app", actions: ["pull"] }]) }); });
    const check = await checker().check(subject({ key: registry.host, username: undefined, password: undefined, identityToken: IDENTITY_TOKEN }, ["team/app"]), 4_000);
    expect(check.verdict).toBe("ReadOnly");
    expect(tokens.seen[0]?.method).toBe("POST");
    const form = new URLSearchParams(tokens.seen[0]?.body);
    expect(form.get("grant_type")).toBe("refresh_token");
    expect(form.get("refresh_token")).toBe(IDENTITY_TOKEN);
    expect(form.get("scope")).toBe("repository:team/app:pull,push");
    expect(form.get("service")).toBe("fake-registry");
    tokens.seen.length = 0;
    const registryToken = jwt([{ type: "repository", name: "team/app", actions: ["pull", "push"] }]);
    const direct = await checker().check(subject({ key: registry.host, username: undefined, password: undefined, registryToken }, ["team/app"]), 4_000);
    expect(direct).toMatchObject({ verdict: "Writable", method: "token-scope" });
    expect(tokens.seen).toEqual([]);
    expectClean(lines.join(""));
  });

  it("never sends credentials to a token service on plain HTTP that is not allowed", async () => {
    registry.handler = (_req, res) => { res.writeHead(401, { "www-authenticate": `Bearer realm="http://${plain.host}/token",service="s"` }).end(); };
    const check = await checker({ plainHttpRegistries: [] }).check(subject({ key: registry.host }), 4_000);
    expect(check).toMatchObject({ verdict: "Unknown", method: "token-scope" });
    expect(check.message).toContain("not served over HTTPS");
    expect(plain.seen).toEqual([]);
  });
});

describe("transport: TLS, plain HTTP, time budgets", () => {
  it("a registry whose certificate the CAs do not trust is Unknown, pointing at --registry-ca-file", async () => {
    basicRegistry(bad, (res) => { res.writeHead(202).end(); });
    const check = await checker().check(subject({ key: bad.host }), 4_000);
    expect(check).toMatchObject({ verdict: "Unknown", method: "none", registry: bad.host });
    expect(check.message).toContain("TLS failed");
    expect(check.message).toContain("--registry-ca-file");
    expect(bad.seen).toEqual([]);
  });

  it("plain HTTP only for a registry on the allow-list", async () => {
    basicRegistry(plain, (res) => { res.writeHead(401).end(); });
    const allowed = await checker({ plainHttpRegistries: [plain.host] }).check(subject({ key: plain.host }), 4_000);
    expect(allowed).toMatchObject({ verdict: "ReadOnly", method: "upload" });
    plain.seen.length = 0;
    const refused = await checker({ plainHttpRegistries: [] }).check(subject({ key: `http://${plain.host}` }), 4_000);
    expect(refused.verdict).toBe("Unknown");
    expect(refused.message).toMatch(/TLS failed|closed before an answer/);
    expect(plain.seen).toEqual([]);
  });

  it("a registry that does not answer is Unknown within the budget", async () => {
    registry.handler = () => { /* never answers */ };
    const started = Date.now();
    const check = await checker().check(subject({ key: registry.host }), 600);
    expect(Date.now() - started).toBeLessThan(900);
    expect(check).toMatchObject({ verdict: "Unknown", registry: registry.host });
    expect(check.message).toMatch(/no answer within|did not answer within/);
  });

  it("a registry that is down is Unknown: connection refused", async () => {
    const check = await checker().check(subject({ key: "127.0.0.1:1" }), 2_000);
    expect(check).toMatchObject({ verdict: "Unknown", method: "none", registry: "127.0.0.1:1" });
    expect(check.message).toContain("refused");
  });

  it("a wildcard key cannot be probed", async () => {
    const check = await checker().check(subject({ key: "*.example.com" }), 2_000);
    expect(check).toMatchObject({ verdict: "Unknown" });
    expect(check.message).toContain("wildcard");
  });

  it("a GET /v2/ that answers neither 200 nor 401 is Unknown", async () => {
    registry.handler = (_req, res) => { res.writeHead(502).end(); };
    const check = await checker().check(subject({ key: registry.host }), 2_000);
    expect(check).toMatchObject({ verdict: "Unknown", method: "none" });
    expect(check.message).toContain("GET /v2/ answered HTTP 502");
  });
});

describe("the checker: declarations, cache, retries, settings", () => {
  it("read-write declared is Writable without a probe; read-only declared is still probed", async () => {
    basicRegistry(registry, (res) => { res.writeHead(202, { location: "/v2/x/blobs/uploads/1" }).end(); });
    const declared = await checker().check(subject({ key: registry.host }, [], { "regcred.dev/access": "read-write" }), 4_000);
    expect(declared).toMatchObject({ verdict: "Writable", method: "declared" });
    expect(registry.seen).toEqual([]);
    const probed = await checker().check(subject({ key: registry.host }, [], { "regcred.dev/access": "read-only" }), 4_000);
    expect(probed).toMatchObject({ verdict: "Writable", method: "upload" });
  });

  it("DeclaredOnly probes nothing", async () => {
    const settings = loadSettings([], { REGCRED_VERIFICATION_MODE: "DeclaredOnly" });
    expect(createAccessChecker(settings, log)).toBe(declaredOnlyChecker);
    const check = await checker({ mode: "DeclaredOnly" }).check(subject({ key: registry.host }), 4_000);
    expect(check.verdict).toBe("Unknown");
    expect(registry.seen).toEqual([]);
  });

  it("caches per source version, credential and registry, with a TTL", async () => {
    basicRegistry(registry, (res) => { res.writeHead(401).end(); });
    let now = 1_000_000;
    const c = checker({ now: () => now, definiteTtlMs: 60_000 });
    const s = subject({ key: registry.host });
    await c.check(s, 4_000);
    const requests = registry.seen.length;
    await c.check(s, 4_000);
    expect(registry.seen.length).toBe(requests);
    // The same resourceVersion with other credentials (an UPDATE under admission): probed again.
    const firstCredential = s.credentials[0];
    if (!firstCredential) throw new Error("no credential");
    await c.check({ ...s, credentials: [{ ...firstCredential, password: `${PASSWORD}-rotated` }] }, 4_000);
    expect(registry.seen.length).toBe(requests * 2);
    // Another resourceVersion, and other repositories: probed again.
    await c.check({ ...s, resourceVersion: "8" }, 4_000);
    await c.check({ ...s, repositories: ["team/app"] }, 4_000);
    expect(registry.seen.length).toBe(requests * 4);
    // The TTL ran out.
    now += 61_000;
    await c.check(s, 4_000);
    expect(registry.seen.length).toBe(requests * 5);
  });

  it("a long budget retries an Unknown answer and does not take a short budget's Unknown from the cache", async () => {
    let calls = 0;
    basicRegistry(registry, (res) => { calls += 1; res.writeHead(calls === 1 ? 503 : 401).end(); });
    const c = checker();
    const s = subject({ key: registry.host });
    expect((await c.check(s, 2_000)).verdict).toBe("Unknown");
    expect((await c.check(s, 2_000)).verdict).toBe("Unknown"); // cached
    expect(calls).toBe(1);
    const long = await c.check(s, 12_000);
    expect(long.verdict).toBe("ReadOnly");
    expect(calls).toBe(2);
    calls = 0;
    basicRegistry(registry, (res) => { calls += 1; res.writeHead(calls === 1 ? 429 : 401).end(); });
    const started = Date.now();
    const retried = await checker().check(subject({ key: registry.host }), 12_000);
    expect(retried.verdict).toBe("ReadOnly");
    expect(calls).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it("probes every registry of a source and combines: any Writable wins, else all must be ReadOnly", async () => {
    basicRegistry(registry, (res) => { res.writeHead(401).end(); });
    basicRegistry(plain, (res) => { res.writeHead(202, { location: "/v2/x/blobs/uploads/1" }).end(); });
    const s: AccessSubject = { ...subject({ key: registry.host }), credentials: [{ key: registry.host, username: "ci", password: PASSWORD }, { key: plain.host, username: "ci", password: PASSWORD }] };
    expect(await checker().check(s, 4_000)).toMatchObject({ verdict: "Writable", registry: plain.host });
    const down: AccessSubject = { ...s, name: "other", credentials: [{ key: registry.host, username: "ci", password: PASSWORD }, { key: "127.0.0.1:1", username: "ci", password: PASSWORD }] };
    expect(await checker().check(down, 2_000)).toMatchObject({ verdict: "Unknown", registry: "127.0.0.1:1" });
  });

  it("reads --registry-ca-file, and names the file when it is not a CA bundle", async () => {
    const dir = mkdtempSync(join(tmpdir(), "regcred-ca-"));
    writeFileSync(join(dir, "ca.crt"), ca.cert);
    writeFileSync(join(dir, "bad.crt"), `not a certificate ${PASSWORD}`);
    const good = createAccessChecker(loadSettings([], { REGCRED_REGISTRY_CA_FILE: join(dir, "ca.crt") }), log);
    basicRegistry(registry, (res) => { res.writeHead(401).end(); });
    expect((await good.check(subject({ key: registry.host }), 4_000)).verdict).toBe("ReadOnly");
    expect(() => createAccessChecker(loadSettings([], { REGCRED_REGISTRY_CA_FILE: join(dir, "bad.crt") }), log)).toThrow(/bad\.crt holds no PEM certificate/);
    expect(() => createAccessChecker(loadSettings([], { REGCRED_REGISTRY_CA_FILE: join(dir, "missing.crt") }), log)).toThrow(/missing\.crt cannot be read \(ENOENT\)/);
    try {
      createAccessChecker(loadSettings([], { REGCRED_REGISTRY_CA_FILE: join(dir, "bad.crt") }), log);
    } catch (err) {
      expect((err as Error).message).not.toContain(PASSWORD);
    }
  });

  it("no credential or token ever reached a log line", () => {
    const text = lines.join("");
    expect(text).toContain("write-access probe");
    expectClean(text);
    expect(text).not.toContain("opaque-token-value");
    expect(text).not.toContain("_state=");
  });
});
