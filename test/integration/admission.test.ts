/**
 * Pod, namespace, export and secret admission through a real API server that calls regcred's
 * webhooks, with regcred running as its own ServiceAccount under the chart's RBAC.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { KubeConfig, V1Pod } from "@kubernetes/client-node";
import { Agent, fetch } from "undici";
import { ANNOTATION_INJECTED, LABEL_EXPORT, LABEL_EXPORT_NAMESPACE, LABEL_INJECT, LABEL_MANAGED_BY } from "../../src/api/names.js";
import { isReady } from "../../src/api/types.js";
import { copyName } from "../../src/copies/naming.js";
import {
  clientsFor, createExport, createNamespace, deniedMessage, dockerConfigJson, eventually, getExport, metricValue, pod, readSecret,
  sourceSecret, uniqueName, type Clients,
} from "../harness/fixtures.js";
import { adminKubeConfig, startTestRegcred, testCertificates, unregisterWebhooks, type TestRegcred } from "../harness/regcred.js";

const SOURCE_NS = "registry-creds";
const PASSWORD = "s3cret-Pa55word-never-logged";

let admin: KubeConfig;
let c: Clients;
let regcred: TestRegcred;

/**
 * A source secret + a Ready export to "*" in registry-creds, for a registry of its own (so exports
 * of other tests never match the same images).
 */
async function readyExport(spec: Parameters<typeof createExport>[3] = { toNamespaces: ["*"] }): Promise<{ name: string; registry: string }> {
  const name = uniqueName("creds");
  const registry = `${name}.example.com`;
  await c.core.createNamespacedSecret({ namespace: SOURCE_NS, body: sourceSecret(SOURCE_NS, name, dockerConfigJson({ [registry]: { username: "puller", password: PASSWORD } }), { "regcred.dev/access": "read-only" }) });
  await createExport(c, SOURCE_NS, name, spec);
  await eventually(`export ${name} to be Ready`, async () => (isReady(await getExport(c, SOURCE_NS, name)) ? true : undefined));
  // The webhook reads exports from its own cache: wait until it has seen Ready too.
  await eventually(`regcred to see ${name} as admissible`, () => Promise.resolve(regcred.state.admissibleExports().some((e) => e.name === name) ? true : undefined));
  return { name, registry };
}

async function optedInNamespace(): Promise<string> {
  const ns = uniqueName("team");
  await createNamespace(c, ns, { "regcred.dev/inject": "true" });
  await eventually(`regcred to see namespace ${ns}`, () => Promise.resolve(regcred.state.namespace(ns) ? true : undefined));
  return ns;
}

beforeAll(async () => {
  admin = adminKubeConfig(inject("kubeconfigPath"));
  c = clientsFor(admin);
  regcred = await startTestRegcred(admin);
  await createNamespace(c, SOURCE_NS).catch(() => undefined);
});

afterAll(async () => {
  await unregisterWebhooks(admin);
  await regcred.stop();
});

describe("pod admission through the API server", () => {
  it("stores a pod in an opted-in namespace with the copy in imagePullSecrets, and the copy holds the source's data", async () => {
    const { name, registry } = await readyExport();
    const ns = await optedInNamespace();
    const stored = await c.core.createNamespacedPod({ namespace: ns, body: pod("app", [`${registry}/team/app:1.0`], { imagePullSecrets: [{ name: "mine" }] }) });
    const copy = copyName(SOURCE_NS, name);
    expect(stored.spec?.imagePullSecrets).toEqual([{ name: "mine" }, { name: copy }]);
    expect(stored.metadata?.annotations?.[ANNOTATION_INJECTED]).toBe(copy);
    const secret = await readSecret(c, ns, copy);
    const source = await readSecret(c, SOURCE_NS, name);
    expect(secret?.type).toBe("kubernetes.io/dockerconfigjson");
    expect(secret?.data).toEqual(source?.data);
    expect(secret?.metadata?.labels).toMatchObject({ [LABEL_MANAGED_BY]: "regcred", [LABEL_EXPORT_NAMESPACE]: SOURCE_NS, [LABEL_EXPORT]: name });
    expect(secret?.metadata?.annotations?.["regcred.dev/source"]).toBe(`${SOURCE_NS}/${name}`);
  });

  it("leaves a pod in a namespace that did not opt in unchanged, without even calling regcred", async () => {
    const { registry } = await readyExport();
    const ns = uniqueName("plain");
    await createNamespace(c, ns);
    const before = await metricValue(regcred.metricsPort, "regcred_admission_requests_total", { webhook: "pods" });
    const stored = await c.core.createNamespacedPod({ namespace: ns, body: pod("app", [`${registry}/team/app:1.0`]) });
    expect(stored.spec?.imagePullSecrets).toBeUndefined();
    expect(stored.metadata?.annotations?.[ANNOTATION_INJECTED]).toBeUndefined();
    const after = await metricValue(regcred.metricsPort, "regcred_admission_requests_total", { webhook: "pods" });
    expect(after).toBe(before);
  });

  it("returns the patched pod on a dry run and writes no copy", async () => {
    const { name, registry } = await readyExport();
    const ns = await optedInNamespace();
    const res = await c.core.createNamespacedPodWithHttpInfo({ namespace: ns, body: pod("app", [`${registry}/x:1`]), dryRun: "All" });
    const copy = copyName(SOURCE_NS, name);
    expect(res.data.spec?.imagePullSecrets).toEqual([{ name: copy }]);
    expect(res.headers.warning ?? "").toContain("regcred:");
    expect(await readSecret(c, ns, copy)).toBeUndefined();
    await expect(c.core.readNamespacedPod({ namespace: ns, name: "app" })).rejects.toMatchObject({ code: 404 });
  });

  it("does not touch a pod whose images match no export", async () => {
    const { registry } = await readyExport();
    const ns = await optedInNamespace();
    const stored = await c.core.createNamespacedPod({ namespace: ns, body: pod("app", ["nginx:1.27", `quay.io/${registry}`]) });
    expect(stored.spec?.imagePullSecrets).toBeUndefined();
  });

  it("admits 50 pods created at once with one copy write", async () => {
    const { name, registry } = await readyExport();
    const ns = await optedInNamespace();
    const createdBefore = await metricValue(regcred.metricsPort, "regcred_copy_writes_total", { result: "created" });
    const pods = await Promise.all(Array.from({ length: 50 }, (_, i) => c.core.createNamespacedPod({ namespace: ns, body: pod(`p${i}`, [`${registry}/team/app`]) })));
    const copy = copyName(SOURCE_NS, name);
    expect(pods.every((p: V1Pod) => p.spec?.imagePullSecrets?.some((s) => s.name === copy))).toBe(true);
    const createdAfter = await metricValue(regcred.metricsPort, "regcred_copy_writes_total", { result: "created" });
    expect(createdAfter - createdBefore).toBe(1);
    const secrets = await c.core.listNamespacedSecret({ namespace: ns, labelSelector: "app.kubernetes.io/managed-by=regcred" });
    expect(secrets.items.map((s) => s.metadata?.name)).toEqual([copy]);
  });

  it("answers 100 concurrent admissions in a namespace with no copy yet with exactly one create", async () => {
    const { name, registry } = await readyExport();
    const ns = await optedInNamespace();
    const dispatcher = new Agent({ connect: { ca: testCertificates().caPem }, connections: 16 });
    const createdBefore = await metricValue(regcred.metricsPort, "regcred_copy_writes_total", { result: "created" });
    const review = (i: number): string => JSON.stringify({
      apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview",
      request: { uid: `u${i}`, kind: { group: "", version: "v1", kind: "Pod" }, namespace: ns, operation: "CREATE", object: pod(`p${i}`, [`${registry}/app`]) },
    });
    const answers = await Promise.all(Array.from({ length: 100 }, async (_, i) => {
      const res = await fetch(`${regcred.url}/mutate/pods`, { method: "POST", dispatcher, headers: { "content-type": "application/json" }, body: review(i) });
      return await res.json() as { response: { uid: string; patch?: string } };
    }));
    const copy = copyName(SOURCE_NS, name);
    answers.forEach((a, i) => {
      expect(a.response.uid).toBe(`u${i}`);
      expect(Buffer.from(a.response.patch ?? "", "base64").toString()).toContain(copy);
    });
    expect(await metricValue(regcred.metricsPort, "regcred_copy_writes_total", { result: "created" }) - createdBefore).toBe(1);
    await dispatcher.close();
  });

  it("never modifies a user's own Secret that has the copy's name, and says so", async () => {
    const { name, registry } = await readyExport();
    const ns = await optedInNamespace();
    const copy = copyName(SOURCE_NS, name);
    const mine = await c.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: copy }, type: "Opaque", data: { mine: Buffer.from("keep me").toString("base64") } } });
    const res = await c.core.createNamespacedPodWithHttpInfo({ namespace: ns, body: pod("app", [`${registry}/app`]) });
    expect(res.data.spec?.imagePullSecrets ?? []).not.toContainEqual({ name: copy });
    expect(res.headers.warning ?? "").toContain("not regcred's");
    const after = await readSecret(c, ns, copy);
    expect(after?.metadata?.resourceVersion).toBe(mine.metadata?.resourceVersion);
    expect(after?.data).toEqual({ mine: Buffer.from("keep me").toString("base64") });
  });

  it("keeps credentials out of its logs through a full admission with a copy write", async () => {
    const { registry } = await readyExport();
    const ns = await optedInNamespace();
    await c.core.createNamespacedPod({ namespace: ns, body: pod("app", [`${registry}/app`]) });
    const logs = regcred.logs();
    expect(logs).toContain("copy created");
    expect(logs).not.toContain(PASSWORD);
    expect(logs).not.toContain(Buffer.from(`puller:${PASSWORD}`).toString("base64"));
    expect(logs).not.toContain(Buffer.from(PASSWORD).toString("base64").slice(0, 16));
  });
});

describe("namespace admission", () => {
  it("labels a namespace created with the opt-in annotation before the create returns", async () => {
    const ns = await c.core.createNamespace({ body: { metadata: { name: uniqueName("labelled"), annotations: { "regcred.dev/inject": "true" } } } });
    expect(ns.metadata?.labels?.[LABEL_INJECT]).toBe("true");
  });

  it("removes the label when the annotation is removed", async () => {
    const name = uniqueName("unlabelled");
    await c.core.createNamespace({ body: { metadata: { name, annotations: { "regcred.dev/inject": "true" } } } });
    const ns = await c.core.readNamespace({ name });
    delete ns.metadata?.annotations?.["regcred.dev/inject"];
    const updated = await c.core.replaceNamespace({ name, body: ns });
    expect(updated.metadata?.labels?.[LABEL_INJECT]).toBeUndefined();
  });
});

describe("export validation", () => {
  it("denies an export of a malformed source", async () => {
    const name = uniqueName("bad");
    await c.core.createNamespacedSecret({ namespace: SOURCE_NS, body: { metadata: { name }, type: "kubernetes.io/dockerconfigjson", data: { ".dockerconfigjson": Buffer.from('{"auths":{"r.example.com":{"auth":"!!notbase64"}}}').toString("base64") } } });
    const message = await deniedMessage(() => createExport(c, SOURCE_NS, name, { toNamespaces: ["*"] }));
    expect(message).toContain("regcred:");
    expect(message).toContain("r.example.com");
  });

  it("denies an export of a source annotated read-write", async () => {
    const name = uniqueName("rw");
    await c.core.createNamespacedSecret({ namespace: SOURCE_NS, body: sourceSecret(SOURCE_NS, name, dockerConfigJson({ "r.example.com": { username: "u", password: PASSWORD } }), { "regcred.dev/access": "read-write" }) });
    const message = await deniedMessage(() => createExport(c, SOURCE_NS, name, { toNamespaces: ["*"] }));
    expect(message).toContain("read-write");
    expect(message).not.toContain(PASSWORD);
  });

  it("denies a \"*\" export from a namespace that is not allowed", async () => {
    const ns = uniqueName("tenant");
    await createNamespace(c, ns);
    const message = await deniedMessage(() => createExport(c, ns, "x", { toNamespaces: ["*"] }));
    expect(message).toContain("exports.allowedSourceNamespaces");
    expect(message).toContain(SOURCE_NS);
  });

  it("admits an export whose source does not exist yet, with a warning", async () => {
    const name = uniqueName("later");
    const exp = await createExport(c, SOURCE_NS, name, { toNamespaces: ["*"] });
    expect(exp.metadata.name).toBe(name);
    const status = await eventually("SourceNotFound", async () => {
      const e = await getExport(c, SOURCE_NS, name);
      return e.status?.conditions?.find((x) => x.type === "CredentialsValid" && x.reason === "SourceNotFound");
    });
    expect(status.status).toBe("False");
  });

  it("denies changing an exported source to read-write credentials", async () => {
    const { name } = await readyExport();
    const secret = await eventually("the source to be marked", async () => {
      const s = await readSecret(c, SOURCE_NS, name);
      return s?.metadata?.labels?.["regcred.dev/exported"] === "true" ? s : undefined;
    });
    secret.metadata = { ...secret.metadata, annotations: { ...secret.metadata?.annotations, "regcred.dev/access": "read-write" } };
    const message = await deniedMessage(() => c.core.replaceNamespacedSecret({ namespace: SOURCE_NS, name, body: secret }));
    expect(message).toContain("read-write");
  });
});
