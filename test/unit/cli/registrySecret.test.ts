import { describe, expect, it } from "vitest";
import { UsageError } from "../../../src/cli/args.js";
import { apiFailure, formatFailure, mask } from "../../../src/cli/apiError.js";
import { dockerConfigJson, registryKeyFor, registrySecret, secretForms, validateLogin } from "../../../src/cli/registrySecret.js";
import { parseSourceSecret } from "../../../src/registry/dockerConfig.js";
import { ApiException } from "@kubernetes/client-node";

describe("registryKeyFor", () => {
  it.each([
    ["harbor.example.com", "harbor.example.com"],
    ["https://Harbor.Example.com/", "harbor.example.com"],
    ["http://registry.local:5000", "registry.local:5000"],
    ["registry.example.com:443/team-a/", "registry.example.com:443/team-a"],
    ["https://quay.io/v2/org", "quay.io/org"],
    ["docker.io", "https://index.docker.io/v1/"],
    ["https://index.docker.io/v1/", "https://index.docker.io/v1/"],
    ["registry-1.docker.io", "https://index.docker.io/v1/"],
    ["127.0.0.1:5000", "127.0.0.1:5000"],
    ["[::1]:5000", "[::1]:5000"],
    ["localhost:5000", "localhost:5000"],
  ])("%s → %s", (server, key) => {
    expect(registryKeyFor(server)).toBe(key);
  });
  it.each([
    ["", "is empty"],
    ["ftp://r.example.com", "the scheme must be https://"],
    ["r example.com", "it contains spaces"],
    ["https://user:pw@r.example.com", "must not contain a user name or password"],
    ["r.example.com?x=1", "query or fragment"],
    ["r_x.example.com", "the host must be a DNS name"],
    ["r.example.com:0", "port"],
    ["r.example.com:70000", "is not valid"],
    ["r.example.com/Team", "is not a repository name"],
    ["-r.example.com", "the host must be a DNS name"],
  ])("refuses %j", (server, message) => {
    expect(() => registryKeyFor(server)).toThrow(UsageError);
    expect(() => registryKeyFor(server)).toThrow(message);
  });
  it("never puts a password found in the URL into its message", () => {
    expect(() => registryKeyFor("https://u:s3cretpw@r.example.com")).toThrow(/must not contain/);
  });
});

describe("the secret", () => {
  const login = { server: "https://harbor.example.com", username: "robot$team+ci", password: "p:w/d" };
  it("is what kubectl create secret docker-registry makes, and what regcred's webhook accepts", () => {
    const secret = registrySecret({ namespace: "registry-creds", name: "harbor-ro", login, declareReadOnly: true });
    expect(secret.type).toBe("kubernetes.io/dockerconfigjson");
    expect(secret.metadata).toEqual({ name: "harbor-ro", namespace: "registry-creds", annotations: { "regcred.dev/access": "read-only" } });
    const parsed = parseSourceSecret({ type: secret.type, data: secret.data });
    expect(parsed).toMatchObject({ ok: true, credentials: [{ key: "harbor.example.com", username: "robot$team+ci", password: "p:w/d" }] });
    const doc = JSON.parse(dockerConfigJson(login)) as { auths: Record<string, { auth: string }> };
    expect(Buffer.from(doc.auths["harbor.example.com"]?.auth ?? "", "base64").toString()).toBe("robot$team+ci:p:w/d");
  });
  it("has no annotation unless read-only is declared", () => {
    expect(registrySecret({ namespace: "n", name: "x", login }).metadata?.annotations).toBeUndefined();
  });
  it.each([
    [{ username: "" }, "username is empty"],
    [{ username: "a:b" }, "must not contain \":\""],
    [{ password: "" }, "password is empty"],
    [{ password: "two\nlines" }, "must be one line"],
  ])("refuses %j", (change, message) => {
    expect(() => { validateLogin({ ...login, ...change }); }).toThrow(message);
  });
  it("knows every form of the credentials to mask", () => {
    const forms = secretForms(login);
    expect(forms).toContain("p:w/d");
    expect(forms).toContain(Buffer.from("robot$team+ci:p:w/d").toString("base64"));
  });
});

describe("API errors", () => {
  it("are shown as the API server gave them, as kubectl does", () => {
    const err = new ApiException(403, "message with headers", JSON.stringify({ kind: "Status", reason: "Forbidden", message: 'secrets is forbidden: User "bob" cannot create resource "secrets"' }), {});
    const f = apiFailure(err);
    expect(f).toEqual({ code: 403, reason: "Forbidden", message: 'secrets is forbidden: User "bob" cannot create resource "secrets"' });
    expect(formatFailure(f)).toBe('Error from server (Forbidden): secrets is forbidden: User "bob" cannot create resource "secrets"');
  });
  it("mask any credential a message could hold", () => {
    const pw = "hunter2-pass";
    const err = new ApiException(422, "", { reason: "Invalid", message: `bad value ${pw} and ${Buffer.from(pw).toString("base64")}` }, {});
    expect(apiFailure(err, [pw]).message).toBe("bad value *** and ***");
    expect(mask("abc", ["abc"])).toBe("abc");
  });
  it("say when the API server cannot be reached", () => {
    const err = Object.assign(new Error("request to https://x failed"), { cause: { code: "ECONNREFUSED" } });
    expect(formatFailure(apiFailure(err))).toBe("error: cannot reach the API server: the connection was refused");
  });
});
