/**
 * What the caches keep of copies and namespaces: every field regcred reads of them, none of the
 * credentials, and plain objects whether the object came from a list (the client library's model
 * instances) or a watch (parsed JSON).
 */
import { describe, expect, it } from "vitest";
import { V1Namespace, V1ObjectMeta, V1Secret } from "@kubernetes/client-node";
import { decideNamespace } from "../../src/admission/namespaces.js";
import { copyDataHash, copyIsCurrent, copySecret, copySourceKey, copyTemplate, isRegcredCopy } from "../../src/copies/desired.js";
import { slimCopy, slimNamespace, withoutManagedFields } from "../../src/cluster/slim.js";
import { namespaceInfo } from "../../src/cluster/state.js";

const template = copyTemplate("registry-creds", "harbor-ro", "kubernetes.io/dockerconfigjson", { ".dockerconfigjson": "eyJhdXRocyI6e319" }, "4711", "Delete");

function storedCopy(): V1Secret {
  const copy = copySecret(template, "team-a");
  return {
    ...copy,
    metadata: {
      ...copy.metadata, uid: "3c1e", resourceVersion: "812", creationTimestamp: new Date("2026-12-01T00:00:00Z"),
      managedFields: [{ manager: "regcred", operation: "Update", apiVersion: "v1", fieldsType: "FieldsV1", fieldsV1: { "f:data": {} } }],
    },
  };
}

interface Model { getAttributeTypeMap(): { name: string }[] }

/** `obj` as the library's deserializer builds it: an instance of its model with every attribute set, to undefined if absent. */
function modelOf<T extends object>(Model: Model & (new () => object), obj: T): T {
  const instance = new Model() as Record<string, unknown>;
  for (const { name } of Model.getAttributeTypeMap()) instance[name] = (obj as Record<string, unknown>)[name];
  return instance as T;
}

/** The same object as a list hands it over: model instances, its metadata too. */
function asListed<T extends { metadata?: V1ObjectMeta }>(obj: T, Model: Model & (new () => object)): T {
  const listed = modelOf(Model, obj);
  listed.metadata = modelOf(V1ObjectMeta, obj.metadata ?? {});
  return listed;
}

describe("slimCopy", () => {
  for (const [origin, copy] of [["a watch", storedCopy()], ["a list", asListed(storedCopy(), V1Secret)]] as const) {
    it(`keeps what regcred reads of a copy from ${origin}, and not its data`, () => {
      const slim = slimCopy(copy);
      expect(slim.data).toBeUndefined();
      expect(JSON.stringify(slim)).not.toContain("eyJhdXRocyI6e319");
      expect(slim.type).toBe("kubernetes.io/dockerconfigjson");
      expect(slim.metadata).toMatchObject({ name: template.name, namespace: "team-a", uid: "3c1e", resourceVersion: "812" });
      expect(slim.metadata?.managedFields).toBeUndefined();
      expect(isRegcredCopy(slim)).toBe(true);
      expect(copyIsCurrent(slim, template)).toBe(true);
      expect(copyDataHash(slim)).toBe(template.dataHash);
      expect(copySourceKey(slim)).toBe("registry-creds/harbor-ro");
    });
  }

  it("leaves no unset fields behind (a listed model instance has one for every field of the schema)", () => {
    const slim = slimCopy(asListed(storedCopy(), V1Secret));
    expect(Object.values(slim).every((v) => v !== undefined)).toBe(true);
    expect(Object.values(slim.metadata ?? {}).every((v) => v !== undefined)).toBe(true);
    expect(Object.getPrototypeOf(slim)).toBe(Object.prototype);
  });

  it("keeps a deletion in progress and the finalizers", () => {
    const copy = storedCopy();
    copy.metadata = { ...copy.metadata, deletionTimestamp: new Date("2026-12-02T00:00:00Z"), finalizers: ["example.com/hold"] };
    expect(slimCopy(copy).metadata).toMatchObject({ deletionTimestamp: copy.metadata.deletionTimestamp, finalizers: ["example.com/hold"] });
  });
});

describe("slimNamespace", () => {
  const ns: V1Namespace = {
    apiVersion: "v1", kind: "Namespace",
    metadata: {
      name: "team-a", uid: "9f2", resourceVersion: "77", labels: { "kubernetes.io/metadata.name": "team-a" },
      annotations: { "regcred.dev/inject": "true", "regcred.dev/exports": "registry-creds/harbor-ro" },
      managedFields: [{ manager: "kubectl", operation: "Update" }],
    },
    spec: { finalizers: ["kubernetes"] },
    status: { phase: "Active" },
  };

  it("keeps the name, labels and annotations the decisions read, and the resourceVersion the backfill patch tests", () => {
    for (const from of [ns, asListed(ns, V1Namespace)]) {
      const slim = slimNamespace(from);
      expect(slim.spec).toBeUndefined();
      expect(slim.metadata?.managedFields).toBeUndefined();
      expect(namespaceInfo(slim)).toEqual(namespaceInfo(ns));
      expect(slim.metadata?.resourceVersion).toBe("77");
      // The label backfill decides on the slim namespace exactly as on the whole one.
      expect(decideNamespace(slim, undefined)).toEqual(decideNamespace(ns, undefined));
    }
  });
});

describe("withoutManagedFields", () => {
  it("drops managedFields and keeps everything else, data included (sources need theirs)", () => {
    const source = withoutManagedFields(storedCopy());
    expect(source.metadata?.managedFields).toBeUndefined();
    expect(source.data).toEqual(template.data);
  });
});
