import { describe, it, expect } from "vitest";
import type { V1Secret } from "@kubernetes/client-node";
import { admissible, joinExport } from "../../src/cluster/exportIndex.js";
import { copyName, dataHash } from "../../src/copies/naming.js";
import { b64, exportObject, sourceSecret, unb64 } from "./fixtures.js";

const ENTRIES = {
  "https://index.docker.io/v1/": { user: "hub-bot", password: "hub-PW-1" },
  "harbor.example.com": { user: "robot$ro", password: "harbor-PW-2" },
  "quay.io": { user: "quay+ro", password: "quay-PW-3" },
};
const source = sourceSecret("registry-creds", "harbor-ro", ENTRIES, { resourceVersion: "812" });

function copyAuths(data: Record<string, string> | undefined): Record<string, unknown> {
  const doc = JSON.parse(unb64(data?.[".dockerconfigjson"] ?? "")) as { auths: Record<string, unknown> };
  return doc.auths;
}

describe("joinExport", () => {
  it("without spec.registries: every key, and the source's data byte for byte", () => {
    const joined = joinExport(exportObject("registry-creds", "harbor-ro", { toNamespaces: ["*"] }), source);
    const d = joined.distributable;
    if (!d) throw new Error("expected a distributable export");
    expect(d.registryKeys).toEqual(Object.keys(ENTRIES));
    expect(d.template.data).toEqual(source.data);
    expect(d.template).toMatchObject({
      exportNamespace: "registry-creds", exportName: "harbor-ro", name: copyName("registry-creds", "harbor-ro"),
      type: "kubernetes.io/dockerconfigjson", sourceResourceVersion: "812", onRevoke: "Delete",
    });
    expect(d.template.dataHash).toBe(dataHash(source.data ?? {}));
    expect(d.spec.toNamespaces).toEqual(["*"]);
  });

  it("with spec.registries: the copy holds only the listed registries (docker.io selects the index.docker.io key)", () => {
    const joined = joinExport(exportObject("registry-creds", "harbor-ro", { toNamespaces: ["*"], registries: ["docker.io", "HARBOR.example.com"], onRevoke: "Orphan" }), source);
    const d = joined.distributable;
    if (!d) throw new Error("expected a distributable export");
    expect(d.registryKeys).toEqual(["https://index.docker.io/v1/", "harbor.example.com"]);
    const auths = copyAuths(d.template.data);
    expect(Object.keys(auths)).toEqual(["https://index.docker.io/v1/", "harbor.example.com"]);
    expect(auths["harbor.example.com"]).toEqual({ auth: b64("robot$ro:harbor-PW-2") });
    expect(unb64(d.template.data[".dockerconfigjson"] ?? "")).not.toContain("quay-PW-3");
    expect(Object.keys(d.template.data)).toEqual([".dockerconfigjson"]);
    expect(d.template.onRevoke).toBe("Orphan");
    expect(d.template.dataHash).toBe(dataHash(d.template.data));
  });

  it("keeps credentials and registries of the source in the joined value", () => {
    const joined = joinExport(exportObject("registry-creds", "harbor-ro", { registries: ["quay.io"] }), source);
    expect(joined.credentials?.ok).toBe(true);
    expect(joined.distributable?.registryKeys).toEqual(["quay.io"]);
    expect(Object.keys(copyAuths(joined.distributable?.template.data))).toEqual(["quay.io"]);
  });

  it("the legacy .dockercfg format is filtered the same way", () => {
    const cfg = { "harbor.example.com": { auth: b64("a:b") }, "quay.io": { auth: b64("c:d") } };
    const legacy: V1Secret = { type: "kubernetes.io/dockercfg", metadata: { name: "old", namespace: "registry-creds", resourceVersion: "3" }, data: { ".dockercfg": b64(JSON.stringify(cfg)) } };
    const d = joinExport(exportObject("registry-creds", "old", { registries: ["quay.io"] }), legacy).distributable;
    expect(d?.template.type).toBe("kubernetes.io/dockercfg");
    expect(JSON.parse(unb64(d?.template.data[".dockercfg"] ?? ""))).toEqual({ "quay.io": { auth: b64("c:d") } });
  });

  it("a missing source: nothing to distribute", () => {
    const joined = joinExport(exportObject("registry-creds", "harbor-ro", {}), undefined);
    expect(joined).toMatchObject({ source: undefined, credentials: undefined, distributable: undefined });
  });

  it("a malformed source: the reason, nothing to distribute", () => {
    const bad: V1Secret = { type: "kubernetes.io/dockerconfigjson", metadata: { name: "harbor-ro", namespace: "registry-creds" }, data: { ".dockerconfigjson": b64("{not json") } };
    const joined = joinExport(exportObject("registry-creds", "harbor-ro", {}), bad);
    expect(joined.credentials).toMatchObject({ ok: false, reason: "SourceMalformed" });
    expect(joined.distributable).toBeUndefined();
  });

  it("a source of the wrong type: the reason, nothing to distribute", () => {
    const opaque: V1Secret = { ...source, type: "Opaque" };
    const joined = joinExport(exportObject("registry-creds", "harbor-ro", {}), opaque);
    expect(joined.credentials).toMatchObject({ ok: false, reason: "WrongSecretType" });
    expect(joined.distributable).toBeUndefined();
  });
});

describe("admissible", () => {
  it("only an export marked Ready with a valid source", () => {
    const exp = exportObject("registry-creds", "harbor-ro", { toNamespaces: ["*"] });
    expect(admissible(joinExport(exp, source))).toBeUndefined();
    exp.status = { conditions: [{ type: "Ready", status: "True", reason: "Distributing", message: "", lastTransitionTime: "t" }] };
    expect(admissible(joinExport(exp, source))?.name).toBe("harbor-ro");
    expect(admissible(joinExport(exp, undefined))).toBeUndefined();
    exp.status = { conditions: [{ type: "Ready", status: "False", reason: "Writable", message: "", lastTransitionTime: "t" }] };
    expect(admissible(joinExport(exp, source))).toBeUndefined();
  });
});
