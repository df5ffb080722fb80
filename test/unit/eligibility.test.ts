import { describe, it, expect } from "vitest";
import {
  exportEligibleFor, exportTargetsNamespace, injectionPolicy, namespaceAcceptsExport, namespaceOptedIn,
} from "../../src/admission/eligibility.js";
import { resolveSpec } from "../../src/api/types.js";
import { namespace, optedIn } from "./fixtures.js";

const OPT_IN = injectionPolicy("optIn", "regcred", ["sandbox"]);
const ALL = injectionPolicy("allNamespaces", "regcred", []);

describe("injectionPolicy", () => {
  it("excludes the kube namespaces, regcred's own and the extras", () => {
    expect([...OPT_IN.excluded].sort()).toEqual(["kube-node-lease", "kube-public", "kube-system", "regcred", "sandbox"]);
    expect(OPT_IN.mode).toBe("optIn");
  });
});

describe("namespaceOptedIn", () => {
  it("optIn mode: only an annotation or label \"true\"", () => {
    expect(namespaceOptedIn(optedIn("a"), OPT_IN)).toBe(true);
    expect(namespaceOptedIn(namespace("a", {}, { "regcred.dev/inject": "true" }), OPT_IN)).toBe(true);
    expect(namespaceOptedIn(namespace("a"), OPT_IN)).toBe(false);
    expect(namespaceOptedIn(namespace("a", { "regcred.dev/inject": "yes" }), OPT_IN)).toBe(false);
  });

  it("allNamespaces mode: everything not saying \"false\"", () => {
    expect(namespaceOptedIn(namespace("a"), ALL)).toBe(true);
    expect(namespaceOptedIn(namespace("a", { "regcred.dev/inject": "false" }), ALL)).toBe(false);
    expect(namespaceOptedIn(namespace("a", {}, { "regcred.dev/inject": "false" }), ALL)).toBe(false);
  });

  it("the annotation is the owner's word and wins over the label", () => {
    expect(namespaceOptedIn(namespace("a", { "regcred.dev/inject": "false" }, { "regcred.dev/inject": "true" }), OPT_IN)).toBe(false);
    expect(namespaceOptedIn(namespace("a", { "regcred.dev/inject": "true" }, { "regcred.dev/inject": "false" }), OPT_IN)).toBe(true);
  });

  it.each(["kube-system", "kube-public", "kube-node-lease", "regcred", "sandbox"])("%s is never opted in", (name) => {
    expect(namespaceOptedIn(optedIn(name), OPT_IN)).toBe(false);
    expect(namespaceOptedIn(namespace(name), injectionPolicy("allNamespaces", "regcred", ["sandbox"]))).toBe(false);
  });
});

describe("namespaceAcceptsExport", () => {
  it("takes every export when the annotation is absent or blank", () => {
    expect(namespaceAcceptsExport(namespace("a"), "creds", "x")).toBe(true);
    expect(namespaceAcceptsExport(namespace("a", { "regcred.dev/exports": "  " }), "creds", "x")).toBe(true);
  });

  it("takes only the listed <namespace>/<name> entries, spaces around them ignored", () => {
    const ns = namespace("a", { "regcred.dev/exports": "registry-creds/harbor-ro, other/x" });
    expect(namespaceAcceptsExport(ns, "registry-creds", "harbor-ro")).toBe(true);
    expect(namespaceAcceptsExport(ns, "other", "x")).toBe(true);
    expect(namespaceAcceptsExport(ns, "other", "harbor-ro")).toBe(false);
    expect(namespaceAcceptsExport(ns, "registry-creds", "harbor")).toBe(false);
    expect(namespaceAcceptsExport(ns, "registry", "creds/harbor-ro")).toBe(false);
  });
});

describe("exportTargetsNamespace / exportEligibleFor", () => {
  it("names, \"*\", and nothing by default", () => {
    expect(exportTargetsNamespace(resolveSpec({ toNamespaces: ["a", "b"] }), namespace("b"))).toBe(true);
    expect(exportTargetsNamespace(resolveSpec({ toNamespaces: ["a", "b"] }), namespace("c"))).toBe(false);
    expect(exportTargetsNamespace(resolveSpec({ toNamespaces: ["*"] }), namespace("c"))).toBe(true);
    expect(exportTargetsNamespace(resolveSpec({}), namespace("c"))).toBe(false);
    expect(exportTargetsNamespace(resolveSpec(undefined), namespace("c"))).toBe(false);
  });

  it("a selector alone means \"*\" narrowed by the selector", () => {
    const spec = resolveSpec({ namespaceSelector: { matchLabels: { env: "prod" } } });
    expect(spec.toNamespaces).toEqual(["*"]);
    expect(exportTargetsNamespace(spec, namespace("x", {}, { env: "prod" }))).toBe(true);
    expect(exportTargetsNamespace(spec, namespace("x", {}, { env: "dev" }))).toBe(false);
  });

  it("needs both sides of consent and no exclusion", () => {
    const spec = resolveSpec({ toNamespaces: ["*"] });
    expect(exportEligibleFor(spec, "creds", "x", optedIn("a"), OPT_IN)).toBe(true);
    expect(exportEligibleFor(spec, "creds", "x", namespace("a"), OPT_IN)).toBe(false);
    expect(exportEligibleFor(spec, "creds", "x", optedIn("a", {}, { "regcred.dev/exports": "creds/y" }), OPT_IN)).toBe(false);
    expect(exportEligibleFor(resolveSpec({ toNamespaces: ["b"] }), "creds", "x", optedIn("a"), OPT_IN)).toBe(false);
    expect(exportEligibleFor(spec, "creds", "x", optedIn("sandbox"), OPT_IN)).toBe(false);
  });
});
