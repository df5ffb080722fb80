import { describe, it, expect } from "vitest";
import type { V1Namespace } from "@kubernetes/client-node";
import { decideNamespace } from "../../src/admission/namespaces.js";
import { applied } from "./fixtures.js";

function ns(annotations?: Record<string, string>, labels?: Record<string, string>): V1Namespace {
  const n: V1Namespace = { apiVersion: "v1", kind: "Namespace", metadata: { name: "team-a" } };
  if (n.metadata && annotations) n.metadata.annotations = annotations;
  if (n.metadata && labels) n.metadata.labels = labels;
  return n;
}

function after(next: V1Namespace, old?: V1Namespace): V1Namespace {
  return applied(next, decideNamespace(next, old).patch);
}

describe("decideNamespace: the annotation is mirrored into the label", () => {
  it.each(["true", "false"])("annotation %s, no labels at all: the labels map is created", (value) => {
    const result = after(ns({ "regcred.dev/inject": value }));
    expect(result.metadata?.labels).toEqual({ "regcred.dev/inject": value });
    expect(result.metadata?.annotations).toEqual({ "regcred.dev/inject": value });
  });

  it("annotation true, other labels present: added beside them, through an escaped pointer", () => {
    const next = ns({ "regcred.dev/inject": "true" }, { "kubernetes.io/metadata.name": "team-a", env: "prod" });
    const decision = decideNamespace(next, undefined);
    expect(decision.patch).toEqual([{ op: "add", path: "/metadata/labels/regcred.dev~1inject", value: "true" }]);
    expect(after(next).metadata?.labels).toEqual({ "kubernetes.io/metadata.name": "team-a", env: "prod", "regcred.dev/inject": "true" });
  });

  it("annotation changed from true to false: the label follows", () => {
    const old = ns({ "regcred.dev/inject": "true" }, { "regcred.dev/inject": "true" });
    const next = ns({ "regcred.dev/inject": "false" }, { "regcred.dev/inject": "true" });
    expect(after(next, old).metadata?.labels).toEqual({ "regcred.dev/inject": "false" });
  });

  it("label already equal: no patch, no warning", () => {
    const next = ns({ "regcred.dev/inject": "true" }, { "regcred.dev/inject": "true", env: "prod" });
    expect(decideNamespace(next, undefined)).toEqual({ patch: [], warnings: [] });
  });
});

describe("decideNamespace: removing the annotation", () => {
  it("removes the label it had put there, keeping the others", () => {
    const old = ns({ "regcred.dev/inject": "true" }, { "regcred.dev/inject": "true", env: "prod" });
    const next = ns({}, { "regcred.dev/inject": "true", env: "prod" });
    const result = after(next, old);
    expect(result.metadata?.labels).toEqual({ env: "prod" });
  });

  it("has nothing to do when the label went too", () => {
    const old = ns({ "regcred.dev/inject": "true" }, { "regcred.dev/inject": "true" });
    expect(decideNamespace(ns({}, {}), old)).toEqual({ patch: [], warnings: [] });
  });

  it("works when the namespace has no annotations map any more", () => {
    const old = ns({ "regcred.dev/inject": "false" }, { "regcred.dev/inject": "false" });
    const next = ns(undefined, { "regcred.dev/inject": "false" });
    expect(after(next, old).metadata?.labels).toEqual({});
  });
});

describe("decideNamespace: a label set directly", () => {
  it("is left alone on CREATE when there is no annotation", () => {
    expect(decideNamespace(ns(undefined, { "regcred.dev/inject": "true" }), undefined)).toEqual({ patch: [], warnings: [] });
  });

  it("is left alone on UPDATE when there never was an annotation", () => {
    const old = ns({ other: "x" }, { "regcred.dev/inject": "true" });
    const next = ns({ other: "y" }, { "regcred.dev/inject": "true" });
    expect(decideNamespace(next, old)).toEqual({ patch: [], warnings: [] });
  });

  it("is left alone when it differs from the annotation that was removed", () => {
    const old = ns({ "regcred.dev/inject": "true" }, { "regcred.dev/inject": "false" });
    const next = ns({}, { "regcred.dev/inject": "false" });
    expect(decideNamespace(next, old).patch).toEqual([]);
  });
});

describe("decideNamespace: an annotation value other than true or false", () => {
  it.each(["yes", "True", "", "1"])("%j: a warning that says what to use, and no patch", (value) => {
    const decision = decideNamespace(ns({ "regcred.dev/inject": value }, { "regcred.dev/inject": "true" }), undefined);
    expect(decision.patch).toEqual([]);
    expect(decision.warnings).toHaveLength(1);
    expect(decision.warnings[0]).toMatch(/^regcred: /);
    expect(decision.warnings[0]).toContain(`"${value}"`);
    expect(decision.warnings[0]).toMatch(/"true" to opt in or "false" to opt out/);
  });

  it("quotes at most 40 characters of a long value", () => {
    const decision = decideNamespace(ns({ "regcred.dev/inject": "x".repeat(500) }), undefined);
    expect(decision.warnings[0]).toContain(`"${"x".repeat(40)}"`);
    expect(decision.warnings[0]?.length).toBeLessThan(200);
  });
});
