import { describe, it, expect } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { dumpYaml, loadYaml } from "@kubernetes/client-node";
import type { V1CustomResourceDefinition, V1CustomResourceDefinitionVersion } from "@kubernetes/client-node";
import { load } from "js-yaml";
import { EXPORT_KIND, EXPORT_PLURAL, GROUP, VERSION } from "../../src/api/names.js";
import type {
  AccessStatus, AccessVerdict, Condition, ConditionStatus, OnRevoke, Provisioning, PullSecretExportSpec,
  PullSecretExportStatus,
} from "../../src/api/types.js";

const CRD_PATH = join(import.meta.dirname, "../../charts/regcred/crds/pullsecretexports.regcred.dev.yaml");
const text = readFileSync(CRD_PATH, "utf8");

/** The CRD as @kubernetes/client-node's typed model (what the controller would get from the API). */
const crd = loadYaml<V1CustomResourceDefinition>(text);

/**
 * A JSON schema node as written in the file (wire names: `default`, `enum`, `x-kubernetes-*`).
 * The schema is walked in this form rather than through the typed model, because the model renames
 * keys on typed nodes (`_default`, `x_kubernetes_validations`) but leaves `items` and
 * `additionalProperties` untyped, so the same keyword would have two names depending on depth.
 */
interface WireSchema {
  type?: string;
  description?: string;
  format?: string;
  pattern?: string;
  maxLength?: number;
  enum?: unknown[];
  default?: unknown;
  required?: string[];
  properties?: Record<string, WireSchema>;
  items?: WireSchema;
  additionalProperties?: WireSchema | boolean;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-list-type"?: string;
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-map-type"?: string;
  "x-kubernetes-validations"?: { rule: string; message?: string }[];
  [keyword: string]: unknown;
}

interface WireCRD {
  spec: { versions: { schema: { openAPIV3Schema: WireSchema } }[] };
}

const wire = load(text) as WireCRD;

function onlyVersion(): V1CustomResourceDefinitionVersion {
  expect(crd.spec.versions).toHaveLength(1);
  const v = crd.spec.versions[0];
  if (!v) throw new Error("the CRD has no version");
  return v;
}

function rootSchema(): WireSchema {
  const v = wire.spec.versions[0];
  if (!v) throw new Error("the CRD has no version");
  return v.schema.openAPIV3Schema;
}

/** The node at a dotted path of property names (`""` is the root); `[]` steps into array items. */
function at(path: string): WireSchema {
  let node = rootSchema();
  if (path === "") return node;
  for (const step of path.split(".")) {
    const next = step === "[]" ? node.items : node.properties?.[step];
    if (!next) throw new Error(`no schema node at ${path} (missing ${step})`);
    node = next;
  }
  return node;
}

interface Visited { path: string; node: WireSchema; isProperty: boolean }

/** Every schema node below (and including) `node`: properties, array items and additionalProperties. */
function walk(node: WireSchema, path = "", isProperty = false): Visited[] {
  const out: Visited[] = [{ path: path || "<root>", node, isProperty }];
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    out.push(...walk(child, path ? `${path}.${name}` : name, true));
  }
  if (node.items) out.push(...walk(node.items, `${path}[]`));
  if (typeof node.additionalProperties === "object") out.push(...walk(node.additionalProperties, `${path}{}`));
  return out;
}

/** The property names of a TypeScript interface, checked complete and exact by the compiler. */
function keysOf<T>(keys: Record<keyof T, true>): string[] {
  return Object.keys(keys).sort();
}

/** The members of a string union type, checked complete and exact by the compiler. */
function membersOf<U extends string>(members: Record<U, true>): string[] {
  return Object.keys(members).sort();
}

/** An enum's values, sorted, to compare with membersOf. */
function enumOf(path: string): string[] {
  return (at(path).enum ?? []).map(String).sort();
}

function propertyNames(path: string): string[] {
  return Object.keys(at(path).properties ?? {}).sort();
}

function matches(pattern: string | undefined, value: string): boolean {
  if (pattern === undefined) throw new Error("no pattern");
  return new RegExp(pattern).test(value);
}

describe("PullSecretExport CRD", () => {
  it("holds only fields the apiextensions.k8s.io/v1 API knows (nothing is lost by the typed model)", () => {
    // dumpYaml serializes through the client's model of CustomResourceDefinition, which drops keys
    // it does not know: a misspelt field (say `x-kubernetes-list-map-key`) would show up here.
    expect(load(dumpYaml(crd))).toEqual(load(text));
    expect(crd.apiVersion).toBe("apiextensions.k8s.io/v1");
    expect(crd.kind).toBe("CustomResourceDefinition");
  });

  it("has the names, group and scope of the contract", () => {
    expect(crd.metadata?.name).toBe(`${EXPORT_PLURAL}.${GROUP}`);
    expect(crd.metadata?.name).toBe("pullsecretexports.regcred.dev");
    expect(crd.metadata?.labels).toEqual({ "app.kubernetes.io/name": "regcred" });
    expect(crd.spec.group).toBe(GROUP);
    expect(crd.spec.scope).toBe("Namespaced");
    expect(crd.spec.names).toEqual({
      kind: EXPORT_KIND,
      listKind: `${EXPORT_KIND}List`,
      plural: EXPORT_PLURAL,
      singular: "pullsecretexport",
      shortNames: ["pse"],
      categories: ["regcred"],
    });
  });

  it("is not templated (Helm does not render crds/)", () => {
    expect(text).not.toContain("{{");
  });

  it("serves and stores v1alpha1 with a status subresource", () => {
    const v = onlyVersion();
    expect(v.name).toBe(VERSION);
    expect(v.served).toBe(true);
    expect(v.storage).toBe(true);
    expect(v.deprecated).toBeUndefined();
    expect(v.subresources).toEqual({ status: {} });
  });

  it("prints Ready, Access, Copies and Age", () => {
    const columns = (onlyVersion().additionalPrinterColumns ?? []).map((c) => ({
      name: c.name, type: c.type, jsonPath: c.jsonPath,
    }));
    expect(columns).toEqual([
      { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
      { name: "Access", type: "string", jsonPath: ".status.access.verdict" },
      { name: "Copies", type: "integer", jsonPath: ".status.copies" },
      { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
    ]);
  });

  it("describes every field, for kubectl explain", () => {
    // metadata is the exception: the API server accepts nothing but `type: object` there, and
    // kubectl explain shows the standard ObjectMeta documentation for it.
    expect(at("metadata")).toEqual({ type: "object" });
    const undocumented = walk(rootSchema())
      .filter(({ path }) => path !== "metadata")
      .filter(({ node }) => typeof node.description !== "string" || node.description.trim().length < 10)
      .map(({ path }) => path);
    expect(undocumented).toEqual([]);
  });

  it("is a structural schema", () => {
    const problems: string[] = [];
    for (const { path, node } of walk(rootSchema())) {
      if (!node.type) problems.push(`${path}: no type`);
      for (const keyword of ["allOf", "anyOf", "oneOf", "not", "$ref", "definitions", "nullable"]) {
        if (keyword in node) problems.push(`${path}: uses ${keyword}`);
      }
      if (node["x-kubernetes-preserve-unknown-fields"]) problems.push(`${path}: preserves unknown fields`);
      if (node.type === "array" && !node.items) problems.push(`${path}: array without items`);
      if (node.type === "object" && path !== "metadata") {
        if (!node.properties && typeof node.additionalProperties !== "object") {
          problems.push(`${path}: object without properties or additionalProperties`);
        }
        if (node.properties && node.additionalProperties !== undefined) {
          problems.push(`${path}: both properties and additionalProperties`);
        }
      }
      for (const req of node.required ?? []) {
        if (!node.properties?.[req]) problems.push(`${path}: requires unknown property ${req}`);
      }
    }
    expect(problems).toEqual([]);
    expect(rootSchema().type).toBe("object");
  });

  it("has the fields of the TypeScript API types, no more and no less", () => {
    expect(propertyNames("")).toEqual(["apiVersion", "kind", "metadata", "spec", "status"]);
    expect(propertyNames("spec")).toEqual(keysOf<PullSecretExportSpec>({
      toNamespaces: true, namespaceSelector: true, registries: true, provisioning: true, onRevoke: true,
      verification: true,
    }));
    expect(propertyNames("spec.verification")).toEqual(["repositories"]);
    expect(propertyNames("status")).toEqual(keysOf<PullSecretExportStatus>({
      observedGeneration: true, sourceResourceVersion: true, registries: true, access: true, copies: true,
      conditions: true,
    }));
    expect(propertyNames("status.access")).toEqual(keysOf<AccessStatus>({
      verdict: true, method: true, checkedAt: true, message: true,
    }));
    expect(propertyNames("status.conditions.[]")).toEqual(keysOf<Condition>({
      type: true, status: true, reason: true, message: true, lastTransitionTime: true, observedGeneration: true,
    }));
  });

  it("defaults provisioning to OnDemand and allows OnDemand or Eager", () => {
    const p = at("spec.provisioning");
    expect(p.type).toBe("string");
    expect(enumOf("spec.provisioning")).toEqual(membersOf<Provisioning>({ OnDemand: true, Eager: true }));
    expect(p.default).toBe("OnDemand");
    expect(p.description).toMatch(/Default: OnDemand/);
    expect(p.description).toMatch(/Allowed values: OnDemand, Eager/);
  });

  it("defaults onRevoke to Delete and allows Delete or Orphan", () => {
    const r = at("spec.onRevoke");
    expect(r.type).toBe("string");
    expect(enumOf("spec.onRevoke")).toEqual(membersOf<OnRevoke>({ Delete: true, Orphan: true }));
    expect(r.default).toBe("Delete");
    expect(r.description).toMatch(/Default: Delete/);
    expect(r.description).toMatch(/Allowed values: Delete, Orphan/);
  });

  it("puts no default on toNamespaces (the code applies [\"*\"] only with a namespaceSelector)", () => {
    const t = at("spec.toNamespaces");
    expect(t.type).toBe("array");
    expect(t).not.toHaveProperty("default");
    expect(t.items).not.toHaveProperty("default");
    expect(t.description).toContain('["*"] when namespaceSelector is set');
    // Defaults anywhere else would be applied by the API server behind the code's back.
    const defaulted = walk(rootSchema()).filter(({ node }) => "default" in node).map(({ path }) => path);
    expect(defaulted).toEqual(["spec.provisioning", "spec.onRevoke"]);
  });

  it("accepts namespace names and \"*\" in toNamespaces, once each", () => {
    const item = at("spec.toNamespaces.[]");
    expect(item.type).toBe("string");
    expect(item.maxLength).toBe(63);
    for (const ok of ["*", "team-a", "a", "ns1", "0abc"]) expect(matches(item.pattern, ok), ok).toBe(true);
    for (const bad of ["", "Team-A", "team_a", "-a", "a-", "a.b", "team-*", "**", " a"]) {
      expect(matches(item.pattern, bad), bad).toBe(false);
    }
    const rules = (at("spec.toNamespaces")["x-kubernetes-validations"] ?? []).map((v) => v.rule);
    expect(rules).toContain("self.all(x, self.exists_one(y, y == x))");
    expect(rules).toContain('!("*" in self) || self.size() == 1');
  });

  it("has the metav1.LabelSelector shape for namespaceSelector", () => {
    const s = at("spec.namespaceSelector");
    expect(s.type).toBe("object");
    expect(s["x-kubernetes-map-type"]).toBe("atomic");
    expect(propertyNames("spec.namespaceSelector")).toEqual(["matchExpressions", "matchLabels"]);
    const labels = at("spec.namespaceSelector.matchLabels");
    expect(labels.type).toBe("object");
    expect(labels.additionalProperties).toMatchObject({ type: "string" });
    const req = at("spec.namespaceSelector.matchExpressions.[]");
    expect(req.type).toBe("object");
    expect(req.required).toEqual(["key", "operator"]);
    expect(propertyNames("spec.namespaceSelector.matchExpressions.[]")).toEqual(["key", "operator", "values"]);
    expect(enumOf("spec.namespaceSelector.matchExpressions.[].operator")).toEqual(["DoesNotExist", "Exists", "In", "NotIn"]);
    expect(at("spec.namespaceSelector.matchExpressions.[].values.[]").type).toBe("string");
    const key = at("spec.namespaceSelector.matchExpressions.[].key");
    for (const ok of ["env", "regcred.dev/inject", "kubernetes.io/metadata.name", "a_b.c-d"]) {
      expect(matches(key.pattern, ok), ok).toBe(true);
    }
    for (const bad of ["", "/env", "Example.com/x", "env/", "-env"]) expect(matches(key.pattern, bad), bad).toBe(false);
  });

  it("has string lists for registries and verification.repositories", () => {
    expect(at("spec.registries").type).toBe("array");
    expect(at("spec.registries.[]").type).toBe("string");
    expect(at("spec.verification").type).toBe("object");
    const repo = at("spec.verification.repositories.[]");
    expect(repo.type).toBe("string");
    for (const ok of ["team-a/app", "library/nginx", "a", "my.org/sub_dir/app"]) {
      expect(matches(repo.pattern, ok), ok).toBe(true);
    }
    for (const bad of ["", "Team/App", "/app", "app/", "a//b", "harbor.example.com:5000/app"]) {
      expect(matches(repo.pattern, bad), bad).toBe(false);
    }
  });

  it("types the status fields", () => {
    expect(at("status.observedGeneration")).toMatchObject({ type: "integer", format: "int64" });
    expect(at("status.sourceResourceVersion").type).toBe("string");
    expect(at("status.registries")).toMatchObject({ type: "array", items: { type: "string" } });
    expect(at("status.copies").type).toBe("integer");
    expect(at("status.access").required).toEqual(["verdict", "method", "checkedAt"]);
    expect(enumOf("status.access.verdict")).toEqual(membersOf<AccessVerdict>({ ReadOnly: true, Writable: true, Unknown: true }));
    expect(at("status.access.checkedAt")).toMatchObject({ type: "string", format: "date-time" });
    expect(at("status.access.method").type).toBe("string");
    expect(at("status.access.message").type).toBe("string");
  });

  it("has a standard metav1.Condition list keyed by type", () => {
    const conditions = at("status.conditions");
    expect(conditions.type).toBe("array");
    expect(conditions["x-kubernetes-list-type"]).toBe("map");
    expect(conditions["x-kubernetes-list-map-keys"]).toEqual(["type"]);
    const item = at("status.conditions.[]");
    expect(item.type).toBe("object");
    expect([...(item.required ?? [])].sort()).toEqual(["lastTransitionTime", "message", "reason", "status", "type"]);
    // Quoted in the YAML: a bare True would be a boolean, which a string enum cannot hold.
    expect(at("status.conditions.[].status").enum).toEqual(["True", "False", "Unknown"]);
    expect(enumOf("status.conditions.[].status")).toEqual(membersOf<ConditionStatus>({ True: true, False: true, Unknown: true }));
    expect(at("status.conditions.[].lastTransitionTime")).toMatchObject({ type: "string", format: "date-time" });
    expect(at("status.conditions.[].observedGeneration")).toMatchObject({ type: "integer", format: "int64" });
    const type = at("status.conditions.[].type");
    for (const ok of ["Ready", "CredentialsValid", "ReadOnlyVerified"]) expect(matches(type.pattern, ok), ok).toBe(true);
    const reason = at("status.conditions.[].reason");
    for (const ok of ["SourceNotFound", "Writable", "ProbeFailed"]) expect(matches(reason.pattern, ok), ok).toBe(true);
    expect(matches(reason.pattern, "not a reason")).toBe(false);
  });

  it("uses CEL rules that each carry a message", () => {
    const rules = walk(rootSchema()).flatMap(({ path, node }) =>
      (node["x-kubernetes-validations"] ?? []).map((v) => ({ path, ...v })));
    expect(rules.length).toBeGreaterThan(0);
    for (const r of rules) {
      expect(r.rule.trim(), r.path).not.toBe("");
      expect(r.message?.trim(), r.path).toBeTruthy();
    }
  });
});
