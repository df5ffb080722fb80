import { describe, it, expect } from "vitest";
import type { V1Secret } from "@kubernetes/client-node";
import { checkExportSpec, checkSourceSecret, unknownRegistries } from "../../src/admission/exports.js";
import type { PullSecretExportSpec } from "../../src/api/types.js";
import { b64, exportObject, sourceSecret } from "./fixtures.js";

const ALLOWED = ["regcred-system", "registry-creds"];
const check = (namespace: string, spec: PullSecretExportSpec | undefined): string | undefined => {
  const exp = exportObject(namespace, "harbor-ro", {});
  if (spec === undefined) delete exp.spec;
  else exp.spec = spec;
  return checkExportSpec(exp, ALLOWED);
};

describe("checkExportSpec: exports to every namespace", () => {
  it.each(ALLOWED)("\"*\" from %s is allowed", (namespace) => {
    expect(check(namespace, { toNamespaces: ["*"] })).toBeUndefined();
    expect(check(namespace, { namespaceSelector: { matchLabels: { env: "prod" } } })).toBeUndefined();
  });

  it("\"*\" from another namespace is denied, naming the allowed namespaces and what to do", () => {
    const message = check("team-a", { toNamespaces: ["team-b", "*"] });
    expect(message).toMatch(/^regcred: /);
    expect(message).toContain("regcred-system, registry-creds");
    expect(message).toContain("exports.allowedSourceNamespaces");
    expect(message).toContain("spec.toNamespaces");
  });

  it("a namespaceSelector without toNamespaces counts as \"*\"", () => {
    expect(check("team-a", { namespaceSelector: { matchLabels: { env: "prod" } } })).toContain("regcred-system, registry-creds");
  });

  it("a namespaceSelector with named toNamespaces is fine from anywhere", () => {
    expect(check("team-a", { toNamespaces: ["team-b"], namespaceSelector: { matchLabels: { env: "prod" } } })).toBeUndefined();
  });

  it("named namespaces, or no spec at all, are fine from anywhere", () => {
    expect(check("team-a", { toNamespaces: ["team-b", "team-c"] })).toBeUndefined();
    expect(check("team-a", {})).toBeUndefined();
    expect(check("team-a", undefined)).toBeUndefined();
  });
});

describe("checkExportSpec: namespace names", () => {
  it.each(["Team-A", "team_a", "team.a", "-team", "team-", "", "a".repeat(64), "t*"])("%j is not a namespace name", (target) => {
    const message = check("registry-creds", { toNamespaces: ["ok", target] });
    expect(message).toMatch(/^regcred: spec\.toNamespaces entry/);
    expect(message).toContain("is not a namespace name");
  });

  it("a 63-character name is fine", () => {
    expect(check("registry-creds", { toNamespaces: ["a".repeat(63), "b1", "0-x"] })).toBeUndefined();
  });

  it("quotes at most 80 characters of a bad entry", () => {
    const message = check("registry-creds", { toNamespaces: ["X".repeat(1000)] }) ?? "";
    expect(message).toContain("X".repeat(80));
    expect(message).not.toContain("X".repeat(81));
  });
});

describe("checkSourceSecret", () => {
  it("a wrong type", () => {
    const secret: V1Secret = { type: "Opaque", data: { ".dockerconfigjson": b64("{}") } };
    expect(checkSourceSecret(secret)).toMatchObject({ ok: false, reason: "WrongSecretType" });
  });

  it("malformed data, without repeating it", () => {
    const secret: V1Secret = { type: "kubernetes.io/dockerconfigjson", data: { ".dockerconfigjson": b64('{"auths":{"r.example.com":{"auth":"not base64 TOPSECRET"}}}') } };
    const verdict = checkSourceSecret(secret);
    expect(verdict).toMatchObject({ ok: false, reason: "SourceMalformed" });
    expect(JSON.stringify(verdict)).not.toContain("TOPSECRET");
  });

  it("valid data gives the credentials", () => {
    const verdict = checkSourceSecret(sourceSecret("registry-creds", "harbor-ro", { "harbor.example.com": { user: "robot", password: "pw" } }));
    expect(verdict).toEqual({ ok: true, credentials: [{ key: "harbor.example.com", username: "robot", password: "pw" }] });
  });
});

describe("unknownRegistries", () => {
  const creds = [{ key: "https://index.docker.io/v1/" }, { key: "harbor.example.com" }];

  it("lists spec.registries the source does not hold, comparing normalized keys", () => {
    const exp = exportObject("registry-creds", "x", { registries: ["docker.io", "HARBOR.example.com", "quay.io"] });
    expect(unknownRegistries(exp, creds)).toEqual(["quay.io"]);
  });

  it("is empty without spec.registries", () => {
    expect(unknownRegistries(exportObject("registry-creds", "x", {}), creds)).toEqual([]);
  });
});
