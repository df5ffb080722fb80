import { describe, it, expect } from "vitest";
import type { V1Secret } from "@kubernetes/client-node";
import { copyDataHash, copyIsCurrent, copySecret, copySourceKey, copyTemplate, isRegcredCopy } from "../../src/copies/desired.js";
import { copyName, dataHash, exportLabelValue } from "../../src/copies/naming.js";

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

describe("copyName", () => {
  it("is regcred.<export-namespace>.<export-name>", () => {
    expect(copyName("registry-creds", "harbor-ro")).toBe("regcred.registry-creds.harbor-ro");
  });

  it("keeps a name of exactly 253 characters", () => {
    const name = "n".repeat(253 - "regcred.ns.".length);
    expect(copyName("ns", name)).toBe(`regcred.ns.${name}`);
    expect(copyName("ns", name)).toHaveLength(253);
  });

  it("shortens longer names with a hash: at most 253 characters, a valid DNS subdomain", () => {
    const ns = "a".repeat(63);
    for (const name of ["b".repeat(253), `${"c".repeat(180)}.${"d".repeat(72)}`, `${"e".repeat(160)}.${"f".repeat(10)}.${"g".repeat(80)}`, "x".repeat(190)]) {
      const short = copyName(ns, name);
      expect(short.length).toBeLessThanOrEqual(253);
      expect(short).toMatch(DNS_SUBDOMAIN);
      expect(short.startsWith(`regcred.${ns}.`)).toBe(true);
      expect(short).toMatch(/-[0-9a-f]{16}$/);
    }
  });

  it("never cuts at a dot or hyphen before the hash", () => {
    // The cut falls right after the "." and "-" run, which must not be left dangling.
    const prefix = "regcred.ns.";
    const name = `${"a".repeat(236 - prefix.length - 2)}.-${"z".repeat(50)}`;
    const short = copyName("ns", name);
    expect(short).toMatch(DNS_SUBDOMAIN);
    expect(short).not.toMatch(/[.-]-[0-9a-f]{16}$/);
  });

  it("gives two long names with the same beginning different copies", () => {
    const common = "p".repeat(250);
    const one = copyName("registry-creds", `${common}-one`);
    const two = copyName("registry-creds", `${common}-two`);
    expect(one).not.toBe(two);
    expect(one).toHaveLength(two.length);
  });

  it("is stable", () => {
    const name = "q".repeat(300);
    expect(copyName("ns", name)).toBe(copyName("ns", name));
  });
});

describe("exportLabelValue", () => {
  it("is the name up to 63 characters", () => {
    expect(exportLabelValue("harbor-ro")).toBe("harbor-ro");
    expect(exportLabelValue("h".repeat(63))).toBe("h".repeat(63));
  });

  it("is a hash for longer names: a valid label value, different for different names", () => {
    const a = exportLabelValue(`${"h".repeat(64)}.a`);
    const b = exportLabelValue(`${"h".repeat(64)}.b`);
    expect(a).toMatch(/^[0-9a-f]{40}$/);
    expect(a).toMatch(LABEL_VALUE);
    expect(a).not.toBe(b);
  });
});

describe("dataHash", () => {
  it("does not depend on the order of the keys", () => {
    expect(dataHash({ a: "1", b: "2", c: "3" })).toBe(dataHash({ c: "3", a: "1", b: "2" }));
  });

  it("changes with any value or key, and keeps key/value boundaries apart", () => {
    const base = dataHash({ ".dockerconfigjson": "abc" });
    expect(dataHash({ ".dockerconfigjson": "abd" })).not.toBe(base);
    expect(dataHash({ ".dockercfg": "abc" })).not.toBe(base);
    expect(dataHash({ ab: "c" })).not.toBe(dataHash({ a: "bc" }));
    expect(dataHash({ a: "b", c: "" })).not.toBe(dataHash({ a: "b" }));
  });

  it("is sha256 hex", () => {
    expect(dataHash({ x: "y" })).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("copySecret", () => {
  const data = { ".dockerconfigjson": "eyJhdXRocyI6e319" };
  const template = copyTemplate("registry-creds", "harbor-ro", "kubernetes.io/dockerconfigjson", data, "4711", "Orphan");

  it("has the source's type and data, and only regcred's labels and annotations", () => {
    expect(copySecret(template, "team-a")).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      type: "kubernetes.io/dockerconfigjson",
      metadata: {
        name: "regcred.registry-creds.harbor-ro",
        namespace: "team-a",
        labels: {
          "app.kubernetes.io/managed-by": "regcred",
          "regcred.dev/export-namespace": "registry-creds",
          "regcred.dev/export": "harbor-ro",
        },
        annotations: {
          "regcred.dev/source": "registry-creds/harbor-ro",
          "regcred.dev/source-resource-version": "4711",
          "regcred.dev/data-hash": dataHash(data),
          "regcred.dev/on-revoke": "Orphan",
        },
      },
      data,
    });
  });

  it("does not share its data object with the template", () => {
    const secret = copySecret(template, "team-a");
    if (secret.data) secret.data[".dockerconfigjson"] = "changed";
    expect(template.data[".dockerconfigjson"]).toBe("eyJhdXRocyI6e319");
  });

  it("labels a long export name with its hash", () => {
    const long = "l".repeat(100);
    const secret = copySecret(copyTemplate("ns", long, "kubernetes.io/dockerconfigjson", data, "1", "Delete"), "team-a");
    expect(secret.metadata?.labels?.["regcred.dev/export"]).toBe(exportLabelValue(long));
    expect(secret.metadata?.annotations?.["regcred.dev/source"]).toBe(`ns/${long}`);
    expect((secret.metadata?.name ?? "").length).toBeLessThanOrEqual(253);
  });

  it("is recognised as regcred's, current for its template, and points at its source", () => {
    const secret = copySecret(template, "team-a");
    expect(isRegcredCopy(secret)).toBe(true);
    expect(copyIsCurrent(secret, template)).toBe(true);
    expect(copySourceKey(secret)).toBe("registry-creds/harbor-ro");
    expect(copyDataHash(secret)).toBe(template.dataHash);
  });

  it("is not current for new data, another type or another onRevoke", () => {
    const secret = copySecret(template, "team-a");
    expect(copyIsCurrent(secret, copyTemplate("registry-creds", "harbor-ro", "kubernetes.io/dockerconfigjson", { ".dockerconfigjson": "e30=" }, "4712", "Orphan"))).toBe(false);
    expect(copyIsCurrent(secret, copyTemplate("registry-creds", "harbor-ro", "kubernetes.io/dockercfg", data, "4711", "Orphan"))).toBe(false);
    expect(copyIsCurrent(secret, copyTemplate("registry-creds", "harbor-ro", "kubernetes.io/dockerconfigjson", data, "4711", "Delete"))).toBe(false);
  });
});

describe("isRegcredCopy", () => {
  const meta = (labels?: Record<string, string>, annotations?: Record<string, string>): V1Secret => ({
    metadata: { name: "x", ...(labels ? { labels } : {}), ...(annotations ? { annotations } : {}) },
  });

  it("needs both the managed-by label and the source annotation", () => {
    expect(isRegcredCopy(meta({ "app.kubernetes.io/managed-by": "regcred" }, { "regcred.dev/source": "a/b" }))).toBe(true);
    expect(isRegcredCopy(meta({ "app.kubernetes.io/managed-by": "regcred" }))).toBe(false);
    expect(isRegcredCopy(meta(undefined, { "regcred.dev/source": "a/b" }))).toBe(false);
    expect(isRegcredCopy(meta({ "app.kubernetes.io/managed-by": "helm" }, { "regcred.dev/source": "a/b" }))).toBe(false);
    expect(isRegcredCopy({})).toBe(false);
  });
});
