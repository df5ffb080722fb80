import { describe, it, expect } from "vitest";
import {
  parseDockerCfg,
  parseDockerConfigJson,
  parseSourceSecret,
  selectRegistries,
} from "../../../src/registry/dockerConfig.js";
import type { CredentialsResult } from "../../../src/registry/dockerConfig.js";

// Made-up credentials, distinctive enough that a leak into any message is easy to spot.
const USER = "robot$ci-reader";
const PASSWORD = "Pa55-w0rd-ZQX-7781";
const IDENTITY_TOKEN = "idtok-ZQX-4452-secret";
const REGISTRY_TOKEN = "regtok-ZQX-9911-secret";
const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");
const AUTH = b64(`${USER}:${PASSWORD}`);

function configJson(auths: unknown): string {
  return JSON.stringify({ auths });
}

function failure(result: CredentialsResult): { reason: string; message: string } {
  if (result.ok) throw new Error("expected a failure, got credentials");
  return { reason: result.reason, message: result.message };
}

describe("parseDockerConfigJson: valid documents", () => {
  // Rule source: kubelet credentialprovider config.go DockerConfigJSON / DockerConfigEntry
  // (auth decoded to username:password) and docker's config file format.
  it("reads auth into username and password, keeping the key as written", () => {
    const result = parseDockerConfigJson(configJson({ "https://index.docker.io/v1/": { auth: AUTH, email: "ci@example.com" } }));
    expect(result).toEqual({
      ok: true,
      format: "dockerconfigjson",
      credentials: [{ key: "https://index.docker.io/v1/", username: USER, password: PASSWORD, email: "ci@example.com" }],
    });
  });

  it("reads username and password fields", () => {
    const result = parseDockerConfigJson(configJson({ "harbor.example.com": { username: USER, password: PASSWORD } }));
    expect(result).toEqual({
      ok: true,
      format: "dockerconfigjson",
      credentials: [{ key: "harbor.example.com", username: USER, password: PASSWORD }],
    });
  });

  it("lets auth win over username and password, as docker does", () => {
    const result = parseDockerConfigJson(
      configJson({ "harbor.example.com": { auth: AUTH, username: "other-user", password: "other-password" } }),
    );
    expect(result.ok && result.credentials[0]).toEqual({ key: "harbor.example.com", username: USER, password: PASSWORD });
  });

  it("keeps a password containing colons whole", () => {
    const result = parseDockerConfigJson(configJson({ "r.example.com": { auth: b64("u:p:a:ss") } }));
    expect(result.ok && result.credentials[0]).toEqual({ key: "r.example.com", username: "u", password: "p:a:ss" });
  });

  it("accepts an identity token alone, or with an auth that has no password", () => {
    const alone = parseDockerConfigJson(configJson({ "r.example.com": { identitytoken: IDENTITY_TOKEN } }));
    expect(alone.ok && alone.credentials[0]).toEqual({ key: "r.example.com", identityToken: IDENTITY_TOKEN });
    const withAuth = parseDockerConfigJson(configJson({ "r.example.com": { auth: b64(`${USER}:`), identitytoken: IDENTITY_TOKEN } }));
    expect(withAuth.ok && withAuth.credentials[0]).toEqual({ key: "r.example.com", username: USER, identityToken: IDENTITY_TOKEN });
  });

  it("accepts a registry token", () => {
    const result = parseDockerConfigJson(configJson({ "r.example.com": { registrytoken: REGISTRY_TOKEN } }));
    expect(result.ok && result.credentials[0]).toEqual({ key: "r.example.com", registryToken: REGISTRY_TOKEN });
  });

  it("keeps every registry in document order and ignores other top-level fields", () => {
    const result = parseDockerConfigJson(
      JSON.stringify({
        auths: { "b.example.com": { auth: AUTH }, "a.example.com": { username: USER, password: PASSWORD } },
        credsStore: "desktop",
        HttpHeaders: { "User-Agent": "x" },
      }),
    );
    expect(result.ok && result.credentials.map((c) => c.key)).toEqual(["b.example.com", "a.example.com"]);
  });

  it("treats empty strings and nulls as absent fields", () => {
    const result = parseDockerConfigJson(
      configJson({ "r.example.com": { auth: "", username: USER, password: PASSWORD, email: "", identitytoken: null } }),
    );
    expect(result.ok && result.credentials[0]).toEqual({ key: "r.example.com", username: USER, password: PASSWORD });
  });

  it("accepts auth split over lines, as Go's decoder does", () => {
    const wrapped = `${AUTH.slice(0, 8)}\n${AUTH.slice(8)}`;
    const result = parseDockerConfigJson(configJson({ "r.example.com": { auth: wrapped } }));
    expect(result.ok && result.credentials[0]?.password).toBe(PASSWORD);
  });
});

describe("parseDockerConfigJson: malformed documents", () => {
  // Rule source: SPEC "Rejecting writable credentials" denial list (not JSON, no auths, bad base64
  // in auth, no username/password/identity token); kubelet config.go decodeDockerConfigFieldAuth.
  const cases: [string, string, RegExp][] = [
    ["not JSON", `{"auths": {"r.example.com": {"auth": "${AUTH}"`, /not valid JSON/],
    ["empty text", "", /not valid JSON/],
    ["JSON array", "[]", /not a JSON object/],
    ["JSON string", '"auths"', /not a JSON object/],
    ["JSON null", "null", /not a JSON object/],
    ["no auths", JSON.stringify({ "r.example.com": { auth: AUTH } }), /no "auths" object/],
    ["auths not an object", JSON.stringify({ auths: [AUTH] }), /no "auths" object/],
    ["auths null", JSON.stringify({ auths: null }), /no "auths" object/],
    ["auths empty", configJson({}), /lists no registries/],
    ["entry not an object", configJson({ "r.example.com": AUTH }), /entry for registry "r\.example\.com" is not an object/],
    ["empty registry key", configJson({ "": { auth: AUTH } }), /empty registry key/],
    ["auth not a string", configJson({ "r.example.com": { auth: 42 } }), /"auth" that is not a string/],
    ["password not a string", configJson({ "r.example.com": { username: USER, password: 1234 } }), /"password" that is not a string/],
    ["auth with bad characters", configJson({ "r.example.com": { auth: `${AUTH}!` } }), /"auth" that is not valid base64/],
    ["auth with a bad length", configJson({ "r.example.com": { auth: AUTH.slice(0, -1) } }), /not valid base64/],
    ["auth unpadded", configJson({ "r.example.com": { auth: b64("u:p1").replace(/=+$/, "") } }), /not valid base64/],
    ["auth url-safe alphabet", configJson({ "r.example.com": { auth: b64("u:p??>").replace(/\+/g, "-").replace(/\//g, "_") } }), /not valid base64/],
    ["auth not UTF-8", configJson({ "r.example.com": { auth: Buffer.from([0xff, 0x3a, 0xfe]).toString("base64") } }), /not valid base64/],
    ["auth without colon", configJson({ "r.example.com": { auth: b64(`${USER}${PASSWORD}`) } }), /does not decode to "username:password"/],
    ["auth with empty username", configJson({ "r.example.com": { auth: b64(`:${PASSWORD}`) } }), /does not decode to "username:password"/],
    ["auth with no password and no token", configJson({ "r.example.com": { auth: b64(`${USER}:`) } }), /no usable credentials/],
    ["username without password", configJson({ "r.example.com": { username: USER } }), /no usable credentials/],
    ["password without username", configJson({ "r.example.com": { password: PASSWORD } }), /no usable credentials/],
    ["email only", configJson({ "r.example.com": { email: "ci@example.com" } }), /no usable credentials/],
    ["empty entry", configJson({ "r.example.com": {} }), /no usable credentials/],
    [
      "one bad entry among good ones",
      configJson({ "good.example.com": { auth: AUTH }, "bad.example.com": { username: USER } }),
      /registry "bad\.example\.com" has no usable credentials/,
    ],
  ];
  it.each(cases)("%s", (_name, json, message) => {
    const { reason, message: actual } = failure(parseDockerConfigJson(json));
    expect(reason).toBe("SourceMalformed");
    expect(actual).toMatch(message);
  });

  it("says what to do in each message", () => {
    for (const [, json] of cases) {
      expect(failure(parseDockerConfigJson(json)).message).toMatch(/; (write|add|set|check|name|quote|the config|give|store)/);
    }
  });
});

describe("parseDockerCfg", () => {
  // Rule source: kubelet credentialprovider config.go DockerConfig (legacy ~/.dockercfg: a map of
  // registry key to entry, no "auths" wrapper).
  it("reads a legacy document", () => {
    const result = parseDockerCfg(JSON.stringify({ "https://index.docker.io/v1/": { auth: AUTH, email: "ci@example.com" } }));
    expect(result).toEqual({
      ok: true,
      format: "dockercfg",
      credentials: [{ key: "https://index.docker.io/v1/", username: USER, password: PASSWORD, email: "ci@example.com" }],
    });
  });

  it.each([
    ["not JSON", "{", /\.dockercfg is not valid JSON/],
    ["array", "[1]", /\.dockercfg is not a JSON object/],
    ["empty", "{}", /\.dockercfg lists no registries/],
    ["a .dockerconfigjson document", configJson({ "r.example.com": { auth: AUTH } }), /\.dockerconfigjson format/],
    ["bad auth", JSON.stringify({ "r.example.com": { auth: "%%%%" } }), /"auth" that is not valid base64/],
    ["no credentials", JSON.stringify({ "r.example.com": { email: "x@y.z" } }), /no usable credentials/],
  ])("rejects %s", (_name, json, message) => {
    const { reason, message: actual } = failure(parseDockerCfg(json));
    expect(reason).toBe("SourceMalformed");
    expect(actual).toMatch(message);
  });
});

describe("parseSourceSecret", () => {
  // Rule source: Kubernetes secret types kubernetes.io/dockerconfigjson (.dockerconfigjson) and
  // kubernetes.io/dockercfg (.dockercfg); data values are base64 in the API.
  const goodJson = configJson({ "harbor.example.com": { auth: AUTH } });

  it("reads a kubernetes.io/dockerconfigjson secret", () => {
    const result = parseSourceSecret({ type: "kubernetes.io/dockerconfigjson", data: { ".dockerconfigjson": b64(goodJson) } });
    expect(result).toEqual({
      ok: true,
      format: "dockerconfigjson",
      credentials: [{ key: "harbor.example.com", username: USER, password: PASSWORD }],
    });
  });

  it("reads a kubernetes.io/dockercfg secret", () => {
    const cfg = JSON.stringify({ "harbor.example.com": { username: USER, password: PASSWORD } });
    const result = parseSourceSecret({ type: "kubernetes.io/dockercfg", data: { ".dockercfg": b64(cfg) } });
    expect(result.ok && result.format).toBe("dockercfg");
  });

  it.each([
    ["Opaque", { type: "Opaque", data: { ".dockerconfigjson": b64(goodJson) } }, /type "Opaque"/],
    ["no type", { data: { ".dockerconfigjson": b64(goodJson) } }, /no type/],
    ["basic-auth", { type: "kubernetes.io/basic-auth", data: {} }, /kubernetes\.io\/basic-auth/],
    ["type case differs", { type: "Kubernetes.io/DockerConfigJson", data: {} }, /must be in a secret of type kubernetes\.io\/dockerconfigjson/],
  ])("rejects a wrong secret type: %s", (_name, secret, message) => {
    const { reason, message: actual } = failure(parseSourceSecret(secret));
    expect(reason).toBe("WrongSecretType");
    expect(actual).toMatch(message);
  });

  it.each([
    ["no data", { type: "kubernetes.io/dockerconfigjson" }, /no data key \.dockerconfigjson \(it has no data\)/],
    ["wrong data key", { type: "kubernetes.io/dockerconfigjson", data: { ".dockercfg": b64(goodJson) } }, /no data key \.dockerconfigjson \(it has "\.dockercfg"\)/],
    ["dockercfg key missing", { type: "kubernetes.io/dockercfg", data: {} }, /no data key \.dockercfg/],
    ["data not base64", { type: "kubernetes.io/dockerconfigjson", data: { ".dockerconfigjson": goodJson } }, /not valid base64/],
    ["data not UTF-8", { type: "kubernetes.io/dockerconfigjson", data: { ".dockerconfigjson": Buffer.from([0xc3, 0x28]).toString("base64") } }, /UTF-8/],
    ["data not JSON", { type: "kubernetes.io/dockerconfigjson", data: { ".dockerconfigjson": b64("auths: {}") } }, /not valid JSON/],
    ["data empty", { type: "kubernetes.io/dockerconfigjson", data: { ".dockerconfigjson": "" } }, /not valid JSON/],
    ["no auths", { type: "kubernetes.io/dockerconfigjson", data: { ".dockerconfigjson": b64("{}") } }, /no "auths" object/],
  ])("rejects a malformed source: %s", (_name, secret, message) => {
    const { reason, message: actual } = failure(parseSourceSecret(secret));
    expect(reason).toBe("SourceMalformed");
    expect(actual).toMatch(message);
  });
});

describe("error messages never contain credential values", () => {
  // Rule source: SPEC "Serving": no credential, token or secret data ever reaches a log, an Event,
  // a warning or an error message.
  const secrets = [USER, PASSWORD, IDENTITY_TOKEN, REGISTRY_TOKEN, AUTH, b64(`${USER}${PASSWORD}`), b64(`:${PASSWORD}`)];
  const inputs: CredentialsResult[] = [
    // Broken JSON right after the secrets, so a parser message that quotes its input would leak them.
    parseDockerConfigJson(`{"auths":{"r.example.com":{"auth":"${AUTH}","password":"${PASSWORD}","identitytoken":"${IDENTITY_TOKEN}" oops`),
    parseDockerConfigJson(`{"auths":{"r.example.com":{"registrytoken":"${REGISTRY_TOKEN}"}}}}`),
    parseDockerConfigJson(PASSWORD),
    parseDockerConfigJson(JSON.stringify({ "r.example.com": { auth: AUTH, password: PASSWORD } })),
    parseDockerConfigJson(configJson({ "r.example.com": { auth: `${AUTH}#`, password: PASSWORD, identitytoken: 5 } })),
    parseDockerConfigJson(configJson({ "r.example.com": { auth: b64(`${USER}${PASSWORD}`) } })),
    parseDockerConfigJson(configJson({ "r.example.com": { auth: b64(`:${PASSWORD}`) } })),
    parseDockerConfigJson(configJson({ "r.example.com": { username: USER, email: PASSWORD } })),
    parseDockerConfigJson(configJson({ "r.example.com": { password: PASSWORD, identitytoken: 7 } })),
    parseDockerConfigJson(configJson({ "r.example.com": { username: USER, password: PASSWORD, registrytoken: [REGISTRY_TOKEN] } })),
    parseDockerConfigJson(configJson({ "r.example.com": PASSWORD })),
    parseDockerConfigJson(configJson({ [`https://${USER}:${PASSWORD}@r.example.com`]: { username: USER } })),
    parseDockerCfg(`{"r.example.com":{"auth":"${AUTH}","password":"${PASSWORD}"`),
    parseDockerCfg(JSON.stringify({ "r.example.com": { auth: "!!!!", password: PASSWORD, identitytoken: IDENTITY_TOKEN.length } })),
    parseSourceSecret({ type: "Opaque", data: { ".dockerconfigjson": b64(configJson({ "r.example.com": { auth: AUTH } })) } }),
    parseSourceSecret({ type: "kubernetes.io/dockerconfigjson", data: { ".dockerconfigjson": `${PASSWORD}{}` } }),
    parseSourceSecret({ type: "kubernetes.io/dockerconfigjson", data: { ".dockerconfigjson": b64(`{"auths":{"x":{"auth":"${AUTH}"`) } }),
    parseSourceSecret({ type: "kubernetes.io/dockercfg", data: { ".dockerconfigjson": b64(`{"x":{"auth":"${AUTH}"}}`) } }),
  ];

  it.each(inputs.map((result, i) => ({ i, result })))("input $i", ({ result }) => {
    const { message } = failure(result);
    for (const secret of secrets) expect(message).not.toContain(secret);
    // And no fragment long enough to matter either.
    for (const secret of secrets) expect(message).not.toContain(secret.slice(0, 8));
  });
});

describe("selectRegistries", () => {
  // Rule source: SPEC PullSecretExport spec.registries (only these registry keys of the source are
  // distributed; default all); keys compared like the kubelet's normalized keyring keys.
  const doc = {
    auths: {
      "https://index.docker.io/v1/": { auth: AUTH },
      "harbor.example.com": { auth: AUTH, email: "ci@example.com" },
      "quay.io/team-a": { username: USER, password: PASSWORD },
    },
    HttpHeaders: { "X-Meta-Token": "header-secret" },
  };
  const json = JSON.stringify(doc, null, 2);

  it("keeps everything, re-serialised, for an empty list", () => {
    const out = selectRegistries(json, "dockerconfigjson", []);
    expect(JSON.parse(out)).toEqual(doc);
    expect(out).toBe(JSON.stringify(doc));
  });

  it("keeps only the listed registries, matched after normalization", () => {
    const out = selectRegistries(json, "dockerconfigjson", ["docker.io", "Harbor.Example.com/"]);
    expect(JSON.parse(out)).toEqual({
      auths: {
        "https://index.docker.io/v1/": { auth: AUTH },
        "harbor.example.com": { auth: AUTH, email: "ci@example.com" },
      },
    });
    const parsed = parseDockerConfigJson(out);
    expect(parsed.ok && parsed.credentials.map((c) => c.key)).toEqual(["https://index.docker.io/v1/", "harbor.example.com"]);
  });

  it("matches a path key only by the same path", () => {
    expect(JSON.parse(selectRegistries(json, "dockerconfigjson", ["quay.io"]))).toEqual({ auths: {} });
    expect(Object.keys((JSON.parse(selectRegistries(json, "dockerconfigjson", ["quay.io/team-a/"])) as typeof doc).auths)).toEqual([
      "quay.io/team-a",
    ]);
  });

  it("narrows a legacy document without adding an auths wrapper", () => {
    const cfg = JSON.stringify({ "https://index.docker.io/v1/": { auth: AUTH }, "harbor.example.com": { auth: AUTH } });
    expect(JSON.parse(selectRegistries(cfg, "dockercfg", ["index.docker.io"]))).toEqual({
      "https://index.docker.io/v1/": { auth: AUTH },
    });
    expect(selectRegistries(cfg, "dockercfg", [])).toBe(cfg);
  });

  it("throws, without quoting the input, when the document cannot be read", () => {
    expect(() => selectRegistries(`{"auths": "${PASSWORD}"`, "dockerconfigjson", ["x"])).toThrow(/not valid JSON/);
    expect(() => selectRegistries(JSON.stringify({ auths: PASSWORD }), "dockerconfigjson", ["x"])).toThrow(/no "auths" object/);
    try {
      selectRegistries(`{"auths": "${PASSWORD}"`, "dockerconfigjson", ["x"]);
    } catch (error) {
      expect((error as Error).message).not.toContain(PASSWORD);
    }
  });
});
